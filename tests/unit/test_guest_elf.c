/*
 * Unit tests for hv/guest_elf.c: parsing Multiboot1 ELF guests, checking
 * their placement against the host memory map, loading them.
 *
 * ELF32 and ELF64 files are built in memory by a small writer that knows the
 * gABI header layouts; each negative test starts from a good file and breaks
 * one field, so a failure points at exactly one check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/guest_elf.h"
#include "lib/memmap.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull
#define FOUR_GIB 0x100000000ull

/* ===================== ELF writer (gABI ch. 4-5) ===================== */

#define FILE_CAPACITY 0x4000u
#define DEFAULT_FILE_SIZE 0x3000u
#define PT_LOAD 1
#define PT_NOTE 4
#define MB1_MAGIC 0x1BADB002u

/* Field offsets the tests poke directly. */
#define OFF_CLASS 4
#define OFF_DATA 5
#define OFF_IDENT_VERSION 6
#define OFF_TYPE 16
#define OFF_MACHINE 18
#define OFF_VERSION 20
#define OFF_ENTRY 24
#define OFF32_PHOFF 28
#define OFF32_PHENTSIZE 42
#define OFF32_PHNUM 44
#define OFF64_PHOFF 32
#define OFF64_PHENTSIZE 54
#define OFF64_PHNUM 56
#define EHDR32_SIZE 52u
#define EHDR64_SIZE 64u
#define PHDR32_SIZE 32u
#define PHDR64_SIZE 56u

struct test_segment {
    uint32_t type;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size;
};

static uint8_t file[FILE_CAPACITY];
static size_t file_size;
static struct guest_image image;
static char error[160];

static void put_u16(size_t offset, uint16_t value)
{
    assert_true(offset + 2 <= sizeof(file));
    file[offset] = (uint8_t)value;
    file[offset + 1] = (uint8_t)(value >> 8);
}

static void put_u32(size_t offset, uint32_t value)
{
    put_u16(offset, (uint16_t)value);
    put_u16(offset + 2, (uint16_t)(value >> 16));
}

static void put_u64(size_t offset, uint64_t value)
{
    put_u32(offset, (uint32_t)value);
    put_u32(offset + 4, (uint32_t)(value >> 32));
}

/* Writes program header `index` of the table at `phoff`. */
static void put_program_header(bool elf64, size_t phoff, unsigned index, const struct test_segment *segment)
{
    if (elf64) {
        size_t p = phoff + index * PHDR64_SIZE;
        put_u32(p + 0, segment->type);
        put_u32(p + 4, 5); /* p_flags R+X: ignored by the loader */
        put_u64(p + 8, segment->offset);
        put_u64(p + 16, segment->virtual_address);
        put_u64(p + 24, segment->physical_address);
        put_u64(p + 32, segment->file_size);
        put_u64(p + 40, segment->memory_size);
        put_u64(p + 48, 0x1000);
    } else {
        size_t p = phoff + index * PHDR32_SIZE;
        put_u32(p + 0, segment->type);
        put_u32(p + 4, (uint32_t)segment->offset);
        put_u32(p + 8, (uint32_t)segment->virtual_address);
        put_u32(p + 12, (uint32_t)segment->physical_address);
        put_u32(p + 16, (uint32_t)segment->file_size);
        put_u32(p + 20, (uint32_t)segment->memory_size);
        put_u32(p + 24, 5);
        put_u32(p + 28, 0x1000);
    }
}

/*
 * A complete ELF file of `size` bytes: header, program header table right
 * after it, the rest filled with a byte pattern (so copies are checkable).
 * No Multiboot header: tests add it with put_multiboot_header().
 */
static void write_elf(bool elf64, uint64_t entry, const struct test_segment *segments, unsigned count, size_t size)
{
    assert_true(size <= sizeof(file));
    for (size_t i = 0; i < sizeof(file); i++)
        file[i] = (uint8_t)(i * 7 + 3); /* never 0x1BADB002 by accident: checked by the no-header test */
    file_size = size;
    memset(file, 0, elf64 ? EHDR64_SIZE : EHDR32_SIZE);
    file[0] = 0x7F;
    file[1] = 'E';
    file[2] = 'L';
    file[3] = 'F';
    file[OFF_CLASS] = elf64 ? 2 : 1;
    file[OFF_DATA] = 1;
    file[OFF_IDENT_VERSION] = 1;
    put_u16(OFF_TYPE, 2);                /* ET_EXEC */
    put_u16(OFF_MACHINE, elf64 ? 62 : 3); /* EM_X86_64 / EM_386 */
    put_u32(OFF_VERSION, 1);
    size_t phoff = elf64 ? EHDR64_SIZE : EHDR32_SIZE;
    if (elf64) {
        put_u64(OFF_ENTRY, entry);
        put_u64(OFF64_PHOFF, phoff);
        put_u16(52, EHDR64_SIZE);
        put_u16(OFF64_PHENTSIZE, PHDR64_SIZE);
        put_u16(OFF64_PHNUM, (uint16_t)count);
    } else {
        put_u32(OFF_ENTRY, (uint32_t)entry);
        put_u32(OFF32_PHOFF, (uint32_t)phoff);
        put_u16(40, EHDR32_SIZE);
        put_u16(OFF32_PHENTSIZE, PHDR32_SIZE);
        put_u16(OFF32_PHNUM, (uint16_t)count);
    }
    for (unsigned i = 0; i < count; i++)
        put_program_header(elf64, phoff, i, &segments[i]);
}

