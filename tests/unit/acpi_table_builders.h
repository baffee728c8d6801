/* ACPI table builders shared by the unit tests (test_acpi_tables.c, test_acpi_power.c):
 * RSDPs, SDT headers and FADTs with valid checksums. */
#ifndef VIGIL_TESTS_UNIT_ACPI_TABLE_BUILDERS_H
#define VIGIL_TESTS_UNIT_ACPI_TABLE_BUILDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/acpi/acpi_tables.h"

#define FADT_FULL_LENGTH 244
#define RESET_REG_SUP (1u << 10)

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);
/* The byte at checksum_offset that makes the bytes sum to 0. */
uint8_t checksum_byte(const uint8_t *bytes, size_t length, size_t checksum_offset);
void rsdp_v1(uint8_t *p, uint32_t rsdt);                /* 20 bytes */
void rsdp_v2(uint8_t *p, uint32_t rsdt, uint64_t xsdt); /* 36 bytes */
void sdt_header(uint8_t *p, const char *signature, uint32_t length, uint8_t revision);
void fix_checksum(uint8_t *table, uint32_t length);
/* A FADT of the given length (fields beyond it are left out), with typical PC values:
 * DSDT 0x7FFE0040, SMI_CMD 0xB2, ACPI_ENABLE 0xF1, PM1a_CNT 0x604, no PM1b, no reset register. */
void fadt(uint8_t *p, uint32_t length, uint8_t revision);
void fadt_set_reset(uint8_t *p, uint32_t length, uint8_t space, uint64_t address, uint8_t value, bool supported);

#endif
