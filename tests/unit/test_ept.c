/* Unit tests for arch/x86_64/ept.c: EPT tables, splits, checks and the identity map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/ept.h"
#include "lib/memmap.h"
#include "lib/page_pool.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define GIB 0x40000000ull
#define PAGE_4KB 0x1000ull

#define POOL_PHYSICAL_BASE 0x40000000ull
#define POOL_BYTES (4 * MIB)

static uint8_t pool_memory[POOL_BYTES] __attribute__((aligned(4096)));
static struct page_pool pool;
static struct ept ept;
static struct memmap map;

static const struct ept_capabilities no_large_pages = {false, false, false, false};
static const struct ept_capabilities pages_2mb_only = {true, false, false, false};
static const struct ept_capabilities all_capabilities = {true, true, true, true};

static void start(const struct ept_capabilities *capabilities)
{
    assert_true(page_pool_init(&pool, pool_memory, POOL_PHYSICAL_BASE, POOL_BYTES / PAGE_SIZE));
    assert_int_equal(ept_init(&ept, &pool, capabilities), EPT_OK);
}

/* ---- A second walker, checking the tables as the CPU would see them ---- */

struct walk_counts {
    uint32_t tables;
    uint64_t leaves[4]; /* [1] 4 KiB, [2] 2 MiB, [3] 1 GiB */
};

static void walk_table(const uint64_t *table, unsigned level, struct walk_counts *counts)
{
    counts->tables++;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t entry = table[i];
        if ((entry & 7) == 0) {
            assert_int_equal(entry, 0); /* we leave not-present entries all zero */
            continue;
        }
        /* §29.3.3.1 misconfigurations: write-only, write/execute, bits 51:N (N = 52 here), ... */
        assert_false((entry & 3) == 2);
        assert_int_equal(entry >> 52, 0);
        bool leaf = level == 1 || (level <= 3 && (entry & (1ull << 7)) != 0);
        if (leaf) {
            unsigned type = (entry >> 3) & 7;
            assert_true(type == 0 || type == 1 || type == 4 || type == 5 || type == 6);
            assert_int_equal(entry & (1ull << 6), 0); /* ignore-PAT off */
            if (level == 1)
                assert_int_equal(entry & (1ull << 7), 0);
            uint64_t span = 1ull << (12 + 9 * (level - 1));
            assert_int_equal(entry & 0x000FFFFFFFFFF000ull & (span - 1), 0); /* large page aligned */
            counts->leaves[level]++;
        } else {
            assert_true(level > 1);
            assert_int_equal(entry & 0xFFF, 7); /* RWX, memory type bits reserved 0, bit 7 = 0 */
            const uint64_t *child = page_pool_pointer(&pool, entry & 0x000FFFFFFFFFF000ull);
            assert_non_null(child);
            walk_table(child, level - 1, counts);
        }
    }
}

/* The counters the EPT keeps agree with its tables, and every pool page in use is a table. */
static void assert_tables_consistent(void)
{
    struct walk_counts counts = {0};
    walk_table(ept.pml4, 4, &counts);
    assert_int_equal(counts.leaves[3] != 0 && !ept.capabilities.pages_1gb, false);
    assert_int_equal(counts.leaves[2] != 0 && !ept.capabilities.pages_2mb, false);
    assert_int_equal(counts.tables, ept.table_pages);
    assert_int_equal(counts.tables, pool.pages_in_use);
    assert_int_equal(counts.leaves[1], ept.mapped_4kb);
    assert_int_equal(counts.leaves[2], ept.mapped_2mb);
    assert_int_equal(counts.leaves[3], ept.mapped_1gb);
}

static void assert_translation(uint64_t guest, uint64_t host, unsigned permissions, enum ept_memory_type type,
                               uint64_t page_size)
{
    uint64_t actual_host = 0, actual_size = 0;
    unsigned actual_permissions = 0;
    enum ept_memory_type actual_type = EPT_MEMORY_UNCACHEABLE;
    assert_true(ept_translate(&ept, guest, &actual_host, &actual_permissions, &actual_type, &actual_size));
    assert_int_equal(actual_host, host);
    assert_int_equal(actual_permissions, permissions);
    assert_int_equal(actual_type, type);
    assert_int_equal(actual_size, page_size);
}

static void assert_unmapped(uint64_t guest)
{
    assert_false(ept_translate(&ept, guest, NULL, NULL, NULL, NULL));
}

/* ---- Basics ---- */

