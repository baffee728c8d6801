/* Multiboot2 boot information (spec 2.0 §3.6), parsed defensively: see hv/multiboot.h. */
#include <string.h>

#include "hv/multiboot2.h"

#include "hv/multiboot_reader.h"

/* ---- Multiboot2: spec 2.0 §3.6 "Boot information format" ---- */

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB2_HEADER_SIZE 8   /* total_size, reserved */
#define MB2_TAG_HEADER_SIZE 8 /* type, size */
#define MB2_MIN_TOTAL_SIZE 16 /* the header plus the end tag */
#define MB2_MODULE_HEADER_SIZE 16 /* type, size, mod_start, mod_end */
#define MB2_BASIC_MEMINFO_SIZE 16
#define MB2_MMAP_HEADER_SIZE 16 /* type, size, entry_size, entry_version */
#define MB2_MMAP_ENTRY_MIN_SIZE 24 /* base_addr, length, type, reserved */
#define ACPI_RSDP_V1_SIZE 20
#define ACPI_RSDP_V2_SIZE 36

struct multiboot2_state {
    const uint8_t *block;
    uint64_t info_address;
    bool have_mmap;
    bool have_basic_meminfo;
    bool rsdp_from_new_tag;
    unsigned modules_seen;
    uint32_t mem_lower_kib, mem_upper_kib;
};

/* A tag shorter than its fixed fields: structurally broken. */
static enum boot_info_status multiboot2_tag_too_small(struct boot_info *out, uint32_t type, uint64_t offset,
                                                      uint32_t size, uint32_t minimum)
{
    struct diagnostic diagnostic;
    diagnostic_start_tag(&diagnostic, type, offset);
    text_builder_printf(&diagnostic.builder, "size %llu < %llu", (unsigned long long)size, (unsigned long long)minimum);
    diagnostic_record(out, &diagnostic);
    return BOOT_INFO_MALFORMED;
}

static void multiboot2_copy_string(struct boot_info *out, uint32_t type, uint64_t offset, const uint8_t *source,
                                   size_t source_length, char *destination, size_t capacity)
{
    struct diagnostic diagnostic;
    diagnostic_start_tag(&diagnostic, type, offset);
    enum string_copy_result result = mb_copy_bounded_string(source, source_length, destination, capacity);
    if (mb_describe_string_problem(&diagnostic, result, destination))
        diagnostic_record(out, &diagnostic);
}

