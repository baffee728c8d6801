/*
 * Just enough ACPI table parsing to power off and reset (ACPI 6.x §5.2): find the
 * RSDP, walk the RSDT/XSDT to the FADT, read the PM1 control blocks, and find the
 * \_S5 sleep type in the DSDT's AML. Pure functions over byte buffers, so host
 * unit tests can feed them hand-made tables.
 */
#ifndef VIGIL_DRIVERS_ACPI_ACPI_TABLES_H
#define VIGIL_DRIVERS_ACPI_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_SDT_HEADER_LENGTH 36

struct acpi_rsdp_info {
    uint8_t revision;
    uint32_t rsdt_address;
    uint64_t xsdt_address; /* 0 when revision < 2 */
};

struct acpi_fadt_info {
    uint32_t smi_command_port;
    uint8_t acpi_enable_value;
    uint32_t pm1a_control_port;
    uint32_t pm1b_control_port;
    uint32_t pm_timer_port; /* PM_TMR_BLK, 0 if none */
    bool pm_timer_32bit;    /* Flags.TMR_VAL_EXT: the PM timer counts 32 bits, else 24 */
    uint64_t dsdt_address;
    /* ACPI reset register, if the FADT declares one in system I/O space */
    bool reset_register_valid;
    uint16_t reset_port;
    uint8_t reset_value;
};

struct acpi_sleep_type {
    uint8_t pm1a;
    uint8_t pm1b;
};

bool acpi_checksum_valid(const uint8_t *bytes, size_t length);
/* Scans length bytes at 16-byte steps for a valid RSDP; returns its offset or -1. */
long acpi_find_rsdp(const uint8_t *area, size_t length);
bool acpi_parse_rsdp(const uint8_t *rsdp, size_t available, struct acpi_rsdp_info *out);
/* Validates an SDT header (length within available, checksum) and returns the table length, or 0. */
uint32_t acpi_table_length(const uint8_t *table, size_t available);
bool acpi_parse_fadt(const uint8_t *fadt, size_t available, struct acpi_fadt_info *out);
/* Finds "_S5_" Name(Package(){a, b, ...}) in AML and reads the two sleep-type values. */
bool acpi_find_s5_sleep_type(const uint8_t *aml, size_t length, struct acpi_sleep_type *out);

#endif