/* Multiboot 0.6.96 §3.1.1: magic, flags, checksum with magic + flags + checksum == 0. */
static void put_multiboot_header(size_t offset, uint32_t flags)
{
    put_u32(offset, MB1_MAGIC);
    put_u32(offset + 4, flags);
    put_u32(offset + 8, (uint32_t)(0u - MB1_MAGIC - flags));
}

/*
 * The good ELF32 guest: text at 0x400000 (file 0x1000, 4 KiB, starts with the
 * multiboot header), data+bss at 0x401000 (2 KiB from file 0x2000, 12 KiB in
 * memory). Entry 0x400010.
 */
#define GOOD_TEXT 0x400000ull
#define GOOD_DATA 0x401000ull
#define GOOD_END 0x404000ull
#define GOOD_ENTRY 0x400010ull
static const struct test_segment good_segments[2] = {
    { PT_LOAD, 0x1000, GOOD_TEXT, GOOD_TEXT, 0x1000, 0x1000 },
    { PT_LOAD, 0x2000, GOOD_DATA, GOOD_DATA, 0x800, 0x3000 },
};

static void write_good_elf32(void)
{
    write_elf(false, GOOD_ENTRY, good_segments, 2, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0x00000003); /* page-align modules + memory info */
}

static void write_good_elf64(void)
{
    write_elf(true, GOOD_ENTRY, good_segments, 2, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0x00010002); /* memory info + a.out kludge */
}

/* Rewrites program header `index` of the good ELF32 file. */
static void set_segment32(unsigned index, const struct test_segment *segment)
{
    put_program_header(false, EHDR32_SIZE, index, segment);
}

static void set_segment64(unsigned index, const struct test_segment *segment)
{
    put_program_header(true, EHDR64_SIZE, index, segment);
}

static enum guest_elf_status parse(void)
{
    memset(error, 0x5A, sizeof(error)); /* must come back NUL-terminated */
    enum guest_elf_status status = guest_elf_parse(file, file_size, &image, error, sizeof(error));
    assert_non_null(memchr(error, '\0', sizeof(error)));
    return status;
}

#define assert_parse(expected)                                                                               \
    do {                                                                                                     \
        enum guest_elf_status status_ = parse();                                                             \
        if (status_ != (expected))                                                                           \
            fail_msg("parse: got %s (%s), expected %s", guest_elf_status_name(status_), error,              \
                     guest_elf_status_name(expected));                                                       \
    } while (0)

#define assert_error_contains(fragment)                                                                      \
    do {                                                                                                     \
        if (strstr(error, (fragment)) == NULL)                                                               \
            fail_msg("error \"%s\" does not contain \"%s\"", error, (fragment));                            \
    } while (0)

static int reset(void **state)
{
    (void)state;
    memset(&image, 0xA5, sizeof(image));
    write_good_elf32();
    return 0;
}

/* ===================== parse: good files ===================== */

static void test_good_elf32_two_segments_with_bss(void **state)
{
    (void)state;
    assert_parse(GUEST_ELF_OK);
    assert_string_equal(error, "");
    assert_false(image.elf64);
    assert_int_equal(image.entry, GOOD_ENTRY);
    assert_int_equal(image.segment_count, 2);
    assert_int_equal(image.segments[0].physical_address, GOOD_TEXT);
    assert_int_equal(image.segments[0].file_offset, 0x1000);
    assert_int_equal(image.segments[0].file_size, 0x1000);
    assert_int_equal(image.segments[0].memory_size, 0x1000);
    assert_int_equal(image.segments[1].physical_address, GOOD_DATA);
    assert_int_equal(image.segments[1].file_offset, 0x2000);
    assert_int_equal(image.segments[1].file_size, 0x800);
    assert_int_equal(image.segments[1].memory_size, 0x3000);
    assert_int_equal(image.lowest_address, GOOD_TEXT);
    assert_int_equal(image.highest_address_end, GOOD_END);
    assert_true(image.has_multiboot1_header);
    assert_int_equal(image.multiboot1_flags, 3);
}

static void test_good_elf64_entry_below_4g(void **state)
{
    (void)state;
    write_good_elf64();
    assert_parse(GUEST_ELF_OK);
    assert_true(image.elf64);
    assert_int_equal(image.entry, GOOD_ENTRY);
    assert_true(image.entry < FOUR_GIB);
    assert_int_equal(image.segment_count, 2);
    assert_int_equal(image.segments[1].memory_size, 0x3000);
    assert_int_equal(image.highest_address_end, GOOD_END);
    /* Bit 16 (a.out kludge) is recorded but not acted on for ELF. */
    assert_true(image.has_multiboot1_header);
    assert_int_equal(image.multiboot1_flags, 0x00010002);
}