static void test_init_and_pointer(void **state)
{
    (void)state;
    start(&pages_2mb_only);
    assert_int_equal(ept.pml4_physical, POOL_PHYSICAL_BASE);
    assert_ptr_equal(ept.pml4, pool_memory);
    assert_int_equal(ept.table_pages, 1);
    assert_unmapped(0);
    /* SDM §25.6.11: WB (6) in 2:0, walk length 3 in 5:3, A/D bit 6 only if the CPU has it. */
    assert_int_equal(ept_pointer(&ept, false), POOL_PHYSICAL_BASE | 0x1E);
    assert_int_equal(ept_pointer(&ept, true), POOL_PHYSICAL_BASE | 0x1E);
    start(&all_capabilities);
    assert_int_equal(ept_pointer(&ept, false), POOL_PHYSICAL_BASE | 0x1E);
    assert_int_equal(ept_pointer(&ept, true), POOL_PHYSICAL_BASE | 0x5E);

    /* No page for the PML4. */
    struct page_pool tiny;
    assert_true(page_pool_init(&tiny, pool_memory, POOL_PHYSICAL_BASE, 1));
    assert_non_null(page_pool_alloc(&tiny, NULL));
    assert_int_equal(ept_init(&ept, &tiny, NULL), EPT_OUT_OF_MEMORY);

    assert_string_equal(ept_status_name(EPT_OK), "ok");
    assert_string_equal(ept_status_name(EPT_BAD_PERMISSIONS), "bad permissions");
    assert_string_equal(ept_status_name((enum ept_status)99), "unknown");
}

