/*
 * What both Multiboot parsers (multiboot1.c, multiboot2.c) share: one-line
 * diagnostics and defensive reads of physical memory and strings. Fields are
 * read with memcpy: the block is only as aligned as the loader made it, and
 * x86 is little-endian like both specs.
 */
#include "hv/multiboot_reader.h"

#include <string.h>

#include "lib/format.h"

/* ---- diagnostics: fixed-size one-liners (lib/text_builder.h) ---- */

void diagnostic_start(struct diagnostic *diagnostic, const char *prefix)
{
    text_builder_start(&diagnostic->builder, diagnostic->text, sizeof diagnostic->text);
    text_builder_append(&diagnostic->builder, prefix);
}

/* "multiboot2: tag 6 at offset 0x48: " */
void diagnostic_start_tag(struct diagnostic *diagnostic, uint32_t type, uint64_t offset)
{
    diagnostic_start(diagnostic, "multiboot2: tag ");
    text_builder_printf(&diagnostic->builder, "%lu at offset 0x%llx: ", (unsigned long)type, (unsigned long long)offset);
}

void diagnostic_record(struct boot_info *out, const struct diagnostic *diagnostic)
{
    if (out->diagnostic_count >= BOOT_DIAGNOSTIC_MAX) {
        out->diagnostics_dropped++;
        return;
    }
    memcpy(out->diagnostics[out->diagnostic_count++], diagnostic->text, diagnostic->builder.length + 1);
}

/* ---- reading physical memory ---- */

uint32_t mb_load_u32(const uint8_t *bytes)
{
    uint32_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

uint64_t mb_load_u64(const uint8_t *bytes)
{
    uint64_t value;
    memcpy(&value, bytes, sizeof(value));
    return value;
}

const void *mb_map_physical(const struct physical_memory_access *memory, uint64_t address, size_t length)
{
    if (length > 0 && address > UINT64_MAX - (length - 1))
        return NULL;
    return memory->map(memory->context, address, length);
}

bool mb_read_physical(const struct physical_memory_access *memory, uint64_t address, size_t length,
                      void *destination)
{
    const void *source = mb_map_physical(memory, address, length);
    if (source == NULL)
        return false;
    memcpy(destination, source, length);
    return true;
}


/* Copy a string that lies inside an already-mapped block of `source_length`
 * bytes (a Multiboot2 tag). `destination` is always NUL-terminated. */
enum string_copy_result mb_copy_bounded_string(const uint8_t *source, size_t source_length,
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
enum string_copy_result mb_copy_physical_string(const struct physical_memory_access *memory,
                                                uint64_t address, char *destination, size_t capacity)
{
    size_t length = 0;
    for (;;) {
        if (address > UINT64_MAX - length) {
            destination[length] = '\0';
            return STRING_UNREADABLE;
        }
        const char *byte = mb_map_physical(memory, address + length, 1);
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
bool mb_describe_string_problem(struct diagnostic *diagnostic, enum string_copy_result result,
                                const char *copied)
{
    switch (result) {
    case STRING_COPIED:
        return false;
    case STRING_TRUNCATED:
        text_builder_append(&diagnostic->builder, "truncated to ");
        break;
    case STRING_UNTERMINATED:
        text_builder_append(&diagnostic->builder, "not NUL-terminated, kept ");
        break;
    case STRING_UNREADABLE:
        text_builder_append(&diagnostic->builder, "unreadable after ");
        break;
    }
    text_builder_printf(&diagnostic->builder, "%llu bytes", (unsigned long long)strlen(copied));
    return true;
}

void mb_add_fallback_memory(struct boot_info *out, uint32_t mem_lower_kib, uint32_t mem_upper_kib)
{
    /* mem_lower starts at 0, mem_upper at 1 MiB, both in KiB
     * (Multiboot 0.6.96 §3.3, Multiboot2 §3.6.8 basic memory information). */
    if (mem_lower_kib != 0)
        memmap_add(&out->memmap, 0, (uint64_t)mem_lower_kib * 1024, MEMMAP_RAM);
    if (mem_upper_kib != 0)
        memmap_add(&out->memmap, ONE_MIB, (uint64_t)mem_upper_kib * 1024, MEMMAP_RAM);
    out->memmap_from_fallback = true;
}
