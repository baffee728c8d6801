/*
 * The physical memory map, normalised.
 *
 * Boot loaders hand over the firmware's memory map as they found it: unsorted,
 * overlapping, with zero-length or wrapping entries and type numbers nobody
 * defined. This module turns that into a sorted, non-overlapping list that the
 * page allocator, the EPT builder and the guest loaders (multiboot mmap, Linux
 * e820) can trust, and lets the boot flow reserve the hypervisor image and the
 * shared region in it (DESIGN.md §2, §4.4).
 *
 * No dynamic memory: the map is a fixed array, sized for real firmware
 * (e820 maps rarely exceed a few dozen entries).
 */
#ifndef VIGIL_LIB_MEMMAP_H
#define VIGIL_LIB_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Types 1-5 are the Multiboot numbers (Multiboot 0.6.96 §3.3 "mmap_*",
 * Multiboot2 §3.6.8), which are also the ACPI/e820 numbers. Types from 0x100
 * are vigil's own and never come from a boot loader.
 */
enum memmap_type {
    MEMMAP_RAM = 1,
    MEMMAP_RESERVED = 2,
    MEMMAP_ACPI_RECLAIMABLE = 3,
    MEMMAP_ACPI_NVS = 4,
    MEMMAP_BAD = 5,
    MEMMAP_HYPERVISOR = 0x100,
    MEMMAP_SHARED_REGION = 0x101,
};

struct memmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

#define MEMMAP_MAX_ENTRIES 128

struct memmap {
    struct memmap_entry entries[MEMMAP_MAX_ENTRIES];
    unsigned count;
    /* Anomalies seen while building the map; the caller reports them. */
    unsigned rejected_zero_length;
    unsigned clamped_wraparound;
    unsigned dropped_full;
    unsigned overlaps_resolved;
    unsigned unknown_types;
};

/* Empty map, all counters zero. */
void memmap_init(struct memmap *map);

/*
 * Append one range as reported. Returns false if nothing was stored.
 * - length 0: rejected, counted in rejected_zero_length.
 * - a range whose end is not representable (base + length >= 2^64) is
 *   clamped to end at 2^64 - 1 and counted in clamped_wraparound.
 * - map full: dropped, counted in dropped_full.
 * - a type that is not one of enum memmap_type is stored as MEMMAP_RESERVED
 *   and counted in unknown_types (Multiboot: every other value is reserved).
 */
bool memmap_add(struct memmap *map, uint64_t base, uint64_t length, uint32_t type);

/*
 * Sort by base; where ranges overlap the more restrictive type wins
 * (BAD > HYPERVISOR > SHARED_REGION > RESERVED > ACPI_NVS > ACPI_RECLAIMABLE
 * > RAM); adjacent ranges of the same type are merged. Each stretch of memory
 * covered by more than one entry counts once in overlaps_resolved. Should
 * resolving overlaps need more than MEMMAP_MAX_ENTRIES entries, the smallest
 * RAM pieces are dropped first (a missing range is never used, so this only
 * loses memory) and counted in dropped_full.
 */
void memmap_normalize(struct memmap *map);

/*
 * Mark [base, base + length) as `type`, splitting the RAM entry it lies in.
 * Normalises the map first. Returns false, changing nothing, if the range is
 * empty, wraps, is not entirely RAM, or the split would not fit in the map
 * (then dropped_full is counted).
 */
bool memmap_carve(struct memmap *map, uint64_t base, uint64_t length, uint32_t type);

/*
 * Mark every byte of RAM in [base, base + length) as `type`, however many RAM
 * entries (or holes) the range spans; what is not RAM stays as it is. For
 * keeping placements away from ranges the loader reported (modules, a guest's
 * segments). False if the map had no room for a split: then part of the range
 * may still be RAM, and nothing may be placed by this map.
 */
bool memmap_mark(struct memmap *map, uint64_t base, uint64_t length, uint32_t type);

/* Sum of the lengths of all entries of `type`. */
uint64_t memmap_total(const struct memmap *map, uint32_t type);

/* "ram", "reserved", ..., "shared-region"; "unknown" for anything else. */
const char *memmap_type_name(uint32_t type);

/*
 * Find the lowest address >= 1 MiB where `size` bytes of RAM, aligned to
 * `alignment` (a power of two; 0 means 1), end at or below `below`.
 * Memory under 1 MiB is left alone: real-mode structures and the BIOS live
 * there. Does not reserve the range: carve it afterwards.
 */
bool memmap_find_free(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t below,
                      uint64_t *base_out);

/* Like memmap_find_free, but the lowest fit at or above `from` (which may be
 * below 1 MiB: a guest's boot information goes right after its image, as GRUB
 * does). */
bool memmap_find_free_from(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t from,
                           uint64_t below, uint64_t *base_out);

/*
 * The highest address >= 1 MiB where `size` bytes of RAM, aligned to
 * `alignment`, end at or below `below`: where vigil puts its own memory (the
 * image, the page pool, the guest image's pristine copy, the shared region), so
 * that the guest keeps low memory contiguous from 1 MiB up, as on a PC.
 */
bool memmap_find_free_highest(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t below,
                              uint64_t *base_out);

#endif /* VIGIL_LIB_MEMMAP_H */
