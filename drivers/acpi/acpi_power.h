/* Power off and reset for emulators and simple PCs (DESIGN.md §3 drivers/acpi). */
#ifndef VIGIL_DRIVERS_ACPI_ACPI_POWER_H
#define VIGIL_DRIVERS_ACPI_ACPI_POWER_H

#include <stdint.h>

#define ACPI_EXIT_CODE_SUCCESS 0
#define ACPI_EXIT_CODE_FAILURE 1

struct acpi_power_config {
    uint16_t debug_exit_port; /* QEMU isa-debug-exit; 0 = none */
    uint64_t rsdp_address;    /* from the boot loader, 0 = search the BIOS areas */
};

/* Tries, in order: QEMU isa-debug-exit (status (code << 1) | 1), ACPI S5, Bochs'
 * 0x8900 "Shutdown" port. Returns only if all failed, with why the ACPI path failed. */
const char *acpi_power_off(const struct acpi_power_config *config, uint8_t exit_code);
/* Tries the FADT reset register, port 0xCF9, the keyboard controller, then a triple fault. */
void acpi_reset(void);

#endif