/* A higher-half ELF64 kernel: e_entry is virtual, image.entry is physical. */
static void test_elf64_higher_half_entry_translated_to_physical(void **state)
{
    (void)state;
    const uint64_t base = 0xFFFFFFFF80000000ull;
    struct test_segment segments[2] = { good_segments[0], good_segments[1] };
    segments[0].virtual_address += base;
    segments[1].virtual_address += base;
    write_elf(true, base + GOOD_DATA + 0x20, segments, 2, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0);
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.entry, GOOD_DATA + 0x20);
    assert_int_equal(image.segments[0].physical_address, GOOD_TEXT);
}

/* Non-PT_LOAD headers are not loaded, whatever they contain; empty PT_LOADs are skipped. */
static void test_other_headers_and_empty_loads_ignored(void **state)
{
    (void)state;
    struct test_segment segments[4] = {
        { PT_NOTE, 0xFFFFFFF0, 0, 0xFFFFFFF0, 0x100, 0x10 }, /* nonsense, but not loaded */
        good_segments[0],
        { PT_LOAD, 0xFFFFFFFF, 0x12345678, 0xFFFFFFFF, 0, 0 }, /* empty */
        good_segments[1],
    };
    write_elf(false, GOOD_ENTRY, segments, 4, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0);
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.segment_count, 2);
    assert_int_equal(image.segments[0].physical_address, GOOD_TEXT);
    assert_int_equal(image.segments[1].physical_address, GOOD_DATA);
}

/* A pure-bss segment (p_filesz 0) may name any offset: nothing is read. */
static void test_bss_only_segment_offset_not_checked(void **state)
{
    (void)state;
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0xFFFFFFFF, GOOD_DATA, GOOD_DATA, 0, 0x3000 });
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.segments[1].file_size, 0);
}

static void test_sixteen_segments_accepted(void **state)
{
    (void)state;
    struct test_segment segments[16];
    for (unsigned i = 0; i < 16; i++)
        segments[i] = (struct test_segment){ PT_LOAD, 0x1000, GOOD_TEXT + i * 0x1000, GOOD_TEXT + i * 0x1000,
                                             0x100, 0x1000 };
    write_elf(false, GOOD_ENTRY, segments, 16, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0);
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.segment_count, 16);
    assert_int_equal(image.highest_address_end, GOOD_TEXT + 16 * 0x1000);
}

static void test_segment_ending_exactly_at_4g_accepted(void **state)
{
    (void)state;
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, 0xFFFFF000, 0xFFFFF000, 0x800, 0x1000 });
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.highest_address_end, FOUR_GIB);
}

/* ===================== parse: identification and ELF header ===================== */

static void test_truncated_header_too_small(void **state)
{
    (void)state;
    file_size = 10; /* shorter than e_ident */
    assert_parse(GUEST_ELF_TOO_SMALL);
    file_size = EHDR32_SIZE - 1;
    assert_parse(GUEST_ELF_TOO_SMALL);
    assert_error_contains("ELF32 header (52 bytes)");
    write_good_elf64();
    file_size = EHDR64_SIZE - 1; /* enough for ELF32, not for ELF64 */
    assert_parse(GUEST_ELF_TOO_SMALL);
    assert_int_equal(guest_elf_parse(NULL, 100, &image, error, sizeof(error)), GUEST_ELF_TOO_SMALL);
}

static void test_bad_magic(void **state)
{
    (void)state;
    file[1] = 'e';
    assert_parse(GUEST_ELF_BAD_MAGIC);
    write_good_elf32();
    file[0] = 0;
    assert_parse(GUEST_ELF_BAD_MAGIC);
}

static void test_elf_version_not_current(void **state)
{
    (void)state;
    file[OFF_IDENT_VERSION] = 0;
    assert_parse(GUEST_ELF_BAD_MAGIC);
    write_good_elf32();
    put_u32(OFF_VERSION, 2);
    assert_parse(GUEST_ELF_BAD_MAGIC);
    assert_error_contains("EV_CURRENT");
}

static void test_class_3_unsupported(void **state)
{
    (void)state;
    file[OFF_CLASS] = 3;
    assert_parse(GUEST_ELF_UNSUPPORTED_CLASS);
    assert_error_contains("class 3");
    file[OFF_CLASS] = 0; /* ELFCLASSNONE */
    assert_parse(GUEST_ELF_UNSUPPORTED_CLASS);
}

static void test_big_endian_refused(void **state)
{
    (void)state;
    file[OFF_DATA] = 2; /* ELFDATA2MSB */
    assert_parse(GUEST_ELF_NOT_LITTLE_ENDIAN);
}

static void test_et_dyn_not_executable(void **state)
{
    (void)state;
    put_u16(OFF_TYPE, 3); /* ET_DYN */
    assert_parse(GUEST_ELF_NOT_EXECUTABLE);
    assert_error_contains("ET_DYN");
    put_u16(OFF_TYPE, 1); /* ET_REL */
    assert_parse(GUEST_ELF_NOT_EXECUTABLE);
}

