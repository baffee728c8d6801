/*
 * The memory map a guest sees, whatever format carries it (Multiboot1 mmap,
 * Linux e820): one walk over the host map so both loaders hide the same memory.
 *
 * RAM, ACPI reclaimable, ACPI NVS and bad ranges pass through with their
 * numbers (which are the same in Multiboot and e820); vigil's own pages, the
 * shared region and every other type become 2 (reserved), so a guest allocator
 * never hands them out and a Linux /dev/mem may map the shared region
 * (STRICT_DEVMEM maps only what is not System RAM). Neighbours of one
 * resulting type are merged; zero-length entries are skipped. The host map
 * must be sorted (memmap_normalize).
 */
#ifndef VIGIL_HV_GUEST_MEMORY_MAP_H
#define VIGIL_HV_GUEST_MEMORY_MAP_H

#include <stdint.h>

#include "lib/memmap.h"

#define GUEST_MEMORY_MAP_RESERVED 2u

/* Called once per guest entry, in address order; `index` counts from 0. */
typedef void guest_memory_map_sink(void *context, unsigned index, uint64_t base, uint64_t length, uint32_t type);

/* Walks the guest view of `map`, calling `sink` (may be NULL: only count).
 * Returns the number of guest entries (at most MEMMAP_MAX_ENTRIES). */
unsigned guest_memory_map_walk(const struct memmap *map, guest_memory_map_sink *sink, void *context);

#endif /* VIGIL_HV_GUEST_MEMORY_MAP_H */
