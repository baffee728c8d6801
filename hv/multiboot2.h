/* Multiboot2 boot information (spec 2.0 §3.6), parsed defensively (hv/multiboot.c chooses by the magic). */
#ifndef VIGIL_HV_MULTIBOOT2_H
#define VIGIL_HV_MULTIBOOT2_H

#include <stdint.h>

#include "hv/boot_info.h"

enum boot_info_status multiboot2_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                       struct boot_info *out);

#endif
