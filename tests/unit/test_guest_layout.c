/* Unit tests for hv/guest_layout.c: vigil's pieces at the top of RAM, the guest's
 * boot information right after its image, nothing overlapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hv/guest_layout.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull
#define RAM_TOP 0xfff0000ull /* Bochs with 256 MiB: ACPI tables above */
#define VIGIL_IMAGE 0x90000ull

static struct memmap map;

/* A 256 MiB PC after vigil moved itself to the top (hv/main.c). */
static int pc_after_move(void **state)
{
    (void)state;
    memmap_init(&map);
    memmap_add(&map, 0, 0x9F000, MEMMAP_RAM);
    memmap_add(&map, 0x9F000, 0x1000, MEMMAP_RESERVED);
    memmap_add(&map, 0xE8000, 0x18000, MEMMAP_RESERVED);
    memmap_add(&map, MIB, RAM_TOP - MIB, MEMMAP_RAM);
    memmap_add(&map, RAM_TOP, 64 * KIB, MEMMAP_ACPI_RECLAIMABLE);
    memmap_normalize(&map);
    assert_true(memmap_carve(&map, RAM_TOP - VIGIL_IMAGE, VIGIL_IMAGE, MEMMAP_HYPERVISOR));
    return 0;
}

static uint32_t type_at(uint64_t address)
{
    for (unsigned i = 0; i < map.count; i++) {
        if (map.entries[i].base <= address && address - map.entries[i].base < map.entries[i].length)
            return map.entries[i].type;
    }
    return 0;
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

static struct guest_layout_request request(const struct address_range *segments, unsigned segment_count,
                                           const struct address_range *modules, unsigned module_count)
{
    return (struct guest_layout_request){
        .image_copy_size = modules[0].end - modules[0].start,
        .pool_size = 2 * MIB,
        .pool_alignment = 2 * MIB,
        .shared_region_size = 12 * KIB,
        .boot_info_size = 12 * KIB,
        .segments = segments,
        .segment_count = segment_count,
        .modules = modules,
        .module_count = module_count,
    };
}

/* A guest linked at 1 MiB, its module where GRUB put it: everything vigil keeps
 * is at the top, the guest's RAM from 1 MiB is one run up to the pool. */
static void test_guest_at_one_mib(void **state)
{
    (void)state;
    struct address_range segments[] = { { MIB, MIB + 0x9000 } };
    struct address_range modules[] = { { 0x237000, 0x249d04 } };
    struct guest_layout_request want = request(segments, 1, modules, 1);
    struct guest_layout layout;
    assert_null(guest_layout_plan(&map, &want, &layout));

    /* The copy is the highest free page run below vigil, then the pool (2 MiB
     * aligned), then the shared region. */
    assert_int_equal(layout.image_copy, (RAM_TOP - VIGIL_IMAGE - 0x13000));
    assert_int_equal(type_at(layout.image_copy), MEMMAP_HYPERVISOR);
    assert_int_equal(layout.pool, 0xfc00000);
    assert_int_equal(type_at(layout.pool), MEMMAP_HYPERVISOR);
    assert_int_equal(layout.shared_region, layout.image_copy - 12 * KIB);
    assert_int_equal(type_at(layout.shared_region), MEMMAP_SHARED_REGION);
    /* Boot information right after the image, in RAM the guest keeps. */
    assert_int_equal(layout.boot_info, MIB + 0x9000);
    assert_int_equal(type_at(layout.boot_info), MEMMAP_RAM);
    /* RAM from 1 MiB runs unbroken up to the pool: mem_upper is most of the machine. */
    assert_int_equal(type_at(MIB), MEMMAP_RAM);
    assert_int_equal(type_at(0xfc00000 - 1), MEMMAP_RAM);
}

/* A guest at 32 KiB gets its boot information after it, below 640 KiB. */
static void test_guest_at_32_kib(void **state)
{
    (void)state;
    struct address_range segments[] = { { 0x8000, 0xC000 }, { 0xD000, 0xF11c } };
    struct address_range modules[] = { { 0x237000, 0x240000 } };
    struct guest_layout_request want = request(segments, 2, modules, 1);
    struct guest_layout layout;
    assert_null(guest_layout_plan(&map, &want, &layout));
    assert_int_equal(layout.boot_info, 0x10000);
}

/* The boot information skips over what it must not touch: the other modules
 * (still in use) and the shared region; module 0's bytes are free again. */
static void test_boot_info_avoids_modules(void **state)
{
    (void)state;
    struct address_range segments[] = { { MIB, MIB + 0x9000 } };
    struct address_range modules[] = { { MIB + 0x9000, MIB + 0x20000 }, { MIB + 0x20000, MIB + 0x21000 } };
    struct guest_layout_request want = request(segments, 1, modules, 2);
    struct guest_layout layout;
    assert_null(guest_layout_plan(&map, &want, &layout));
    assert_int_equal(layout.boot_info, MIB + 0x9000); /* module 0 was copied away */
    want.boot_info_size = 0x20000;                     /* no longer fits before module 1 */
    assert_true(pc_after_move(NULL) == 0);
    assert_null(guest_layout_plan(&map, &want, &layout));
    assert_int_equal(layout.boot_info, MIB + 0x21000);
    assert_false(overlaps(layout.boot_info, 0x20000, modules[1].start, 0x1000));
}

/* The high pieces never land on the guest's segments or the modules. */
static void test_high_pieces_avoid_segments_and_modules(void **state)
{
    (void)state;
    struct address_range segments[] = { { 0xfd00000, 0xff00000 } }; /* a guest linked high */
    struct address_range modules[] = { { 0xfc00000, 0xfc80000 } };
    struct guest_layout_request want = request(segments, 1, modules, 1);
    struct guest_layout layout;
    assert_null(guest_layout_plan(&map, &want, &layout));
    uint64_t pieces[][2] = { { layout.image_copy, 0x80000 }, { layout.pool, 2 * MIB }, { layout.shared_region, 12 * KIB } };
    for (unsigned i = 0; i < 3; i++) {
        assert_false(overlaps(pieces[i][0], pieces[i][1], segments[0].start, segments[0].end - segments[0].start));
        assert_false(overlaps(pieces[i][0], pieces[i][1], modules[0].start, modules[0].end - modules[0].start));
        assert_false(overlaps(pieces[i][0], pieces[i][1], RAM_TOP - VIGIL_IMAGE, VIGIL_IMAGE));
    }
    assert_true(layout.pool < 0xfc00000);
}

/* No room: a clear reason, never a silent overlap. */
static void test_no_room_is_an_error(void **state)
{
    (void)state;
    memmap_init(&map);
    memmap_add(&map, 0, 0x9F000, MEMMAP_RAM);
    memmap_add(&map, MIB, 3 * MIB, MEMMAP_RAM);
    memmap_normalize(&map);
    struct address_range segments[] = { { MIB, 2 * MIB } };
    struct address_range modules[] = { { 2 * MIB, 2 * MIB + 0x10000 } };
    struct guest_layout_request want = request(segments, 1, modules, 1);
    struct guest_layout layout;
    const char *failure = guest_layout_plan(&map, &want, &layout);
    assert_non_null(failure);
    assert_string_equal(failure, "no free RAM below 4 GiB for the page pool");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_guest_at_one_mib, pc_after_move),
        cmocka_unit_test_setup(test_guest_at_32_kib, pc_after_move),
        cmocka_unit_test_setup(test_boot_info_avoids_modules, pc_after_move),
        cmocka_unit_test_setup(test_high_pieces_avoid_segments_and_modules, pc_after_move),
        cmocka_unit_test_setup(test_no_room_is_an_error, pc_after_move),
    };
    return cmocka_run_group_tests_name("guest_layout", tests, NULL, NULL);
}
