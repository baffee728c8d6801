/*
 * Multiboot1 ELF guests: check placement, load, and the helpers the parser
 * (guest_elf_parse.c) shares. See guest_elf.h for the contract.
 *
 * References: System V ABI gABI, chapter 4 "Object Files" (ELF header,
 * e_ident) and chapter 5 "Program Loading" (program header); Multiboot 0.6.96
 * §3.1 (OS image format). Fields are read byte by byte as little-endian: the
 * module is only as aligned as the boot loader placed it, and EI_DATA is
 * checked to be ELFDATA2LSB before any multi-byte field is believed.
 *
 * Every sum of two file-controlled values goes through elf_add_overflows(), every
 * range is compared as [start, end) with end computed once, checked.
 */
#include "hv/guest_elf.h"

#include "hv/guest_elf_internal.h"

#include <string.h>
#include "lib/format.h"
/* ---- one-line error text, bounded, no printf in a freestanding build ---- */


/* "segment N: " — N is the program header index, which readelf -l also shows. */
void elf_error_segment(struct text_builder *error, unsigned index)
{
    text_builder_printf(error, "segment %u: ", index);
}

/* "[0xstart, 0xend)" */
void elf_error_range(struct text_builder *error, uint64_t start, uint64_t end)
{
    text_builder_printf(error, "[0x%llx, 0x%llx)", (unsigned long long)start, (unsigned long long)end);
}

/* ---- arithmetic on hostile values ---- */

bool elf_add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
    return __builtin_add_overflow(a, b, sum);
}

bool elf_ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
    return a_start < b_end && b_start < a_end;
}

/* ---- little-endian field access; callers have bounded offset + width ---- */

uint16_t elf_read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

uint32_t elf_read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t elf_read_u64(const uint8_t *p)
{
    return (uint64_t)elf_read_u32(p) | (uint64_t)elf_read_u32(p + 4) << 32;
}

/* A word of the class's natural width (Elf32_Addr/Off vs Elf64_Addr/Off/Xword). */
uint64_t elf_read_word(const uint8_t *p, bool elf64)
{
    return elf64 ? elf_read_u64(p) : elf_read_u32(p);
}

const char *guest_elf_status_name(enum guest_elf_status status)
{
    switch (status) {
    case GUEST_ELF_OK: return "ok";
    case GUEST_ELF_TOO_SMALL: return "too-small";
    case GUEST_ELF_BAD_MAGIC: return "bad-magic";
    case GUEST_ELF_UNSUPPORTED_CLASS: return "unsupported-class";
    case GUEST_ELF_NOT_LITTLE_ENDIAN: return "not-little-endian";
    case GUEST_ELF_NOT_EXECUTABLE: return "not-executable";
    case GUEST_ELF_WRONG_MACHINE: return "wrong-machine";
    case GUEST_ELF_BAD_PROGRAM_HEADERS: return "bad-program-headers";
    case GUEST_ELF_SEGMENT_OUTSIDE_FILE: return "segment-outside-file";
    case GUEST_ELF_SEGMENT_SIZE_INVALID: return "segment-size-invalid";
    case GUEST_ELF_TOO_MANY_SEGMENTS: return "too-many-segments";
    case GUEST_ELF_NO_SEGMENTS: return "no-segments";
    case GUEST_ELF_SEGMENTS_OVERLAP: return "segments-overlap";
    case GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS: return "entry-outside-segments";
    case GUEST_ELF_ADDRESS_TOO_HIGH: return "address-too-high";
    case GUEST_ELF_NO_MULTIBOOT_HEADER: return "no-multiboot-header";
    case GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED: return "multiboot-flags-unsupported";
    }
    return "unknown";
}

/* ---- placement ---- */

/* memmap_add clamps wrapping entries, but the map may have been filled by
 * hand: saturate rather than wrap. */
static uint64_t map_entry_end(const struct memmap_entry *entry)
{
    uint64_t end;
    return elf_add_overflows(entry->base, entry->length, &end) ? UINT64_MAX : end;
}

static enum guest_placement_status check_segment_in_ram(const struct memmap *map, unsigned index, uint64_t start,
                                                        uint64_t end, struct text_builder *error)
{
    unsigned count = map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
    /* The hypervisor first, whatever the entry order: that is the overlap an
     * operator most needs named. */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            bool hypervisor = entry->type == MEMMAP_HYPERVISOR;
            if (entry->length == 0 || entry->type == MEMMAP_RAM || hypervisor != (pass == 0))
                continue;
            uint64_t entry_end = map_entry_end(entry);
            if (!elf_ranges_overlap(start, end, entry->base, entry_end))
                continue;
            elf_error_segment(error, index);
            elf_error_range(error, start, end);
            text_builder_append(error, hypervisor ? " overlaps the hypervisor at " : " overlaps ");
            if (!hypervisor) {
                text_builder_append(error, memmap_type_name(entry->type));
                text_builder_append(error, " memory at ");
            }
            elf_error_range(error, entry->base, entry_end);
            return hypervisor ? GUEST_PLACEMENT_OVERLAPS_HYPERVISOR : GUEST_PLACEMENT_NOT_IN_RAM;
        }
    }
    /* No non-RAM entry touches it; now every byte must be in some RAM entry
     * (holes in the map are not memory). The cursor strictly increases and
     * passes each entry's end once, so this ends within `count` steps. */
    uint64_t cursor = start;
    while (cursor < end) {
        uint64_t next = cursor;
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            uint64_t entry_end = map_entry_end(entry);
            if (entry->type == MEMMAP_RAM && entry->base <= cursor && cursor < entry_end && entry_end > next)
                next = entry_end;
        }
        if (next == cursor) {
            elf_error_segment(error, index);
            elf_error_range(error, start, end);
            text_builder_printf(error, ": address 0x%llx is not in the memory map", (unsigned long long)cursor);
            return GUEST_PLACEMENT_NOT_IN_RAM;
        }
        cursor = next;
    }
    return GUEST_PLACEMENT_OK;
}

