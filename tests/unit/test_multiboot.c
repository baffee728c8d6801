/*
 * Unit tests for hv/multiboot.c. Boot information blocks are built by hand in
 * a fake physical memory: a buffer standing for physical 0x10000-0x1FFFF,
 * reached through a bounds-checking accessor, so that anything the parser
 * reads outside it fails the way unmapped memory would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/multiboot.h"

#define FAKE_BASE 0x10000ull
#define FAKE_SIZE 0x10000ull
#define FAKE_END (FAKE_BASE + FAKE_SIZE)
#define MIB 0x100000ull

static uint8_t fake_memory[FAKE_SIZE];
static struct boot_info info; /* ~70 KiB: static, as on bare metal */

static const void *fake_map(void *context, uint64_t physical_address, size_t length)
{
    (void)context;
    if (physical_address < FAKE_BASE || physical_address >= FAKE_END || length > FAKE_END - physical_address)
        return NULL;
    return &fake_memory[physical_address - FAKE_BASE];
}

static const struct physical_memory_access memory = { fake_map, NULL };

static int reset(void **state)
{
    (void)state;
    /* Garbage, not zeros, so a parser relying on zeroed memory fails. */
    memset(fake_memory, 0xA5, sizeof(fake_memory));
    memset(&info, 0x5A, sizeof(info));
    return 0;
}

static void put_bytes(uint64_t address, const void *bytes, size_t length)
{
    assert_non_null(fake_map(NULL, address, length));
    memcpy(&fake_memory[address - FAKE_BASE], bytes, length);
}

static void put_u32(uint64_t address, uint32_t value)
{
    put_bytes(address, &value, sizeof(value));
}

static void put_u64(uint64_t address, uint64_t value)
{
    put_bytes(address, &value, sizeof(value));
}

static void put_string(uint64_t address, const char *text)
{
    put_bytes(address, text, strlen(text) + 1);
}

static bool has_diagnostic(const char *fragment)
{
    for (unsigned i = 0; i < info.diagnostic_count && i < BOOT_DIAGNOSTIC_MAX; i++) {
        if (strstr(info.diagnostics[i], fragment) != NULL)
            return true;
    }
    return false;
}

#define assert_diagnostic(fragment)                                                                          \
    do {                                                                                                     \
        if (!has_diagnostic(fragment)) {                                                                     \
            for (unsigned i_ = 0; i_ < info.diagnostic_count; i_++)                                          \
                print_message("diagnostic %u: %s\n", i_, info.diagnostics[i_]);                              \
            fail_msg("no diagnostic contains \"%s\"", fragment);                                             \
        }                                                                                                    \
    } while (0)

static void assert_all_diagnostics_terminated(void)
{
    assert_true(info.diagnostic_count <= BOOT_DIAGNOSTIC_MAX);
    for (unsigned i = 0; i < info.diagnostic_count; i++)
        assert_non_null(memchr(info.diagnostics[i], '\0', BOOT_DIAGNOSTIC_LENGTH));
    assert_non_null(memchr(info.cmdline, '\0', sizeof(info.cmdline)));
    assert_non_null(memchr(info.loader_name, '\0', sizeof(info.loader_name)));
}

/* ===================== Multiboot2 block builder (spec 2.0 §3.6) ===================== */

#define MB2_INFO 0x11000ull

static uint64_t mb2_offset; /* next free offset from MB2_INFO */

static void mb2_begin(void)
{
    mb2_offset = 8;
}

/* Append a tag with `payload` after its 8-byte header; returns its offset. */
static uint64_t mb2_tag(uint32_t type, const void *payload, uint32_t payload_length)
{
    uint64_t offset = mb2_offset;
    put_u32(MB2_INFO + offset, type);
    put_u32(MB2_INFO + offset + 4, 8 + payload_length);
    if (payload_length != 0)
        put_bytes(MB2_INFO + offset + 8, payload, payload_length);
    mb2_offset += (8 + payload_length + 7) & ~7ull;
    return offset;
}

/* A tag header with an arbitrary (possibly lying) size field. */
static uint64_t mb2_raw_tag(uint32_t type, uint32_t size, uint64_t advance)
{
    uint64_t offset = mb2_offset;
    put_u32(MB2_INFO + offset, type);
    put_u32(MB2_INFO + offset + 4, size);
    mb2_offset += advance;
    return offset;
}

static uint64_t mb2_string(uint32_t type, const char *text)
{
    return mb2_tag(type, text, (uint32_t)strlen(text) + 1);
}

static uint64_t mb2_module(uint32_t start, uint32_t end, const char *text)
{
    static uint8_t payload[BOOT_MODULE_CMDLINE_MAX + 512];
    size_t length = strlen(text) + 1;
    assert_true(8 + length <= sizeof(payload));
    memcpy(payload, &start, 4);
    memcpy(payload + 4, &end, 4);
    memcpy(payload + 8, text, length);
    return mb2_tag(3, payload, (uint32_t)(8 + length));
}

static void mb2_basic_meminfo(uint32_t lower_kib, uint32_t upper_kib)
{
    uint32_t payload[2] = { lower_kib, upper_kib };
    mb2_tag(4, payload, sizeof(payload));
}

