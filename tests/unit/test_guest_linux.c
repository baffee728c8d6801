/*
 * Unit tests for hv/guest_linux.c: the bzImage setup header, where the kernel
 * goes, and the zero page, against the real header of Debian's
 * linux-image-6.1.0-56-cloud-amd64 (its first 4 KiB are committed as a fixture;
 * the rest of the 14 MB file does not matter to these steps and is zeros here)
 * and against headers broken one field at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/guest_linux.h"
#include "lib/memmap.h"

#define MIB 0x100000ull
#define GIB 0x40000000ull
/* vmlinuz-6.1.0-56-cloud-amd64: 14186432 bytes, of which the fixture is the head. */
#define REAL_FILE_SIZE 14186432u
#define FIXTURE_SIZE 4096u

static uint8_t *file;   /* REAL_FILE_SIZE bytes: the fixture, then zeros */
static struct memmap map;
static char error[200];

static uint32_t get_u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get_u64(const uint8_t *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static int load_fixture(void **state)
{
    (void)state;
    file = calloc(1, REAL_FILE_SIZE);
    FILE *f = fopen(VIGIL_LINUX_HEADER_FIXTURE, "rb");
    if (!file || !f)
        return -1;
    size_t got = fread(file, 1, FIXTURE_SIZE, f);
    fclose(f);
    return got == FIXTURE_SIZE ? 0 : -1;
}

static int free_fixture(void **state)
{
    (void)state;
    free(file);
    return 0;
}

static struct linux_kernel parse_ok(size_t size)
{
    struct linux_kernel kernel;
    error[0] = 0;
    enum guest_linux_status status = guest_linux_parse(file, size, &kernel, error, sizeof error);
    if (status != GUEST_LINUX_OK)
        fail_msg("parse: %s: %s", guest_linux_status_name(status), error);
    return kernel;
}

static void test_real_debian_header(void **state)
{
    (void)state;
    assert_true(guest_linux_is_bzimage(file, REAL_FILE_SIZE));
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    assert_int_equal(kernel.protocol, 0x020F);
    assert_int_equal(kernel.payload_offset, 40 * 512); /* setup_sects 39 */
    assert_int_equal(kernel.payload_size, REAL_FILE_SIZE - 40 * 512);
    assert_int_equal(kernel.pref_address, 16 * MIB);
    assert_int_equal(kernel.kernel_alignment, 2 * MIB);
    assert_int_equal(kernel.min_alignment, 2 * MIB);
    assert_int_equal(kernel.init_size, 0x3378000);
    assert_int_equal(kernel.cmdline_max, 2047);
    assert_int_equal(kernel.initrd_addr_max, 0x7FFFFFFF);
    assert_int_equal(kernel.header_end, 0x26C);
    assert_true(kernel.xloadflags & 1);
}

/* Each mutation breaks one thing; the file is restored afterwards. */
static void expect_refusal(size_t offset, uint8_t value, size_t size, enum guest_linux_status expected, const char *why)
{
    uint8_t saved = file[offset];
    file[offset] = value;
    struct linux_kernel kernel;
    error[0] = 0;
    enum guest_linux_status status = guest_linux_parse(file, size, &kernel, error, sizeof error);
    file[offset] = saved;
    if (status != expected)
        fail_msg("offset 0x%zx = 0x%x: got %s, want %s", offset, value, guest_linux_status_name(status),
                 guest_linux_status_name(expected));
    if (strstr(error, why) == NULL)
        fail_msg("offset 0x%zx: reason '%s' lacks '%s'", offset, error, why);
}

static void test_refusals_name_the_reason(void **state)
{
    (void)state;
    expect_refusal(0x202, 'X', REAL_FILE_SIZE, GUEST_LINUX_NOT_BZIMAGE, "no Linux setup header");
    expect_refusal(0x1FE, 0, REAL_FILE_SIZE, GUEST_LINUX_NOT_BZIMAGE, "no Linux setup header");
    expect_refusal(0x206, 0x09, REAL_FILE_SIZE, GUEST_LINUX_PROTOCOL_TOO_OLD, "boot protocol 2.09");
    expect_refusal(0x211, 0x00, REAL_FILE_SIZE, GUEST_LINUX_NOT_BZIMAGE, "zImage");
    expect_refusal(0x234, 0, REAL_FILE_SIZE, GUEST_LINUX_NOT_RELOCATABLE, "not relocatable");
    expect_refusal(0x236, 0x7E, REAL_FILE_SIZE, GUEST_LINUX_NOT_64BIT, "not a 64-bit kernel");
    expect_refusal(0x201, 0x10, REAL_FILE_SIZE, GUEST_LINUX_BAD_HEADER, "before the 2.10 fields");
    expect_refusal(0x1F1, 39, 40 * 512, GUEST_LINUX_TOO_SMALL, "file has 20480 bytes");
    expect_refusal(0x231, 0x21, REAL_FILE_SIZE, GUEST_LINUX_BAD_HEADER, "kernel_alignment");   /* 0x210000 */
    expect_refusal(0x235, 40, REAL_FILE_SIZE, GUEST_LINUX_BAD_HEADER, "min_alignment");
    expect_refusal(0x263, 0x00, REAL_FILE_SIZE, GUEST_LINUX_BAD_HEADER, "init_size");          /* 0x378000 < payload */
    expect_refusal(0x25C, 0x01, REAL_FILE_SIZE, GUEST_LINUX_BAD_HEADER, "pref_address");       /* 4 GiB + 16 MiB */

    /* Shorter than the header, an ELF, nothing at all. */
    struct linux_kernel kernel;
    assert_int_equal(guest_linux_parse(file, 0x263, &kernel, error, sizeof error), GUEST_LINUX_TOO_SMALL);
    assert_int_equal(guest_linux_parse(NULL, 0, &kernel, error, sizeof error), GUEST_LINUX_TOO_SMALL);
    static const uint8_t elf[0x300] = { 0x7F, 'E', 'L', 'F', 2, 1, 1 };
    assert_false(guest_linux_is_bzimage(elf, sizeof elf));
    assert_int_equal(guest_linux_parse(elf, sizeof elf, &kernel, NULL, 0), GUEST_LINUX_NOT_BZIMAGE);
    assert_false(guest_linux_is_bzimage(file, 0x205));
}

/* A 256 MiB machine as vigil sees it under GRUB: vigil at 1 MiB, the kernel and
 * initrd modules behind it, vigil's pool at the top. */
static void build_machine(uint64_t ram_top)
{
    memmap_init(&map);
    memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM);
    memmap_add(&map, 0xF0000, 0x10000, MEMMAP_RESERVED);
    memmap_add(&map, MIB, ram_top - MIB, MEMMAP_RAM);
    memmap_normalize(&map);
    assert_true(memmap_carve(&map, MIB, MIB, MEMMAP_HYPERVISOR));
    assert_true(memmap_carve(&map, ram_top - 2 * MIB, 2 * MIB, MEMMAP_HYPERVISOR));
}

