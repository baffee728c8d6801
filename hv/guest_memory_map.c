/* The guest's view of the memory map; see guest_memory_map.h. */
#include "hv/guest_memory_map.h"

#include <stdbool.h>
#include <stddef.h>

/* The hypervisor's own pages and the shared region must never look like RAM
 * to the guest (DESIGN.md §2, §4.4): it would allocate them. */
static uint32_t guest_visible_type(uint32_t type)
{
    switch (type) {
    case MEMMAP_RAM:
    case MEMMAP_ACPI_RECLAIMABLE:
    case MEMMAP_ACPI_NVS:
    case MEMMAP_BAD:
        return type;
    default:
        return GUEST_MEMORY_MAP_RESERVED;
    }
}

static uint64_t entry_end(const struct memmap_entry *entry)
{
    uint64_t end;
    return __builtin_add_overflow(entry->base, entry->length, &end) ? UINT64_MAX : end;
}

unsigned guest_memory_map_walk(const struct memmap *map, guest_memory_map_sink *sink, void *context)
{
    unsigned emitted = 0;
    uint64_t run_base = 0, run_end = 0;
    uint32_t run_type = 0;
    bool run_open = false;
    unsigned count = map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
    for (unsigned i = 0; i <= count; i++) {
        bool last = i == count;
        const struct memmap_entry *entry = last ? NULL : &map->entries[i];
        if (!last && entry->length == 0)
            continue;
        uint32_t type = last ? 0 : guest_visible_type(entry->type);
        if (!last && run_open && type == run_type && entry->base == run_end) {
            run_end = entry_end(entry);
            continue;
        }
        if (run_open) {
            if (sink != NULL)
                sink(context, emitted, run_base, run_end - run_base, run_type);
            emitted++;
        }
        if (!last) {
            run_open = true;
            run_base = entry->base;
            run_end = entry_end(entry);
            run_type = type;
        }
    }
    return emitted;
}