struct test_range {
    uint64_t base, length;
    uint32_t type;
};

static uint64_t mb2_mmap(uint32_t entry_size, uint32_t entry_version, const struct test_range *ranges,
                         unsigned count)
{
    uint8_t payload[1024] = { 0 };
    memcpy(payload, &entry_size, 4);
    memcpy(payload + 4, &entry_version, 4);
    for (unsigned i = 0; i < count; i++) {
        uint8_t *entry = payload + 8 + (size_t)i * entry_size;
        memcpy(entry, &ranges[i].base, 8);
        memcpy(entry + 8, &ranges[i].length, 8);
        memcpy(entry + 16, &ranges[i].type, 4);
    }
    return mb2_tag(6, payload, 8 + count * entry_size);
}

static uint64_t mb2_rsdp(uint32_t type, const char *oem)
{
    uint8_t payload[36] = { 0 };
    memcpy(payload, "RSD PTR ", 8);
    memcpy(payload + 9, oem, 6);
    payload[15] = type == 15 ? 2 : 0; /* revision */
    return mb2_tag(type, payload, type == 15 ? 36 : 20);
}

static void mb2_finish(void)
{
    mb2_tag(0, NULL, 0);
    put_u32(MB2_INFO, (uint32_t)mb2_offset);
    put_u32(MB2_INFO + 4, 0);
}

static enum boot_info_status parse_mb2(void)
{
    return multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, MB2_INFO, &memory, &info);
}

/* What SeaBIOS/GRUB report for a 512 MiB PC. */
static const struct test_range pc_ranges[] = {
    { 0x0, 0x9FC00, 1 },     { 0x9FC00, 0x400, 2 },          { 0xF0000, 0x10000, 2 },
    { MIB, 511 * MIB, 1 },   { 0xFFFC0000, 0x40000, 2 },
};
#define PC_RANGE_COUNT (sizeof(pc_ranges) / sizeof(pc_ranges[0]))

static void assert_pc_memmap(void)
{
    assert_int_equal(info.memmap.count, PC_RANGE_COUNT);
    for (unsigned i = 0; i < PC_RANGE_COUNT; i++) {
        assert_int_equal(info.memmap.entries[i].base, pc_ranges[i].base);
        assert_int_equal(info.memmap.entries[i].length, pc_ranges[i].length);
        assert_int_equal(info.memmap.entries[i].type, pc_ranges[i].type);
    }
    assert_false(info.memmap_from_fallback);
}

/* ---- Multiboot2: good blocks ---- */

