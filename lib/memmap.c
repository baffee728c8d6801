/*
 * The physical memory map, normalised. See memmap.h for the contract.
 *
 * Normalisation is a boundary sweep: every entry start and end is a boundary;
 * between two consecutive boundaries the type is that of the most restrictive
 * entry covering the stretch. It works on fixed-size local arrays (about
 * 5 KiB of stack) because there is no allocator yet when the map is built.
 */
#include "lib/memmap.h"

#include <string.h>

#define ONE_MIB 0x100000ull

void memmap_init(struct memmap *map)
{
    memset(map, 0, sizeof(*map));
}

static bool is_known_type(uint32_t type)
{
    switch (type) {
    case MEMMAP_RAM:
    case MEMMAP_RESERVED:
    case MEMMAP_ACPI_RECLAIMABLE:
    case MEMMAP_ACPI_NVS:
    case MEMMAP_BAD:
    case MEMMAP_HYPERVISOR:
    case MEMMAP_SHARED_REGION:
        return true;
    default:
        return false;
    }
}

/* Higher wins an overlap. Anything unknown is treated as reserved, as
 * Multiboot 0.6.96 §3.3 says for types other than 1, 3, 4, 5. */
static int restriction_rank(uint32_t type)
{
    switch (type) {
    case MEMMAP_RAM:
        return 0;
    case MEMMAP_ACPI_RECLAIMABLE:
        return 1;
    case MEMMAP_ACPI_NVS:
        return 2;
    case MEMMAP_SHARED_REGION:
        return 4;
    case MEMMAP_HYPERVISOR:
        return 5;
    case MEMMAP_BAD:
        return 6;
    case MEMMAP_RESERVED:
    default:
        return 3;
    }
}

/* Exclusive end of an entry, never wrapping (memmap_add guarantees this for
 * entries it stored; entries written by hand are clamped here too). */
static uint64_t entry_end(const struct memmap_entry *entry)
{
    if (entry->length > UINT64_MAX - entry->base)
        return UINT64_MAX;
    return entry->base + entry->length;
}

bool memmap_add(struct memmap *map, uint64_t base, uint64_t length, uint32_t type)
{
    if (length > UINT64_MAX - base) {
        /* The end would be 2^64 or beyond: keep the part whose exclusive end
         * still fits in 64 bits. Losing the top byte of the address space
         * costs nothing real (physical addresses are at most 52 bits). */
        length = UINT64_MAX - base;
        map->clamped_wraparound++;
    }
    if (length == 0) {
        map->rejected_zero_length++;
        return false;
    }
    if (map->count >= MEMMAP_MAX_ENTRIES) {
        map->dropped_full++;
        return false;
    }
    if (!is_known_type(type)) {
        type = MEMMAP_RESERVED;
        map->unknown_types++;
    }
    struct memmap_entry *entry = &map->entries[map->count++];
    entry->base = base;
    entry->length = length;
    entry->type = type;
    return true;
}

static void sort_boundaries(uint64_t *values, unsigned count)
{
    /* Insertion sort: at most 2 * MEMMAP_MAX_ENTRIES values, usually sorted. */
    for (unsigned i = 1; i < count; i++) {
        uint64_t value = values[i];
        unsigned j = i;
        while (j > 0 && values[j - 1] > value) {
            values[j] = values[j - 1];
            j--;
        }
        values[j] = value;
    }
}

/* Index of the smallest RAM entry, or -1 if there is none. */
static int smallest_ram_entry(const struct memmap *map)
{
    int smallest = -1;
    for (unsigned i = 0; i < map->count; i++) {
        if (map->entries[i].type != MEMMAP_RAM)
            continue;
        if (smallest < 0 || map->entries[i].length < map->entries[smallest].length)
            smallest = (int)i;
    }
    return smallest;
}

/* Append [start, end) of `type` to a map being rebuilt in ascending order,
 * merging with the previous entry when adjacent and of the same type. */
