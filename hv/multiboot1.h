/* Multiboot1 boot information (spec 0.6.96 §3.3), parsed defensively (hv/multiboot.c chooses by the magic). */
#ifndef VIGIL_HV_MULTIBOOT1_H
#define VIGIL_HV_MULTIBOOT1_H

#include <stdint.h>

#include "hv/boot_info.h"

enum boot_info_status multiboot1_parse(const struct physical_memory_access *memory, uint64_t info_address,
                                       struct boot_info *out);

#endif