static enum boot_info_status multiboot2_parse_mmap(struct boot_info *out, const uint8_t *tag, uint64_t offset,
                                                   uint32_t size)
{
    struct diagnostic diagnostic;
    if (size < MB2_MMAP_HEADER_SIZE)
        return multiboot2_tag_too_small(out, MB2_TAG_MMAP, offset, size, MB2_MMAP_HEADER_SIZE);
    uint32_t entry_size = mb_load_u32(tag + 8);
    uint32_t entry_version = mb_load_u32(tag + 12);
    diagnostic_start_tag(&diagnostic, MB2_TAG_MMAP, offset);
    if (entry_size < MB2_MMAP_ENTRY_MIN_SIZE || entry_size % 8 != 0) {
        text_builder_printf(&diagnostic.builder, "entry_size %llu", (unsigned long long)entry_size);
        text_builder_append(&diagnostic.builder, entry_size < MB2_MMAP_ENTRY_MIN_SIZE ? " < 24" : " not a multiple of 8");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    if (entry_version != 0) {
        /* §3.6.8: later versions stay backward compatible, so read on. */
        text_builder_printf(&diagnostic.builder, "entry_version %llu (expected 0), reading as version 0",
                            (unsigned long long)entry_version);
        diagnostic_record(out, &diagnostic);
    }
    uint32_t entries_bytes = size - MB2_MMAP_HEADER_SIZE;
    if (entries_bytes % entry_size != 0) {
        diagnostic_start_tag(&diagnostic, MB2_TAG_MMAP, offset);
        text_builder_printf(&diagnostic.builder, "ignoring %llu trailing bytes",
                            (unsigned long long)(entries_bytes % entry_size));
        diagnostic_record(out, &diagnostic);
    }
    for (uint32_t entry = 0; entry < entries_bytes / entry_size; entry++) {
        const uint8_t *raw = tag + MB2_MMAP_HEADER_SIZE + (size_t)entry * entry_size;
        memmap_add(&out->memmap, mb_load_u64(raw), mb_load_u64(raw + 8), mb_load_u32(raw + 16));
    }
    return BOOT_INFO_OK;
}

static void multiboot2_parse_rsdp(struct boot_info *out, struct multiboot2_state *state, uint32_t type,
                                  uint64_t offset, uint32_t size)
{
    struct diagnostic diagnostic;
    uint32_t minimum = MB2_TAG_HEADER_SIZE + (type == MB2_TAG_ACPI_NEW ? ACPI_RSDP_V2_SIZE : ACPI_RSDP_V1_SIZE);
    const uint8_t *rsdp = state->block + offset + MB2_TAG_HEADER_SIZE;
    diagnostic_start_tag(&diagnostic, type, offset);
    if (size < minimum) {
        text_builder_printf(&diagnostic.builder, "size %llu too small for an RSDP, ignored", (unsigned long long)size);
        diagnostic_record(out, &diagnostic);
        return;
    }
    if (memcmp(rsdp, "RSD PTR ", 8) != 0) {
        text_builder_append(&diagnostic.builder, "no \"RSD PTR \" signature, ignored");
        diagnostic_record(out, &diagnostic);
        return;
    }
    /* Prefer the ACPI 2.0+ copy (XSDT) whichever order the tags come in. */
    if (type == MB2_TAG_ACPI_OLD && state->rsdp_from_new_tag)
        return;
    out->rsdp_address = state->info_address + offset + MB2_TAG_HEADER_SIZE;
    state->rsdp_from_new_tag = type == MB2_TAG_ACPI_NEW;
}

static enum boot_info_status multiboot2_parse_tag(struct boot_info *out, struct multiboot2_state *state,
                                                  uint32_t type, uint64_t offset, uint32_t size)
{
    const uint8_t *tag = state->block + offset;
    struct diagnostic diagnostic;

    switch (type) {
    case MB2_TAG_CMDLINE:
        multiboot2_copy_string(out, type, offset, tag + MB2_TAG_HEADER_SIZE, size - MB2_TAG_HEADER_SIZE,
                               out->cmdline, sizeof(out->cmdline));
        return BOOT_INFO_OK;
    case MB2_TAG_LOADER_NAME:
        multiboot2_copy_string(out, type, offset, tag + MB2_TAG_HEADER_SIZE, size - MB2_TAG_HEADER_SIZE,
                               out->loader_name, sizeof(out->loader_name));
        return BOOT_INFO_OK;
    case MB2_TAG_MODULE: {
        if (size < MB2_MODULE_HEADER_SIZE)
            return multiboot2_tag_too_small(out, type, offset, size, MB2_MODULE_HEADER_SIZE);
        uint32_t start = mb_load_u32(tag + 8);
        uint32_t end = mb_load_u32(tag + 12);
        diagnostic_start_tag(&diagnostic, type, offset);
        if (end < start) {
            text_builder_printf(&diagnostic.builder, "mod_end 0x%llx < mod_start 0x%llx",
                                (unsigned long long)end, (unsigned long long)start);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (++state->modules_seen > BOOT_MODULE_MAX) {
            if (state->modules_seen == BOOT_MODULE_MAX + 1) {
                text_builder_printf(&diagnostic.builder, "more than %llu modules, ignoring the rest",
                                    (unsigned long long)BOOT_MODULE_MAX);
                diagnostic_record(out, &diagnostic);
            }
            return BOOT_INFO_OK;
        }
        struct boot_module *module = &out->modules[out->module_count++];
        module->start = start;
        module->end = end;
        multiboot2_copy_string(out, type, offset, tag + MB2_MODULE_HEADER_SIZE, size - MB2_MODULE_HEADER_SIZE,
                               module->cmdline, sizeof(module->cmdline));
        return BOOT_INFO_OK;
    }
    case MB2_TAG_BASIC_MEMINFO:
        if (size < MB2_BASIC_MEMINFO_SIZE)
            return multiboot2_tag_too_small(out, type, offset, size, MB2_BASIC_MEMINFO_SIZE);
        state->have_basic_meminfo = true;
        state->mem_lower_kib = mb_load_u32(tag + 8);
        state->mem_upper_kib = mb_load_u32(tag + 12);
        return BOOT_INFO_OK;
    case MB2_TAG_MMAP:
        state->have_mmap = true;
        return multiboot2_parse_mmap(out, tag, offset, size);
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        multiboot2_parse_rsdp(out, state, type, offset, size);
        return BOOT_INFO_OK;
    default:
        return BOOT_INFO_OK; /* §3.6: unknown tags must be ignored */
    }
}

enum boot_info_status multiboot2_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                       struct boot_info *out)
{
    struct diagnostic diagnostic;
    uint8_t header[MB2_HEADER_SIZE];
    struct multiboot2_state state;
    memset(&state, 0, sizeof(state));
    state.info_address = info_address;

    if (!mb_read_physical(memory, info_address, sizeof(header), header)) {
        diagnostic_start(&diagnostic, "multiboot2: info header at ");
        text_builder_printf(&diagnostic.builder, "0x%llx: unreadable", (unsigned long long)info_address);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_UNREADABLE;
    }
    uint32_t total_size = mb_load_u32(header);
    if (total_size < MB2_MIN_TOTAL_SIZE || total_size > MAP_BYTES_MAX) {
        diagnostic_start(&diagnostic, "multiboot2: total_size ");
        text_builder_printf(&diagnostic.builder, "%llu outside 16..1048576", (unsigned long long)total_size);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    if (info_address % 8 != 0) {
        /* §3.6 promises 8-byte alignment; offsets below stay relative to
         * the start, so a misaligned block still parses. */
        diagnostic_start(&diagnostic, "multiboot2: info at ");
        text_builder_printf(&diagnostic.builder, "0x%llx is not 8-byte aligned", (unsigned long long)info_address);
        diagnostic_record(out, &diagnostic);
    }
    state.block = mb_map_physical(memory, info_address, total_size);
    if (state.block == NULL) {
        diagnostic_start(&diagnostic, "multiboot2: info at ");
        text_builder_printf(&diagnostic.builder, "0x%llx: total_size %llu unreadable",
                            (unsigned long long)info_address, (unsigned long long)total_size);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_UNREADABLE;
    }

    uint64_t offset = MB2_HEADER_SIZE;
    bool end_found = false;
    while (total_size - offset >= MB2_TAG_HEADER_SIZE) {
        uint32_t type = mb_load_u32(state.block + offset);
        uint32_t size = mb_load_u32(state.block + offset + 4);
        if (size < MB2_TAG_HEADER_SIZE)
            return multiboot2_tag_too_small(out, type, offset, size, MB2_TAG_HEADER_SIZE);
        if (size > total_size - offset) {
            diagnostic_start_tag(&diagnostic, type, offset);
            text_builder_printf(&diagnostic.builder, "size %llu runs past total_size %llu",
                                (unsigned long long)size, (unsigned long long)total_size);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (type == MB2_TAG_END) {
            end_found = true;
            break;
        }
        enum boot_info_status status = multiboot2_parse_tag(out, &state, type, offset, size);
        if (status != BOOT_INFO_OK)
            return status;
        offset += ((uint64_t)size + 7) & ~(uint64_t)7; /* §3.6: tags start 8-byte aligned */
        if (offset > total_size)
            break;
    }
    if (!end_found) {
        diagnostic_start(&diagnostic, "multiboot2: no end tag within total_size ");
        text_builder_printf(&diagnostic.builder, "%llu", (unsigned long long)total_size);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }

    if (out->memmap.count == 0 && state.have_basic_meminfo) {
        if (state.have_mmap) {
            diagnostic_start(&diagnostic, "multiboot2: mmap has no usable entry, using basic meminfo");
            diagnostic_record(out, &diagnostic);
        }
        mb_add_fallback_memory(out, state.mem_lower_kib, state.mem_upper_kib);
    }
    return BOOT_INFO_OK;
}