static void append_normalized(struct memmap *map, uint64_t start, uint64_t end, uint32_t type)
{
    if (map->count > 0) {
        struct memmap_entry *last = &map->entries[map->count - 1];
        if (last->type == type && entry_end(last) == start) {
            last->length += end - start;
            return;
        }
    }
    if (map->count >= MEMMAP_MAX_ENTRIES) {
        /* Out of room: losing RAM only loses memory, losing a reserved
         * range could hand firmware memory to the guest. So drop the
         * smallest RAM piece, possibly the new one. */
        int victim = smallest_ram_entry(map);
        map->dropped_full++;
        if (victim < 0 || (type == MEMMAP_RAM && end - start <= map->entries[victim].length))
            return;
        memmove(&map->entries[victim], &map->entries[victim + 1],
                (map->count - (unsigned)victim - 1) * sizeof(map->entries[0]));
        map->count--;
    }
    struct memmap_entry *entry = &map->entries[map->count++];
    entry->base = start;
    entry->length = end - start;
    entry->type = type;
}

void memmap_normalize(struct memmap *map)
{
    struct memmap_entry input[MEMMAP_MAX_ENTRIES];
    uint64_t boundaries[2 * MEMMAP_MAX_ENTRIES];
    unsigned input_count = map->count;
    unsigned boundary_count = 0;

    if (input_count > MEMMAP_MAX_ENTRIES)
        input_count = MEMMAP_MAX_ENTRIES;
    memcpy(input, map->entries, input_count * sizeof(input[0]));
    for (unsigned i = 0; i < input_count; i++) {
        boundaries[boundary_count++] = input[i].base;
        boundaries[boundary_count++] = entry_end(&input[i]);
    }
    sort_boundaries(boundaries, boundary_count);

    map->count = 0;
    bool previous_stretch_overlapped = false;
    for (unsigned i = 0; i + 1 < boundary_count; i++) {
        uint64_t start = boundaries[i];
        uint64_t end = boundaries[i + 1];
        if (start == end)
            continue; /* duplicate boundary */

        unsigned covering = 0;
        uint32_t winner = MEMMAP_RAM;
        for (unsigned j = 0; j < input_count; j++) {
            if (input[j].base > start || entry_end(&input[j]) < end || input[j].length == 0)
                continue;
            uint32_t type = is_known_type(input[j].type) ? input[j].type : MEMMAP_RESERVED;
            if (covering == 0 || restriction_rank(type) > restriction_rank(winner))
                winner = type;
            covering++;
        }
        if (covering == 0) {
            previous_stretch_overlapped = false;
            continue; /* a hole: not memory anyone reported */
        }
        bool overlapped = covering > 1;
        if (overlapped && !previous_stretch_overlapped)
            map->overlaps_resolved++;
        previous_stretch_overlapped = overlapped;
        append_normalized(map, start, end, winner);
    }
}

bool memmap_carve(struct memmap *map, uint64_t base, uint64_t length, uint32_t type)
{
    if (length == 0 || length > UINT64_MAX - base)
        return false;
    if (!is_known_type(type))
        type = MEMMAP_RESERVED;
    memmap_normalize(map); /* adjacent RAM is merged, so one entry must hold the range */

    uint64_t end = base + length;
    unsigned index;
    for (index = 0; index < map->count; index++) {
        const struct memmap_entry *entry = &map->entries[index];
        if (entry->type == MEMMAP_RAM && entry->base <= base && end <= entry_end(entry))
            break;
    }
    if (index == map->count)
        return false;

    struct memmap_entry ram = map->entries[index];
    uint64_t ram_end = entry_end(&ram);
    bool keep_below = base > ram.base;
    bool keep_above = ram_end > end;
    unsigned extra = (unsigned)keep_below + (unsigned)keep_above;
    if (map->count + extra > MEMMAP_MAX_ENTRIES) {
        map->dropped_full++;
        return false;
    }

    memmove(&map->entries[index + 1 + extra], &map->entries[index + 1],
            (map->count - index - 1) * sizeof(map->entries[0]));
    map->count += extra;
    unsigned slot = index;
    if (keep_below)
        map->entries[slot++] = (struct memmap_entry){ ram.base, base - ram.base, MEMMAP_RAM };
    map->entries[slot++] = (struct memmap_entry){ base, length, type };
    if (keep_above)
        map->entries[slot] = (struct memmap_entry){ end, ram_end - end, MEMMAP_RAM };

    memmap_normalize(map); /* merge with a neighbour of the same type */
    return true;
}