static void test_wrong_machine(void **state)
{
    (void)state;
    put_u16(OFF_MACHINE, 40); /* EM_ARM */
    assert_parse(GUEST_ELF_WRONG_MACHINE);
    assert_error_contains("machine 40");
    /* Class and machine must agree. */
    put_u16(OFF_MACHINE, 62);
    assert_parse(GUEST_ELF_WRONG_MACHINE);
    write_good_elf64();
    put_u16(OFF_MACHINE, 3);
    assert_parse(GUEST_ELF_WRONG_MACHINE);
}

/* ===================== parse: program header table ===================== */

static void test_phentsize_wrong(void **state)
{
    (void)state;
    put_u16(OFF32_PHENTSIZE, PHDR64_SIZE);
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
    write_good_elf64();
    put_u16(OFF64_PHENTSIZE, PHDR64_SIZE + 8); /* even larger is a different layout */
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
    assert_error_contains("entry size 64");
}

static void test_program_header_table_past_end(void **state)
{
    (void)state;
    put_u32(OFF32_PHOFF, (uint32_t)(file_size - PHDR32_SIZE)); /* 2 entries, room for 1 */
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
    put_u32(OFF32_PHOFF, (uint32_t)(file_size - 2 * PHDR32_SIZE)); /* exactly at the end: fine */
    memcpy(&file[file_size - 2 * PHDR32_SIZE], &file[EHDR32_SIZE], 2 * PHDR32_SIZE);
    assert_parse(GUEST_ELF_OK);
    put_u32(OFF32_PHOFF, 0xFFFFFFF0);
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
}

/* phoff + phnum * phentsize wraps around 2^64: must not be read as "small". */
static void test_program_header_table_offset_overflow(void **state)
{
    (void)state;
    write_good_elf64();
    put_u64(OFF64_PHOFF, UINT64_MAX - PHDR64_SIZE + 1); /* + 2 * 56 wraps to 56 */
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
    assert_error_contains("past end of module");
    put_u16(OFF64_PHNUM, 0xFFFE);
    put_u64(OFF64_PHOFF, 0x40);
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
}

static void test_no_program_headers(void **state)
{
    (void)state;
    put_u16(OFF32_PHNUM, 0);
    assert_parse(GUEST_ELF_NO_SEGMENTS);
    put_u16(OFF32_PHNUM, 0xFFFF); /* PN_XNUM */
    assert_parse(GUEST_ELF_BAD_PROGRAM_HEADERS);
}

static void test_no_loadable_segments(void **state)
{
    (void)state;
    set_segment32(0, &(struct test_segment){ PT_NOTE, 0x1000, GOOD_TEXT, GOOD_TEXT, 0x10, 0x10 });
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_DATA, GOOD_DATA, 0, 0 });
    assert_parse(GUEST_ELF_NO_SEGMENTS);
}

/* ===================== parse: segments ===================== */

static void test_segment_file_range_past_end(void **state)
{
    (void)state;
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x1000, GOOD_DATA, GOOD_DATA, 0x5000, 0x5000 });
    assert_parse(GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    assert_string_equal(error, "segment 1: file range 0x1000+0x5000 past end of module (0x3000 bytes)");
    /* One byte past the end. */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2801, GOOD_DATA, GOOD_DATA, 0x800, 0x3000 });
    assert_parse(GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    /* Ending exactly at the end is fine. */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2800, GOOD_DATA, GOOD_DATA, 0x800, 0x3000 });
    assert_parse(GUEST_ELF_OK);
}

static void test_segment_file_range_64bit_overflow(void **state)
{
    (void)state;
    write_good_elf64();
    /* 0xfffffffffffff000 + 0x2000 wraps to 0x1000, inside the file. */
    set_segment64(1, &(struct test_segment){ PT_LOAD, 0xFFFFFFFFFFFFF000ull, GOOD_DATA, GOOD_DATA, 0x2000,
                                             0x3000 });
    assert_parse(GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    assert_error_contains("0xfffffffffffff000+0x2000");
}

static void test_memsz_smaller_than_filesz(void **state)
{
    (void)state;
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_DATA, GOOD_DATA, 0x800, 0x7FF });
    assert_parse(GUEST_ELF_SEGMENT_SIZE_INVALID);
    /* Even a zero-memsz segment with file bytes is malformed, not "empty". */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_DATA, GOOD_DATA, 0x800, 0 });
    assert_parse(GUEST_ELF_SEGMENT_SIZE_INVALID);
}

static void test_seventeen_segments_too_many(void **state)
{
    (void)state;
    struct test_segment segments[17];
    for (unsigned i = 0; i < 17; i++)
        segments[i] = (struct test_segment){ PT_LOAD, 0x1000, GOOD_TEXT + i * 0x1000, GOOD_TEXT + i * 0x1000,
                                             0x100, 0x1000 };
    write_elf(false, GOOD_ENTRY, segments, 17, DEFAULT_FILE_SIZE);
    put_multiboot_header(0x1000, 0);
    assert_parse(GUEST_ELF_TOO_MANY_SEGMENTS);
    assert_error_contains("segment 16");
}

