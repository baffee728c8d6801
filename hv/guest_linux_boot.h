/*
 * Launching a Linux bzImage guest on the machine: the glue between
 * hv/guest_launch.c and the host-testable hv/guest_linux.c. Keeps the parsed
 * header between the two steps the launcher calls.
 */
#ifndef VIGIL_HV_GUEST_LINUX_BOOT_H
#define VIGIL_HV_GUEST_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/guest_elf.h"
#include "hv/guest_modules.h"
#include "hv/multiboot.h"
#include "hv/vcpu.h"

/* Step 1, before any memory is claimed: parse the setup header (of the module as
 * loaded; step 2 loads from vigil's copy of the same bytes). */
bool guest_linux_boot_parse(const uint8_t *file, size_t file_size, char *error, size_t error_size);

/* Where the zero page, the command line and the boot GDT go (guest-physical,
 * below 1 MiB, `size` >= 8 KiB). */
struct guest_linux_boot_area {
    uint32_t address, size;
};

/*
 * Step 2, with vigil's pool and the shared region already carved in
 * boot->memmap: place the kernel clear of the `avoid` ranges, copy it from
 * `kernel_file` (the same bytes step 1 parsed), build the
 * zero page (e820: boot->memmap with the Additions package reserved) and fill
 * the entry state (entry at the placed kernel, ESI = zero page, boot GDT).
 * False with the reason if the kernel does not fit or the command line or the
 * initrd break the kernel's limits.
 */
bool guest_linux_boot_load(const struct boot_info *boot, const struct guest_modules *roles, const uint8_t *kernel_file,
                           const struct address_range *avoid, unsigned avoid_count,
                           const struct guest_memory_writer *writer, struct guest_linux_boot_area area,
                           struct guest_entry_state *entry, char *error, size_t error_size);

#endif /* VIGIL_HV_GUEST_LINUX_BOOT_H */
