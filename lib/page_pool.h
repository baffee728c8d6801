/*
 * The hypervisor's page allocator (DESIGN.md §4 stages 3-4).
 *
 * The pool is one contiguous range of physical pages that the boot flow carves
 * out of the memory map (memmap_carve with MEMMAP_HYPERVISOR), so the guest's
 * EPT identity map leaves it out. It supplies the VMXON and VMCS regions, the
 * I/O and MSR bitmaps, EPT page tables and stacks.
 *
 * The pool is reached through `memory`: the identity map on bare metal (so
 * memory == (void *)physical_base), a host buffer in unit tests. Physical
 * addresses are what VMCS fields and EPT entries hold; pointers are what the
 * hypervisor dereferences; page_pool_pointer() and page_pool_physical()
 * convert between the two.
 *
 * One bit per page, no headers in the pages themselves: VMCS regions and
 * bitmaps must be whole, 4 KiB aligned pages (SDM Vol. 3C §25.2, §25.6.4).
 * No locking: the hypervisor allocates on one CPU, with interrupts off.
 */
#ifndef VIGIL_LIB_PAGE_POOL_H
#define VIGIL_LIB_PAGE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SIZE 4096u
#define PAGE_POOL_MAX_PAGES 4096 /* 16 MiB */

struct page_pool {
    uint8_t *memory;        /* pointer to the first pool byte */
    uint64_t physical_base; /* its physical address, 4 KiB aligned */
    uint32_t page_count;    /* at most PAGE_POOL_MAX_PAGES */
    uint32_t pages_in_use;
    uint32_t high_water;    /* the most pages ever in use at once, for the log */
    uint64_t used_bitmap[PAGE_POOL_MAX_PAGES / 64]; /* bit set = page in use */
};

/*
 * Take over [memory, memory + page_count * PAGE_SIZE), which sits at
 * physical_base. False, leaving the pool empty, if memory or physical_base is
 * not 4 KiB aligned, page_count is 0 or more than PAGE_POOL_MAX_PAGES, or the
 * physical range would wrap.
 */
bool page_pool_init(struct page_pool *pool, void *memory, uint64_t physical_base, uint32_t page_count);

/* One zeroed page, its physical address in *physical_out (if not NULL). NULL when exhausted. */
void *page_pool_alloc(struct page_pool *pool, uint64_t *physical_out);

/*
 * `pages` zeroed, physically contiguous pages (VMCS regions, I/O bitmaps A+B,
 * stacks): the lowest run that fits. NULL if pages is 0 or no run is long
 * enough. Free them one page at a time with page_pool_free.
 */
void *page_pool_alloc_contiguous(struct page_pool *pool, uint32_t pages, uint64_t *physical_out);

/*
 * Give back one page. False, changing nothing, for a pointer that is not the
 * start of a pool page, or a page not in use (double free).
 */
bool page_pool_free(struct page_pool *pool, void *page);

/* The pointer for a physical address inside the pool; NULL outside it. */
void *page_pool_pointer(const struct page_pool *pool, uint64_t physical);

/* The physical address of a pointer into the pool; ~0ull outside it. */
uint64_t page_pool_physical(const struct page_pool *pool, const void *pointer);

#endif /* VIGIL_LIB_PAGE_POOL_H */
