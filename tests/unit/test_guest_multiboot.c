/*
 * Unit tests for hv/guest_multiboot.c: the Multiboot1 information structure
 * (spec 0.6.96 §3.3) vigil hands its guest. Each test builds it, then reads
 * it back field by field the way a guest would: through the 32-bit physical
 * pointers inside it, translated to the buffer and bounds-checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/guest_multiboot.h"
#include "lib/memmap.h"
#include "hv/version.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull

#define INFO_PHYSICAL 0x9000u /* where the guest sees the buffer */
#define BUFFER_SIZE 0x2000u
#define CANARY 0xCCu

static uint8_t buffer[BUFFER_SIZE + 64]; /* 64 canary bytes past what we pass */
static struct memmap map;
static size_t used;

static uint32_t get_u32(size_t offset)
{
    assert_true(offset + 4 <= used);
    return (uint32_t)buffer[offset] | (uint32_t)buffer[offset + 1] << 8 | (uint32_t)buffer[offset + 2] << 16 |
           (uint32_t)buffer[offset + 3] << 24;
}

static uint64_t get_u64(size_t offset)
{
    return (uint64_t)get_u32(offset) | (uint64_t)get_u32(offset + 4) << 32;
}

/* A guest pointer, checked to land inside the structure; returns its buffer offset. */
static size_t pointer_to_offset(uint32_t physical)
{
    assert_true(physical >= INFO_PHYSICAL);
    assert_true(physical - INFO_PHYSICAL < used);
    return physical - INFO_PHYSICAL;
}

/* The string a guest pointer names, checked to be NUL-terminated inside the structure. */
static const char *string_at(uint32_t physical)
{
    size_t offset = pointer_to_offset(physical);
    assert_non_null(memchr(&buffer[offset], '\0', used - offset));
    return (const char *)&buffer[offset];
}

static size_t build(const char *cmdline, const char *loader_name)
{
    memset(buffer, CANARY, sizeof(buffer));
    used = guest_multiboot1_build(buffer, BUFFER_SIZE, INFO_PHYSICAL, &map, cmdline, loader_name);
    for (size_t i = BUFFER_SIZE; i < sizeof(buffer); i++)
        assert_int_equal(buffer[i], CANARY);
    return used;
}

struct expected_entry {
    uint64_t base, length;
    uint32_t type;
};

static void assert_mmap(const struct expected_entry *expected, unsigned count)
{
    uint32_t flags = get_u32(GUEST_MULTIBOOT1_FLAGS_OFFSET);
    assert_true(flags & GUEST_MULTIBOOT1_INFO_MEMORY_MAP);
    uint32_t length = get_u32(GUEST_MULTIBOOT1_MMAP_LENGTH_OFFSET);
    size_t offset = pointer_to_offset(get_u32(GUEST_MULTIBOOT1_MMAP_ADDR_OFFSET));
    assert_true(offset + length <= used);
    /* Walk as §3.3 says a guest must: advance by size + 4. */
    unsigned index = 0;
    size_t end = offset + length;
    while (offset < end) {
        assert_true(index < count);
        assert_int_equal(get_u32(offset), 20);
        uint64_t base = get_u64(offset + 4), entry_length = get_u64(offset + 12);
        uint32_t type = get_u32(offset + 20);
        if (base != expected[index].base || entry_length != expected[index].length || type != expected[index].type)
            fail_msg("mmap entry %u: got %#llx+%#llx type %u, expected %#llx+%#llx type %u", index,
                     (unsigned long long)base, (unsigned long long)entry_length, type,
                     (unsigned long long)expected[index].base, (unsigned long long)expected[index].length,
                     expected[index].type);
        offset += get_u32(offset) + 4;
        index++;
    }
    assert_int_equal(offset, end);
    assert_int_equal(index, count);
}

/*
 * A PC as vigil sees it after carving: the hypervisor at 1-3 MiB right after
 * the BIOS area, the shared region inside RAM, ACPI tables, a bad page, the
 * flash below 4 GiB and RAM above it.
 */