bool memmap_mark(struct memmap *map, uint64_t base, uint64_t length, uint32_t type)
{
    if (length > UINT64_MAX - base)
        length = UINT64_MAX - base;
    uint64_t end = base + length;
    memmap_normalize(map);
    for (unsigned i = 0; i < map->count; i++) {
        const struct memmap_entry *entry = &map->entries[i];
        uint64_t piece_start = entry->base > base ? entry->base : base;
        uint64_t piece_end = entry_end(entry) < end ? entry_end(entry) : end;
        if (entry->type != MEMMAP_RAM || piece_start >= piece_end)
            continue;
        if (!memmap_carve(map, piece_start, piece_end - piece_start, type))
            return false;
        i = (unsigned)-1; /* the map changed: start over (each pass removes one RAM piece) */
    }
    return true;
}

uint64_t memmap_total(const struct memmap *map, uint32_t type)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < map->count; i++) {
        if (map->entries[i].type == type)
            total += map->entries[i].length;
    }
    return total;
}

const char *memmap_type_name(uint32_t type)
{
    switch (type) {
    case MEMMAP_RAM:
        return "ram";
    case MEMMAP_RESERVED:
        return "reserved";
    case MEMMAP_ACPI_RECLAIMABLE:
        return "acpi-reclaimable";
    case MEMMAP_ACPI_NVS:
        return "acpi-nvs";
    case MEMMAP_BAD:
        return "bad";
    case MEMMAP_HYPERVISOR:
        return "hypervisor";
    case MEMMAP_SHARED_REGION:
        return "shared-region";
    default:
        return "unknown";
    }
}

static bool valid_alignment(uint64_t *alignment)
{
    if (*alignment == 0)
        *alignment = 1;
    return (*alignment & (*alignment - 1)) == 0;
}

/* The part of a RAM entry inside [from, below), if at least `size` bytes long. */
static bool ram_window(const struct memmap_entry *entry, uint64_t from, uint64_t below, uint64_t size,
                       uint64_t *start, uint64_t *limit)
{
    if (entry->type != MEMMAP_RAM)
        return false;
    *start = entry->base < from ? from : entry->base;
    *limit = entry_end(entry) < below ? entry_end(entry) : below;
    return *start < *limit && *limit - *start >= size;
}

bool memmap_find_free_from(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t from,
                           uint64_t below, uint64_t *base_out)
{
    if (size == 0 || !valid_alignment(&alignment))
        return false;

    bool found = false;
    uint64_t best = 0, start, limit;
    for (unsigned i = 0; i < map->count; i++) {
        if (!ram_window(&map->entries[i], from, below, size, &start, &limit) || start > UINT64_MAX - (alignment - 1))
            continue;
        start = (start + alignment - 1) & ~(alignment - 1);
        if (start >= limit || limit - start < size)
            continue;
        if (!found || start < best) {
            best = start;
            found = true;
        }
    }
    if (found)
        *base_out = best;
    return found;
}

bool memmap_find_free(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t below,
                      uint64_t *base_out)
{
    return memmap_find_free_from(map, size, alignment, ONE_MIB, below, base_out);
}

bool memmap_find_free_highest(const struct memmap *map, uint64_t size, uint64_t alignment, uint64_t below,
                              uint64_t *base_out)
{
    if (size == 0 || !valid_alignment(&alignment))
        return false;

    bool found = false;
    uint64_t best = 0, start, limit;
    for (unsigned i = 0; i < map->count; i++) {
        if (!ram_window(&map->entries[i], ONE_MIB, below, size, &start, &limit))
            continue;
        uint64_t candidate = (limit - size) & ~(alignment - 1);
        if (candidate < start)
            continue;
        if (!found || candidate > best) {
            best = candidate;
            found = true;
        }
    }
    if (found)
        *base_out = best;
    return found;
}
