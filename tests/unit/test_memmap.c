/* Unit tests for lib/memmap.c: adding, normalising, carving, finding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/memmap.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull

static struct memmap map; /* ~3 KiB: static, like the hypervisor keeps it */

static int reset_map(void **state)
{
    (void)state;
    memmap_init(&map);
    return 0;
}

static void assert_entry(unsigned index, uint64_t base, uint64_t length, uint32_t type)
{
    assert_true(index < map.count);
    assert_int_equal(map.entries[index].base, base);
    assert_int_equal(map.entries[index].length, length);
    assert_int_equal(map.entries[index].type, type);
}

/* Sorted, non-overlapping, no adjacent pair of the same type. */
static void assert_normalized(void)
{
    for (unsigned i = 0; i + 1 < map.count; i++) {
        const struct memmap_entry *a = &map.entries[i], *b = &map.entries[i + 1];
        assert_true(a->length > 0);
        assert_true(a->base + a->length <= b->base);
        if (a->base + a->length == b->base)
            assert_int_not_equal(a->type, b->type);
    }
}

/* A typical PC (what QEMU's SeaBIOS reports), out of order. */
static void add_pc_map(void)
{
    assert_true(memmap_add(&map, 0x100000, 511 * MIB, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0xF0000, 0x10000, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0x9FC00, 0x400, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0xFFFC0000, 0x40000, MEMMAP_RESERVED));
}

static void test_add_rejects_zero_length(void **state)
{
    (void)state;
    assert_false(memmap_add(&map, 0x1000, 0, MEMMAP_RAM));
    assert_int_equal(map.count, 0);
    assert_int_equal(map.rejected_zero_length, 1);
}

static void test_add_clamps_wraparound(void **state)
{
    (void)state;
    assert_true(memmap_add(&map, 0xFFFFFFFFFFFF0000ull, 0x20000, MEMMAP_RESERVED));
    assert_int_equal(map.clamped_wraparound, 1);
    assert_entry(0, 0xFFFFFFFFFFFF0000ull, 0xFFFF, MEMMAP_RESERVED);
    /* An end of exactly 2^64 is not representable either. */
    assert_true(memmap_add(&map, 0xFFFFFFFF00000000ull, 0x100000000ull, MEMMAP_RESERVED));
    assert_int_equal(map.clamped_wraparound, 2);
    /* Ending just below 2^64 is fine. */
    assert_true(memmap_add(&map, 0x1000, 0x1000, MEMMAP_RAM));
    assert_int_equal(map.clamped_wraparound, 2);
    /* base = 2^64 - 1 clamps to nothing and is rejected. */
    assert_false(memmap_add(&map, UINT64_MAX, 5, MEMMAP_RAM));
    assert_int_equal(map.rejected_zero_length, 1);
    memmap_normalize(&map);
    assert_normalized();
}

static void test_add_full_map_drops(void **state)
{
    (void)state;
    for (unsigned i = 0; i < MEMMAP_MAX_ENTRIES; i++)
        assert_true(memmap_add(&map, (uint64_t)i * 0x2000, 0x1000, MEMMAP_RAM));
    assert_false(memmap_add(&map, 0x10000000, 0x1000, MEMMAP_RAM));
    assert_false(memmap_add(&map, 0x20000000, 0x1000, MEMMAP_RESERVED));
    assert_int_equal(map.count, MEMMAP_MAX_ENTRIES);
    assert_int_equal(map.dropped_full, 2);
}

static void test_add_unknown_type_is_reserved(void **state)
{
    (void)state;
    assert_true(memmap_add(&map, 0x1000, 0x1000, 0));
    assert_true(memmap_add(&map, 0x3000, 0x1000, 7)); /* ACPI 6 persistent memory: not ours to use */
    assert_true(memmap_add(&map, 0x5000, 0x1000, MEMMAP_ACPI_NVS));
    assert_int_equal(map.unknown_types, 2);
    assert_int_equal(map.entries[0].type, MEMMAP_RESERVED);
    assert_int_equal(map.entries[1].type, MEMMAP_RESERVED);
    assert_int_equal(map.entries[2].type, MEMMAP_ACPI_NVS);
}

