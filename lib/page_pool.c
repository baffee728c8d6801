/*
 * The hypervisor's page allocator. See page_pool.h for the contract.
 *
 * A first-fit bitmap: the pool is at most 16 MiB (4096 bits), so a linear scan
 * costs less than the zeroing of the page it returns.
 */
#include "lib/page_pool.h"

#include <stddef.h>
#include <string.h>

#define PAGE_OFFSET_MASK ((uint64_t)PAGE_SIZE - 1)

static bool page_in_use(const struct page_pool *pool, uint32_t index)
{
    return (pool->used_bitmap[index / 64] >> (index % 64)) & 1;
}

static void mark_pages(struct page_pool *pool, uint32_t first, uint32_t count, bool in_use)
{
    for (uint32_t index = first; index < first + count; index++) {
        uint64_t bit = 1ull << (index % 64);
        if (in_use)
            pool->used_bitmap[index / 64] |= bit;
        else
            pool->used_bitmap[index / 64] &= ~bit;
    }
}

bool page_pool_init(struct page_pool *pool, void *memory, uint64_t physical_base, uint32_t page_count)
{
    memset(pool, 0, sizeof(*pool));
    if (memory == NULL || ((uintptr_t)memory & PAGE_OFFSET_MASK) != 0 || (physical_base & PAGE_OFFSET_MASK) != 0)
        return false;
    if (page_count == 0 || page_count > PAGE_POOL_MAX_PAGES)
        return false;
    uint64_t size = (uint64_t)page_count * PAGE_SIZE;
    if (physical_base > UINT64_MAX - size)
        return false;
    pool->memory = memory;
    pool->physical_base = physical_base;
    pool->page_count = page_count;
    return true;
}

/* Index of the first page of the lowest run of `pages` free pages, or page_count. */
static uint32_t find_free_run(const struct page_pool *pool, uint32_t pages)
{
    uint32_t run_start = 0, run_length = 0;
    for (uint32_t index = 0; index < pool->page_count; index++) {
        if (run_length == 0 && index % 64 == 0 && pool->used_bitmap[index / 64] == UINT64_MAX) {
            index += 63; /* a full word: skip it whole */
            continue;
        }
        if (page_in_use(pool, index)) {
            run_length = 0;
            continue;
        }
        if (run_length == 0)
            run_start = index;
        if (++run_length == pages)
            return run_start;
    }
    return pool->page_count;
}

void *page_pool_alloc_contiguous(struct page_pool *pool, uint32_t pages, uint64_t *physical_out)
{
    if (pages == 0 || pages > pool->page_count - pool->pages_in_use)
        return NULL;
    uint32_t first = find_free_run(pool, pages);
    if (first == pool->page_count)
        return NULL;
    mark_pages(pool, first, pages, true);
    pool->pages_in_use += pages;
    if (pool->pages_in_use > pool->high_water)
        pool->high_water = pool->pages_in_use;
    uint8_t *block = pool->memory + (size_t)first * PAGE_SIZE;
    /* Zeroed on the way out, not on free: a VMCS region or bitmap must start
     * all zero (SDM Vol. 3C §25.2), and a stale EPT entry would map memory. */
    memset(block, 0, (size_t)pages * PAGE_SIZE);
    if (physical_out != NULL)
        *physical_out = pool->physical_base + (uint64_t)first * PAGE_SIZE;
    return block;
}

void *page_pool_alloc(struct page_pool *pool, uint64_t *physical_out)
{
    return page_pool_alloc_contiguous(pool, 1, physical_out);
}

/* The page index of a pointer into the pool, or page_count if it is outside. */
static uint32_t page_index(const struct page_pool *pool, const void *pointer)
{
    /* Compared as integers: relational operators on pointers into different
     * objects are undefined in C, and a foreign pointer is exactly that. */
    uintptr_t address = (uintptr_t)pointer, start = (uintptr_t)pool->memory;
    if (pool->memory == NULL || address < start || address - start >= (uintptr_t)pool->page_count * PAGE_SIZE)
        return pool->page_count;
    return (uint32_t)((address - start) / PAGE_SIZE);
}

bool page_pool_free(struct page_pool *pool, void *page)
{
    uint32_t index = page_index(pool, page);
    if (index == pool->page_count || ((uintptr_t)page & PAGE_OFFSET_MASK) != 0 || !page_in_use(pool, index))
        return false;
    mark_pages(pool, index, 1, false);
    pool->pages_in_use--;
    return true;
}

void *page_pool_pointer(const struct page_pool *pool, uint64_t physical)
{
    if (pool->memory == NULL || physical < pool->physical_base ||
        physical - pool->physical_base >= (uint64_t)pool->page_count * PAGE_SIZE)
        return NULL;
    return pool->memory + (size_t)(physical - pool->physical_base);
}

uint64_t page_pool_physical(const struct page_pool *pool, const void *pointer)
{
    uint32_t index = page_index(pool, pointer);
    if (index == pool->page_count)
        return ~0ull;
    return pool->physical_base + ((uintptr_t)pointer - (uintptr_t)pool->memory);
}