enum guest_placement_status guest_elf_check_placement(const struct guest_image *image, const struct memmap *map,
                                                      const struct address_range *avoid, unsigned avoid_count,
                                                      char *error_buffer, size_t error_size)
{
    struct text_builder error;
    text_builder_start(&error, error_buffer, error_size);
    if (avoid == NULL)
        avoid_count = 0;

    if (image->highest_address_end > FOUR_GIB) {
        text_builder_printf(&error, "image ends at 0x%llx, above 4 GiB",
                            (unsigned long long)image->highest_address_end);
        return GUEST_PLACEMENT_TOO_HIGH;
    }
    unsigned segment_count = image->segment_count < GUEST_SEGMENT_MAX ? image->segment_count : GUEST_SEGMENT_MAX;
    for (unsigned index = 0; index < segment_count; index++) {
        const struct guest_segment *segment = &image->segments[index];
        uint64_t start = segment->physical_address, end;
        /* Re-checked: the image may not come straight from guest_elf_parse. */
        if (elf_add_overflows(start, segment->memory_size, &end) || end > FOUR_GIB) {
            elf_error_segment(&error, index);
            text_builder_printf(&error, "physical range 0x%llx+0x%llx ends above 4 GiB",
                                (unsigned long long)start, (unsigned long long)segment->memory_size);
            return GUEST_PLACEMENT_TOO_HIGH;
        }
        if (start == end)
            continue;
        enum guest_placement_status status = check_segment_in_ram(map, index, start, end, &error);
        if (status != GUEST_PLACEMENT_OK)
            return status;
        for (unsigned a = 0; a < avoid_count; a++) {
            if (avoid[a].end <= avoid[a].start || !elf_ranges_overlap(start, end, avoid[a].start, avoid[a].end))
                continue;
            elf_error_segment(&error, index);
            elf_error_range(&error, start, end);
            text_builder_printf(&error, " overlaps reserved range %llu ", (unsigned long long)a);
            elf_error_range(&error, avoid[a].start, avoid[a].end);
            return GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE;
        }
    }
    return GUEST_PLACEMENT_OK;
}

const char *guest_placement_status_name(enum guest_placement_status status)
{
    switch (status) {
    case GUEST_PLACEMENT_OK: return "ok";
    case GUEST_PLACEMENT_NOT_IN_RAM: return "not-in-ram";
    case GUEST_PLACEMENT_OVERLAPS_HYPERVISOR: return "overlaps-hypervisor";
    case GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE: return "overlaps-reserved-range";
    case GUEST_PLACEMENT_TOO_HIGH: return "too-high";
    }
    return "unknown";
}

/* ---- load ---- */

bool guest_elf_load(const struct guest_image *image, const uint8_t *file, size_t file_size,
                    const struct guest_memory_writer *writer)
{
    if (writer == NULL || writer->pointer == NULL || image->segment_count > GUEST_SEGMENT_MAX)
        return false;
    for (unsigned index = 0; index < image->segment_count; index++) {
        const struct guest_segment *segment = &image->segments[index];
        uint64_t file_end, memory_end;
        /* The same bounds guest_elf_parse enforced: a stale or hand-made
         * image must not make us read past the module. */
        if (segment->file_size > segment->memory_size || segment->memory_size > SIZE_MAX ||
            elf_add_overflows(segment->physical_address, segment->memory_size, &memory_end))
            return false;
        if (segment->file_size > 0 &&
            (file == NULL || elf_add_overflows(segment->file_offset, segment->file_size, &file_end) ||
             file_end > file_size))
            return false;
        if (segment->memory_size == 0)
            continue;
        uint8_t *destination = writer->pointer(writer->context, segment->physical_address, segment->memory_size);
        if (destination == NULL)
            return false;
        /* memmove: placement keeps the module out of the segments, but if a
         * caller got that wrong the copy is still defined behaviour. */
        if (segment->file_size > 0)
            memmove(destination, file + segment->file_offset, (size_t)segment->file_size);
        memset(destination + segment->file_size, 0, (size_t)(segment->memory_size - segment->file_size));
    }
    return true;
}
