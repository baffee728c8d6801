/* vigil's pieces at the top of RAM, the guest's boot information after its image. See guest_layout.h. */
#include "hv/guest_layout.h"

#include <stdbool.h>

#define PAGE 4096ull
#define FOUR_GIB 0x100000000ull

static uint64_t page_down(uint64_t address) { return address & ~(PAGE - 1); }
static uint64_t page_up(uint64_t address) { return address > UINT64_MAX - (PAGE - 1) ? UINT64_MAX & ~(PAGE - 1) : page_down(address + PAGE - 1); }

/* Marks ranges (page-rounded) as reserved in a scratch map. False if the map had
 * no room for a split (then nothing may be placed). */
static bool reserve_ranges(struct memmap *scratch, const struct address_range *ranges, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        uint64_t start = page_down(ranges[i].start), end = page_up(ranges[i].end);
        if (end > start && !memmap_mark(scratch, start, end - start, MEMMAP_RESERVED))
            return false;
    }
    return true;
}

/* Highest free block in `scratch`, carved as `type` in both maps. */
static bool take_high(struct memmap *map, struct memmap *scratch, uint64_t size, uint64_t alignment, uint32_t type,
                      uint64_t *base)
{
    size = page_up(size);
    return memmap_find_free_highest(scratch, size, alignment, FOUR_GIB, base) &&
           memmap_carve(scratch, *base, size, type) && memmap_carve(map, *base, size, type);
}

const char *guest_layout_plan(struct memmap *map, const struct guest_layout_request *request,
                              struct guest_layout *layout)
{
    static struct memmap scratch; /* ~3 KiB: off the stack */
    *layout = (struct guest_layout){ 0, 0, 0, 0 };
    memmap_normalize(map);
    scratch = *map;
    if (!reserve_ranges(&scratch, request->segments, request->segment_count) ||
        !reserve_ranges(&scratch, request->modules, request->module_count))
        return "memory map too fragmented to keep the guest image and modules apart";

    if (request->image_copy_size &&
        !take_high(map, &scratch, request->image_copy_size, PAGE, MEMMAP_HYPERVISOR, &layout->image_copy))
        return "no free RAM below 4 GiB for the guest image's pristine copy";
    if (!take_high(map, &scratch, request->pool_size, request->pool_alignment, MEMMAP_HYPERVISOR, &layout->pool))
        return "no free RAM below 4 GiB for the page pool";
    if (request->shared_region_size &&
        !take_high(map, &scratch, request->shared_region_size, PAGE, MEMMAP_SHARED_REGION, &layout->shared_region))
        return "no free RAM below 4 GiB for the shared region";

    /* The boot information: module 0's own bytes are free again (the copy is
     * what gets loaded), the other modules stay in use. */
    scratch = *map;
    bool reserved = reserve_ranges(&scratch, request->segments, request->segment_count);
    if (request->module_count > 1)
        reserved = reserved && reserve_ranges(&scratch, request->modules + 1, request->module_count - 1);
    if (request->module_count > 0 && !request->image_copy_size)
        reserved = reserved && reserve_ranges(&scratch, request->modules, 1);
    if (!reserved)
        return "memory map too fragmented to place the guest's boot information";
    uint64_t image_end = 0;
    for (unsigned i = 0; i < request->segment_count; i++) {
        if (request->segments[i].end > image_end)
            image_end = request->segments[i].end;
    }
    uint64_t size = page_up(request->boot_info_size);
    if (!memmap_find_free_from(&scratch, size, PAGE, page_up(image_end), FOUR_GIB, &layout->boot_info) &&
        !memmap_find_free(&scratch, size, PAGE, FOUR_GIB, &layout->boot_info))
        return "no free RAM below 4 GiB for the guest's boot information";
    return NULL;
}