static void test_overlapping_segments(void **state)
{
    (void)state;
    /* Data starts one byte before text ends. */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_DATA - 1, GOOD_DATA - 1, 0x800, 0x3000 });
    assert_parse(GUEST_ELF_SEGMENTS_OVERLAP);
    assert_error_contains("overlaps segment 0");
    /* One containing the other entirely. */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_TEXT + 0x10, GOOD_TEXT + 0x10, 0x10, 0x10 });
    assert_parse(GUEST_ELF_SEGMENTS_OVERLAP);
}

static void test_entry_outside_segments(void **state)
{
    (void)state;
    put_u32(OFF_ENTRY, (uint32_t)GOOD_END); /* one past the last byte */
    assert_parse(GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS);
    assert_error_contains("0x404000");
    put_u32(OFF_ENTRY, (uint32_t)GOOD_TEXT - 1);
    assert_parse(GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS);
    put_u32(OFF_ENTRY, (uint32_t)GOOD_END - 1); /* last bss byte: inside */
    assert_parse(GUEST_ELF_OK);
}

static void test_segment_above_4g(void **state)
{
    (void)state;
    /* ELF32: 0xfffff000 + 0x2000 ends above 4 GiB without wrapping 64-bit arithmetic. */
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x2000, 0xFFFFF000, 0xFFFFF000, 0x800, 0x2000 });
    assert_parse(GUEST_ELF_ADDRESS_TOO_HIGH);
    /* ELF64: starting above 4 GiB. */
    write_good_elf64();
    set_segment64(1, &(struct test_segment){ PT_LOAD, 0x2000, FOUR_GIB, FOUR_GIB, 0x800, 0x3000 });
    assert_parse(GUEST_ELF_ADDRESS_TOO_HIGH);
    /* ELF64: paddr + memsz wraps around 2^64 to a small address. */
    set_segment64(1, &(struct test_segment){ PT_LOAD, 0x2000, GOOD_DATA, 0xFFFFFFFFFFFFF000ull, 0x800,
                                             0x3000 });
    assert_parse(GUEST_ELF_ADDRESS_TOO_HIGH);
    assert_error_contains("segment 1");
}

/* ===================== parse: Multiboot1 header (spec §3.1) ===================== */

static void test_missing_multiboot_header(void **state)
{
    (void)state;
    write_elf(false, GOOD_ENTRY, good_segments, 2, DEFAULT_FILE_SIZE);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
    assert_false(image.has_multiboot1_header);
}

static void test_multiboot_header_search_limit(void **state)
{
    (void)state;
    /* 8193: past the 8192-byte window (and not 4-byte aligned). */
    write_elf(false, GOOD_ENTRY, good_segments, 2, FILE_CAPACITY);
    put_multiboot_header(8193, 0);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
    /* 8184: aligned, starts inside the window, ends 4 bytes past it. */
    write_elf(false, GOOD_ENTRY, good_segments, 2, FILE_CAPACITY);
    put_multiboot_header(8184, 0);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
    /* 8180: ends exactly at 8192. */
    write_elf(false, GOOD_ENTRY, good_segments, 2, FILE_CAPACITY);
    put_multiboot_header(8180, 0);
    assert_parse(GUEST_ELF_OK);
    /* Not 4-byte aligned inside the window. */
    write_elf(false, GOOD_ENTRY, good_segments, 2, FILE_CAPACITY);
    put_multiboot_header(0x1002, 0);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
}

/* A header in a file shorter than 12 bytes past its start is not read past the end. */
static void test_multiboot_magic_at_end_of_file(void **state)
{
    (void)state;
    write_elf(false, GOOD_ENTRY, good_segments, 2, DEFAULT_FILE_SIZE);
    put_u32(DEFAULT_FILE_SIZE - 8, MB1_MAGIC);
    put_u32(DEFAULT_FILE_SIZE - 4, 0);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
}

static void test_multiboot_bad_checksum(void **state)
{
    (void)state;
    put_u32(0x1008, 0x12345678);
    assert_parse(GUEST_ELF_NO_MULTIBOOT_HEADER);
    assert_error_contains("bad checksum");
    /* A stray magic before the real header is skipped, as GRUB does. */
    put_multiboot_header(0x1010, 2);
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(image.multiboot1_flags, 2);
}

static void test_multiboot_video_mode_flag_unsupported(void **state)
{
    (void)state;
    put_multiboot_header(0x1000, 1u << 2);
    assert_parse(GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED);
    assert_error_contains("video mode");
    assert_true(image.has_multiboot1_header);
    assert_int_equal(image.multiboot1_flags, 1u << 2);
    /* Undefined requirement bits must fail too (§3.1.2). */
    put_multiboot_header(0x1000, 1u << 5);
    assert_parse(GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED);
    put_multiboot_header(0x1000, 1u << 15);
    assert_parse(GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED);
    /* Optional bits 16-31 are not requirements. */
    put_multiboot_header(0x1000, 0xFFFF0003u);
    assert_parse(GUEST_ELF_OK);
}

/* ===================== parse: error text and names ===================== */

