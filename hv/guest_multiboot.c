/*
 * The Multiboot1 information structure vigil hands its guest. See
 * guest_multiboot.h for the contract; field layout from Multiboot 0.6.96 §3.3
 * ("Boot information format"), little-endian, packed, so fields are stored
 * byte by byte whatever the buffer's alignment.
 */
#include "hv/guest_multiboot.h"

#include <stdbool.h>
#include <string.h>

#include "hv/guest_memory_map.h"
#include "hv/version.h"

#define FOUR_GIB 0x100000000ull
#define ONE_MIB 0x100000ull
#define LOWER_MEMORY_LIMIT 0xA0000ull /* 640 KiB: mem_lower's maximum (§3.3) */

#define MULTIBOOT1_MMAP_ENTRY_SIZE_FIELD 20u /* base_addr + length + type: `size` excludes itself */

static void store_u32(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)value;
    p[1] = (uint8_t)(value >> 8);
    p[2] = (uint8_t)(value >> 16);
    p[3] = (uint8_t)(value >> 24);
}

static void store_u64(uint8_t *p, uint64_t value)
{
    store_u32(p, (uint32_t)value);
    store_u32(p + 4, (uint32_t)(value >> 32));
}

static uint64_t entry_end(const struct memmap_entry *entry)
{
    uint64_t end;
    return __builtin_add_overflow(entry->base, entry->length, &end) ? UINT64_MAX : end;
}

static unsigned entry_count(const struct memmap *map)
{
    return map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
}

static void store_mmap_entry(void *context, unsigned index, uint64_t base, uint64_t length, uint32_t type)
{
    uint8_t *p = (uint8_t *)context + (size_t)index * GUEST_MULTIBOOT1_MMAP_ENTRY_SIZE;
    store_u32(p, MULTIBOOT1_MMAP_ENTRY_SIZE_FIELD);
    store_u64(p + 4, base);
    store_u64(p + 12, length);
    store_u32(p + 20, type);
}

/* End of the RAM that runs without a gap or a non-RAM entry from `start`
 * (== start if `start` itself is not RAM). Each step moves past one entry's
 * end, so it finishes within the entry count. */
static uint64_t contiguous_ram_end(const struct memmap *map, uint64_t start)
{
    uint64_t cursor = start;
    unsigned count = entry_count(map);
    for (;;) {
        uint64_t next = cursor;
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            uint64_t end = entry_end(entry);
            if (entry->type == MEMMAP_RAM && entry->base <= cursor && cursor < end && end > next)
                next = end;
        }
        if (next == cursor)
            return cursor;
        cursor = next;
    }
}

/* strlen, but never reads more than `limit` bytes. */
static size_t bounded_length(const char *text, size_t limit)
{
    size_t length = 0;
    while (length < limit && text[length] != '\0')
        length++;
    return length;
}

size_t guest_multiboot1_build(uint8_t *buffer, size_t buffer_size, uint32_t buffer_physical,
                              const struct memmap *host_map, const char *cmdline, const char *loader_name)
{
    if (buffer == NULL || host_map == NULL)
        return 0;
    if (cmdline == NULL)
        cmdline = "";
    if (loader_name == NULL)
        loader_name = "vigil " VIGIL_VERSION;

    size_t cmdline_length = bounded_length(cmdline, GUEST_MULTIBOOT1_CMDLINE_MAX - 1);
    size_t loader_name_length = bounded_length(loader_name, GUEST_MULTIBOOT1_LOADER_NAME_MAX - 1);
    unsigned mmap_entries = guest_memory_map_walk(host_map, NULL, NULL);

    /* Every term is bounded (entries <= 128), so these sums cannot overflow. */
    size_t module_list_offset = GUEST_MULTIBOOT1_INFO_SIZE;
    size_t mmap_offset = module_list_offset + GUEST_MULTIBOOT1_MODULE_LIST_SIZE;
    size_t mmap_length = (size_t)mmap_entries * GUEST_MULTIBOOT1_MMAP_ENTRY_SIZE;
    size_t cmdline_offset = mmap_offset + mmap_length;
    size_t loader_name_offset = cmdline_offset + cmdline_length + 1;
    size_t total = loader_name_offset + loader_name_length + 1;
    if (total > buffer_size || (uint64_t)buffer_physical + total > FOUR_GIB)
        return 0; /* the guest's 32-bit pointers could not reach it */

    memset(buffer, 0, total);

    uint32_t mem_lower = 0;
    uint64_t lower_end = contiguous_ram_end(host_map, 0);
    mem_lower = (uint32_t)((lower_end < LOWER_MEMORY_LIMIT ? lower_end : LOWER_MEMORY_LIMIT) / 1024);
    uint64_t upper_kib = (contiguous_ram_end(host_map, ONE_MIB) - ONE_MIB) / 1024;
    uint32_t mem_upper = upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib;

    uint32_t flags = GUEST_MULTIBOOT1_INFO_MEMORY | GUEST_MULTIBOOT1_INFO_CMDLINE | GUEST_MULTIBOOT1_INFO_MODULES |
                     GUEST_MULTIBOOT1_INFO_MEMORY_MAP | GUEST_MULTIBOOT1_INFO_LOADER_NAME;
    store_u32(buffer + GUEST_MULTIBOOT1_FLAGS_OFFSET, flags);
    store_u32(buffer + GUEST_MULTIBOOT1_MEM_LOWER_OFFSET, mem_lower);
    store_u32(buffer + GUEST_MULTIBOOT1_MEM_UPPER_OFFSET, mem_upper);
    store_u32(buffer + GUEST_MULTIBOOT1_CMDLINE_OFFSET, buffer_physical + (uint32_t)cmdline_offset);
    store_u32(buffer + GUEST_MULTIBOOT1_MODS_COUNT_OFFSET, 0);
    store_u32(buffer + GUEST_MULTIBOOT1_MODS_ADDR_OFFSET, buffer_physical + (uint32_t)module_list_offset);
    store_u32(buffer + GUEST_MULTIBOOT1_MMAP_LENGTH_OFFSET, (uint32_t)mmap_length);
    store_u32(buffer + GUEST_MULTIBOOT1_MMAP_ADDR_OFFSET, buffer_physical + (uint32_t)mmap_offset);
    store_u32(buffer + GUEST_MULTIBOOT1_LOADER_NAME_OFFSET, buffer_physical + (uint32_t)loader_name_offset);

    guest_memory_map_walk(host_map, store_mmap_entry, buffer + mmap_offset);
    memcpy(buffer + cmdline_offset, cmdline, cmdline_length); /* NUL from the memset */
    memcpy(buffer + loader_name_offset, loader_name, loader_name_length);
    return total;
}