static void test_map_4kb(void **state)
{
    (void)state;
    start(&no_large_pages);
    assert_int_equal(ept_map_range(&ept, 0x12345000, 0x9876000, PAGE_4KB, EPT_READ | EPT_EXECUTE,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0x12345000, 0x9876000, EPT_READ | EPT_EXECUTE, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_translation(0x12345FFF, 0x9876FFF, EPT_READ | EPT_EXECUTE, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_unmapped(0x12344FFF);
    assert_unmapped(0x12346000);
    assert_int_equal(ept.table_pages, 4);
    assert_int_equal(ept.mapped_4kb, 1);
    assert_int_equal(ept_map_range(&ept, 0x5000, 0x5000, 0, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_unmapped(0x5000);
    assert_tables_consistent();
}

static void test_map_2mb_with_and_without_capability(void **state)
{
    (void)state;
    start(&no_large_pages);
    assert_int_equal(ept_map_range(&ept, 0x200000, 0x80000000, 2 * MIB, EPT_READ_WRITE_EXECUTE,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0x3FF123, 0x801FF123, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_int_equal(ept.mapped_4kb, 512);
    assert_int_equal(ept.mapped_2mb, 0);
    assert_tables_consistent();

    start(&pages_2mb_only);
    assert_int_equal(ept_map_range(&ept, 0x200000, 0x80000000, 2 * MIB, EPT_READ_WRITE_EXECUTE,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0x200000, 0x80000000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_translation(0x3FF123, 0x801FF123, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_unmapped(0x400000);
    assert_int_equal(ept.mapped_2mb, 1);
    assert_int_equal(ept.table_pages, 3); /* PML4, PDPT, PD */
    assert_tables_consistent();

    /* Host not 2 MiB aligned: 4 KiB pages even with the capability. */
    assert_int_equal(ept_map_range(&ept, 0x600000, 0x80001000, 2 * MIB, EPT_READ, EPT_MEMORY_UNCACHEABLE), EPT_OK);
    assert_translation(0x600000, 0x80001000, EPT_READ, EPT_MEMORY_UNCACHEABLE, PAGE_4KB);
    assert_int_equal(ept.mapped_4kb, 512);
    /* A range not covering a whole 2 MiB page: 4 KiB pages at the ends, 2 MiB in between. */
    assert_int_equal(ept_map_range(&ept, 0x1FF000, 0x1FF000, 4 * MIB + 2 * PAGE_4KB, EPT_READ,
                                   EPT_MEMORY_WRITE_THROUGH), EPT_OK);
    assert_translation(0x1FF000, 0x1FF000, EPT_READ, EPT_MEMORY_WRITE_THROUGH, PAGE_4KB);
    assert_translation(0x200000, 0x200000, EPT_READ, EPT_MEMORY_WRITE_THROUGH, 2 * MIB);
    assert_translation(0x400000, 0x400000, EPT_READ, EPT_MEMORY_WRITE_THROUGH, 2 * MIB);
    assert_translation(0x600000, 0x600000, EPT_READ, EPT_MEMORY_WRITE_THROUGH, PAGE_4KB);
    assert_translation(0x601000, 0x80002000, EPT_READ, EPT_MEMORY_UNCACHEABLE, PAGE_4KB);
    assert_tables_consistent();
}

static void test_map_1gb_with_and_without_capability(void **state)
{
    (void)state;
    start(&all_capabilities);
    assert_int_equal(ept_map_range(&ept, GIB, 3 * GIB, GIB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(GIB, 3 * GIB, 7, EPT_MEMORY_WRITE_BACK, GIB);
    assert_translation(2 * GIB - 1, 4 * GIB - 1, 7, EPT_MEMORY_WRITE_BACK, GIB);
    assert_unmapped(2 * GIB);
    assert_int_equal(ept.table_pages, 2); /* PML4, PDPT */
    assert_int_equal(ept.mapped_1gb, 1);
    /* Guest above 4 GiB, host far up: still within 48/52 bits. */
    assert_int_equal(ept_map_range(&ept, 0xFFFFC0000000ull, 0xFFFFFC0000000ull, GIB, EPT_READ,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0xFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFull, EPT_READ, EPT_MEMORY_WRITE_BACK, GIB);
    assert_tables_consistent();

    start(&pages_2mb_only);
    assert_int_equal(ept_map_range(&ept, GIB, 3 * GIB, GIB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(GIB + 5 * MIB, 3 * GIB + 5 * MIB, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_int_equal(ept.mapped_1gb, 0);
    assert_int_equal(ept.mapped_2mb, 512);
    assert_int_equal(ept.table_pages, 3);
    assert_tables_consistent();

    /* 1 GiB without 2 MiB is not used (ept_init): 4 KiB pages. */
    const struct ept_capabilities only_1gb = {false, true, false, false};
    start(&only_1gb);
    assert_false(ept.capabilities.pages_1gb);
    assert_int_equal(ept_map_range(&ept, GIB, GIB, 4 * MIB, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(GIB, GIB, EPT_READ, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_int_equal(ept.mapped_4kb, 1024);
    assert_tables_consistent();
}

/* ---- Splitting ---- */

static void test_split_2mb_keeps_other_511_pages(void **state)
{
    (void)state;
    start(&pages_2mb_only);
    assert_int_equal(ept_map_range(&ept, 0x200000, 0x80000000, 2 * MIB, EPT_READ_WRITE_EXECUTE,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_int_equal(ept_map_range(&ept, 0x2A3000, 0x12345000, PAGE_4KB, EPT_READ, EPT_MEMORY_UNCACHEABLE), EPT_OK);
    for (uint64_t offset = 0; offset < 2 * MIB; offset += PAGE_4KB) {
        if (offset == 0xA3000)
            assert_translation(0x200000 + offset + 0x10, 0x12345010, EPT_READ, EPT_MEMORY_UNCACHEABLE, PAGE_4KB);
        else
            assert_translation(0x200000 + offset + 0x10, 0x80000010 + offset, EPT_READ_WRITE_EXECUTE,
                               EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    }
    assert_int_equal(ept.mapped_2mb, 0);
    assert_int_equal(ept.mapped_4kb, 512);
    assert_int_equal(ept.table_pages, 4);
    assert_tables_consistent();

    /* Mapping the whole 2 MiB again replaces the page table by one leaf and frees it. */
    assert_int_equal(ept_map_range(&ept, 0x200000, 0x80000000, 2 * MIB, EPT_READ_WRITE_EXECUTE,
                                   EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0x2A3000, 0x800A3000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_int_equal(ept.table_pages, 3);
    assert_int_equal(ept.mapped_4kb, 0);
    assert_tables_consistent();
}

static void test_split_1gb_down_to_4kb(void **state)
{
    (void)state;
    start(&all_capabilities);
    assert_int_equal(ept_map_range(&ept, GIB, 0, GIB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_int_equal(ept_map_range(&ept, GIB + 0x2A3000, 0x7000, PAGE_4KB, EPT_READ | EPT_WRITE,
                                   EPT_MEMORY_WRITE_COMBINING), EPT_OK);
    assert_translation(GIB + 0x2A3000, 0x7000, EPT_READ | EPT_WRITE, EPT_MEMORY_WRITE_COMBINING, PAGE_4KB);
    assert_translation(GIB + 0x2A2000, 0x2A2000, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_translation(GIB + 0x2A4000, 0x2A4000, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_translation(GIB, 0, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_translation(2 * GIB - 1, GIB - 1, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_int_equal(ept.mapped_1gb, 0);
    assert_int_equal(ept.mapped_2mb, 511);
    assert_int_equal(ept.mapped_4kb, 512);
    assert_int_equal(ept.table_pages, 4);
    assert_tables_consistent();
}

/* ---- Unmapping ---- */

static void test_unmap_edges(void **state)
{
    (void)state;
    start(&all_capabilities);
    assert_int_equal(ept_map_range(&ept, GIB, GIB, GIB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
    /* From the last 4 KiB of the first 2 MiB to the first 4 KiB of the third. */
    assert_int_equal(ept_unmap_range(&ept, GIB + 2 * MIB - PAGE_4KB, 2 * MIB + 2 * PAGE_4KB), EPT_OK);
    assert_translation(GIB + 2 * MIB - 2 * PAGE_4KB, GIB + 2 * MIB - 2 * PAGE_4KB, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_unmapped(GIB + 2 * MIB - PAGE_4KB);
    assert_unmapped(GIB + 2 * MIB);
    assert_unmapped(GIB + 4 * MIB - 1);
    assert_unmapped(GIB + 4 * MIB);
    assert_translation(GIB + 4 * MIB + PAGE_4KB, GIB + 4 * MIB + PAGE_4KB, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_translation(GIB + 6 * MIB, GIB + 6 * MIB, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_translation(GIB, GIB, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_int_equal(ept.mapped_4kb, 2 * 511);
    assert_int_equal(ept.mapped_2mb, 512 - 3);
    assert_tables_consistent();

    /* Unmapping what is not mapped is fine and allocates nothing. */
    uint32_t tables = ept.table_pages;
    assert_int_equal(ept_unmap_range(&ept, 5 * GIB, 3 * GIB), EPT_OK);
    assert_int_equal(ept_unmap_range(&ept, GIB + 2 * MIB, PAGE_4KB), EPT_OK);
    assert_int_equal(ept_unmap_range(&ept, 0, 0), EPT_OK);
    assert_int_equal(ept.table_pages, tables);

    /* Unmapping everything gives every table but the PML4 back. */
    assert_int_equal(ept_unmap_range(&ept, 0, 1ull << 48), EPT_OK);
    assert_int_equal(ept.table_pages, 1);
    assert_int_equal(pool.pages_in_use, 1);
    assert_int_equal(ept.mapped_4kb + ept.mapped_2mb + ept.mapped_1gb, 0);
    assert_unmapped(GIB);
    assert_tables_consistent();
}

/* ---- Rejections ---- */

static void test_rejected_permissions(void **state)
{
    (void)state;
    start(&pages_2mb_only);
    /* §29.3.3.1: write-only (010b) and write/execute (110b) are misconfigurations;
     * execute-only (100b) is one without the capability. 0 would be "not present". */
    const unsigned rejected[] = {0, EPT_WRITE, EPT_WRITE | EPT_EXECUTE, EPT_EXECUTE, 8, 0xF};
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        assert_int_equal(ept_map_range(&ept, 0, 0, PAGE_4KB, rejected[i], EPT_MEMORY_WRITE_BACK), EPT_BAD_PERMISSIONS);
    assert_int_equal(ept.table_pages, 1);
    const unsigned accepted[] = {EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXECUTE, EPT_READ_WRITE_EXECUTE};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        assert_int_equal(ept_map_range(&ept, i * PAGE_4KB, 0, PAGE_4KB, accepted[i], EPT_MEMORY_WRITE_BACK), EPT_OK);
        assert_translation(i * PAGE_4KB, 0, accepted[i], EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    }

    start(&all_capabilities); /* execute-only supported */
    assert_int_equal(ept_map_range(&ept, 0, 0x5000, PAGE_4KB, EPT_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_translation(0, 0x5000, EPT_EXECUTE, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_int_equal(ept_map_range(&ept, 0, 0, PAGE_4KB, EPT_WRITE, EPT_MEMORY_WRITE_BACK), EPT_BAD_PERMISSIONS);
    assert_int_equal(ept_map_range(&ept, 0, 0, PAGE_4KB, EPT_WRITE | EPT_EXECUTE, EPT_MEMORY_WRITE_BACK),
                     EPT_BAD_PERMISSIONS);
    assert_translation(0, 0x5000, EPT_EXECUTE, EPT_MEMORY_WRITE_BACK, PAGE_4KB); /* unchanged */
    assert_tables_consistent();
}

static void test_rejected_memory_types(void **state)
{
    (void)state;
    start(&pages_2mb_only);
    const unsigned rejected[] = {2, 3, 7, 8, 0xFF};
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        assert_int_equal(ept_map_range(&ept, 0, 0, PAGE_4KB, EPT_READ, (enum ept_memory_type)rejected[i]),
                         EPT_BAD_MEMORY_TYPE);
    assert_int_equal(ept.table_pages, 1);
    const enum ept_memory_type accepted[] = {EPT_MEMORY_UNCACHEABLE, EPT_MEMORY_WRITE_COMBINING,
                                             EPT_MEMORY_WRITE_THROUGH, EPT_MEMORY_WRITE_PROTECTED,
                                             EPT_MEMORY_WRITE_BACK};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        assert_int_equal(ept_map_range(&ept, i * 2 * MIB, 0, 2 * MIB, EPT_READ, accepted[i]), EPT_OK);
        assert_translation(i * 2 * MIB + 0x1234, 0x1234, EPT_READ, accepted[i], 2 * MIB);
    }
    assert_tables_consistent();
}

static void test_rejected_alignment_and_range(void **state)
{
    (void)state;
    start(&all_capabilities);
    assert_int_equal(ept_map_range(&ept, 0x1800, 0, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_BAD_ALIGNMENT);
    assert_int_equal(ept_map_range(&ept, 0, 0x10, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_BAD_ALIGNMENT);
    assert_int_equal(ept_map_range(&ept, 0, 0, 0x1800, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_BAD_ALIGNMENT);
    assert_int_equal(ept_unmap_range(&ept, 0x10, PAGE_4KB), EPT_BAD_ALIGNMENT);
    assert_int_equal(ept_map_range(&ept, 1ull << 48, 0, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK),
                     EPT_ADDRESS_TOO_HIGH);
    assert_int_equal(ept_map_range(&ept, (1ull << 48) - PAGE_4KB, 0, 2 * PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK),
                     EPT_ADDRESS_TOO_HIGH);
    assert_int_equal(ept_map_range(&ept, 0, 1ull << 52, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK),
                     EPT_ADDRESS_TOO_HIGH);
    assert_int_equal(ept_map_range(&ept, 0, 0xFFFFFFFFFFFFF000ull, 2 * PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK),
                     EPT_ADDRESS_TOO_HIGH); /* wraps */
    assert_int_equal(ept_unmap_range(&ept, 0xFFFFFFFFFFFFF000ull, PAGE_4KB), EPT_ADDRESS_TOO_HIGH);
    assert_int_equal(ept.table_pages, 1);
    /* The last guest page of 48 bits is fine. */
    assert_int_equal(ept_map_range(&ept, (1ull << 48) - PAGE_4KB, 0, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK),
                     EPT_OK);
    assert_translation((1ull << 48) - 1, 0xFFF, EPT_READ, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_unmapped(1ull << 48);
    assert_tables_consistent();
}

static void test_out_of_memory_leaks_no_tables(void **state)
{
    (void)state;
    /* PML4 + PDPT fit, the PD does not: the empty PDPT must go back. */
    assert_true(page_pool_init(&pool, pool_memory, POOL_PHYSICAL_BASE, 2));
    assert_int_equal(ept_init(&ept, &pool, &no_large_pages), EPT_OK);
    assert_int_equal(ept_map_range(&ept, 0, 0, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_OUT_OF_MEMORY);
    assert_int_equal(ept.table_pages, 1);
    assert_int_equal(pool.pages_in_use, 1);
    assert_unmapped(0);

    /* Splitting needs a page too; a failed split leaves the large page whole. */
    assert_true(page_pool_init(&pool, pool_memory, POOL_PHYSICAL_BASE, 3));
    assert_int_equal(ept_init(&ept, &pool, &pages_2mb_only), EPT_OK);
    assert_int_equal(ept_map_range(&ept, 0, 0, 2 * MIB, EPT_READ, EPT_MEMORY_WRITE_BACK), EPT_OK);
    assert_int_equal(ept_unmap_range(&ept, PAGE_4KB, PAGE_4KB), EPT_OUT_OF_MEMORY);
    assert_translation(PAGE_4KB, PAGE_4KB, EPT_READ, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_tables_consistent();
}

/* ---- The identity map ---- */

/* What QEMU's SeaBIOS reports for 256 MiB, with the hypervisor image and its
 * pool carved out as the boot flow does. */
static void build_qemu_map(void)
{
    memmap_init(&map);
    assert_true(memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0x9FC00, 0x400, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0xF0000, 0x10000, MEMMAP_RESERVED));
    assert_true(memmap_add(&map, 0x100000, 0xFFE0000 - 0x100000, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0xFFFC0000, 0x40000, MEMMAP_RESERVED));
    memmap_normalize(&map);
    assert_true(memmap_carve(&map, 0x100000, 0x24000, MEMMAP_HYPERVISOR));
    assert_true(memmap_carve(&map, 0x200000, 0x200000, MEMMAP_HYPERVISOR));
}

enum expected { EXPECT_WRITE_BACK, EXPECT_UNCACHEABLE, EXPECT_UNMAPPED };

/* The identity-map rule, restated per page from the ranges above: a page
 * touching the hypervisor is unmapped; one wholly inside RAM is WB; any
 * other (holes, reserved, a page straddling RAM and reserved) is UC. */
static enum expected expected_for_page(uint64_t page)
{
    uint64_t end = page + PAGE_4KB;
    if ((page < 0x124000 && end > 0x100000) || (page < 0x400000 && end > 0x200000))
        return EXPECT_UNMAPPED;
    if (end <= 0x9FC00 || (page >= 0x124000 && end <= 0x200000) ||
        (page >= 0x400000 && end <= 0xFFE0000))
        return EXPECT_WRITE_BACK;
    return EXPECT_UNCACHEABLE;
}

static void assert_identity_page(uint64_t guest)
{
    uint64_t host, size;
    unsigned permissions;
    enum ept_memory_type type;
    bool mapped = ept_translate(&ept, guest, &host, &permissions, &type, &size);
    switch (expected_for_page(guest & ~(PAGE_4KB - 1))) {
    case EXPECT_UNMAPPED:
        assert_false(mapped);
        break;
    case EXPECT_WRITE_BACK:
        assert_true(mapped);
        assert_int_equal(host, guest);
        assert_int_equal(permissions, EPT_READ_WRITE_EXECUTE);
        assert_int_equal(type, EPT_MEMORY_WRITE_BACK);
        break;
    case EXPECT_UNCACHEABLE:
        assert_true(mapped);
        assert_int_equal(host, guest);
        assert_int_equal(permissions, EPT_READ_WRITE_EXECUTE);
        assert_int_equal(type, EPT_MEMORY_UNCACHEABLE);
        break;
    }
}

static uint64_t page_size_at(uint64_t guest)
{
    uint64_t size = 0;
    assert_true(ept_translate(&ept, guest, NULL, NULL, NULL, &size));
    return size;
}

static void check_qemu_identity_map(void)
{
    const uint64_t boundaries[] = {0,          0x9F000,    0x9FC00,    0xA0000,    0xEF000,    0xF0000,
                                   0xFF000,    0x100000,   0x123000,   0x124000,   0x1FF000,   0x200000,
                                   0x3FF000,   0x400000,   0x600000,   0xFDFF000,  0xFFDF000,  0xFFE0000,
                                   0x10000000, 0xB0000000, 0xFEE00000, 0xFFFBF000, 0xFFFC0000, 0xFFFFF000};
    for (size_t i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
        assert_identity_page(boundaries[i]);
        if (boundaries[i] >= PAGE_4KB)
            assert_identity_page(boundaries[i] - 1);
        assert_identity_page(boundaries[i] + PAGE_4KB - 1);
    }
    /* The spot checks named in DESIGN: hypervisor hidden, RAM WB, MMIO UC. */
    assert_unmapped(0x100000);
    assert_unmapped(0x300000);
    assert_translation(0x600000, 0x600000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_translation(0xFEE00000, 0xFEE00000, 7, EPT_MEMORY_UNCACHEABLE, page_size_at(0xFEE00000));
    assert_translation(0xB0000000, 0xB0000000, 7, EPT_MEMORY_UNCACHEABLE, page_size_at(0xB0000000));
    assert_int_equal(page_size_at(0x9E000), PAGE_4KB);  /* the 2 MiB at 0 holds type boundaries */
    assert_int_equal(page_size_at(0xFFDF000), PAGE_4KB); /* so does the one at 0xFE00000 */
    assert_int_equal(page_size_at(0xFC00000), 2 * MIB);
    assert_int_equal(page_size_at(0xFFE00000), ept.capabilities.pages_1gb ? GIB : 2 * MIB); /* hole + reserved: both UC */
    assert_unmapped(4 * GIB);

    /* Every page of the 4 GiB, against the rule restated above. */
    for (uint64_t page = 0; page < 4 * GIB; page += PAGE_4KB)
        assert_identity_page(page);
    assert_tables_consistent();
}

static void test_identity_map_qemu_2mb(void **state)
{
    (void)state;
    start(&pages_2mb_only);
    build_qemu_map();
    assert_int_equal(ept_identity_map(&ept, &map, 4 * GIB), EPT_OK);
    check_qemu_identity_map();
    assert_int_equal(page_size_at(GIB), 2 * MIB);
    /* Table pages: the PML4, one PDPT, 4 PDs (one per GiB below 4 GiB), and a
     * page table only for the 2 MiB regions that hold a class boundary: [0, 2M)
     * (0x9F000/0xA0000 RAM|UC, 0x100000/0x124000 UC|hole|RAM) and
     * [0xFE00000, 0x10000000) (0xFFE0000 RAM|hole). The hypervisor pool is
     * exactly the 2 MiB at 0x200000, unmapped in the PD. [0xFFE00000, 4G) is
     * hole then reserved, both UC: one 2 MiB page. So 1 + 1 + 4 + 2 = 8. */
    assert_int_equal(ept.table_pages, 8);
}

static void test_identity_map_qemu_1gb(void **state)
{
    (void)state;
    start(&all_capabilities);
    build_qemu_map();
    assert_int_equal(ept_identity_map(&ept, &map, 4 * GIB), EPT_OK);
    check_qemu_identity_map();
    assert_translation(GIB, GIB, 7, EPT_MEMORY_UNCACHEABLE, GIB);
    assert_translation(2 * GIB - 1, 2 * GIB - 1, 7, EPT_MEMORY_UNCACHEABLE, GIB);
    assert_int_equal(page_size_at(3 * GIB), GIB); /* MMIO hole to 4G is all UC */
    /* As above, but the GiBs at 1, 2 and 3 are single PDPT leaves: only the
     * first GiB has a PD. 1 + 1 + 1 + 2 = 5. */
    assert_int_equal(ept.table_pages, 5);
    assert_int_equal(ept.mapped_1gb, 3);
}

static void test_identity_map_other_types_and_unaligned_edges(void **state)
{
    (void)state;
    start(&all_capabilities);
    memmap_init(&map);
    /* Unsorted, unaligned, overlapping: the builder must not rely on normalisation. */
    assert_true(memmap_add(&map, 0x400000, 0x200000, MEMMAP_ACPI_NVS));
    assert_true(memmap_add(&map, 0, 0x400000, MEMMAP_RAM));
    assert_true(memmap_add(&map, 0x100000, 0x23456, MEMMAP_HYPERVISOR)); /* overlaps RAM, ends mid-page */
    assert_true(memmap_add(&map, 0x600000, 0x200000, MEMMAP_SHARED_REGION));
    assert_true(memmap_add(&map, 0x800000, 0x1000, MEMMAP_BAD));
    assert_true(memmap_add(&map, 0x801000, 0x7FF000, MEMMAP_ACPI_RECLAIMABLE));
    assert_true(memmap_add(&map, 0x2000000, 0x1000, 77)); /* unknown: stored as reserved */
    assert_int_equal(ept_identity_map(&ept, &map, 2 * GIB), EPT_OK);

    assert_translation(0xFF000, 0xFF000, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_unmapped(0x100000);
    assert_unmapped(0x123000); /* holds the hypervisor's last bytes */
    assert_translation(0x124000, 0x124000, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB);
    assert_translation(0x200000, 0x200000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    assert_translation(0x400000, 0x400000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB); /* ACPI NVS */
    assert_translation(0x600000, 0x600000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB); /* shared region */
    assert_translation(0x800000, 0x800000, 7, EPT_MEMORY_UNCACHEABLE, PAGE_4KB); /* bad */
    assert_translation(0x801000, 0x801000, 7, EPT_MEMORY_WRITE_BACK, PAGE_4KB); /* ACPI reclaimable */
    assert_translation(0xA00000, 0xA00000, 7, EPT_MEMORY_WRITE_BACK, 2 * MIB);
    /* Hole, then the unknown type (reserved), then hole: all UC, so one run of large pages. */
    assert_translation(0x1000000, 0x1000000, 7, EPT_MEMORY_UNCACHEABLE, 2 * MIB);
    assert_translation(0x2000000, 0x2000000, 7, EPT_MEMORY_UNCACHEABLE, 2 * MIB);
    assert_translation(GIB, GIB, 7, EPT_MEMORY_UNCACHEABLE, GIB);
    assert_unmapped(2 * GIB);
    assert_tables_consistent();

    assert_int_equal(ept_identity_map(&ept, &map, 0x800), EPT_BAD_ALIGNMENT);
    assert_int_equal(ept_identity_map(&ept, &map, (1ull << 48) + GIB), EPT_ADDRESS_TOO_HIGH);
}

/* ---- Randomised against a reference model ---- */

#define WINDOW_PAGES (64 * MIB / PAGE_4KB)

struct model_page {
    uint64_t host;
    uint8_t permissions; /* 0: unmapped */
    uint8_t type;
};

static struct model_page model[WINDOW_PAGES];
static uint64_t random_state;

static uint64_t next_random(void)
{
    /* xorshift64*: fixed seed, the same sequence on every run and compiler */
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return random_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t random_below(uint64_t bound)
{
    return next_random() % bound;
}

static void assert_model_page(uint64_t page_index)
{
    uint64_t guest = page_index * PAGE_4KB + random_below(PAGE_4KB);
    uint64_t host;
    unsigned permissions;
    enum ept_memory_type type;
    bool mapped = ept_translate(&ept, guest, &host, &permissions, &type, NULL);
    const struct model_page *expected = &model[page_index];
    if (expected->permissions == 0) {
        assert_false(mapped);
        return;
    }
    assert_true(mapped);
    assert_int_equal(host, expected->host + (guest & (PAGE_4KB - 1)));
    assert_int_equal(permissions, expected->permissions);
    assert_int_equal(type, expected->type);
}

static void run_random_operations(const struct ept_capabilities *capabilities, uint64_t seed)
{
    start(capabilities);
    memset(model, 0, sizeof(model));
    random_state = seed;
    bool saw_1gb_leaf = false, saw_2mb_leaf = false;
    static const unsigned permissions[] = {EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXECUTE,
                                           EPT_READ_WRITE_EXECUTE};
    static const enum ept_memory_type types[] = {EPT_MEMORY_UNCACHEABLE, EPT_MEMORY_WRITE_COMBINING,
                                                 EPT_MEMORY_WRITE_THROUGH, EPT_MEMORY_WRITE_PROTECTED,
                                                 EPT_MEMORY_WRITE_BACK};
    for (unsigned operation = 0; operation < 3000; operation++) {
        /* Mostly 2 MiB aligned starts and lengths so large pages come and go;
         * sometimes ragged, so they get split. */
        uint64_t first, count;
        if (random_below(2) == 0) {
            first = random_below(WINDOW_PAGES / 512) * 512;
            count = (1 + random_below(6)) * 512;
        } else {
            first = random_below(WINDOW_PAGES);
            count = 1 + random_below(random_below(4) == 0 ? 1500 : 40);
        }
        if (first + count > WINDOW_PAGES)
            count = WINDOW_PAGES - first;

        uint64_t choice = random_below(100);
        if (choice < 2) {
            /* The whole first GiB at once (a 1 GiB page where allowed); the
             * model sees only its window of it. */
            uint64_t host = random_below(16) * GIB;
            assert_int_equal(ept_map_range(&ept, 0, host, GIB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK), EPT_OK);
            for (uint64_t i = 0; i < WINDOW_PAGES; i++)
                model[i] = (struct model_page){host + i * PAGE_4KB, EPT_READ_WRITE_EXECUTE, EPT_MEMORY_WRITE_BACK};
        } else if (choice < 35) {
            assert_int_equal(ept_unmap_range(&ept, first * PAGE_4KB, count * PAGE_4KB), EPT_OK);
            for (uint64_t i = first; i < first + count; i++)
                model[i].permissions = 0;
        } else {
            /* Host 2 MiB aligned relative to guest half the time, so 2 MiB leaves are possible. */
            uint64_t host = random_below(1ull << 20) * (random_below(2) ? 2 * MIB : PAGE_4KB) + first * PAGE_4KB;
            unsigned permission = permissions[random_below(4)];
            enum ept_memory_type type = types[random_below(5)];
            assert_int_equal(ept_map_range(&ept, first * PAGE_4KB, host, count * PAGE_4KB, permission, type), EPT_OK);
            for (uint64_t i = first; i < first + count; i++)
                model[i] = (struct model_page){host + (i - first) * PAGE_4KB, (uint8_t)permission, (uint8_t)type};
        }

        saw_1gb_leaf |= ept.mapped_1gb > 0;
        saw_2mb_leaf |= ept.mapped_2mb > 0;

        /* Every page the operation touched and its neighbours, a random sample,
         * and everything now and then. */
        for (uint64_t i = (first > 0 ? first - 1 : 0); i < first + count + 1 && i < WINDOW_PAGES; i++)
            assert_model_page(i);
        for (unsigned sample = 0; sample < 64; sample++)
            assert_model_page(random_below(WINDOW_PAGES));
        if (operation % 500 == 499) {
            for (uint64_t i = 0; i < WINDOW_PAGES; i++)
                assert_model_page(i);
            assert_tables_consistent();
        }
    }
    assert_tables_consistent();
    /* Large pages were exercised (made and split), not only 4 KiB ones. */
    assert_int_equal(saw_2mb_leaf, capabilities->pages_2mb);
    assert_int_equal(saw_1gb_leaf, capabilities->pages_1gb);
}

static void test_random_against_model_4kb_only(void **state)
{
    (void)state;
    run_random_operations(&no_large_pages, 0x5EED0001ull);
}

static void test_random_against_model_2mb(void **state)
{
    (void)state;
    run_random_operations(&pages_2mb_only, 0x5EED0002ull);
}

static void test_random_against_model_1gb(void **state)
{
    (void)state;
    run_random_operations(&all_capabilities, 0x5EED0003ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_pointer),
        cmocka_unit_test(test_map_4kb),
        cmocka_unit_test(test_map_2mb_with_and_without_capability),
        cmocka_unit_test(test_map_1gb_with_and_without_capability),
        cmocka_unit_test(test_split_2mb_keeps_other_511_pages),
        cmocka_unit_test(test_split_1gb_down_to_4kb),
        cmocka_unit_test(test_unmap_edges),
        cmocka_unit_test(test_rejected_permissions),
        cmocka_unit_test(test_rejected_memory_types),
        cmocka_unit_test(test_rejected_alignment_and_range),
        cmocka_unit_test(test_out_of_memory_leaks_no_tables),
        cmocka_unit_test(test_identity_map_qemu_2mb),
        cmocka_unit_test(test_identity_map_qemu_1gb),
        cmocka_unit_test(test_identity_map_other_types_and_unaligned_edges),
        cmocka_unit_test(test_random_against_model_4kb_only),
        cmocka_unit_test(test_random_against_model_2mb),
        cmocka_unit_test(test_random_against_model_1gb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