static void test_error_buffer_bounded(void **state)
{
    (void)state;
    set_segment32(1, &(struct test_segment){ PT_LOAD, 0x1000, GOOD_DATA, GOOD_DATA, 0x5000, 0x5000 });
    char small[12];
    memset(small, 0x5A, sizeof(small));
    assert_int_equal(guest_elf_parse(file, file_size, &image, small, 8), GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    assert_string_equal(small, "segment");
    assert_int_equal((uint8_t)small[8], 0x5A);
    assert_int_equal(guest_elf_parse(file, file_size, &image, NULL, 100), GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    assert_int_equal(guest_elf_parse(file, file_size, &image, small, 0), GUEST_ELF_SEGMENT_OUTSIDE_FILE);
    assert_int_equal((uint8_t)small[0], 's');
}

static void test_status_names(void **state)
{
    (void)state;
    for (int i = GUEST_ELF_OK; i <= GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED; i++) {
        const char *name = guest_elf_status_name((enum guest_elf_status)i);
        assert_string_not_equal(name, "unknown");
        for (int j = GUEST_ELF_OK; j < i; j++)
            assert_string_not_equal(name, guest_elf_status_name((enum guest_elf_status)j));
    }
    assert_string_equal(guest_elf_status_name(GUEST_ELF_OK), "ok");
    assert_string_equal(guest_elf_status_name((enum guest_elf_status)999), "unknown");
    for (int i = GUEST_PLACEMENT_OK; i <= GUEST_PLACEMENT_TOO_HIGH; i++)
        assert_string_not_equal(guest_placement_status_name((enum guest_placement_status)i), "unknown");
    assert_string_equal(guest_placement_status_name(GUEST_PLACEMENT_OVERLAPS_HYPERVISOR), "overlaps-hypervisor");
    assert_string_equal(guest_placement_status_name((enum guest_placement_status)999), "unknown");
}

/* ===================== placement ===================== */

static struct memmap map;

/* A PC with 128 MiB: low RAM, the BIOS holes, the hypervisor at 1-3 MiB,
 * a reserved hole at 8-9 MiB, nothing above 128 MiB. */
static void build_host_map(void)
{
    memmap_init(&map);
    assert_true(memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0x9FC00, 0x400, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0xF0000, 0x10000, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, MIB, 127 * MIB, MEMMAP_RAM));
    assert_true(memmap_add(&map, MIB, 2 * MIB, MEMMAP_HYPERVISOR));
    assert_true(memmap_add(&map, 8 * MIB, MIB, MEMMAP_RESERVED));
    memmap_normalize(&map);
}

static struct guest_image one_segment_image(uint64_t start, uint64_t size)
{
    struct guest_image result;
    memset(&result, 0, sizeof(result));
    result.segment_count = 1;
    result.segments[0] = (struct guest_segment){ start, 0, 0, size };
    result.lowest_address = start;
    result.highest_address_end = start + size;
    result.entry = start;
    return result;
}

static enum guest_placement_status place(const struct guest_image *candidate, const struct address_range *avoid,
                                         unsigned avoid_count)
{
    memset(error, 0x5A, sizeof(error));
    enum guest_placement_status status =
        guest_elf_check_placement(candidate, &map, avoid, avoid_count, error, sizeof(error));
    assert_non_null(memchr(error, '\0', sizeof(error)));
    return status;
}

static void test_placement_inside_ram_ok(void **state)
{
    (void)state;
    build_host_map();
    assert_parse(GUEST_ELF_OK);
    assert_int_equal(place(&image, NULL, 0), GUEST_PLACEMENT_OK);
    assert_string_equal(error, "");
}

static void test_placement_touching_hypervisor(void **state)
{
    (void)state;
    build_host_map();
    /* Last byte of the hypervisor. */
    struct guest_image candidate = one_segment_image(3 * MIB - 1, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OVERLAPS_HYPERVISOR);
    assert_error_contains("hypervisor at [0x100000, 0x300000)");
    /* Straddling reserved BIOS memory and the hypervisor: the hypervisor is named. */
    candidate = one_segment_image(0xFF000, 0x2000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OVERLAPS_HYPERVISOR);
    /* Right after it: fine. */
    candidate = one_segment_image(3 * MIB, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OK);
}

static void test_placement_in_reserved_hole_not_in_ram(void **state)
{
    (void)state;
    build_host_map();
    struct guest_image candidate = one_segment_image(8 * MIB + 0x1000, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_NOT_IN_RAM);
    assert_error_contains("reserved");
    /* Partly in the hole. */
    candidate = one_segment_image(8 * MIB - 0x800, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_NOT_IN_RAM);
    /* In the ISA hole, which the map does not mention at all. */
    candidate = one_segment_image(0xC0000, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_NOT_IN_RAM);
    assert_error_contains("not in the memory map");
    /* Past the end of RAM. */
    candidate = one_segment_image(128 * MIB - 0x800, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_NOT_IN_RAM);
}

static void test_placement_end_exactly_at_ram_end_ok(void **state)
{
    (void)state;
    build_host_map();
    struct guest_image candidate = one_segment_image(128 * MIB - 0x1000, 0x1000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OK);
    candidate = one_segment_image(8 * MIB - 0x1000, 0x1000); /* up to the reserved hole */
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OK);
}