static void test_mb2_grub_like(void **state)
{
    (void)state;
    mb2_begin();
    mb2_string(1, "console=com1,115200 guest.cmdline=\"root=/dev/sda1\"");
    mb2_string(2, "GRUB 2.06-13+deb12u1");
    mb2_tag(10, "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 16); /* APM: unknown to us */
    mb2_module(0x200000, 0x5A3000, "/boot/vmlinuz-guest quiet");
    mb2_module(0x600000, 0x600000, ""); /* empty module, empty string */
    mb2_basic_meminfo(639, 523264);
    /* Unsorted, as some firmware reports it. */
    const struct test_range unsorted[] = { pc_ranges[3], pc_ranges[0], pc_ranges[4], pc_ranges[1], pc_ranges[2] };
    mb2_mmap(24, 0, unsorted, 5);
    uint64_t rsdp_offset = mb2_rsdp(14, "BOCHS ");
    mb2_tag(21, "\x00\x00\x10\x00", 4); /* image load base: unknown to us */
    mb2_finish();

    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_int_equal(info.protocol, 2);
    assert_string_equal(info.cmdline, "console=com1,115200 guest.cmdline=\"root=/dev/sda1\"");
    assert_string_equal(info.loader_name, "GRUB 2.06-13+deb12u1");
    assert_int_equal(info.module_count, 2);
    assert_int_equal(info.modules[0].start, 0x200000);
    assert_int_equal(info.modules[0].end, 0x5A3000);
    assert_string_equal(info.modules[0].cmdline, "/boot/vmlinuz-guest quiet");
    assert_int_equal(info.modules[1].start, 0x600000);
    assert_string_equal(info.modules[1].cmdline, "");
    assert_pc_memmap(); /* the mmap wins over basic meminfo, and is sorted */
    assert_int_equal(info.rsdp_address, MB2_INFO + rsdp_offset + 8);
    assert_memory_equal(fake_map(NULL, info.rsdp_address, 8), "RSD PTR ", 8);
    assert_int_equal(info.diagnostic_count, 0);
    assert_int_equal(info.diagnostics_dropped, 0);
}

static void test_mb2_new_rsdp_preferred_in_either_order(void **state)
{
    (void)state;
    for (int new_first = 0; new_first < 2; new_first++) {
        reset(NULL);
        mb2_begin();
        mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
        uint64_t new_offset = 0;
        if (new_first)
            new_offset = mb2_rsdp(15, "NEWOEM");
        mb2_rsdp(14, "OLDOEM");
        if (!new_first)
            new_offset = mb2_rsdp(15, "NEWOEM");
        mb2_finish();
        assert_int_equal(parse_mb2(), BOOT_INFO_OK);
        assert_int_equal(info.rsdp_address, MB2_INFO + new_offset + 8);
    }
}

static void test_mb2_rsdp_bad_signature_or_short_ignored(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    uint64_t bad = mb2_tag(14, "RSD PTX xxxxxxxxxxxx", 20);
    uint64_t short_new = mb2_tag(15, "RSD PTR xxxxxxxxxxxx", 20); /* v2 needs 36 bytes */
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_int_equal(info.rsdp_address, 0);
    char expected[64];
    snprintf(expected, sizeof(expected), "tag 14 at offset 0x%llx: no \"RSD PTR \"", (unsigned long long)bad);
    assert_diagnostic(expected);
    snprintf(expected, sizeof(expected), "tag 15 at offset 0x%llx: size 28 too small", (unsigned long long)short_new);
    assert_diagnostic(expected);
}

static void test_mb2_basic_meminfo_fallback(void **state)
{
    (void)state;
    mb2_begin();
    mb2_string(1, "");
    mb2_basic_meminfo(639, 130048); /* 127 MiB above 1 MiB */
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_true(info.memmap_from_fallback);
    assert_int_equal(info.memmap.count, 2);
    assert_int_equal(info.memmap.entries[0].base, 0);
    assert_int_equal(info.memmap.entries[0].length, 639 * 1024);
    assert_int_equal(info.memmap.entries[1].base, MIB);
    assert_int_equal(info.memmap.entries[1].length, 127 * MIB);
    assert_int_equal(info.memmap.entries[1].type, MEMMAP_RAM);
}

static void test_mb2_empty_mmap_falls_back_with_diagnostic(void **state)
{
    (void)state;
    mb2_begin();
    const struct test_range empty[] = { { 0x1000, 0, 1 } };
    mb2_mmap(24, 0, empty, 1);
    mb2_basic_meminfo(640, 1024);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_true(info.memmap_from_fallback);
    assert_int_equal(info.memmap.rejected_zero_length, 1);
    assert_diagnostic("mmap has no usable entry");
}

static void test_mb2_no_memory_map(void **state)
{
    (void)state;
    mb2_begin();
    mb2_string(1, "console=com1");
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_NO_MEMORY_MAP);
    assert_string_equal(info.cmdline, "console=com1"); /* gathered before the verdict */
}

static void test_mb2_larger_entry_size_and_new_version(void **state)
{
    (void)state;
    mb2_begin();
    uint64_t offset = mb2_mmap(32, 1, pc_ranges, PC_RANGE_COUNT); /* stride 32, extra fields ignored */
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_pc_memmap();
    char expected[64];
    snprintf(expected, sizeof(expected), "multiboot2: tag 6 at offset 0x%llx: entry_version 1",
             (unsigned long long)offset);
    assert_diagnostic(expected);
}

static void test_mb2_mmap_trailing_bytes_reported(void **state)
{
    (void)state;
    mb2_begin();
    uint8_t payload[8 + 24 + 8] = { 0 };
    uint32_t entry_size = 24;
    uint64_t base = MIB, length = 16 * MIB;
    uint32_t type = 1;
    memcpy(payload, &entry_size, 4);
    memcpy(payload + 8, &base, 8);
    memcpy(payload + 16, &length, 8);
    memcpy(payload + 24, &type, 4);
    mb2_tag(6, payload, sizeof(payload));
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_int_equal(info.memmap.count, 1);
    assert_int_equal(info.memmap.entries[0].length, 16 * MIB);
    assert_diagnostic("ignoring 8 trailing bytes");
}

static void test_mb2_unaligned_block_still_parses(void **state)
{
    (void)state;
    /* Build at MB2_INFO, then copy it 4 bytes higher. */
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    mb2_finish();
    uint8_t copy[256];
    memcpy(copy, fake_map(NULL, MB2_INFO, mb2_offset), mb2_offset);
    put_bytes(MB2_INFO + 0x1004, copy, mb2_offset);
    assert_int_equal(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, MB2_INFO + 0x1004, &memory, &info), BOOT_INFO_OK);
    assert_pc_memmap();
    assert_diagnostic("not 8-byte aligned");
}

/* ---- Multiboot2: malformed blocks ---- */

static void test_mb2_total_size_too_small(void **state)
{
    (void)state;
    put_u32(MB2_INFO, 8);
    put_u32(MB2_INFO + 8, 0);
    put_u32(MB2_INFO + 12, 8);
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("multiboot2: total_size 8 outside 16..1048576");
}

static void test_mb2_total_size_too_large(void **state)
{
    (void)state;
    put_u32(MB2_INFO, 2 * 1024 * 1024);
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("total_size 2097152 outside");
}

static void test_mb2_total_size_beyond_readable_memory(void **state)
{
    (void)state;
    /* Plausible size, but the block would run off the end of memory. */
    put_u32(FAKE_END - 0x100, 0x200);
    assert_int_equal(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, FAKE_END - 0x100, &memory, &info),
                     BOOT_INFO_UNREADABLE);
    assert_diagnostic("total_size 512 unreadable");
}

