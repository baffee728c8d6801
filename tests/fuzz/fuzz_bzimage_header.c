/*
 * libFuzzer target: hv/guest_linux.c on arbitrary files. A file that parses
 * goes on to placement and the zero page on a fixed 256 MiB machine, so every
 * header value the parser lets through is exercised by the later steps too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hv/guest_linux.h"
#include "lib/memmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char error[160];
    struct linux_kernel kernel;
    (void)guest_linux_is_bzimage(data, size);
    if (guest_linux_parse(data, size, &kernel, error, sizeof error) != GUEST_LINUX_OK)
        return 0;
    static struct memmap map;
    memmap_init(&map);
    memmap_add(&map, 0, 0x9FC00, MEMMAP_RAM);
    memmap_add(&map, 0x100000, 255u << 20, MEMMAP_RAM);
    memmap_normalize(&map);
    memmap_carve(&map, 0x100000, 0x100000, MEMMAP_HYPERVISOR);
    const struct address_range avoid[] = { { 0x200000, 0x200000 + size } };
    uint64_t address = 0;
    if (guest_linux_place(&kernel, &map, avoid, 1, &address, error, sizeof error) != GUEST_LINUX_OK)
        return 0;
    if (address < 0x100000 || address + kernel.init_size > (256u << 20) ||
        (address < avoid[0].end && avoid[0].start < address + kernel.init_size))
        __builtin_trap(); /* placed on memory it had to avoid */
    static uint8_t page[LINUX_ZERO_PAGE_SIZE];
    struct linux_boot_layout layout = { .kernel_address = address, .cmdline_address = 0x9000, .cmdline = "quiet" };
    guest_linux_build_zero_page(page, &kernel, data, size, &layout, &map, error, sizeof error);
    return 0;
}
