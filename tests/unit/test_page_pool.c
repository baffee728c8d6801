/* Unit tests for lib/page_pool.c: the hypervisor's page allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/page_pool.h"

#define TEST_PAGES 64u
#define TEST_PHYSICAL_BASE 0x40000000ull

/* Aligned like the pool a boot flow carves out of RAM; one spare page after it
 * so that "just past the end" is a real address in the test. */
static uint8_t pool_memory[(TEST_PAGES + 1) * PAGE_SIZE] __attribute__((aligned(4096)));
static struct page_pool pool;

static int setup_pool(void **state)
{
    (void)state;
    memset(pool_memory, 0xA5, sizeof(pool_memory)); /* dirty, to prove allocations are zeroed */
    assert_true(page_pool_init(&pool, pool_memory, TEST_PHYSICAL_BASE, TEST_PAGES));
    return 0;
}

static bool page_is_zero(const uint8_t *page, size_t pages)
{
    for (size_t i = 0; i < pages * PAGE_SIZE; i++)
        if (page[i] != 0)
            return false;
    return true;
}

static void test_init_rejects_bad_arguments(void **state)
{
    (void)state;
    struct page_pool other;
    assert_false(page_pool_init(&other, pool_memory + 8, TEST_PHYSICAL_BASE, 4));
    assert_false(page_pool_init(&other, pool_memory, TEST_PHYSICAL_BASE + 0x800, 4));
    assert_false(page_pool_init(&other, NULL, TEST_PHYSICAL_BASE, 4));
    assert_false(page_pool_init(&other, pool_memory, TEST_PHYSICAL_BASE, 0));
    assert_false(page_pool_init(&other, pool_memory, TEST_PHYSICAL_BASE, PAGE_POOL_MAX_PAGES + 1));
    assert_false(page_pool_init(&other, pool_memory, 0xFFFFFFFFFFFFF000ull, 2)); /* wraps */
    /* A rejected pool is empty, so it hands out nothing. */
    assert_null(page_pool_alloc(&other, NULL));
    assert_true(page_pool_init(&other, pool_memory, 0, PAGE_POOL_MAX_PAGES));
    assert_int_equal(other.page_count, PAGE_POOL_MAX_PAGES);
    assert_int_equal(other.pages_in_use, 0);
}

static void test_alloc_returns_zeroed_distinct_pages(void **state)
{
    (void)state;
    uint64_t physical_a, physical_b;
    uint8_t *a = page_pool_alloc(&pool, &physical_a);
    uint8_t *b = page_pool_alloc(&pool, &physical_b);
    assert_ptr_equal(a, pool_memory);
    assert_ptr_equal(b, pool_memory + PAGE_SIZE);
    assert_int_equal(physical_a, TEST_PHYSICAL_BASE);
    assert_int_equal(physical_b, TEST_PHYSICAL_BASE + PAGE_SIZE);
    assert_true(page_is_zero(a, 1));
    assert_true(page_is_zero(b, 1));
    assert_int_equal(pool.pages_in_use, 2);
    assert_int_equal(pool.high_water, 2);
    /* Its neighbour past the end of b was not touched. */
    assert_int_equal(pool_memory[2 * PAGE_SIZE], 0xA5);
    assert_null(page_pool_alloc_contiguous(&pool, 0, NULL));
}

static void test_freed_page_is_reused_and_zeroed_again(void **state)
{
    (void)state;
    uint8_t *a = page_pool_alloc(&pool, NULL);
    uint8_t *b = page_pool_alloc(&pool, NULL);
    memset(a, 0x5A, PAGE_SIZE);
    assert_true(page_pool_free(&pool, a));
    assert_int_equal(pool.pages_in_use, 1);
    uint8_t *c = page_pool_alloc(&pool, NULL);
    assert_ptr_equal(c, a); /* first fit */
    assert_true(page_is_zero(c, 1));
    assert_int_equal(pool.high_water, 2);
    assert_true(page_pool_free(&pool, b));
    assert_true(page_pool_free(&pool, c));
    assert_int_equal(pool.pages_in_use, 0);
    assert_int_equal(pool.high_water, 2);
}