static void test_mb2_tag_size_below_header(void **state)
{
    (void)state;
    mb2_begin();
    mb2_string(1, "ok");
    uint64_t offset = mb2_raw_tag(2, 4, 8);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    char expected[64];
    snprintf(expected, sizeof(expected), "multiboot2: tag 2 at offset 0x%llx: size 4 < 8", (unsigned long long)offset);
    assert_diagnostic(expected);
    assert_string_equal(info.cmdline, "ok");
}

static void test_mb2_tag_running_past_total_size(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    uint64_t offset = mb2_raw_tag(1, 0x1000, 8);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    char expected[80];
    snprintf(expected, sizeof(expected), "tag 1 at offset 0x%llx: size 4096 runs past total_size %llu",
             (unsigned long long)offset, (unsigned long long)mb2_offset);
    assert_diagnostic(expected);
}

static void test_mb2_missing_end_tag(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    put_u32(MB2_INFO, (uint32_t)mb2_offset); /* no end tag */
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("no end tag within total_size");

    /* A trailing fragment shorter than a tag header is not an end tag either. */
    put_u32(MB2_INFO, (uint32_t)mb2_offset + 4);
    put_u32(MB2_INFO + mb2_offset, 0);
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("no end tag");
}

static void test_mb2_mmap_entry_size_too_small(void **state)
{
    (void)state;
    mb2_begin();
    mb2_string(1, "x");
    uint64_t offset = mb2_mmap(16, 0, pc_ranges, 2);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    char expected[80];
    snprintf(expected, sizeof(expected), "multiboot2: tag 6 at offset 0x%llx: entry_size 16 < 24",
             (unsigned long long)offset);
    assert_string_equal(info.diagnostics[0], expected); /* exactly this, nothing else first */
}

static void test_mb2_mmap_entry_size_not_multiple_of_eight(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(28, 0, pc_ranges, 2);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("entry_size 28 not a multiple of 8");
}

static void test_mb2_mmap_tag_shorter_than_its_header(void **state)
{
    (void)state;
    mb2_begin();
    mb2_tag(6, "\x18\x00\x00\x00", 4);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("size 12 < 16");
}

static void test_mb2_module_tag_too_small_and_inverted(void **state)
{
    (void)state;
    mb2_begin();
    mb2_tag(3, "\x00\x00\x20\x00", 4);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("tag 3 at offset 0x8: size 12 < 16");

    reset(NULL);
    mb2_begin();
    mb2_module(0x300000, 0x200000, "backwards");
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_MALFORMED);
    assert_diagnostic("mod_end 0x200000 < mod_start 0x300000");
}

static void test_mb2_unterminated_and_long_strings(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    /* Loader name without NUL, ending right at the tag's end; the next tag's
     * bytes must not leak into it. */
    uint64_t name_offset = mb2_tag(2, "GRUBBY", 6);
    char long_cmdline[1500];
    memset(long_cmdline, 'c', sizeof(long_cmdline) - 1);
    long_cmdline[sizeof(long_cmdline) - 1] = '\0';
    uint64_t cmdline_offset = mb2_string(1, long_cmdline);
    static char long_module[BOOT_MODULE_CMDLINE_MAX + 100];
    memset(long_module, 'm', sizeof(long_module) - 1);
    long_module[sizeof(long_module) - 1] = '\0';
    mb2_module(0x200000, 0x300000, long_module);
    mb2_finish();

    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_all_diagnostics_terminated();
    assert_string_equal(info.loader_name, "GRUBBY");
    char expected[80];
    snprintf(expected, sizeof(expected), "tag 2 at offset 0x%llx: not NUL-terminated, kept 6 bytes",
             (unsigned long long)name_offset);
    assert_diagnostic(expected);
    assert_int_equal(strlen(info.cmdline), BOOT_CMDLINE_MAX - 1);
    snprintf(expected, sizeof(expected), "tag 1 at offset 0x%llx: truncated to 1023 bytes",
             (unsigned long long)cmdline_offset);
    assert_diagnostic(expected);
    assert_int_equal(strlen(info.modules[0].cmdline), sizeof(info.modules[0].cmdline) - 1);
    assert_diagnostic("truncated to 4095 bytes");
}

static void test_mb2_too_many_modules(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    for (uint32_t i = 0; i < BOOT_MODULE_MAX + 3; i++)
        mb2_module(0x200000 + i * 0x1000, 0x200800 + i * 0x1000, "m");
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_int_equal(info.module_count, BOOT_MODULE_MAX);
    assert_int_equal(info.modules[BOOT_MODULE_MAX - 1].start, 0x200000 + (BOOT_MODULE_MAX - 1) * 0x1000);
    assert_int_equal(info.diagnostic_count, 1);
    assert_diagnostic("more than 16 modules");
}