static int build_pc_map(void **state)
{
    (void)state;
    memmap_init(&map);
    assert_true(memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0x9FC00, 0x400, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0xF0000, 0x10000, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, MIB, 2 * MIB, MEMMAP_HYPERVISOR));
    assert_true(memmap_add(&map, 3 * MIB, 125 * MIB, MEMMAP_RAM));
    assert_true(memmap_add(&map, 128 * MIB, 64 * KIB, MEMMAP_ACPI_RECLAIMABLE));
    assert_true(memmap_add(&map, 128 * MIB + 64 * KIB, 64 * KIB, MEMMAP_ACPI_NVS));
    assert_true(memmap_add(&map, 128 * MIB + 128 * KIB, 4 * KIB, MEMMAP_BAD));
    assert_true(memmap_add(&map, 0xFFFC0000, 0x40000, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 4 * GIB, 2 * GIB, MEMMAP_RAM));
    memmap_normalize(&map);
    assert_true(memmap_carve(&map, 64 * MIB, 64 * KIB, MEMMAP_SHARED_REGION));
    return 0;
}

static const struct expected_entry pc_guest_map[] = {
    { 0, 0x9FC00, 1 },
    { 0x9FC00, 0x400, 2 },
    { 0xF0000, 3 * MIB - 0xF0000, 2 }, /* BIOS area and hypervisor, merged */
    { 3 * MIB, 61 * MIB, 1 },
    { 64 * MIB, 64 * KIB, 2 },         /* shared region */
    { 64 * MIB + 64 * KIB, 64 * MIB - 64 * KIB, 1 },
    { 128 * MIB, 64 * KIB, 3 },
    { 128 * MIB + 64 * KIB, 64 * KIB, 4 },
    { 128 * MIB + 128 * KIB, 4 * KIB, 5 },
    { 0xFFFC0000, 0x40000, 2 },
    { 4 * GIB, 2 * GIB, 1 },
};
#define PC_GUEST_MAP_COUNT (sizeof(pc_guest_map) / sizeof(pc_guest_map[0]))

static void test_fixed_fields(void **state)
{
    (void)state;
    assert_true(build("console=ttyS1 quiet", "vigil 1.2.3") > 0);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_FLAGS_OFFSET), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_LOWER_OFFSET), 0x9FC00 / 1024); /* 639 */
    /* 1 MiB is the hypervisor, not RAM: no contiguous upper memory to report. */
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_UPPER_OFFSET), 0);
    /* No modules, as GRUB says it: flag 3, count 0, an empty list inside the structure. */
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MODS_COUNT_OFFSET), 0);
    uint32_t mods_addr = get_u32(GUEST_MULTIBOOT1_MODS_ADDR_OFFSET);
    assert_int_equal(mods_addr, INFO_PHYSICAL + GUEST_MULTIBOOT1_INFO_SIZE);
    for (size_t offset = 0; offset < GUEST_MULTIBOOT1_MODULE_LIST_SIZE; offset += 4)
        assert_int_equal(get_u32(pointer_to_offset(mods_addr) + offset), 0);
    /* Everything not set is zero: boot_device, syms, drives, config, apm, vbe, framebuffer. */
    for (size_t offset = 12; offset < GUEST_MULTIBOOT1_INFO_SIZE; offset += 4) {
        if (offset == GUEST_MULTIBOOT1_CMDLINE_OFFSET || offset == GUEST_MULTIBOOT1_MMAP_LENGTH_OFFSET ||
            offset == GUEST_MULTIBOOT1_MODS_ADDR_OFFSET ||
            offset == GUEST_MULTIBOOT1_MMAP_ADDR_OFFSET || offset == GUEST_MULTIBOOT1_LOADER_NAME_OFFSET)
            continue;
        assert_int_equal(get_u32(offset), 0);
    }
}

static void test_cmdline_and_loader_name(void **state)
{
    (void)state;
    size_t size = build("console=ttyS1 quiet", "vigil 1.2.3");
    uint32_t cmdline = get_u32(GUEST_MULTIBOOT1_CMDLINE_OFFSET);
    assert_true(cmdline >= INFO_PHYSICAL + GUEST_MULTIBOOT1_INFO_SIZE);
    assert_string_equal(string_at(cmdline), "console=ttyS1 quiet");
    assert_string_equal(string_at(get_u32(GUEST_MULTIBOOT1_LOADER_NAME_OFFSET)), "vigil 1.2.3");
    /* Layout: fixed part, module list, mmap, cmdline, loader name; size is exact. */
    size_t expected = GUEST_MULTIBOOT1_INFO_SIZE + GUEST_MULTIBOOT1_MODULE_LIST_SIZE + PC_GUEST_MAP_COUNT * 24 +
                      sizeof("console=ttyS1 quiet") +
                      sizeof("vigil 1.2.3");
    assert_int_equal(size, expected);
    assert_int_equal(buffer[size], CANARY); /* nothing written past the end of the structure */
}