static void test_exhaustion(void **state)
{
    (void)state;
    void *pages[TEST_PAGES];
    for (unsigned i = 0; i < TEST_PAGES; i++) {
        pages[i] = page_pool_alloc(&pool, NULL);
        assert_ptr_equal(pages[i], pool_memory + i * PAGE_SIZE);
    }
    uint64_t physical = 0x1234;
    assert_null(page_pool_alloc(&pool, &physical));
    assert_int_equal(physical, 0x1234); /* untouched on failure */
    assert_null(page_pool_alloc_contiguous(&pool, 1, NULL));
    /* The spare page after the pool was never handed out. */
    assert_int_equal(pool_memory[TEST_PAGES * PAGE_SIZE], 0xA5);
    assert_true(page_pool_free(&pool, pages[37]));
    assert_ptr_equal(page_pool_alloc(&pool, NULL), pages[37]);
    assert_int_equal(pool.high_water, TEST_PAGES);
}

static void test_contiguous_finds_lowest_fitting_run(void **state)
{
    (void)state;
    uint8_t *pages[8];
    for (unsigned i = 0; i < 8; i++)
        pages[i] = page_pool_alloc(&pool, NULL);
    /* Holes of 1 (page 1) and 3 (pages 4-6) pages. */
    assert_true(page_pool_free(&pool, pages[1]));
    for (unsigned i = 4; i <= 6; i++)
        assert_true(page_pool_free(&pool, pages[i]));
    memset(pool_memory, 0x77, 8 * PAGE_SIZE);

    uint64_t physical;
    uint8_t *run = page_pool_alloc_contiguous(&pool, 3, &physical);
    assert_ptr_equal(run, pages[4]);
    assert_int_equal(physical, TEST_PHYSICAL_BASE + 4 * PAGE_SIZE);
    assert_true(page_is_zero(run, 3));
    assert_int_equal(pool_memory[7 * PAGE_SIZE], 0x77); /* the page after the run is not zeroed */

    /* Two pages do not fit in the hole at 1: they go after page 7. */
    run = page_pool_alloc_contiguous(&pool, 2, NULL);
    assert_ptr_equal(run, pool_memory + 8 * PAGE_SIZE);
    assert_int_equal(pool.pages_in_use, (8 - 4) + 3 + 2);

    /* A contiguous block is freed page by page. */
    assert_true(page_pool_free(&pool, run));
    assert_true(page_pool_free(&pool, run + PAGE_SIZE));
    assert_false(page_pool_free(&pool, run + PAGE_SIZE));
}

static void test_contiguous_across_bitmap_words_and_whole_pool(void **state)
{
    (void)state;
    /* Pages 0-61 in use: the 2 left at the end of the pool cannot hold 4. */
    for (unsigned i = 0; i < 62; i++)
        assert_non_null(page_pool_alloc(&pool, NULL));
    assert_null(page_pool_alloc_contiguous(&pool, 4, NULL));
    assert_non_null(page_pool_alloc_contiguous(&pool, 2, NULL));
    assert_int_equal(pool.pages_in_use, TEST_PAGES);

    /* A bigger pool: a run that crosses from word 0 into word 1. */
    static uint8_t big_memory[200 * PAGE_SIZE] __attribute__((aligned(4096)));
    struct page_pool big;
    assert_true(page_pool_init(&big, big_memory, 0x100000, 200));
    for (unsigned i = 0; i < 62; i++)
        assert_non_null(page_pool_alloc(&big, NULL));
    uint64_t physical;
    assert_ptr_equal(page_pool_alloc_contiguous(&big, 4, &physical), big_memory + 62 * PAGE_SIZE);
    assert_int_equal(physical, 0x100000 + 62 * PAGE_SIZE);
    assert_int_equal(big.used_bitmap[0], UINT64_MAX);
    assert_int_equal(big.used_bitmap[1], 0x3);
    /* The whole rest at once, then nothing: bits past page_count stay clear. */
    assert_non_null(page_pool_alloc_contiguous(&big, 200 - 66, NULL));
    assert_null(page_pool_alloc(&big, NULL));
    assert_int_equal(big.used_bitmap[3], (1ull << (200 - 192)) - 1);
    assert_null(page_pool_alloc_contiguous(&big, PAGE_POOL_MAX_PAGES + 1, NULL));
}