static void test_mb2_diagnostics_overflow_is_counted(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    for (int i = 0; i < BOOT_DIAGNOSTIC_MAX + 3; i++)
        mb2_tag(2, "no-nul", 6);
    mb2_finish();
    assert_int_equal(parse_mb2(), BOOT_INFO_OK);
    assert_int_equal(info.diagnostic_count, BOOT_DIAGNOSTIC_MAX);
    assert_int_equal(info.diagnostics_dropped, 3);
    assert_all_diagnostics_terminated();
}

/* ---- entry checks ---- */

static void test_bad_magic(void **state)
{
    (void)state;
    mb2_begin();
    mb2_mmap(24, 0, pc_ranges, PC_RANGE_COUNT);
    mb2_finish();
    assert_int_equal(multiboot_parse(0x1BADB002u, MB2_INFO, &memory, &info), BOOT_INFO_BAD_MAGIC);
    assert_int_equal(info.memmap.count, 0);
    assert_diagnostic("magic 0x1badb002");
}

static void test_null_pointer(void **state)
{
    (void)state;
    assert_int_equal(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0, &memory, &info), BOOT_INFO_NULL_POINTER);
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, 0, &memory, &info), BOOT_INFO_NULL_POINTER);
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, MB2_INFO, NULL, &info), BOOT_INFO_NULL_POINTER);
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, MB2_INFO, &memory, NULL), BOOT_INFO_NULL_POINTER);
}

static void test_unreadable_info(void **state)
{
    (void)state;
    assert_int_equal(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0x9000, &memory, &info), BOOT_INFO_UNREADABLE);
    assert_diagnostic("multiboot2: info header at 0x9000: unreadable");
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, 0x9000, &memory, &info), BOOT_INFO_UNREADABLE);
    assert_diagnostic("multiboot1: info at 0x9000: unreadable");
    /* Near the top of the address space: no wrap in the bounds arithmetic. */
    assert_int_equal(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, UINT64_MAX - 3, &memory, &info),
                     BOOT_INFO_UNREADABLE);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(boot_info_status_name(BOOT_INFO_OK), "ok");
    assert_string_equal(boot_info_status_name(BOOT_INFO_BAD_MAGIC), "bad-magic");
    assert_string_equal(boot_info_status_name(BOOT_INFO_NULL_POINTER), "null-pointer");
    assert_string_equal(boot_info_status_name(BOOT_INFO_UNREADABLE), "unreadable");
    assert_string_equal(boot_info_status_name(BOOT_INFO_MALFORMED), "malformed");
    assert_string_equal(boot_info_status_name(BOOT_INFO_NO_MEMORY_MAP), "no-memory-map");
    assert_string_equal(boot_info_status_name((enum boot_info_status)42), "unknown");
    assert_non_null(strstr(boot_info_status_message(BOOT_INFO_NO_MEMORY_MAP), "memory map"));
}

/* ===================== Multiboot1 (spec 0.6.96 §3.3) ===================== */

#define MB1_INFO 0x12000ull
#define MB1_CMDLINE 0x12100ull
#define MB1_LOADER 0x12200ull
#define MB1_MODULES 0x12300ull
#define MB1_MODULE_STRINGS 0x12400ull
#define MB1_MMAP 0x12800ull
#define MB1_LONG_MODULE_STRING 0x14000ull

#define MB1_FLAG_MEMORY (1u << 0)
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODULES (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER_NAME (1u << 9)

static void mb1_info(uint32_t flags)
{
    put_u32(MB1_INFO, flags);
    put_u32(MB1_INFO + 4, 639);      /* mem_lower */
    put_u32(MB1_INFO + 8, 523264);   /* mem_upper: 511 MiB */
    put_u32(MB1_INFO + 12, 0x8000FFFF); /* boot_device */
    put_u32(MB1_INFO + 16, (uint32_t)MB1_CMDLINE);
    put_u32(MB1_INFO + 20, 0);
    put_u32(MB1_INFO + 24, (uint32_t)MB1_MODULES);
    put_u32(MB1_INFO + 44, 0);
    put_u32(MB1_INFO + 48, (uint32_t)MB1_MMAP);
    put_u32(MB1_INFO + 64, (uint32_t)MB1_LOADER);
}

/* Entries as QEMU writes them: size 20 (it does not count itself). Returns mmap_length. */
static uint32_t mb1_mmap(uint32_t size_field, const struct test_range *ranges, unsigned count)
{
    uint64_t address = MB1_MMAP;
    for (unsigned i = 0; i < count; i++) {
        put_u32(address, size_field);
        put_u64(address + 4, ranges[i].base);
        put_u64(address + 12, ranges[i].length);
        put_u32(address + 20, ranges[i].type);
        address += 4 + size_field;
    }
    uint32_t length = (uint32_t)(address - MB1_MMAP);
    put_u32(MB1_INFO + 44, length);
    return length;
}

static void mb1_module(unsigned index, uint32_t start, uint32_t end, const char *text)
{
    uint64_t entry = MB1_MODULES + index * 16;
    uint64_t string = MB1_MODULE_STRINGS + index * 0x40;
    put_u32(entry, start);
    put_u32(entry + 4, end);
    put_u32(entry + 8, (uint32_t)string);
    put_u32(entry + 12, 0);
    put_string(string, text);
}

static enum boot_info_status parse_mb1(void)
{
    return multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, MB1_INFO, &memory, &info);
}

