/*
 * libFuzzer target for the guest ELF loader (hv/guest_elf.c): the input is the
 * module's bytes. Parse; if accepted, check placement against a PC-like map and
 * load into a fake guest RAM window. Checks beyond ASan/UBSan: an accepted image
 * keeps its promises (segments inside the file, p_memsz >= p_filesz, no overlap,
 * entry inside a segment, everything below 4 GiB), the error text is a bounded
 * C string, and the loader writes only inside the segments it was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/guest_elf.h"

#define RAM_WINDOW_START 0u         /* the conventional memory of the map below */
#define RAM_WINDOW_SIZE 0x9FC00u
#define FOUR_GIB 0x100000000ull

static uint8_t guest_ram[RAM_WINDOW_SIZE];

static void *ram_pointer(void *context, uint64_t guest_physical, uint64_t length)
{
    const struct guest_image *image = context;
    /* the loader may ask only for bytes inside one of the image's segments */
    bool inside = false;
    for (unsigned i = 0; i < image->segment_count; i++) {
        const struct guest_segment *segment = &image->segments[i];
        if (guest_physical >= segment->physical_address &&
            guest_physical + length <= segment->physical_address + segment->memory_size)
            inside = true;
    }
    if (!inside)
        abort();
    if (guest_physical - RAM_WINDOW_START > RAM_WINDOW_SIZE ||
        length > RAM_WINDOW_SIZE - (guest_physical - RAM_WINDOW_START))
        return NULL;
    return guest_ram + (guest_physical - RAM_WINDOW_START);
}

static void check_image(const struct guest_image *image, size_t size)
{
    bool entry_inside = false;
    if (image->segment_count == 0 || image->segment_count > GUEST_SEGMENT_MAX || image->entry >= FOUR_GIB)
        abort();
    for (unsigned i = 0; i < image->segment_count; i++) {
        const struct guest_segment *a = &image->segments[i];
        /* a segment with no file bytes (bss only) may name any offset: nothing is read there */
        bool file_bytes_outside = a->file_size > 0 && (a->file_offset > size || a->file_size > size - a->file_offset);
        if (a->memory_size == 0 || a->file_size > a->memory_size || file_bytes_outside || a->physical_address >= FOUR_GIB ||
            a->memory_size > FOUR_GIB - a->physical_address)
            abort();
        if (a->physical_address < image->lowest_address ||
            a->physical_address + a->memory_size > image->highest_address_end)
            abort();
        if (image->entry >= a->physical_address && image->entry < a->physical_address + a->memory_size)
            entry_inside = true;
        for (unsigned j = 0; j < i; j++) {
            const struct guest_segment *b = &image->segments[j];
            if (a->physical_address < b->physical_address + b->memory_size &&
                b->physical_address < a->physical_address + a->memory_size)
                abort();
        }
    }
    if (!entry_inside)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct guest_image image;
    char error[128];
    memset(error, 'x', sizeof error);
    enum guest_elf_status status = guest_elf_parse(data, size, &image, error, sizeof error);
    if (memchr(error, '\0', sizeof error) == NULL || guest_elf_status_name(status) == NULL)
        abort();
    if (status != GUEST_ELF_OK)
        return 0;
    check_image(&image, size);
    static struct memmap map;
    memset(&map, 0, sizeof map);
    map.count = 3;
    map.entries[0] = (struct memmap_entry){0, 0x9FC00, MEMMAP_RAM};
    map.entries[1] = (struct memmap_entry){0x100000, 0x100000, MEMMAP_HYPERVISOR};
    map.entries[2] = (struct memmap_entry){0x200000, 0x7E00000, MEMMAP_RAM};
    const struct address_range avoid[1] = {{0x8000, 0x9000}};
    enum guest_placement_status placement = guest_elf_check_placement(&image, &map, avoid, 1, error, sizeof error);
    if (memchr(error, '\0', sizeof error) == NULL || guest_placement_status_name(placement) == NULL)
        abort();
    if (placement != GUEST_PLACEMENT_OK)
        return 0;
    const struct guest_memory_writer writer = {ram_pointer, &image};
    (void)guest_elf_load(&image, data, size, &writer); /* above the window: the writer says NULL, load says false */
    return 0;
}
