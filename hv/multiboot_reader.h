/*
 * Private to the Multiboot parser: the diagnostics it records and the defensive
 * readers of physical memory both protocols (multiboot1.c, multiboot2.c) share
 * (hv/multiboot_reader.c).
 */
#ifndef VIGIL_HV_MULTIBOOT_READER_H
#define VIGIL_HV_MULTIBOOT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/boot_info.h"
#include "lib/text_builder.h"

#define ONE_MIB 0x100000ull
#define MAP_BYTES_MAX ONE_MIB /* sanity bound on mmap_length and MB2 total_size */

/* Diagnostics: fixed-size one-liners, no printf in a freestanding build. */
struct diagnostic {
    char text[BOOT_DIAGNOSTIC_LENGTH];
    struct text_builder builder; /* writes text */
};

enum string_copy_result { STRING_COPIED, STRING_TRUNCATED, STRING_UNTERMINATED, STRING_UNREADABLE };

void diagnostic_start(struct diagnostic *diagnostic, const char *prefix);
void diagnostic_start_tag(struct diagnostic *diagnostic, uint32_t type, uint64_t offset);
void diagnostic_record(struct boot_info *out, const struct diagnostic *diagnostic);
uint32_t mb_load_u32(const uint8_t *bytes);
uint64_t mb_load_u64(const uint8_t *bytes);
const void *mb_map_physical(const struct physical_memory_access *memory, uint64_t address, size_t length);
bool mb_read_physical(const struct physical_memory_access *memory, uint64_t address, size_t length,
                      void *destination);
enum string_copy_result mb_copy_bounded_string(const uint8_t *source, size_t source_length,
                                               char *destination, size_t capacity);
enum string_copy_result mb_copy_physical_string(const struct physical_memory_access *memory,
                                                uint64_t address, char *destination, size_t capacity);
bool mb_describe_string_problem(struct diagnostic *diagnostic, enum string_copy_result result,
                                const char *copied);
void mb_add_fallback_memory(struct boot_info *out, uint32_t mem_lower_kib, uint32_t mem_upper_kib);

#endif