static void test_mb1_qemu_like(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_CMDLINE | MB1_FLAG_MODULES | MB1_FLAG_MMAP | MB1_FLAG_LOADER_NAME);
    put_string(MB1_CMDLINE, "build/vigil.elf console=com1");
    put_string(MB1_LOADER, "qemu");
    mb1_module(0, 0x200000, 0x280000, "guest.elf arg1");
    mb1_module(1, 0x280000, 0x290000, "initrd");
    put_u32(MB1_INFO + 20, 2);
    mb1_mmap(20, pc_ranges, PC_RANGE_COUNT);

    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_int_equal(info.protocol, 1);
    assert_string_equal(info.cmdline, "build/vigil.elf console=com1");
    assert_string_equal(info.loader_name, "qemu");
    assert_int_equal(info.module_count, 2);
    assert_int_equal(info.modules[0].start, 0x200000);
    assert_int_equal(info.modules[0].end, 0x280000);
    assert_string_equal(info.modules[0].cmdline, "guest.elf arg1");
    assert_string_equal(info.modules[1].cmdline, "initrd");
    assert_pc_memmap(); /* mmap preferred over mem_lower/mem_upper */
    assert_int_equal(info.rsdp_address, 0);
    assert_int_equal(info.diagnostic_count, 0);
}

static void test_mb1_mmap_stride_and_overlaps_normalized(void **state)
{
    (void)state;
    /* A loader writing 24-byte entries (size 24): the walk must step by
     * size + 4, not by 24. Unsorted, overlapping, one unknown type (9). */
    const struct test_range ranges[] = {
        { MIB, 64 * MIB, 1 }, { 0, 0x9F000, 1 }, { 16 * MIB, MIB, 2 }, { 0x9F000, 0x1000, 2 }, { 0x9F000, 0x1000, 9 },
    };
    mb1_info(MB1_FLAG_MMAP);
    mb1_mmap(24, ranges, 5);
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    const struct memmap *map = &info.memmap;
    assert_int_equal(map->count, 5);
    assert_int_equal(map->entries[0].base, 0);
    assert_int_equal(map->entries[0].length, 0x9F000);
    assert_int_equal(map->entries[1].base, 0x9F000);
    assert_int_equal(map->entries[1].type, MEMMAP_RESERVED);
    assert_int_equal(map->entries[2].base, MIB);
    assert_int_equal(map->entries[2].length, 15 * MIB);
    assert_int_equal(map->entries[3].base, 16 * MIB);
    assert_int_equal(map->entries[3].type, MEMMAP_RESERVED);
    assert_int_equal(map->entries[4].base, 17 * MIB);
    assert_int_equal(map->entries[4].length, 48 * MIB);
    assert_int_equal(map->unknown_types, 1);
    assert_int_equal(map->overlaps_resolved, 2);
}

static void test_mb1_fallback_mem_lower_upper(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_CMDLINE);
    put_string(MB1_CMDLINE, "");
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_true(info.memmap_from_fallback);
    assert_int_equal(info.memmap.count, 2);
    assert_int_equal(info.memmap.entries[0].base, 0);
    assert_int_equal(info.memmap.entries[0].length, 639 * 1024);
    assert_int_equal(info.memmap.entries[1].base, MIB);
    assert_int_equal(info.memmap.entries[1].length, 511 * MIB);
    assert_string_equal(info.cmdline, "");
    assert_int_equal(info.diagnostic_count, 0);
}

static void test_mb1_reads_only_what_flags_cover(void **state)
{
    (void)state;
    /* Only flag 0: 12 bytes valid, placed at the very end of memory. */
    uint64_t at = FAKE_END - 12;
    put_u32(at, MB1_FLAG_MEMORY);
    put_u32(at + 4, 0);
    put_u32(at + 8, 1024);
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, at, &memory, &info), BOOT_INFO_OK);
    assert_int_equal(info.memmap.count, 1); /* mem_lower 0 adds nothing */
    assert_int_equal(info.memmap.entries[0].length, MIB);
    /* Claiming a loader name there needs 68 bytes: unreadable. */
    put_u32(at, MB1_FLAG_MEMORY | MB1_FLAG_LOADER_NAME);
    assert_int_equal(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, at, &memory, &info), BOOT_INFO_UNREADABLE);
}

static void test_mb1_no_memory_information(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_CMDLINE);
    put_string(MB1_CMDLINE, "x");
    assert_int_equal(parse_mb1(), BOOT_INFO_NO_MEMORY_MAP);
    mb1_info(MB1_FLAG_MMAP); /* flag set, mmap_length 0 */
    assert_int_equal(parse_mb1(), BOOT_INFO_NO_MEMORY_MAP);
}