static void test_defaults_for_null_strings(void **state)
{
    (void)state;
    assert_true(build(NULL, NULL) > 0);
    assert_true(get_u32(GUEST_MULTIBOOT1_FLAGS_OFFSET) & GUEST_MULTIBOOT1_INFO_CMDLINE);
    assert_string_equal(string_at(get_u32(GUEST_MULTIBOOT1_CMDLINE_OFFSET)), "");
    assert_string_equal(string_at(get_u32(GUEST_MULTIBOOT1_LOADER_NAME_OFFSET)), "vigil " VIGIL_VERSION);
}

static void test_memory_map_converted_and_merged(void **state)
{
    (void)state;
    assert_true(build("", "vigil") > 0);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MMAP_LENGTH_OFFSET), PC_GUEST_MAP_COUNT * 24);
    assert_mmap(pc_guest_map, PC_GUEST_MAP_COUNT);
}

/* vigil-internal types the guest has no name for become reserved, and merge. */
static void test_unknown_internal_type_becomes_reserved(void **state)
{
    (void)state;
    memmap_init(&map);
    map.entries[0] = (struct memmap_entry){ 0, 0x9F000, MEMMAP_RAM };
    map.entries[1] = (struct memmap_entry){ 0x9F000, 0x1000, 0x102 }; /* a future vigil type */
    map.entries[2] = (struct memmap_entry){ 0xA0000, 0x60000, MEMMAP_RESERVED };
    map.entries[3] = (struct memmap_entry){ MIB, 0, MEMMAP_RESERVED }; /* zero length: skipped */
    map.entries[4] = (struct memmap_entry){ MIB, 15 * MIB, MEMMAP_RAM };
    map.count = 5;
    assert_true(build("", "vigil") > 0);
    const struct expected_entry expected[] = {
        { 0, 0x9F000, 1 },
        { 0x9F000, MIB - 0x9F000, 2 },
        { MIB, 15 * MIB, 1 },
    };
    assert_mmap(expected, 3);
}

static void test_mem_upper_counts_contiguous_ram_from_1mib(void **state)
{
    (void)state;
    memmap_init(&map);
    /* RAM from 0 past 640 KiB (some emulators report it so): mem_lower caps at 640. */
    map.entries[0] = (struct memmap_entry){ 0, MIB, MEMMAP_RAM };
    /* Two adjacent RAM entries from 1 MiB, not merged: still contiguous. */
    map.entries[1] = (struct memmap_entry){ MIB, 7 * MIB, MEMMAP_RAM };
    map.entries[2] = (struct memmap_entry){ 8 * MIB, 8 * MIB, MEMMAP_RAM };
    map.entries[3] = (struct memmap_entry){ 16 * MIB, MIB, MEMMAP_SHARED_REGION };
    map.entries[4] = (struct memmap_entry){ 17 * MIB, 100 * MIB, MEMMAP_RAM };
    map.count = 5;
    assert_true(build("", "vigil") > 0);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_LOWER_OFFSET), 640);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_UPPER_OFFSET), 15 * 1024); /* up to the shared region */
    const struct expected_entry expected[] = {
        { 0, 16 * MIB, 1 }, /* adjacent RAM merged */
        { 16 * MIB, MIB, 2 },
        { 17 * MIB, 100 * MIB, 1 },
    };
    assert_mmap(expected, 3);
}

static void test_no_low_ram(void **state)
{
    (void)state;
    memmap_init(&map);
    map.entries[0] = (struct memmap_entry){ 0x1000, 0x9E000, MEMMAP_RAM }; /* page 0 missing */
    map.count = 1;
    assert_true(build("", "vigil") > 0);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_LOWER_OFFSET), 0);
    assert_int_equal(get_u32(GUEST_MULTIBOOT1_MEM_UPPER_OFFSET), 0);
}

static void test_too_small_buffer_writes_nothing(void **state)
{
    (void)state;
    size_t needed = build("console=ttyS1", "vigil");
    assert_true(needed > 0);
    const size_t sizes[] = { 0, 1, GUEST_MULTIBOOT1_INFO_SIZE, needed - 1 };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(buffer, CANARY, sizeof(buffer));
        assert_int_equal(guest_multiboot1_build(buffer, sizes[i], INFO_PHYSICAL, &map, "console=ttyS1", "vigil"), 0);
        for (size_t b = 0; b < sizeof(buffer); b++)
            assert_int_equal(buffer[b], CANARY);
    }
    memset(buffer, CANARY, sizeof(buffer));
    assert_int_equal(guest_multiboot1_build(buffer, needed, INFO_PHYSICAL, &map, "console=ttyS1", "vigil"), needed);
    assert_int_equal(buffer[needed], CANARY);
    assert_int_equal(guest_multiboot1_build(NULL, needed, INFO_PHYSICAL, &map, "", ""), 0);
    assert_int_equal(guest_multiboot1_build(buffer, needed, INFO_PHYSICAL, NULL, "", ""), 0);
}

