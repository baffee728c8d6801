/*
 * libFuzzer target for the boot information parser (hv/multiboot.c). The first
 * input byte picks the protocol (bit 0: Multiboot1 or Multiboot2 magic; bit 1: a
 * bad magic); the rest is physical memory at FAKE_PHYSICAL_BASE, where the
 * information block starts, so pointers inside it (command lines, memory map,
 * modules) reach the fuzzer's bytes when they point into that window and NULL
 * (unreadable) otherwise. Checks beyond ASan/UBSan: every string copied out is
 * NUL-terminated within its array, counts are within their arrays, and an accepted
 * memory map is normalised (sorted, no overlap, no zero length).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/multiboot.h"

#define FAKE_PHYSICAL_BASE 0x10000u

struct window {
    const uint8_t *data;
    size_t size;
};

static const void *map_window(void *context, uint64_t physical_address, size_t length)
{
    const struct window *window = context;
    if (physical_address < FAKE_PHYSICAL_BASE)
        return NULL;
    uint64_t offset = physical_address - FAKE_PHYSICAL_BASE;
    if (offset > window->size || length > window->size - offset)
        return NULL;
    return window->data + offset;
}

static void check_string(const char *text, size_t size)
{
    if (memchr(text, '\0', size) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t magic = (data[0] & 1) ? MULTIBOOT2_BOOTLOADER_MAGIC : MULTIBOOT1_BOOTLOADER_MAGIC;
    if (data[0] & 2)
        magic ^= 0x100;
    /* a copy: the parser must cope with any alignment, but the fuzzer's buffer has none to offer */
    static uint8_t memory[1 << 16];
    size_t length = size - 1 < sizeof memory ? size - 1 : sizeof memory;
    memcpy(memory, data + 1, length);
    struct window window = {memory, length};
    const struct physical_memory_access access = {map_window, &window};
    static struct boot_info info;
    enum boot_info_status status = multiboot_parse(magic, FAKE_PHYSICAL_BASE, &access, &info);
    if (boot_info_status_name(status) == NULL || boot_info_status_message(status) == NULL)
        abort();
    check_string(info.cmdline, sizeof info.cmdline);
    check_string(info.loader_name, sizeof info.loader_name);
    if (info.module_count > BOOT_MODULE_MAX || info.diagnostic_count > BOOT_DIAGNOSTIC_MAX ||
        info.memmap.count > MEMMAP_MAX_ENTRIES)
        abort();
    for (unsigned i = 0; i < info.module_count; i++)
        check_string(info.modules[i].cmdline, sizeof info.modules[i].cmdline);
    for (unsigned i = 0; i < info.diagnostic_count; i++)
        check_string(info.diagnostics[i], sizeof info.diagnostics[i]);
    if (status != BOOT_INFO_OK)
        return 0;
    for (unsigned i = 0; i < info.memmap.count; i++) {
        const struct memmap_entry *entry = &info.memmap.entries[i];
        if (entry->length == 0 || entry->base + entry->length < entry->base)
            abort();
        if (i > 0) {
            const struct memmap_entry *previous = &info.memmap.entries[i - 1];
            if (previous->base + previous->length > entry->base)
                abort();
        }
    }
    return 0;
}