static void test_placement_above_pref_address_clear_of_modules(void **state)
{
    (void)state;
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    build_machine(256 * MIB);
    const struct address_range avoid[] = {
        { 2 * MIB, 2 * MIB + REAL_FILE_SIZE },              /* the bzImage module: up to ~15.5 MiB */
        { 16 * MIB + 0x3000, 19 * MIB + 0x123 },            /* the initrd module */
        { 19 * MIB + 0x1000, 19 * MIB + 0x11000 },          /* the shared region */
    };
    uint64_t address = 0;
    assert_int_equal(guest_linux_place(&kernel, &map, avoid, 3, &address, error, sizeof error), GUEST_LINUX_OK);
    assert_int_equal(address, 20 * MIB); /* first 2 MiB boundary past the shared region */

    /* Nothing in the way: exactly pref_address. */
    assert_int_equal(guest_linux_place(&kernel, &map, avoid, 1, &address, error, sizeof error), GUEST_LINUX_OK);
    assert_int_equal(address, 16 * MIB);

    /* A reserved hole at 40 MiB: 16..40 MiB is too short for init_size (51.5 MiB). */
    assert_true(memmap_carve(&map, 40 * MIB, MIB, MEMMAP_RESERVED));
    assert_int_equal(guest_linux_place(&kernel, &map, avoid, 3, &address, error, sizeof error), GUEST_LINUX_OK);
    assert_int_equal(address, 42 * MIB);
    assert_true(address + kernel.init_size <= 254 * MIB); /* clear of the pool */
}

