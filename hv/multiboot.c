/*
 * Multiboot1 (spec 0.6.96) and Multiboot2 (spec 2.0) boot information,
 * parsed defensively. See multiboot.h for the contract.
 *
 * Fields are read with memcpy: the block is only as aligned as the loader
 * made it, and x86 is little-endian like both specs.
 */
#include "hv/multiboot.h"

#include <string.h>
#include "lib/format.h"

#define ONE_MIB 0x100000ull

/* ---- diagnostics: fixed-size one-liners, no printf in a freestanding build ---- */

struct diagnostic {
    char text[BOOT_DIAGNOSTIC_LENGTH];
    size_t length;
};

static void diagnostic_append_text(struct diagnostic *diagnostic, const char *text)
{
    while (*text != '\0' && diagnostic->length + 1 < sizeof(diagnostic->text))
        diagnostic->text[diagnostic->length++] = *text++;
    diagnostic->text[diagnostic->length] = '\0';
}

static void diagnostic_append_number(struct diagnostic *diagnostic, uint64_t value, unsigned base)
{
    char text[24];
    format_string(text, sizeof text, base == 16 ? "0x%llx" : "%llu", (unsigned long long)value);
    diagnostic_append_text(diagnostic, text);
}

static void diagnostic_append_decimal(struct diagnostic *diagnostic, uint64_t value)
{
    diagnostic_append_number(diagnostic, value, 10);
}

static void diagnostic_append_hex(struct diagnostic *diagnostic, uint64_t value)
{
    diagnostic_append_number(diagnostic, value, 16);
}

static void diagnostic_start(struct diagnostic *diagnostic, const char *prefix)
{
    diagnostic->length = 0;
    diagnostic->text[0] = '\0';
    diagnostic_append_text(diagnostic, prefix);
}

/* "multiboot2: tag 6 at offset 0x48: " */
static void diagnostic_start_tag(struct diagnostic *diagnostic, uint32_t type, uint64_t offset)
{
    diagnostic_start(diagnostic, "multiboot2: tag ");
    diagnostic_append_decimal(diagnostic, type);
    diagnostic_append_text(diagnostic, " at offset ");
    diagnostic_append_hex(diagnostic, offset);
    diagnostic_append_text(diagnostic, ": ");
}

static void diagnostic_record(struct boot_info *out, const struct diagnostic *diagnostic)
{
    if (out->diagnostic_count >= BOOT_DIAGNOSTIC_MAX) {
        out->diagnostics_dropped++;
        return;
    }
    memcpy(out->diagnostics[out->diagnostic_count++], diagnostic->text, diagnostic->length + 1);
}

/* ---- reading physical memory ---- */