static void test_free_rejects_foreign_and_double(void **state)
{
    (void)state;
    uint8_t *page = page_pool_alloc(&pool, NULL);
    static uint8_t elsewhere[PAGE_SIZE] __attribute__((aligned(4096)));
    assert_false(page_pool_free(&pool, elsewhere));
    assert_false(page_pool_free(&pool, NULL));
    assert_false(page_pool_free(&pool, page + 16));                     /* not a page start */
    assert_false(page_pool_free(&pool, pool_memory + TEST_PAGES * PAGE_SIZE)); /* just past the end */
    assert_false(page_pool_free(&pool, pool_memory + PAGE_SIZE));       /* in the pool, never allocated */
    assert_int_equal(pool.pages_in_use, 1);
    assert_true(page_pool_free(&pool, page));
    assert_false(page_pool_free(&pool, page)); /* double free */
    assert_int_equal(pool.pages_in_use, 0);
    assert_int_equal(pool.used_bitmap[0], 0);
}

static void test_pointer_physical_conversion(void **state)
{
    (void)state;
    assert_ptr_equal(page_pool_pointer(&pool, TEST_PHYSICAL_BASE), pool_memory);
    assert_ptr_equal(page_pool_pointer(&pool, TEST_PHYSICAL_BASE + 5 * PAGE_SIZE + 123),
                     pool_memory + 5 * PAGE_SIZE + 123);
    assert_ptr_equal(page_pool_pointer(&pool, TEST_PHYSICAL_BASE + TEST_PAGES * PAGE_SIZE - 1),
                     pool_memory + TEST_PAGES * PAGE_SIZE - 1);
    assert_null(page_pool_pointer(&pool, TEST_PHYSICAL_BASE + TEST_PAGES * PAGE_SIZE));
    assert_null(page_pool_pointer(&pool, TEST_PHYSICAL_BASE - 1));
    assert_null(page_pool_pointer(&pool, 0));
    assert_null(page_pool_pointer(&pool, UINT64_MAX));

    assert_int_equal(page_pool_physical(&pool, pool_memory), TEST_PHYSICAL_BASE);
    assert_int_equal(page_pool_physical(&pool, pool_memory + 7 * PAGE_SIZE + 9), TEST_PHYSICAL_BASE + 7 * PAGE_SIZE + 9);
    assert_int_equal(page_pool_physical(&pool, pool_memory + TEST_PAGES * PAGE_SIZE), ~0ull);
    assert_int_equal(page_pool_physical(&pool, &pool), ~0ull);
    assert_int_equal(page_pool_physical(&pool, NULL), ~0ull);

    /* Round trip for every page. */
    for (unsigned i = 0; i < TEST_PAGES; i++) {
        uint64_t physical;
        void *page = page_pool_alloc(&pool, &physical);
        assert_ptr_equal(page_pool_pointer(&pool, physical), page);
        assert_int_equal(page_pool_physical(&pool, page), physical);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_arguments),
        cmocka_unit_test_setup(test_alloc_returns_zeroed_distinct_pages, setup_pool),
        cmocka_unit_test_setup(test_freed_page_is_reused_and_zeroed_again, setup_pool),
        cmocka_unit_test_setup(test_exhaustion, setup_pool),
        cmocka_unit_test_setup(test_contiguous_finds_lowest_fitting_run, setup_pool),
        cmocka_unit_test_setup(test_contiguous_across_bitmap_words_and_whole_pool, setup_pool),
        cmocka_unit_test_setup(test_free_rejects_foreign_and_double, setup_pool),
        cmocka_unit_test_setup(test_pointer_physical_conversion, setup_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
