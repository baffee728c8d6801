/*
 * Private to the guest ELF loader (hv/guest_elf.c: placement, loading, the
 * shared helpers; hv/guest_elf_parse.c: the ELF and Multiboot1 headers): bounded
 * one-line error text, overflow-checked arithmetic on hostile values and
 * little-endian field access.
 */
#ifndef VIGIL_HV_GUEST_ELF_INTERNAL_H
#define VIGIL_HV_GUEST_ELF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/guest_elf.h"
#include "lib/text_builder.h"

#define FOUR_GIB 0x100000000ull

void elf_error_segment(struct text_builder *error, unsigned index);
void elf_error_range(struct text_builder *error, uint64_t start, uint64_t end);
bool elf_add_overflows(uint64_t a, uint64_t b, uint64_t *sum);
bool elf_ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end);
uint16_t elf_read_u16(const uint8_t *p);
uint32_t elf_read_u32(const uint8_t *p);
uint64_t elf_read_u64(const uint8_t *p);
uint64_t elf_read_word(const uint8_t *p, bool elf64);

#endif