static void test_placement_refuses_when_nothing_fits_below_4gib(void **state)
{
    (void)state;
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    build_machine(64 * MIB); /* 1-62 MiB usable minus the modules: no 51.5 MiB run */
    const struct address_range avoid[] = { { 2 * MIB, 20 * MIB } };
    uint64_t address = 0;
    assert_int_equal(guest_linux_place(&kernel, &map, avoid, 1, &address, error, sizeof error), GUEST_LINUX_NO_ROOM);
    assert_non_null(strstr(error, "no free RAM below 4 GiB"));
    /* Plenty of RAM, but only above 4 GiB: the 32-bit entry cannot reach it. */
    memmap_add(&map, 4 * GIB, 4 * GIB, MEMMAP_RAM);
    memmap_normalize(&map);
    assert_int_equal(guest_linux_place(&kernel, &map, avoid, 1, &address, error, sizeof error), GUEST_LINUX_NO_ROOM);
}

static void test_placement_falls_back_below_pref_address(void **state)
{
    (void)state;
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    kernel.init_size = 16 * MIB;
    build_machine(32 * MIB); /* RAM 2-30 MiB: 16 MiB from 16 MiB would end at 32 */
    uint64_t address = 0;
    assert_int_equal(guest_linux_place(&kernel, &map, NULL, 0, &address, error, sizeof error), GUEST_LINUX_OK);
    assert_int_equal(address, 2 * MIB);
}

static uint8_t page[LINUX_ZERO_PAGE_SIZE];

static void test_zero_page(void **state)
{
    (void)state;
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    build_machine(256 * MIB);
    assert_true(memmap_carve(&map, 19 * MIB, 0x10000, MEMMAP_SHARED_REGION));
    struct linux_boot_layout layout = {
        .kernel_address = 20 * MIB, .cmdline_address = 0x9000, .cmdline = "console=ttyS1 nosmp",
        .initrd_address = 16 * MIB + 0x3000, .initrd_size = 0x2FF123, .rsdp_address = 0xF6A20,
    };
    memset(page, 0xCC, sizeof page);
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_OK);
    /* The header as the kernel wrote it, but for the fields a boot loader owns. */
    assert_int_equal(page[0x1F1], 39);
    assert_memory_equal(page + 0x202, "HdrS", 4);
    assert_memory_equal(page + 0x230, file + 0x230, 0x10); /* alignment..cmdline_size untouched */
    assert_int_equal(get_u64(page + 0x258), 16 * MIB);
    assert_int_equal(page[0x210], 0xFF);
    assert_int_equal(get_u32(page + 0x214), 20 * MIB);
    assert_int_equal(get_u32(page + 0x228), 0x9000);
    assert_int_equal(get_u32(page + 0x218), 16 * MIB + 0x3000);
    assert_int_equal(get_u32(page + 0x21C), 0x2FF123);
    assert_int_equal(get_u64(page + 0x070), 0xF6A20);
    assert_int_equal(page[0x1EF], 0); /* the sentinel: a boot loader that copied too much would set it */
    assert_int_equal(page[0x000], 0); /* screen_info and the rest: zero */
    assert_int_equal(page[0x26C], 0); /* past the header */

    /* e820: the firmware's RAM, vigil, the shared region and the pool reserved. */
    static const struct { uint64_t base, length; uint32_t type; } want[] = {
        { 0, 0x9FC00, 1 }, { 0xF0000, 0x10000 + MIB, 2 } /* BIOS and vigil: one reserved run */, { 2 * MIB, 17 * MIB, 1 },
        { 19 * MIB, 0x10000, 2 }, { 19 * MIB + 0x10000, 254 * MIB - 19 * MIB - 0x10000, 1 }, { 254 * MIB, 2 * MIB, 2 },
    };
    assert_int_equal(page[0x1E8], 6);
    for (unsigned i = 0; i < 6; i++) {
        const uint8_t *entry = page + 0x2D0 + 20 * i;
        assert_int_equal(get_u64(entry), want[i].base);
        assert_int_equal(get_u64(entry + 8), want[i].length);
        assert_int_equal(get_u32(entry + 16), want[i].type);
    }
    assert_int_equal(get_u64(page + 0x2D0 + 20 * 6), 0);
}

