/*
 * Multiboot1 and Multiboot2 boot information, parsed defensively.
 *
 * The boot loader leaves an information block in physical memory and its
 * address in EBX (Multiboot 0.6.96 §3.2, Multiboot2 2.0 §3.2). Everything in
 * it is treated as untrusted input: every length is bounded, every string
 * copied out with a limit, and every problem recorded as a one-line
 * diagnostic the boot flow prints once the console is up.
 *
 * The block is read through struct physical_memory_access so that the same
 * code runs on bare metal (identity map: physical = virtual below 4 GiB) and
 * in host unit tests (a fake buffer).
 */
#ifndef VIGIL_HV_MULTIBOOT_H
#define VIGIL_HV_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/boot_info.h"

/*
 * Parse the information block at `info_address` for the protocol `magic`
 * names into `out` (fully overwritten; keep it in static storage, it is about
 * 70 KiB). On any status other than BOOT_INFO_OK, `out` holds what was
 * gathered before the problem plus the diagnostics, and must not be used to
 * boot. On BOOT_INFO_OK the memory map has been normalised.
 */
enum boot_info_status multiboot_parse(uint32_t magic, uint64_t info_address,
                                      const struct physical_memory_access *memory, struct boot_info *out);

#endif /* VIGIL_HV_MULTIBOOT_H */