static void test_normalize_sorts(void **state)
{
    (void)state;
    add_pc_map();
    memmap_normalize(&map);
    assert_normalized();
    assert_int_equal(map.count, 5);
    assert_entry(0, 0, 0x9FC00, MEMMAP_RAM);
    assert_entry(1, 0x9FC00, 0x400, MEMMAP_RESERVED);
    assert_entry(2, 0xF0000, 0x10000, MEMMAP_RESERVED);
    assert_entry(3, 0x100000, 511 * MIB, MEMMAP_RAM);
    assert_entry(4, 0xFFFC0000, 0x40000, MEMMAP_RESERVED);
    assert_int_equal(map.overlaps_resolved, 0);
}

static void test_normalize_merges_adjacent_same_type(void **state)
{
    (void)state;
    memmap_add(&map, 2 * MIB, MIB, MEMMAP_RAM);
    memmap_add(&map, MIB, MIB, MEMMAP_RAM);
    memmap_add(&map, 3 * MIB, MIB, MEMMAP_ACPI_RECLAIMABLE); /* adjacent, other type: kept apart */
    memmap_add(&map, 5 * MIB, MIB, MEMMAP_RAM);              /* gap before it: kept apart */
    memmap_normalize(&map);
    assert_normalized();
    assert_int_equal(map.count, 3);
    assert_entry(0, MIB, 2 * MIB, MEMMAP_RAM);
    assert_entry(1, 3 * MIB, MIB, MEMMAP_ACPI_RECLAIMABLE);
    assert_entry(2, 5 * MIB, MIB, MEMMAP_RAM);
    assert_int_equal(map.overlaps_resolved, 0);
}

static void test_normalize_overlap_restrictive_wins(void **state)
{
    (void)state;
    /* RAM 0-16 MiB with a reserved hole punched in the middle by an
     * overlapping entry, and an ACPI NVS range straddling the RAM end. */
    memmap_add(&map, 0, 16 * MIB, MEMMAP_RAM);
    memmap_add(&map, 4 * MIB, 2 * MIB, MEMMAP_RESERVED);
    memmap_add(&map, 15 * MIB, 2 * MIB, MEMMAP_ACPI_NVS);
    memmap_normalize(&map);
    assert_normalized();
    assert_int_equal(map.count, 4);
    assert_entry(0, 0, 4 * MIB, MEMMAP_RAM);
    assert_entry(1, 4 * MIB, 2 * MIB, MEMMAP_RESERVED);
    assert_entry(2, 6 * MIB, 9 * MIB, MEMMAP_RAM);
    assert_entry(3, 15 * MIB, 2 * MIB, MEMMAP_ACPI_NVS);
    assert_int_equal(map.overlaps_resolved, 2);
    assert_int_equal(memmap_total(&map, MEMMAP_RAM), 13 * MIB);
}

static void test_normalize_restriction_order(void **state)
{
    (void)state;
    /* Every type over the same page, in ascending restriction: the last
     * (BAD) wins. Then the same in descending order: BAD still wins. */
    static const uint32_t ascending[] = { MEMMAP_RAM,      MEMMAP_ACPI_RECLAIMABLE, MEMMAP_ACPI_NVS,
                                          MEMMAP_RESERVED, MEMMAP_SHARED_REGION,    MEMMAP_HYPERVISOR,
                                          MEMMAP_BAD };
    const unsigned count = sizeof(ascending) / sizeof(ascending[0]);
    for (unsigned winner = 1; winner < count; winner++) {
        for (int direction = 0; direction < 2; direction++) {
            memmap_init(&map);
            for (unsigned i = 0; i <= winner; i++) {
                unsigned pick = direction == 0 ? i : winner - i;
                memmap_add(&map, 0x1000, 0x1000, ascending[pick]);
            }
            memmap_normalize(&map);
            assert_int_equal(map.count, 1);
            assert_entry(0, 0x1000, 0x1000, ascending[winner]);
            assert_int_equal(map.overlaps_resolved, 1);
        }
    }
}