static void test_mb1_mmap_entry_size_too_small(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MMAP | MB1_FLAG_MEMORY);
    mb1_mmap(20, pc_ranges, PC_RANGE_COUNT);
    put_u32(MB1_MMAP + 2 * 24, 16); /* third entry claims 16 bytes */
    assert_int_equal(parse_mb1(), BOOT_INFO_MALFORMED);
    assert_string_equal(info.diagnostics[0], "multiboot1: mmap entry at offset 0x30: size 16 < 20");
}

static void test_mb1_mmap_entry_past_mmap_length(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MMAP);
    uint32_t length = mb1_mmap(20, pc_ranges, PC_RANGE_COUNT);
    put_u32(MB1_INFO + 44, length - 4); /* last entry cut short */
    assert_int_equal(parse_mb1(), BOOT_INFO_MALFORMED);
    assert_diagnostic("multiboot1: mmap entry at offset 0x60: size 20 runs past mmap_length 116");
    put_u32(MB1_INFO + 44, length + 2); /* two stray bytes after the last entry */
    assert_int_equal(parse_mb1(), BOOT_INFO_MALFORMED);
    assert_diagnostic("offset 0x78: size field runs past mmap_length 122");
    put_u32(MB1_INFO + 44, 0x200000);
    assert_int_equal(parse_mb1(), BOOT_INFO_MALFORMED);
    assert_diagnostic("mmap_length 2097152 > 1048576");
}

static void test_mb1_mmap_unreadable(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MMAP);
    put_u32(MB1_INFO + 44, 48);
    put_u32(MB1_INFO + 48, 0x9000);
    assert_int_equal(parse_mb1(), BOOT_INFO_UNREADABLE);
    assert_diagnostic("mmap entry at offset 0x0: unreadable");
}

static void test_mb1_unterminated_and_long_strings(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MMAP | MB1_FLAG_CMDLINE | MB1_FLAG_LOADER_NAME | MB1_FLAG_MODULES);
    mb1_mmap(20, pc_ranges, PC_RANGE_COUNT);
    /* cmdline: the last 5 bytes of memory, no NUL before the end. */
    put_bytes(FAKE_END - 5, "abcde", 5);
    put_u32(MB1_INFO + 16, (uint32_t)(FAKE_END - 5));
    /* Loader name far longer than 63 bytes. */
    char long_name[200];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    put_string(MB1_LOADER, long_name);
    /* A module string longer than the room for it (4095 bytes and the NUL),
     * far from the other strings: it would run into them. */
    put_u32(MB1_INFO + 20, 1);
    put_u32(MB1_MODULES, 0x200000);
    put_u32(MB1_MODULES + 4, 0x210000);
    put_u32(MB1_MODULES + 8, (uint32_t)MB1_LONG_MODULE_STRING);
    static char long_module[BOOT_MODULE_CMDLINE_MAX + 24];
    memset(long_module, 'm', sizeof(long_module) - 1);
    long_module[sizeof(long_module) - 1] = '\0';
    put_string(MB1_LONG_MODULE_STRING, long_module);

    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_all_diagnostics_terminated();
    assert_string_equal(info.cmdline, "abcde");
    assert_diagnostic("multiboot1: cmdline at 0x1fffb: unreadable after 5 bytes");
    assert_int_equal(strlen(info.loader_name), 63);
    assert_diagnostic("multiboot1: boot_loader_name at 0x12200: truncated to 63 bytes");
    assert_int_equal(strlen(info.modules[0].cmdline), BOOT_MODULE_CMDLINE_MAX - 1);
    assert_diagnostic("module string at 0x14000: truncated to 4095 bytes");
}

static void test_mb1_string_exactly_filling_buffer_is_not_truncated(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_LOADER_NAME);
    char name[64];
    memset(name, 'q', 63);
    name[63] = '\0';
    put_string(MB1_LOADER, name);
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_string_equal(info.loader_name, name);
    assert_int_equal(info.diagnostic_count, 0);
}

static void test_mb1_null_string_pointer(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_CMDLINE);
    put_u32(MB1_INFO + 16, 0);
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_string_equal(info.cmdline, "");
    assert_diagnostic("multiboot1: cmdline at 0x0: null pointer");
}

static void test_mb1_module_count_bounded(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_MODULES);
    for (unsigned i = 0; i < BOOT_MODULE_MAX; i++)
        mb1_module(i, 0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "mod");
    put_u32(MB1_INFO + 20, 1000000); /* the list would run far past memory */
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_int_equal(info.module_count, BOOT_MODULE_MAX);
    assert_int_equal(info.modules[15].start, 0x20F000);
    assert_string_equal(info.modules[15].cmdline, "mod");
    assert_diagnostic("multiboot1: mods_count 1000000, keeping the first 16");
}

