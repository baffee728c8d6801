/* Multiboot1 boot information (spec 0.6.96 §3.3), parsed defensively: see hv/multiboot.h. */
#include <string.h>

#include "hv/multiboot1.h"

#include "hv/multiboot_reader.h"

/* ---- Multiboot1: spec 0.6.96 §3.3 "Boot information format" ---- */

#define MB1_FLAG_MEMORY (1u << 0)
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODULES (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER_NAME (1u << 9)

#define MB1_OFFSET_MEM_LOWER 4
#define MB1_OFFSET_MEM_UPPER 8
#define MB1_OFFSET_CMDLINE 16
#define MB1_OFFSET_MODS_COUNT 20
#define MB1_OFFSET_MODS_ADDR 24
#define MB1_OFFSET_MMAP_LENGTH 44
#define MB1_OFFSET_MMAP_ADDR 48
#define MB1_OFFSET_LOADER_NAME 64
#define MB1_INFO_SIZE_WITH_LOADER_NAME 68

#define MB1_MODULE_SIZE 16        /* mod_start, mod_end, string, reserved */
#define MB1_MMAP_ENTRY_MIN_SIZE 20 /* base_addr, length, type; `size` excludes itself */

static void multiboot1_copy_string(const struct physical_memory_access *memory, struct boot_info *out,
                                   const char *what, uint32_t address, char *destination, size_t capacity)
{
    struct diagnostic diagnostic;
    diagnostic_start(&diagnostic, "multiboot1: ");
    text_builder_append(&diagnostic.builder, what);
    text_builder_printf(&diagnostic.builder, " at 0x%llx: ", (unsigned long long)address);
    if (address == 0) {
        /* Physical 0 is the real-mode IVT, never a string the loader made. */
        destination[0] = '\0';
        text_builder_append(&diagnostic.builder, "null pointer, ignored");
        diagnostic_record(out, &diagnostic);
        return;
    }
    enum string_copy_result result = mb_copy_physical_string(memory, address, destination, capacity);
    if (mb_describe_string_problem(&diagnostic, result, destination))
        diagnostic_record(out, &diagnostic);
}

static enum boot_info_status multiboot1_parse_modules(const struct physical_memory_access *memory,
                                                      struct boot_info *out, uint32_t count, uint32_t address)
{
    struct diagnostic diagnostic;
    if (count > BOOT_MODULE_MAX) {
        diagnostic_start(&diagnostic, "multiboot1: mods_count ");
        text_builder_printf(&diagnostic.builder, "%llu, keeping the first %llu",
                            (unsigned long long)count, (unsigned long long)BOOT_MODULE_MAX);
        diagnostic_record(out, &diagnostic);
        count = BOOT_MODULE_MAX;
    }
    for (uint32_t index = 0; index < count; index++) {
        uint64_t module_address = (uint64_t)address + (uint64_t)index * MB1_MODULE_SIZE;
        uint8_t raw[MB1_MODULE_SIZE];
        diagnostic_start(&diagnostic, "multiboot1: module ");
        text_builder_printf(&diagnostic.builder, "%llu at 0x%llx: ",
                            (unsigned long long)index, (unsigned long long)module_address);
        if (!mb_read_physical(memory, module_address, sizeof(raw), raw)) {
            text_builder_append(&diagnostic.builder, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        uint32_t start = mb_load_u32(raw);
        uint32_t end = mb_load_u32(raw + 4);
        if (end < start) {
            text_builder_printf(&diagnostic.builder, "mod_end 0x%llx < mod_start 0x%llx",
                                (unsigned long long)end, (unsigned long long)start);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        struct boot_module *module = &out->modules[out->module_count++];
        module->start = start;
        module->end = end;
        multiboot1_copy_string(memory, out, "module string", mb_load_u32(raw + 8), module->cmdline,
                               sizeof(module->cmdline));
    }
    return BOOT_INFO_OK;
}

static enum boot_info_status multiboot1_parse_mmap(const struct physical_memory_access *memory,
                                                   struct boot_info *out, uint32_t length, uint32_t address)
{
    struct diagnostic diagnostic;
    if (length > MAP_BYTES_MAX) {
        diagnostic_start(&diagnostic, "multiboot1: mmap_length ");
        text_builder_printf(&diagnostic.builder, "%llu > 1048576", (unsigned long long)length);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    uint64_t offset = 0;
    while (offset < length) {
        uint8_t raw[4 + MB1_MMAP_ENTRY_MIN_SIZE];
        diagnostic_start(&diagnostic, "multiboot1: mmap entry at offset ");
        text_builder_printf(&diagnostic.builder, "0x%llx: ", (unsigned long long)offset);
        if (length - offset < 4) {
            text_builder_printf(&diagnostic.builder, "size field runs past mmap_length %llu",
                                (unsigned long long)length);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (!mb_read_physical(memory, address + offset, 4, raw)) {
            text_builder_append(&diagnostic.builder, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        uint32_t size = mb_load_u32(raw);
        if (size < MB1_MMAP_ENTRY_MIN_SIZE) {
            text_builder_printf(&diagnostic.builder, "size %llu < 20", (unsigned long long)size);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (size > length - offset - 4) {
            text_builder_printf(&diagnostic.builder, "size %llu runs past mmap_length %llu",
                                (unsigned long long)size, (unsigned long long)length);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (!mb_read_physical(memory, address + offset, sizeof(raw), raw)) {
            text_builder_append(&diagnostic.builder, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        memmap_add(&out->memmap, mb_load_u64(raw + 4), mb_load_u64(raw + 12), mb_load_u32(raw + 20));
        offset += 4 + (uint64_t)size; /* `size` does not count itself */
    }
    return BOOT_INFO_OK;
}

enum boot_info_status multiboot1_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                       struct boot_info *out)
{
    struct diagnostic diagnostic;
    uint8_t info[MB1_INFO_SIZE_WITH_LOADER_NAME];
    uint32_t flags;

    /* Read only as much of the fixed part as the flags say is valid: a
     * loader that sets few flags may put the block at the end of memory. */
    size_t needed = 4;
    if (!mb_read_physical(memory, info_address, 4, info))
        goto unreadable;
    flags = mb_load_u32(info);
    if (flags & MB1_FLAG_MEMORY)
        needed = MB1_OFFSET_MEM_UPPER + 4;
    if (flags & MB1_FLAG_CMDLINE)
        needed = MB1_OFFSET_CMDLINE + 4;
    if (flags & MB1_FLAG_MODULES)
        needed = MB1_OFFSET_MODS_ADDR + 4;
    if (flags & MB1_FLAG_MMAP)
        needed = MB1_OFFSET_MMAP_ADDR + 4;
    if (flags & MB1_FLAG_LOADER_NAME)
        needed = MB1_OFFSET_LOADER_NAME + 4;
    if (!mb_read_physical(memory, info_address, needed, info))
        goto unreadable;

    if (flags & MB1_FLAG_CMDLINE)
        multiboot1_copy_string(memory, out, "cmdline", mb_load_u32(info + MB1_OFFSET_CMDLINE), out->cmdline,
                               sizeof(out->cmdline));
    if (flags & MB1_FLAG_LOADER_NAME)
        multiboot1_copy_string(memory, out, "boot_loader_name", mb_load_u32(info + MB1_OFFSET_LOADER_NAME),
                               out->loader_name, sizeof(out->loader_name));
    if (flags & MB1_FLAG_MODULES) {
        enum boot_info_status status = multiboot1_parse_modules(
            memory, out, mb_load_u32(info + MB1_OFFSET_MODS_COUNT), mb_load_u32(info + MB1_OFFSET_MODS_ADDR));
        if (status != BOOT_INFO_OK)
            return status;
    }
    if (flags & MB1_FLAG_MMAP) {
        enum boot_info_status status = multiboot1_parse_mmap(
            memory, out, mb_load_u32(info + MB1_OFFSET_MMAP_LENGTH), mb_load_u32(info + MB1_OFFSET_MMAP_ADDR));
        if (status != BOOT_INFO_OK)
            return status;
    }
    if (out->memmap.count == 0 && (flags & MB1_FLAG_MEMORY)) {
        if (flags & MB1_FLAG_MMAP) {
            diagnostic_start(&diagnostic, "multiboot1: mmap has no usable entry, using mem_lower/mem_upper");
            diagnostic_record(out, &diagnostic);
        }
        mb_add_fallback_memory(out, mb_load_u32(info + MB1_OFFSET_MEM_LOWER), mb_load_u32(info + MB1_OFFSET_MEM_UPPER));
    }
    return BOOT_INFO_OK;

unreadable:
    diagnostic_start(&diagnostic, "multiboot1: info at ");
    text_builder_printf(&diagnostic.builder, "0x%llx: unreadable", (unsigned long long)info_address);
    diagnostic_record(out, &diagnostic);
    return BOOT_INFO_UNREADABLE;
}