static void test_normalize_is_idempotent(void **state)
{
    (void)state;
    add_pc_map();
    memmap_add(&map, 0x9F000, 0x2000, MEMMAP_BAD);
    memmap_normalize(&map);
    struct memmap first = map;
    memmap_normalize(&map);
    assert_int_equal(map.count, first.count);
    assert_memory_equal(map.entries, first.entries, first.count * sizeof(first.entries[0]));
    assert_int_equal(map.overlaps_resolved, first.overlaps_resolved);
}

static void test_normalize_overflow_drops_ram_first(void **state)
{
    (void)state;
    /* One big RAM range with 100 reserved holes punched in: 201 pieces, more
     * than fit. Every reserved range must survive; RAM pieces go. */
    memmap_add(&map, 0, 1 * GIB, MEMMAP_RAM);
    for (unsigned i = 0; i < 100; i++)
        memmap_add(&map, MIB + (uint64_t)i * 2 * MIB, 0x1000, MEMMAP_RESERVED);
    memmap_normalize(&map);
    assert_normalized();
    assert_int_equal(map.count, MEMMAP_MAX_ENTRIES);
    assert_int_equal(memmap_total(&map, MEMMAP_RESERVED), 100 * 0x1000);
    assert_int_equal(map.dropped_full, 201 - MEMMAP_MAX_ENTRIES);
    assert_int_equal(map.overlaps_resolved, 100);
    /* The big tail of RAM above the last hole is kept over small pieces. */
    const struct memmap_entry *last = &map.entries[map.count - 1];
    assert_int_equal(last->type, MEMMAP_RAM);
    assert_int_equal(last->base + last->length, 1 * GIB);
}

static void test_carve_splits_into_three(void **state)
{
    (void)state;
    add_pc_map();
    /* The hypervisor image, linked at 1 MiB... in the middle of RAM here. */
    assert_true(memmap_carve(&map, 16 * MIB, 2 * MIB, MEMMAP_HYPERVISOR));
    assert_normalized();
    assert_int_equal(map.count, 7);
    assert_entry(3, MIB, 15 * MIB, MEMMAP_RAM);
    assert_entry(4, 16 * MIB, 2 * MIB, MEMMAP_HYPERVISOR);
    assert_entry(5, 18 * MIB, 494 * MIB, MEMMAP_RAM);
    assert_int_equal(memmap_total(&map, MEMMAP_RAM), 0x9FC00 + 509 * MIB);
    assert_int_equal(memmap_total(&map, MEMMAP_HYPERVISOR), 2 * MIB);
}

static void test_carve_at_edges_and_adjacent(void **state)
{
    (void)state;
    memmap_add(&map, MIB, 8 * MIB, MEMMAP_RAM);
    /* At the start of the entry: split into two, not three. */
    assert_true(memmap_carve(&map, MIB, MIB, MEMMAP_HYPERVISOR));
    assert_int_equal(map.count, 2);
    /* Right after it, same type: merged with the first carve. */
    assert_true(memmap_carve(&map, 2 * MIB, MIB, MEMMAP_HYPERVISOR));
    assert_int_equal(map.count, 2);
    assert_entry(0, MIB, 2 * MIB, MEMMAP_HYPERVISOR);
    /* The shared region at the very end. */
    assert_true(memmap_carve(&map, 8 * MIB, MIB, MEMMAP_SHARED_REGION));
    assert_int_equal(map.count, 3);
    assert_entry(1, 3 * MIB, 5 * MIB, MEMMAP_RAM);
    assert_entry(2, 8 * MIB, MIB, MEMMAP_SHARED_REGION);
}

static void test_carve_outside_ram_refused(void **state)
{
    (void)state;
    add_pc_map();
    memmap_normalize(&map);
    struct memmap before = map;
    /* Entirely in reserved memory. */
    assert_false(memmap_carve(&map, 0xF0000, 0x1000, MEMMAP_HYPERVISOR));
    /* Straddling the end of conventional memory into the EBDA. */
    assert_false(memmap_carve(&map, 0x9F000, 0x2000, MEMMAP_HYPERVISOR));
    /* Running past the end of RAM into a hole. */
    assert_false(memmap_carve(&map, 511 * MIB, 2 * MIB, MEMMAP_HYPERVISOR));
    /* In a hole. */
    assert_false(memmap_carve(&map, 2 * GIB, MIB, MEMMAP_SHARED_REGION));
    /* Empty and wrapping ranges. */
    assert_false(memmap_carve(&map, 2 * MIB, 0, MEMMAP_HYPERVISOR));
    assert_false(memmap_carve(&map, 2 * MIB, UINT64_MAX, MEMMAP_HYPERVISOR));
    /* Already carved. */
    assert_true(memmap_carve(&map, 4 * MIB, MIB, MEMMAP_HYPERVISOR));
    assert_false(memmap_carve(&map, 4 * MIB, 0x1000, MEMMAP_SHARED_REGION));
    assert_int_equal(memmap_total(&map, MEMMAP_RAM), memmap_total(&before, MEMMAP_RAM) - MIB);
}