static void test_mb1_module_list_unreadable_or_inverted(void **state)
{
    (void)state;
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_MODULES);
    put_u32(MB1_INFO + 20, 2);
    put_u32(MB1_INFO + 24, (uint32_t)(FAKE_END - 16)); /* second entry off the end */
    put_u32(FAKE_END - 16, 0x200000);
    put_u32(FAKE_END - 12, 0x201000);
    put_u32(FAKE_END - 8, (uint32_t)MB1_CMDLINE);
    put_string(MB1_CMDLINE, "first");
    assert_int_equal(parse_mb1(), BOOT_INFO_UNREADABLE);
    assert_int_equal(info.module_count, 1);
    assert_diagnostic("multiboot1: module 1 at 0x20000: unreadable");

    reset(NULL);
    mb1_info(MB1_FLAG_MEMORY | MB1_FLAG_MODULES);
    put_u32(MB1_INFO + 20, 1);
    mb1_module(0, 0x300000, 0x2FF000, "backwards");
    assert_int_equal(parse_mb1(), BOOT_INFO_MALFORMED);
    assert_diagnostic("multiboot1: module 0 at 0x12300: mod_end 0x2ff000 < mod_start 0x300000");
}

static void test_mb1_wraparound_entry_clamped(void **state)
{
    (void)state;
    const struct test_range ranges[] = {
        { MIB, 16 * MIB, 1 }, { 0xFFFFFFFFFFFFF000ull, 0x2000, 2 }, { 0x4000000, 0, 1 },
    };
    mb1_info(MB1_FLAG_MMAP);
    mb1_mmap(20, ranges, 3);
    assert_int_equal(parse_mb1(), BOOT_INFO_OK);
    assert_int_equal(info.memmap.count, 2);
    assert_int_equal(info.memmap.clamped_wraparound, 1);
    assert_int_equal(info.memmap.rejected_zero_length, 1);
    assert_int_equal(info.memmap.entries[1].base + info.memmap.entries[1].length, UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_mb2_grub_like, reset),
        cmocka_unit_test_setup(test_mb2_new_rsdp_preferred_in_either_order, reset),
        cmocka_unit_test_setup(test_mb2_rsdp_bad_signature_or_short_ignored, reset),
        cmocka_unit_test_setup(test_mb2_basic_meminfo_fallback, reset),
        cmocka_unit_test_setup(test_mb2_empty_mmap_falls_back_with_diagnostic, reset),
        cmocka_unit_test_setup(test_mb2_no_memory_map, reset),
        cmocka_unit_test_setup(test_mb2_larger_entry_size_and_new_version, reset),
        cmocka_unit_test_setup(test_mb2_mmap_trailing_bytes_reported, reset),
        cmocka_unit_test_setup(test_mb2_unaligned_block_still_parses, reset),
        cmocka_unit_test_setup(test_mb2_total_size_too_small, reset),
        cmocka_unit_test_setup(test_mb2_total_size_too_large, reset),
        cmocka_unit_test_setup(test_mb2_total_size_beyond_readable_memory, reset),
        cmocka_unit_test_setup(test_mb2_tag_size_below_header, reset),
        cmocka_unit_test_setup(test_mb2_tag_running_past_total_size, reset),
        cmocka_unit_test_setup(test_mb2_missing_end_tag, reset),
        cmocka_unit_test_setup(test_mb2_mmap_entry_size_too_small, reset),
        cmocka_unit_test_setup(test_mb2_mmap_entry_size_not_multiple_of_eight, reset),
        cmocka_unit_test_setup(test_mb2_mmap_tag_shorter_than_its_header, reset),
        cmocka_unit_test_setup(test_mb2_module_tag_too_small_and_inverted, reset),
        cmocka_unit_test_setup(test_mb2_unterminated_and_long_strings, reset),
        cmocka_unit_test_setup(test_mb2_too_many_modules, reset),
        cmocka_unit_test_setup(test_mb2_diagnostics_overflow_is_counted, reset),
        cmocka_unit_test_setup(test_bad_magic, reset),
        cmocka_unit_test_setup(test_null_pointer, reset),
        cmocka_unit_test_setup(test_unreadable_info, reset),
        cmocka_unit_test_setup(test_status_names, reset),
        cmocka_unit_test_setup(test_mb1_qemu_like, reset),
        cmocka_unit_test_setup(test_mb1_mmap_stride_and_overlaps_normalized, reset),
        cmocka_unit_test_setup(test_mb1_fallback_mem_lower_upper, reset),
        cmocka_unit_test_setup(test_mb1_reads_only_what_flags_cover, reset),
        cmocka_unit_test_setup(test_mb1_no_memory_information, reset),
        cmocka_unit_test_setup(test_mb1_mmap_entry_size_too_small, reset),
        cmocka_unit_test_setup(test_mb1_mmap_entry_past_mmap_length, reset),
        cmocka_unit_test_setup(test_mb1_mmap_unreadable, reset),
        cmocka_unit_test_setup(test_mb1_unterminated_and_long_strings, reset),
        cmocka_unit_test_setup(test_mb1_string_exactly_filling_buffer_is_not_truncated, reset),
        cmocka_unit_test_setup(test_mb1_null_string_pointer, reset),
        cmocka_unit_test_setup(test_mb1_module_count_bounded, reset),
        cmocka_unit_test_setup(test_mb1_module_list_unreadable_or_inverted, reset),
        cmocka_unit_test_setup(test_mb1_wraparound_entry_clamped, reset),
    };
    return cmocka_run_group_tests_name("multiboot", tests, NULL, NULL);
}
