/*
 * Multiboot1 (spec 0.6.96) and Multiboot2 (spec 2.0) boot information,
 * parsed defensively. See multiboot.h for the contract; the protocols are
 * multiboot1.c and multiboot2.c, what they share multiboot_reader.c.
 */
#include "hv/multiboot.h"

#include <string.h>

#include "hv/multiboot1.h"
#include "hv/multiboot2.h"
#include "hv/multiboot_reader.h"

enum boot_info_status multiboot_parse(uint32_t magic, uint64_t info_address,
                                      const struct physical_memory_access *memory, struct boot_info *out)
{
    if (out == NULL)
        return BOOT_INFO_NULL_POINTER;
    memset(out, 0, sizeof(*out));
    memmap_init(&out->memmap);

    if (magic == MULTIBOOT1_BOOTLOADER_MAGIC) {
        out->protocol = 1;
    } else if (magic == MULTIBOOT2_BOOTLOADER_MAGIC) {
        out->protocol = 2;
    } else {
        struct diagnostic diagnostic;
        diagnostic_start(&diagnostic, "multiboot: magic ");
        text_builder_printf(&diagnostic.builder, "0x%llx is neither 0x2badb002 nor 0x36d76289",
                            (unsigned long long)magic);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_BAD_MAGIC;
    }
    if (info_address == 0 || memory == NULL || memory->map == NULL)
        return BOOT_INFO_NULL_POINTER;

    enum boot_info_status status = out->protocol == 1 ? multiboot1_parse(memory, info_address, out)
                                                      : multiboot2_parse(memory, info_address, out);
    if (status != BOOT_INFO_OK)
        return status;
    if (out->memmap.count == 0)
        return BOOT_INFO_NO_MEMORY_MAP;
    memmap_normalize(&out->memmap);
    return BOOT_INFO_OK;
}

const char *boot_info_status_name(enum boot_info_status status)
{
    switch (status) {
    case BOOT_INFO_OK:
        return "ok";
    case BOOT_INFO_BAD_MAGIC:
        return "bad-magic";
    case BOOT_INFO_NULL_POINTER:
        return "null-pointer";
    case BOOT_INFO_UNREADABLE:
        return "unreadable";
    case BOOT_INFO_MALFORMED:
        return "malformed";
    case BOOT_INFO_NO_MEMORY_MAP:
        return "no-memory-map";
    }
    return "unknown";
}

const char *boot_info_status_message(enum boot_info_status status)
{
    switch (status) {
    case BOOT_INFO_OK:
        return "boot information parsed";
    case BOOT_INFO_BAD_MAGIC:
        return "not started by a Multiboot loader (bad magic in EAX)";
    case BOOT_INFO_NULL_POINTER:
        return "boot information address is null";
    case BOOT_INFO_UNREADABLE:
        return "boot information lies outside readable memory";
    case BOOT_INFO_MALFORMED:
        return "boot information is malformed (see diagnostics)";
    case BOOT_INFO_NO_MEMORY_MAP:
        return "boot loader gave no memory map and no mem_lower/mem_upper";
    }
    return "unknown boot information status";
}