static void test_carve_spanning_two_reported_ram_entries(void **state)
{
    (void)state;
    /* The firmware split one RAM range in two; the carve spans the seam. */
    memmap_add(&map, MIB, 4 * MIB, MEMMAP_RAM);
    memmap_add(&map, 5 * MIB, 4 * MIB, MEMMAP_RAM);
    assert_true(memmap_carve(&map, 4 * MIB, 2 * MIB, MEMMAP_HYPERVISOR));
    assert_int_equal(map.count, 3);
    assert_entry(1, 4 * MIB, 2 * MIB, MEMMAP_HYPERVISOR);
}

static void test_carve_in_full_map_refused(void **state)
{
    (void)state;
    for (unsigned i = 0; i < MEMMAP_MAX_ENTRIES; i++)
        memmap_add(&map, (uint64_t)i * 2 * MIB, MIB, MEMMAP_RAM);
    struct memmap before = map;
    assert_false(memmap_carve(&map, 0x1000, 0x1000, MEMMAP_HYPERVISOR));
    assert_int_equal(map.dropped_full, 1);
    assert_int_equal(map.count, MEMMAP_MAX_ENTRIES);
    assert_memory_equal(map.entries, before.entries, sizeof(before.entries));
    /* At the start of an entry it needs only one more slot: still full. */
    assert_false(memmap_carve(&map, 0, 0x1000, MEMMAP_HYPERVISOR));
    /* A whole entry needs no extra slot. */
    assert_true(memmap_carve(&map, 2 * MIB, MIB, MEMMAP_HYPERVISOR));
    assert_int_equal(map.entries[1].type, MEMMAP_HYPERVISOR);
}

static void test_find_free_lowest_above_one_mib(void **state)
{
    (void)state;
    add_pc_map();
    memmap_normalize(&map);
    uint64_t base = 0;
    /* Low RAM (0-639 KiB) is never chosen even though it fits. */
    assert_true(memmap_find_free(&map, 0x1000, 0x1000, UINT64_MAX, &base));
    assert_int_equal(base, MIB);
    assert_true(memmap_carve(&map, MIB, 3 * MIB, MEMMAP_HYPERVISOR));
    /* Next free aligned 2 MiB slot after the image ending at 4 MiB. */
    assert_true(memmap_find_free(&map, 2 * MIB, 2 * MIB, UINT64_MAX, &base));
    assert_int_equal(base, 4 * MIB);
    /* Alignment pushes the start up. */
    assert_true(memmap_find_free(&map, MIB, 16 * MIB, UINT64_MAX, &base));
    assert_int_equal(base, 16 * MIB);
}

static void test_find_free_respects_below_and_size(void **state)
{
    (void)state;
    memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM);
    memmap_add(&map, MIB, MIB, MEMMAP_RAM);        /* small */
    memmap_add(&map, 8 * MIB, 64 * MIB, MEMMAP_RAM); /* big */
    memmap_normalize(&map);
    uint64_t base = 0xDEAD;
    /* Too big for the first range: the second one. */
    assert_true(memmap_find_free(&map, 2 * MIB, 0, UINT64_MAX, &base));
    assert_int_equal(base, 8 * MIB);
    /* The end must stay at or below `below`. */
    assert_true(memmap_find_free(&map, 2 * MIB, 0x1000, 10 * MIB, &base));
    assert_int_equal(base, 8 * MIB);
    base = 0xDEAD;
    assert_false(memmap_find_free(&map, 2 * MIB, 0x1000, 10 * MIB - 1, &base));
    assert_int_equal(base, 0xDEAD); /* untouched on failure */
    assert_false(memmap_find_free(&map, 128 * MIB, 0, UINT64_MAX, &base));
    assert_false(memmap_find_free(&map, 0, 0, UINT64_MAX, &base));
    assert_false(memmap_find_free(&map, 0x1000, 3 * 0x1000, UINT64_MAX, &base)); /* not a power of two */
    /* Reserved memory is not free. */
    memmap_init(&map);
    memmap_add(&map, MIB, 64 * MIB, MEMMAP_RESERVED);
    assert_false(memmap_find_free(&map, 0x1000, 0x1000, UINT64_MAX, &base));
}