static uint32_t load_u32(const uint8_t *bytes)
{
    uint32_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

static uint64_t load_u64(const uint8_t *bytes)
{
    uint64_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

static const void *map_physical(const struct physical_memory_access *memory, uint64_t address, size_t length)
{
    if (length > 0 && address > UINT64_MAX - (length - 1))
        return NULL;
    return memory->map(memory->context, address, length);
}

static bool read_physical(const struct physical_memory_access *memory, uint64_t address, size_t length,
                          void *destination)
{
    const void *source = map_physical(memory, address, length);
    if (source == NULL)
        return false;
    memcpy(destination, source, length);
    return true;
}

enum string_copy_result { STRING_COPIED, STRING_TRUNCATED, STRING_UNTERMINATED, STRING_UNREADABLE };

/* Copy a string that lies inside an already-mapped block of `source_length`
 * bytes (a Multiboot2 tag). `destination` is always NUL-terminated. */
static enum string_copy_result copy_bounded_string(const uint8_t *source, size_t source_length,
                                                   char *destination, size_t capacity)
{
    size_t length = 0;
    while (length < source_length && source[length] != '\0')
        length++;
    enum string_copy_result result = length < source_length ? STRING_COPIED : STRING_UNTERMINATED;
    if (length > capacity - 1) {
        length = capacity - 1;
        result = STRING_TRUNCATED;
    }
    memcpy(destination, source, length);
    destination[length] = '\0';
    return result;
}

/* Copy a string the loader points to by physical address (Multiboot1),
 * byte by byte so that a string running into unreachable memory is caught
 * where it happens. `destination` is always NUL-terminated. */
static enum string_copy_result copy_physical_string(const struct physical_memory_access *memory,
                                                    uint64_t address, char *destination, size_t capacity)
{
    size_t length = 0;
    for (;;) {
        if (address > UINT64_MAX - length) {
            destination[length] = '\0';
            return STRING_UNREADABLE;
        }
        const char *byte = map_physical(memory, address + length, 1);
        if (byte == NULL) {
            destination[length] = '\0';
            return STRING_UNREADABLE;
        }
        if (*byte == '\0') {
            destination[length] = '\0';
            return STRING_COPIED;
        }
        if (length == capacity - 1) {
            destination[length] = '\0';
            return STRING_TRUNCATED;
        }
        destination[length++] = *byte;
    }
}

/* ", truncated to 1023 bytes" and friends, appended to a diagnostic that
 * already says which string. Returns false if there is nothing to report. */
static bool describe_string_problem(struct diagnostic *diagnostic, enum string_copy_result result,
                                    const char *copied)
{
    switch (result) {
    case STRING_COPIED:
        return false;
    case STRING_TRUNCATED:
        diagnostic_append_text(diagnostic, "truncated to ");
        break;
    case STRING_UNTERMINATED:
        diagnostic_append_text(diagnostic, "not NUL-terminated, kept ");
        break;
    case STRING_UNREADABLE:
        diagnostic_append_text(diagnostic, "unreadable after ");
        break;
    }
    diagnostic_append_decimal(diagnostic, strlen(copied));
    diagnostic_append_text(diagnostic, " bytes");
    return true;
}

static void add_fallback_memory(struct boot_info *out, uint32_t mem_lower_kib, uint32_t mem_upper_kib)
{
    /* mem_lower starts at 0, mem_upper at 1 MiB, both in KiB
     * (Multiboot 0.6.96 §3.3, Multiboot2 §3.6.8 basic memory information). */
    if (mem_lower_kib != 0)
        memmap_add(&out->memmap, 0, (uint64_t)mem_lower_kib * 1024, MEMMAP_RAM);
    if (mem_upper_kib != 0)
        memmap_add(&out->memmap, ONE_MIB, (uint64_t)mem_upper_kib * 1024, MEMMAP_RAM);
    out->memmap_from_fallback = true;
}

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
#define MAP_BYTES_MAX ONE_MIB      /* sanity bound on mmap_length and MB2 total_size */

static void multiboot1_copy_string(const struct physical_memory_access *memory, struct boot_info *out,
                                   const char *what, uint32_t address, char *destination, size_t capacity)
{
    struct diagnostic diagnostic;
    diagnostic_start(&diagnostic, "multiboot1: ");
    diagnostic_append_text(&diagnostic, what);
    diagnostic_append_text(&diagnostic, " at ");
    diagnostic_append_hex(&diagnostic, address);
    diagnostic_append_text(&diagnostic, ": ");
    if (address == 0) {
        /* Physical 0 is the real-mode IVT, never a string the loader made. */
        destination[0] = '\0';
        diagnostic_append_text(&diagnostic, "null pointer, ignored");
        diagnostic_record(out, &diagnostic);
        return;
    }
    enum string_copy_result result = copy_physical_string(memory, address, destination, capacity);
    if (describe_string_problem(&diagnostic, result, destination))
        diagnostic_record(out, &diagnostic);
}

static enum boot_info_status multiboot1_parse_modules(const struct physical_memory_access *memory,
                                                      struct boot_info *out, uint32_t count, uint32_t address)
{
    struct diagnostic diagnostic;
    if (count > BOOT_MODULE_MAX) {
        diagnostic_start(&diagnostic, "multiboot1: mods_count ");
        diagnostic_append_decimal(&diagnostic, count);
        diagnostic_append_text(&diagnostic, ", keeping the first ");
        diagnostic_append_decimal(&diagnostic, BOOT_MODULE_MAX);
        diagnostic_record(out, &diagnostic);
        count = BOOT_MODULE_MAX;
    }
    for (uint32_t index = 0; index < count; index++) {
        uint64_t module_address = (uint64_t)address + (uint64_t)index * MB1_MODULE_SIZE;
        uint8_t raw[MB1_MODULE_SIZE];
        diagnostic_start(&diagnostic, "multiboot1: module ");
        diagnostic_append_decimal(&diagnostic, index);
        diagnostic_append_text(&diagnostic, " at ");
        diagnostic_append_hex(&diagnostic, module_address);
        diagnostic_append_text(&diagnostic, ": ");
        if (!read_physical(memory, module_address, sizeof(raw), raw)) {
            diagnostic_append_text(&diagnostic, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        uint32_t start = load_u32(raw);
        uint32_t end = load_u32(raw + 4);
        if (end < start) {
            diagnostic_append_text(&diagnostic, "mod_end ");
            diagnostic_append_hex(&diagnostic, end);
            diagnostic_append_text(&diagnostic, " < mod_start ");
            diagnostic_append_hex(&diagnostic, start);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        struct boot_module *module = &out->modules[out->module_count++];
        module->start = start;
        module->end = end;
        multiboot1_copy_string(memory, out, "module string", load_u32(raw + 8), module->cmdline,
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
        diagnostic_append_decimal(&diagnostic, length);
        diagnostic_append_text(&diagnostic, " > 1048576");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    uint64_t offset = 0;
    while (offset < length) {
        uint8_t raw[4 + MB1_MMAP_ENTRY_MIN_SIZE];
        diagnostic_start(&diagnostic, "multiboot1: mmap entry at offset ");
        diagnostic_append_hex(&diagnostic, offset);
        diagnostic_append_text(&diagnostic, ": ");
        if (length - offset < 4) {
            diagnostic_append_text(&diagnostic, "size field runs past mmap_length ");
            diagnostic_append_decimal(&diagnostic, length);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (!read_physical(memory, address + offset, 4, raw)) {
            diagnostic_append_text(&diagnostic, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        uint32_t size = load_u32(raw);
        if (size < MB1_MMAP_ENTRY_MIN_SIZE) {
            diagnostic_append_text(&diagnostic, "size ");
            diagnostic_append_decimal(&diagnostic, size);
            diagnostic_append_text(&diagnostic, " < 20");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (size > length - offset - 4) {
            diagnostic_append_text(&diagnostic, "size ");
            diagnostic_append_decimal(&diagnostic, size);
            diagnostic_append_text(&diagnostic, " runs past mmap_length ");
            diagnostic_append_decimal(&diagnostic, length);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (!read_physical(memory, address + offset, sizeof(raw), raw)) {
            diagnostic_append_text(&diagnostic, "unreadable");
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_UNREADABLE;
        }
        memmap_add(&out->memmap, load_u64(raw + 4), load_u64(raw + 12), load_u32(raw + 20));
        offset += 4 + (uint64_t)size; /* `size` does not count itself */
    }
    return BOOT_INFO_OK;
}

static enum boot_info_status multiboot1_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                              struct boot_info *out)
{
    struct diagnostic diagnostic;
    uint8_t info[MB1_INFO_SIZE_WITH_LOADER_NAME];
    uint32_t flags;

    /* Read only as much of the fixed part as the flags say is valid: a
     * loader that sets few flags may put the block at the end of memory. */
    size_t needed = 4;
    if (!read_physical(memory, info_address, 4, info))
        goto unreadable;
    flags = load_u32(info);
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
    if (!read_physical(memory, info_address, needed, info))
        goto unreadable;

    if (flags & MB1_FLAG_CMDLINE)
        multiboot1_copy_string(memory, out, "cmdline", load_u32(info + MB1_OFFSET_CMDLINE), out->cmdline,
                               sizeof(out->cmdline));
    if (flags & MB1_FLAG_LOADER_NAME)
        multiboot1_copy_string(memory, out, "boot_loader_name", load_u32(info + MB1_OFFSET_LOADER_NAME),
                               out->loader_name, sizeof(out->loader_name));
    if (flags & MB1_FLAG_MODULES) {
        enum boot_info_status status = multiboot1_parse_modules(
            memory, out, load_u32(info + MB1_OFFSET_MODS_COUNT), load_u32(info + MB1_OFFSET_MODS_ADDR));
        if (status != BOOT_INFO_OK)
            return status;
    }
    if (flags & MB1_FLAG_MMAP) {
        enum boot_info_status status = multiboot1_parse_mmap(
            memory, out, load_u32(info + MB1_OFFSET_MMAP_LENGTH), load_u32(info + MB1_OFFSET_MMAP_ADDR));
        if (status != BOOT_INFO_OK)
            return status;
    }
    if (out->memmap.count == 0 && (flags & MB1_FLAG_MEMORY)) {
        if (flags & MB1_FLAG_MMAP) {
            diagnostic_start(&diagnostic, "multiboot1: mmap has no usable entry, using mem_lower/mem_upper");
            diagnostic_record(out, &diagnostic);
        }
        add_fallback_memory(out, load_u32(info + MB1_OFFSET_MEM_LOWER), load_u32(info + MB1_OFFSET_MEM_UPPER));
    }
    return BOOT_INFO_OK;

unreadable:
    diagnostic_start(&diagnostic, "multiboot1: info at ");
    diagnostic_append_hex(&diagnostic, info_address);
    diagnostic_append_text(&diagnostic, ": unreadable");
    diagnostic_record(out, &diagnostic);
    return BOOT_INFO_UNREADABLE;
}

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
    diagnostic_append_text(&diagnostic, "size ");
    diagnostic_append_decimal(&diagnostic, size);
    diagnostic_append_text(&diagnostic, " < ");
    diagnostic_append_decimal(&diagnostic, minimum);
    diagnostic_record(out, &diagnostic);
    return BOOT_INFO_MALFORMED;
}

static void multiboot2_copy_string(struct boot_info *out, uint32_t type, uint64_t offset, const uint8_t *source,
                                   size_t source_length, char *destination, size_t capacity)
{
    struct diagnostic diagnostic;
    diagnostic_start_tag(&diagnostic, type, offset);
    enum string_copy_result result = copy_bounded_string(source, source_length, destination, capacity);
    if (describe_string_problem(&diagnostic, result, destination))
        diagnostic_record(out, &diagnostic);
}

static enum boot_info_status multiboot2_parse_mmap(struct boot_info *out, const uint8_t *tag, uint64_t offset,
                                                   uint32_t size)
{
    struct diagnostic diagnostic;
    if (size < MB2_MMAP_HEADER_SIZE)
        return multiboot2_tag_too_small(out, MB2_TAG_MMAP, offset, size, MB2_MMAP_HEADER_SIZE);
    uint32_t entry_size = load_u32(tag + 8);
    uint32_t entry_version = load_u32(tag + 12);
    diagnostic_start_tag(&diagnostic, MB2_TAG_MMAP, offset);
    if (entry_size < MB2_MMAP_ENTRY_MIN_SIZE || entry_size % 8 != 0) {
        diagnostic_append_text(&diagnostic, "entry_size ");
        diagnostic_append_decimal(&diagnostic, entry_size);
        diagnostic_append_text(&diagnostic, entry_size < MB2_MMAP_ENTRY_MIN_SIZE ? " < 24" : " not a multiple of 8");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    if (entry_version != 0) {
        /* §3.6.8: later versions stay backward compatible, so read on. */
        diagnostic_append_text(&diagnostic, "entry_version ");
        diagnostic_append_decimal(&diagnostic, entry_version);
        diagnostic_append_text(&diagnostic, " (expected 0), reading as version 0");
        diagnostic_record(out, &diagnostic);
    }
    uint32_t entries_bytes = size - MB2_MMAP_HEADER_SIZE;
    if (entries_bytes % entry_size != 0) {
        diagnostic_start_tag(&diagnostic, MB2_TAG_MMAP, offset);
        diagnostic_append_text(&diagnostic, "ignoring ");
        diagnostic_append_decimal(&diagnostic, entries_bytes % entry_size);
        diagnostic_append_text(&diagnostic, " trailing bytes");
        diagnostic_record(out, &diagnostic);
    }
    for (uint32_t entry = 0; entry < entries_bytes / entry_size; entry++) {
        const uint8_t *raw = tag + MB2_MMAP_HEADER_SIZE + (size_t)entry * entry_size;
        memmap_add(&out->memmap, load_u64(raw), load_u64(raw + 8), load_u32(raw + 16));
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
        diagnostic_append_text(&diagnostic, "size ");
        diagnostic_append_decimal(&diagnostic, size);
        diagnostic_append_text(&diagnostic, " too small for an RSDP, ignored");
        diagnostic_record(out, &diagnostic);
        return;
    }
    if (memcmp(rsdp, "RSD PTR ", 8) != 0) {
        diagnostic_append_text(&diagnostic, "no \"RSD PTR \" signature, ignored");
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
        uint32_t start = load_u32(tag + 8);
        uint32_t end = load_u32(tag + 12);
        diagnostic_start_tag(&diagnostic, type, offset);
        if (end < start) {
            diagnostic_append_text(&diagnostic, "mod_end ");
            diagnostic_append_hex(&diagnostic, end);
            diagnostic_append_text(&diagnostic, " < mod_start ");
            diagnostic_append_hex(&diagnostic, start);
            diagnostic_record(out, &diagnostic);
            return BOOT_INFO_MALFORMED;
        }
        if (++state->modules_seen > BOOT_MODULE_MAX) {
            if (state->modules_seen == BOOT_MODULE_MAX + 1) {
                diagnostic_append_text(&diagnostic, "more than ");
                diagnostic_append_decimal(&diagnostic, BOOT_MODULE_MAX);
                diagnostic_append_text(&diagnostic, " modules, ignoring the rest");
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
        state->mem_lower_kib = load_u32(tag + 8);
        state->mem_upper_kib = load_u32(tag + 12);
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

static enum boot_info_status multiboot2_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                              struct boot_info *out)
{
    struct diagnostic diagnostic;
    uint8_t header[MB2_HEADER_SIZE];
    struct multiboot2_state state;
    memset(&state, 0, sizeof(state));
    state.info_address = info_address;

    if (!read_physical(memory, info_address, sizeof(header), header)) {
        diagnostic_start(&diagnostic, "multiboot2: info header at ");
        diagnostic_append_hex(&diagnostic, info_address);
        diagnostic_append_text(&diagnostic, ": unreadable");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_UNREADABLE;
    }
    uint32_t total_size = load_u32(header);
    if (total_size < MB2_MIN_TOTAL_SIZE || total_size > MAP_BYTES_MAX) {
        diagnostic_start(&diagnostic, "multiboot2: total_size ");
        diagnostic_append_decimal(&diagnostic, total_size);
        diagnostic_append_text(&diagnostic, " outside 16..1048576");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }
    if (info_address % 8 != 0) {
        /* §3.6 promises 8-byte alignment; offsets below stay relative to
         * the start, so a misaligned block still parses. */
        diagnostic_start(&diagnostic, "multiboot2: info at ");
        diagnostic_append_hex(&diagnostic, info_address);
        diagnostic_append_text(&diagnostic, " is not 8-byte aligned");
        diagnostic_record(out, &diagnostic);
    }
    state.block = map_physical(memory, info_address, total_size);
    if (state.block == NULL) {
        diagnostic_start(&diagnostic, "multiboot2: info at ");
        diagnostic_append_hex(&diagnostic, info_address);
        diagnostic_append_text(&diagnostic, ": total_size ");
        diagnostic_append_decimal(&diagnostic, total_size);
        diagnostic_append_text(&diagnostic, " unreadable");
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_UNREADABLE;
    }

    uint64_t offset = MB2_HEADER_SIZE;
    bool end_found = false;
    while (total_size - offset >= MB2_TAG_HEADER_SIZE) {
        uint32_t type = load_u32(state.block + offset);
        uint32_t size = load_u32(state.block + offset + 4);
        if (size < MB2_TAG_HEADER_SIZE)
            return multiboot2_tag_too_small(out, type, offset, size, MB2_TAG_HEADER_SIZE);
        if (size > total_size - offset) {
            diagnostic_start_tag(&diagnostic, type, offset);
            diagnostic_append_text(&diagnostic, "size ");
            diagnostic_append_decimal(&diagnostic, size);
            diagnostic_append_text(&diagnostic, " runs past total_size ");
            diagnostic_append_decimal(&diagnostic, total_size);
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
        diagnostic_append_decimal(&diagnostic, total_size);
        diagnostic_record(out, &diagnostic);
        return BOOT_INFO_MALFORMED;
    }

    if (out->memmap.count == 0 && state.have_basic_meminfo) {
        if (state.have_mmap) {
            diagnostic_start(&diagnostic, "multiboot2: mmap has no usable entry, using basic meminfo");
            diagnostic_record(out, &diagnostic);
        }
        add_fallback_memory(out, state.mem_lower_kib, state.mem_upper_kib);
    }
    return BOOT_INFO_OK;
}

/* ---- entry point ---- */

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
        diagnostic_append_hex(&diagnostic, magic);
        diagnostic_append_text(&diagnostic, " is neither 0x2badb002 nor 0x36d76289");
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
