/* Power off and reset for emulators and simple PCs (DESIGN.md §3 drivers/acpi). */
#ifndef VIGIL_DRIVERS_ACPI_ACPI_POWER_H
#define VIGIL_DRIVERS_ACPI_ACPI_POWER_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/acpi/acpi_madt.h"
#include "drivers/acpi/acpi_tables.h"

#define ACPI_EXIT_CODE_SUCCESS 0
#define ACPI_EXIT_CODE_FAILURE 1

/*
 * What power-off and reset need, read once by acpi_power_read at start, while
 * the tables are still in memory no guest has touched. Afterwards the tables
 * live in guest-owned memory (the guest may rewrite them), so acpi_power_off
 * and acpi_reset use only these saved values and never read a table again.
 */
struct acpi_power_config {
    uint16_t debug_exit_port;  /* QEMU isa-debug-exit; 0 = none */
    bool fadt_valid;           /* fadt holds the FADT's values */
    struct acpi_fadt_info fadt;
    bool s5_valid;             /* s5 holds \_S5's SLP_TYPa/b */
    struct acpi_sleep_type s5;
    const char *s5_failure;    /* why ACPI S5 cannot be used (NULL when s5_valid) */
};

enum acpi_rsdp_source {
    ACPI_RSDP_NOT_FOUND,
    ACPI_RSDP_BOOT_INFO, /* the loader's copy: Multiboot2 ACPI new/old RSDP tag */
    ACPI_RSDP_EBDA,      /* first KiB of the Extended BIOS Data Area */
    ACPI_RSDP_BIOS_AREA, /* 0xE0000-0xFFFFF */
};

/* What the one walk of the tables at start found besides the power values: the
 * boot summary (where the RSDP came from, the MADT's processors). */
struct acpi_discovery {
    enum acpi_rsdp_source rsdp_source;
    uint64_t rsdp_address;
    uint8_t rsdp_revision;
    bool root_is_xsdt;
    uint64_t madt_address;    /* 0 when the root table lists none */
    uint32_t madt_length;     /* as declared (checked when madt_valid) */
    bool madt_valid;
    struct acpi_madt_info madt;
    const char *madt_failure; /* why not (NULL when madt_valid) */
};

const char *acpi_rsdp_source_name(enum acpi_rsdp_source source);

/* Finds and parses the FADT (RSDP from the hint, else the BIOS areas). Returns
 * NULL on success, or why not. */
const char *acpi_read_fadt(uint64_t rsdp_hint, struct acpi_fadt_info *fadt);

/* Reads the FADT and the DSDT's \_S5 once into `config` (debug_exit_port is
 * kept). Returns NULL when S5 is usable, else why not (also in s5_failure). */
const char *acpi_power_read(uint64_t rsdp_hint, struct acpi_power_config *config);
/* The same, in the same single walk also filling `found` (RSDP source, MADT). */
const char *acpi_discover(uint64_t rsdp_hint, struct acpi_power_config *config, struct acpi_discovery *found);

/* Switches the firmware from legacy to ACPI mode (ACPI §16.3.1: write
 * ACPI_ENABLE to SMI_CMD, wait for PM1a_CNT.SCI_EN) unless it already is.
 * vigil does this before starting a guest: the SMI it takes would otherwise
 * arrive while the guest runs. Returns whether SCI_EN is set. */
bool acpi_enable_mode(const struct acpi_fadt_info *fadt);

/* Tries, in order: QEMU isa-debug-exit (status (code << 1) | 1), ACPI S5 with the
 * saved values, Bochs' 0x8900 "Shutdown" port. Returns only if all failed, with
 * why the ACPI path failed. */
const char *acpi_power_off(const struct acpi_power_config *config, uint8_t exit_code);
/* Tries the saved FADT reset register, port 0xCF9, the keyboard controller, then a triple fault. */
void acpi_reset(const struct acpi_power_config *config);
/* The same without the triple fault: returns if the machine is still running. */
void acpi_reset_through_ports(const struct acpi_power_config *config);

#ifdef VIGIL_HOST_TEST
/* Host unit tests provide physical memory (tests/unit/test_acpi_power.c): a pointer
 * to the bytes at physical address, as the identity map gives on bare metal. */
const uint8_t *acpi_host_test_physical(uint64_t address);
#endif

#endif