static void test_find_free_alignment_near_top_does_not_wrap(void **state)
{
    (void)state;
    memmap_add(&map, 0xFFFFFFFFFFF00000ull, 0xFFFFF, MEMMAP_RAM);
    uint64_t base = 0;
    assert_false(memmap_find_free(&map, 0x1000, 1ull << 63, UINT64_MAX, &base));
    assert_true(memmap_find_free(&map, 0x1000, 0x1000, UINT64_MAX, &base));
    assert_int_equal(base, 0xFFFFFFFFFFF00000ull);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(memmap_type_name(MEMMAP_RAM), "ram");
    assert_string_equal(memmap_type_name(MEMMAP_RESERVED), "reserved");
    assert_string_equal(memmap_type_name(MEMMAP_ACPI_RECLAIMABLE), "acpi-reclaimable");
    assert_string_equal(memmap_type_name(MEMMAP_ACPI_NVS), "acpi-nvs");
    assert_string_equal(memmap_type_name(MEMMAP_BAD), "bad");
    assert_string_equal(memmap_type_name(MEMMAP_HYPERVISOR), "hypervisor");
    assert_string_equal(memmap_type_name(MEMMAP_SHARED_REGION), "shared-region");
    assert_string_equal(memmap_type_name(99), "unknown");
}

/* vigil's own memory comes from the top: the highest aligned fit below `below`. */
static void test_find_free_highest(void **state)
{
    (void)state;
    memmap_add(&map, 0, 640 * KIB, MEMMAP_RAM);
    memmap_add(&map, MIB, 255 * MIB - 64 * KIB, MEMMAP_RAM); /* up to 0xfff0000, ACPI above */
    memmap_add(&map, 256 * MIB - 64 * KIB, 64 * KIB, MEMMAP_ACPI_RECLAIMABLE);
    memmap_add(&map, 4 * GIB, GIB, MEMMAP_RAM);
    memmap_normalize(&map);
    uint64_t base;
    assert_true(memmap_find_free_highest(&map, 0x90000, 0x1000, 4 * GIB, &base));
    assert_int_equal(base, 0xfff0000 - 0x90000);
    assert_true(memmap_find_free_highest(&map, 2 * MIB, 2 * MIB, 4 * GIB, &base));
    assert_int_equal(base, 0xfc00000); /* aligned down inside the entry */
    /* RAM above 4 GiB is not taken when `below` says so, but is when allowed. */
    assert_true(memmap_find_free_highest(&map, MIB, 0x1000, UINT64_MAX, &base));
    assert_int_equal(base, 5 * GIB - MIB);
    /* Never below 1 MiB, never more than fits, never size 0 or a bad alignment. */
    memmap_init(&map);
    memmap_add(&map, 0, 640 * KIB, MEMMAP_RAM);
    memmap_add(&map, MIB, MIB, MEMMAP_RAM);
    assert_false(memmap_find_free_highest(&map, 2 * MIB, 0x1000, 4 * GIB, &base));
    assert_true(memmap_find_free_highest(&map, MIB, 0x1000, 4 * GIB, &base));
    assert_int_equal(base, MIB);
    assert_false(memmap_find_free_highest(&map, 0, 0x1000, 4 * GIB, &base));
    assert_false(memmap_find_free_highest(&map, 0x1000, 0x3000, 4 * GIB, &base));
    /* An aligned candidate that falls below the entry's start is no fit. */
    assert_false(memmap_find_free_highest(&map, 0x1000, 4 * MIB, 4 * GIB, &base));
}