/* The guest's pointers are 32-bit: a structure that would cross 4 GiB is refused. */
static void test_structure_crossing_4g_refused(void **state)
{
    (void)state;
    size_t needed = build("", "vigil");
    memset(buffer, CANARY, sizeof(buffer));
    assert_int_equal(guest_multiboot1_build(buffer, BUFFER_SIZE, (uint32_t)(0x100000000ull - needed + 1), &map, "",
                                            "vigil"),
                     0);
    assert_int_equal(buffer[0], CANARY);
    assert_int_equal(
        guest_multiboot1_build(buffer, BUFFER_SIZE, (uint32_t)(0x100000000ull - needed), &map, "", "vigil"), needed);
}

static void test_long_cmdline_truncated(void **state)
{
    (void)state;
    static char long_cmdline[5000];
    memset(long_cmdline, 'a', sizeof(long_cmdline) - 1);
    long_cmdline[sizeof(long_cmdline) - 1] = '\0';
    static char long_name[200];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    size_t size = build(long_cmdline, long_name);
    assert_true(size > 0);
    const char *cmdline = string_at(get_u32(GUEST_MULTIBOOT1_CMDLINE_OFFSET));
    assert_int_equal(strlen(cmdline), GUEST_MULTIBOOT1_CMDLINE_MAX - 1);
    assert_memory_equal(cmdline, long_cmdline, GUEST_MULTIBOOT1_CMDLINE_MAX - 1);
    const char *name = string_at(get_u32(GUEST_MULTIBOOT1_LOADER_NAME_OFFSET));
    assert_int_equal(strlen(name), GUEST_MULTIBOOT1_LOADER_NAME_MAX - 1);
    assert_int_equal(size, GUEST_MULTIBOOT1_INFO_SIZE + GUEST_MULTIBOOT1_MODULE_LIST_SIZE + PC_GUEST_MAP_COUNT * 24 +
                               GUEST_MULTIBOOT1_CMDLINE_MAX + GUEST_MULTIBOOT1_LOADER_NAME_MAX);
}

/* A Linux-sized command line (2 KiB) arrives whole: no cut at 127 or 1023 bytes. */
static void test_long_cmdline_whole(void **state)
{
    (void)state;
    static char cmdline[2048];
    for (size_t i = 0; i < sizeof(cmdline) - 1; i++)
        cmdline[i] = (char)('a' + i % 26);
    cmdline[sizeof(cmdline) - 1] = '\0';
    assert_true(build(cmdline, "vigil") > 0);
    assert_string_equal(string_at(get_u32(GUEST_MULTIBOOT1_CMDLINE_OFFSET)), cmdline);
}

/* A cmdline that is not NUL-terminated within its bound is never read past it. */
static void test_unterminated_cmdline_read_bounded(void **state)
{
    (void)state;
    static char exact[GUEST_MULTIBOOT1_CMDLINE_MAX - 1]; /* no NUL at all; ASan would flag a read past it */
    memset(exact, 'x', sizeof(exact));
    assert_true(build(exact, "vigil") > 0);
    assert_int_equal(strlen(string_at(get_u32(GUEST_MULTIBOOT1_CMDLINE_OFFSET))), sizeof(exact));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fixed_fields, build_pc_map),
        cmocka_unit_test_setup(test_cmdline_and_loader_name, build_pc_map),
        cmocka_unit_test_setup(test_defaults_for_null_strings, build_pc_map),
        cmocka_unit_test_setup(test_memory_map_converted_and_merged, build_pc_map),
        cmocka_unit_test_setup(test_unknown_internal_type_becomes_reserved, build_pc_map),
        cmocka_unit_test_setup(test_mem_upper_counts_contiguous_ram_from_1mib, build_pc_map),
        cmocka_unit_test_setup(test_no_low_ram, build_pc_map),
        cmocka_unit_test_setup(test_too_small_buffer_writes_nothing, build_pc_map),
        cmocka_unit_test_setup(test_structure_crossing_4g_refused, build_pc_map),
        cmocka_unit_test_setup(test_long_cmdline_truncated, build_pc_map),
        cmocka_unit_test_setup(test_long_cmdline_whole, build_pc_map),
        cmocka_unit_test_setup(test_unterminated_cmdline_read_bounded, build_pc_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