static void test_zero_page_refuses_overlong_cmdline_and_high_initrd(void **state)
{
    (void)state;
    struct linux_kernel kernel = parse_ok(REAL_FILE_SIZE);
    build_machine(256 * MIB);
    static char cmdline[2049];
    memset(cmdline, 'a', 2048);
    struct linux_boot_layout layout = { .kernel_address = 16 * MIB, .cmdline_address = 0x9000, .cmdline = cmdline };
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_CMDLINE_TOO_LONG);
    assert_non_null(strstr(error, "2047"));
    cmdline[2047] = 0; /* exactly cmdline_size: accepted */
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_OK);

    layout.cmdline = "";
    layout.initrd_address = 0x7FFFF000;
    layout.initrd_size = 0x1001; /* last byte at 0x80000000 > initrd_addr_max */
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_INITRD_TOO_HIGH);
    layout.initrd_size = 0x1000;
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_OK);
    layout.initrd_address = UINT64_MAX - 10; /* wraps */
    assert_int_equal(guest_linux_build_zero_page(page, &kernel, file, REAL_FILE_SIZE, &layout, &map, error, sizeof error),
                     GUEST_LINUX_INITRD_TOO_HIGH);
}

/* The descriptors decoded as the CPU would (SDM Vol. 3A §3.4.5). */
static void test_boot_gdt(void **state)
{
    (void)state;
    uint8_t gdt[LINUX_BOOT_GDT_SIZE];
    guest_linux_boot_gdt(gdt);
    assert_int_equal(get_u64(gdt), 0);
    assert_int_equal(get_u64(gdt + 8), 0);
    for (unsigned selector = LINUX_BOOT_CS; selector <= LINUX_BOOT_DS; selector += 8) {
        uint64_t d = get_u64(gdt + selector);
        uint64_t base = ((d >> 16) & 0xFFFFFF) | ((d >> 56) << 24);
        uint64_t limit = (d & 0xFFFF) | ((d >> 48) & 0xF) << 16;
        assert_int_equal(base, 0);
        assert_int_equal(limit, 0xFFFFF);
        assert_true(d >> 55 & 1);           /* G: 4 KiB units, so 4 GiB */
        assert_true(d >> 54 & 1);           /* D/B: 32-bit */
        assert_true(d >> 47 & 1);           /* present */
        assert_int_equal((d >> 45) & 3, 0); /* DPL 0 */
        assert_int_equal((d >> 40) & 0x1F, selector == LINUX_BOOT_CS ? 0x1A : 0x12); /* S=1 + type */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_debian_header),
        cmocka_unit_test(test_refusals_name_the_reason),
        cmocka_unit_test(test_placement_above_pref_address_clear_of_modules),
        cmocka_unit_test(test_placement_refuses_when_nothing_fits_below_4gib),
        cmocka_unit_test(test_placement_falls_back_below_pref_address),
        cmocka_unit_test(test_zero_page),
        cmocka_unit_test(test_zero_page_refuses_overlong_cmdline_and_high_initrd),
        cmocka_unit_test(test_boot_gdt),
    };
    return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