/* The guest's boot information goes right after its image, also below 1 MiB. */
static void test_find_free_from(void **state)
{
    (void)state;
    memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM);
    memmap_add(&map, MIB, 63 * MIB, MEMMAP_RAM);
    memmap_normalize(&map);
    uint64_t base;
    assert_true(memmap_find_free_from(&map, 0x3000, 0x1000, 0xB000, 4 * GIB, &base));
    assert_int_equal(base, 0xB000);
    /* Does not fit between 0x9E000 and 0x9FC00: the next RAM up. */
    assert_true(memmap_find_free_from(&map, 0x3000, 0x1000, 0x9E000, 4 * GIB, &base));
    assert_int_equal(base, MIB);
    assert_true(memmap_find_free_from(&map, 0x3000, 0x1000, 0x1234567, 4 * GIB, &base));
    assert_int_equal(base, 0x1235000);
    assert_false(memmap_find_free_from(&map, 0x3000, 0x1000, 64 * MIB, 4 * GIB, &base));
}

/* A range over several RAM entries and a hole: every RAM byte in it is marked. */
static void test_mark_spans_entries(void **state)
{
    (void)state;
    memmap_add(&map, MIB, MIB, MEMMAP_RAM);
    memmap_add(&map, 2 * MIB, MIB, MEMMAP_ACPI_NVS);
    memmap_add(&map, 4 * MIB, 4 * MIB, MEMMAP_RAM);
    assert_true(memmap_mark(&map, MIB + 0x1000, 4 * MIB, MEMMAP_RESERVED));
    assert_normalized();
    assert_int_equal(map.count, 5);
    assert_entry(0, MIB, 0x1000, MEMMAP_RAM);
    assert_entry(1, MIB + 0x1000, MIB - 0x1000, MEMMAP_RESERVED);
    assert_entry(2, 2 * MIB, MIB, MEMMAP_ACPI_NVS);
    assert_entry(3, 4 * MIB, MIB + 0x1000, MEMMAP_RESERVED);
    assert_entry(4, 5 * MIB + 0x1000, 3 * MIB - 0x1000, MEMMAP_RAM);
    /* Nothing of RAM inside: nothing changes, and that is not a failure. */
    assert_true(memmap_mark(&map, 3 * MIB, MIB, MEMMAP_RESERVED));
    assert_int_equal(map.count, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_add_rejects_zero_length, reset_map),
        cmocka_unit_test_setup(test_add_clamps_wraparound, reset_map),
        cmocka_unit_test_setup(test_add_full_map_drops, reset_map),
        cmocka_unit_test_setup(test_add_unknown_type_is_reserved, reset_map),
        cmocka_unit_test_setup(test_normalize_sorts, reset_map),
        cmocka_unit_test_setup(test_normalize_merges_adjacent_same_type, reset_map),
        cmocka_unit_test_setup(test_normalize_overlap_restrictive_wins, reset_map),
        cmocka_unit_test_setup(test_normalize_restriction_order, reset_map),
        cmocka_unit_test_setup(test_normalize_is_idempotent, reset_map),
        cmocka_unit_test_setup(test_normalize_overflow_drops_ram_first, reset_map),
        cmocka_unit_test_setup(test_carve_splits_into_three, reset_map),
        cmocka_unit_test_setup(test_carve_at_edges_and_adjacent, reset_map),
        cmocka_unit_test_setup(test_carve_outside_ram_refused, reset_map),
        cmocka_unit_test_setup(test_carve_spanning_two_reported_ram_entries, reset_map),
        cmocka_unit_test_setup(test_carve_in_full_map_refused, reset_map),
        cmocka_unit_test_setup(test_find_free_lowest_above_one_mib, reset_map),
        cmocka_unit_test_setup(test_find_free_respects_below_and_size, reset_map),
        cmocka_unit_test_setup(test_find_free_alignment_near_top_does_not_wrap, reset_map),
        cmocka_unit_test_setup(test_find_free_highest, reset_map),
        cmocka_unit_test_setup(test_find_free_from, reset_map),
        cmocka_unit_test_setup(test_mark_spans_entries, reset_map),
        cmocka_unit_test_setup(test_type_names, reset_map),
    };
    return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