static void test_placement_overlapping_avoid_range(void **state)
{
    (void)state;
    build_host_map();
    assert_parse(GUEST_ELF_OK);
    struct address_range avoid[3] = {
        { 0x10000, 0x11000 },                  /* boot info page, elsewhere */
        { GOOD_END - 1, GOOD_END + 0x10000 },  /* the module, overlapping the last bss byte */
        { 0x20000, 0x20000 },                  /* empty: ignored */
    };
    assert_int_equal(place(&image, avoid, 3), GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE);
    assert_error_contains("reserved range 1");
    avoid[1].start = GOOD_END; /* adjacent: fine */
    assert_int_equal(place(&image, avoid, 3), GUEST_PLACEMENT_OK);
    avoid[2] = (struct address_range){ GOOD_TEXT + 0x10, GOOD_TEXT + 0x11 }; /* one byte inside */
    assert_int_equal(place(&image, avoid, 3), GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE);
}

static void test_placement_too_high(void **state)
{
    (void)state;
    build_host_map();
    assert_true(memmap_add(&map, 4 * GIB, 4 * GIB, MEMMAP_RAM));
    memmap_normalize(&map);
    struct guest_image candidate = one_segment_image(4 * GIB - 0x1000, 0x2000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_TOO_HIGH);
    /* A hand-made image whose segment wraps, with a lying highest_address_end. */
    candidate = one_segment_image(UINT64_MAX - 0xFFF, 0x2000);
    candidate.highest_address_end = 0x1000;
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_TOO_HIGH);
}

/* A map as firmware reports it (not normalised): RAM split in two adjacent
 * entries still counts as RAM across the seam. */
static void test_placement_across_unmerged_ram_entries(void **state)
{
    (void)state;
    memmap_init(&map);
    map.entries[0] = (struct memmap_entry){ 6 * MIB, 2 * MIB, MEMMAP_RAM };
    map.entries[1] = (struct memmap_entry){ 4 * MIB, 2 * MIB, MEMMAP_RAM };
    map.entries[2] = (struct memmap_entry){ UINT64_MAX - 0xFFF, 0x10000, MEMMAP_RESERVED }; /* wraps: saturated */
    map.count = 3;
    struct guest_image candidate = one_segment_image(6 * MIB - 0x1000, 0x2000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_OK);
    candidate = one_segment_image(8 * MIB - 0x1000, 0x2000);
    assert_int_equal(place(&candidate, NULL, 0), GUEST_PLACEMENT_NOT_IN_RAM);
}

/* ===================== load ===================== */

/* Fake guest RAM standing for guest-physical 4 MiB .. 4 MiB + 64 KiB. */
#define RAM_BASE GOOD_TEXT
#define RAM_SIZE 0x10000u
static uint8_t guest_ram[RAM_SIZE];
static unsigned writer_calls;

static void *fake_ram_pointer(void *context, uint64_t guest_physical, uint64_t length)
{
    (void)context;
    writer_calls++;
    if (guest_physical < RAM_BASE || guest_physical - RAM_BASE > RAM_SIZE || length > RAM_SIZE - (guest_physical - RAM_BASE))
        return NULL;
    return &guest_ram[guest_physical - RAM_BASE];
}

static void *null_pointer(void *context, uint64_t guest_physical, uint64_t length)
{
    (void)context;
    (void)guest_physical;
    (void)length;
    writer_calls++;
    return NULL;
}

static void test_load_copies_and_zeroes_bss(void **state)
{
    (void)state;
    assert_parse(GUEST_ELF_OK);
    memset(guest_ram, 0xA5, sizeof(guest_ram));
    writer_calls = 0;
    struct guest_memory_writer writer = { fake_ram_pointer, NULL };
    assert_true(guest_elf_load(&image, file, file_size, &writer));
    assert_int_equal(writer_calls, 2);
    /* Text: file 0x1000..0x2000 (starts with the multiboot header). */
    assert_memory_equal(&guest_ram[GOOD_TEXT - RAM_BASE], &file[0x1000], 0x1000);
    /* Data: file 0x2000..0x2800, then bss zeroed up to 0x404000. */
    assert_memory_equal(&guest_ram[GOOD_DATA - RAM_BASE], &file[0x2000], 0x800);
    for (uint64_t a = GOOD_DATA + 0x800; a < GOOD_END; a++)
        assert_int_equal(guest_ram[a - RAM_BASE], 0);
    /* Nothing beyond the image touched. */
    for (uint64_t a = GOOD_END; a < RAM_BASE + RAM_SIZE; a++)
        assert_int_equal(guest_ram[a - RAM_BASE], 0xA5);
}

static void test_load_elf64(void **state)
{
    (void)state;
    write_good_elf64();
    assert_parse(GUEST_ELF_OK);
    memset(guest_ram, 0xA5, sizeof(guest_ram));
    struct guest_memory_writer writer = { fake_ram_pointer, NULL };
    assert_true(guest_elf_load(&image, file, file_size, &writer));
    assert_memory_equal(&guest_ram[GOOD_DATA - RAM_BASE], &file[0x2000], 0x800);
    assert_int_equal(guest_ram[GOOD_END - 1 - RAM_BASE], 0);
}

static void test_load_writer_null_fails(void **state)
{
    (void)state;
    assert_parse(GUEST_ELF_OK);
    writer_calls = 0;
    struct guest_memory_writer writer = { null_pointer, NULL };
    assert_false(guest_elf_load(&image, file, file_size, &writer));
    assert_int_equal(writer_calls, 1);
    /* Segment outside the fake RAM. */
    struct guest_image candidate = one_segment_image(RAM_BASE + RAM_SIZE, 0x1000);
    struct guest_memory_writer fake = { fake_ram_pointer, NULL };
    assert_false(guest_elf_load(&candidate, file, file_size, &fake));
    /* No writer at all. */
    assert_false(guest_elf_load(&image, file, file_size, NULL));
    struct guest_memory_writer empty = { NULL, NULL };
    assert_false(guest_elf_load(&image, file, file_size, &empty));
}

/* The load re-checks file bounds: an image that does not match the file is refused, not read past. */
static void test_load_rechecks_file_bounds(void **state)
{
    (void)state;
    assert_parse(GUEST_ELF_OK);
    struct guest_memory_writer writer = { fake_ram_pointer, NULL };
    assert_false(guest_elf_load(&image, file, 0x2000, &writer)); /* data segment reads 0x2000..0x2800 */
    image.segments[1].file_offset = UINT64_MAX - 0x100;
    assert_false(guest_elf_load(&image, file, file_size, &writer));
    assert_parse(GUEST_ELF_OK);
    image.segments[1].file_size = image.segments[1].memory_size + 1;
    assert_false(guest_elf_load(&image, file, file_size, &writer));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good_elf32_two_segments_with_bss, reset),
        cmocka_unit_test_setup(test_good_elf64_entry_below_4g, reset),
        cmocka_unit_test_setup(test_elf64_higher_half_entry_translated_to_physical, reset),
        cmocka_unit_test_setup(test_other_headers_and_empty_loads_ignored, reset),
        cmocka_unit_test_setup(test_bss_only_segment_offset_not_checked, reset),
        cmocka_unit_test_setup(test_sixteen_segments_accepted, reset),
        cmocka_unit_test_setup(test_segment_ending_exactly_at_4g_accepted, reset),
        cmocka_unit_test_setup(test_truncated_header_too_small, reset),
        cmocka_unit_test_setup(test_bad_magic, reset),
        cmocka_unit_test_setup(test_elf_version_not_current, reset),
        cmocka_unit_test_setup(test_class_3_unsupported, reset),
        cmocka_unit_test_setup(test_big_endian_refused, reset),
        cmocka_unit_test_setup(test_et_dyn_not_executable, reset),
        cmocka_unit_test_setup(test_wrong_machine, reset),
        cmocka_unit_test_setup(test_phentsize_wrong, reset),
        cmocka_unit_test_setup(test_program_header_table_past_end, reset),
        cmocka_unit_test_setup(test_program_header_table_offset_overflow, reset),
        cmocka_unit_test_setup(test_no_program_headers, reset),
        cmocka_unit_test_setup(test_no_loadable_segments, reset),
        cmocka_unit_test_setup(test_segment_file_range_past_end, reset),
        cmocka_unit_test_setup(test_segment_file_range_64bit_overflow, reset),
        cmocka_unit_test_setup(test_memsz_smaller_than_filesz, reset),
        cmocka_unit_test_setup(test_seventeen_segments_too_many, reset),
        cmocka_unit_test_setup(test_overlapping_segments, reset),
        cmocka_unit_test_setup(test_entry_outside_segments, reset),
        cmocka_unit_test_setup(test_segment_above_4g, reset),
        cmocka_unit_test_setup(test_missing_multiboot_header, reset),
        cmocka_unit_test_setup(test_multiboot_header_search_limit, reset),
        cmocka_unit_test_setup(test_multiboot_magic_at_end_of_file, reset),
        cmocka_unit_test_setup(test_multiboot_bad_checksum, reset),
        cmocka_unit_test_setup(test_multiboot_video_mode_flag_unsupported, reset),
        cmocka_unit_test_setup(test_error_buffer_bounded, reset),
        cmocka_unit_test_setup(test_status_names, reset),
        cmocka_unit_test_setup(test_placement_inside_ram_ok, reset),
        cmocka_unit_test_setup(test_placement_touching_hypervisor, reset),
        cmocka_unit_test_setup(test_placement_in_reserved_hole_not_in_ram, reset),
        cmocka_unit_test_setup(test_placement_end_exactly_at_ram_end_ok, reset),
        cmocka_unit_test_setup(test_placement_overlapping_avoid_range, reset),
        cmocka_unit_test_setup(test_placement_too_high, reset),
        cmocka_unit_test_setup(test_placement_across_unmerged_ram_entries, reset),
        cmocka_unit_test_setup(test_load_copies_and_zeroes_bss, reset),
        cmocka_unit_test_setup(test_load_elf64, reset),
        cmocka_unit_test_setup(test_load_writer_null_fails, reset),
        cmocka_unit_test_setup(test_load_rechecks_file_bounds, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
