/* ACPI table builders for the unit tests: see acpi_table_builders.h. */
#include "tests/unit/acpi_table_builders.h"

#include <string.h>

void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

uint8_t checksum_byte(const uint8_t *bytes, size_t length, size_t checksum_offset)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        if (i != checksum_offset)
            sum = (uint8_t)(sum + bytes[i]);
    return (uint8_t)(0x100 - sum);
}

void rsdp_v1(uint8_t *p, uint32_t rsdt)
{
    memset(p, 0, 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "VIGIL ", 6);
    p[15] = 0;
    put32(p + 16, rsdt);
    p[8] = checksum_byte(p, 20, 8);
}

void rsdp_v2(uint8_t *p, uint32_t rsdt, uint64_t xsdt)
{
    memset(p, 0, 36);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "VIGIL ", 6);
    p[15] = 2;
    put32(p + 16, rsdt);
    put32(p + 20, 36);
    put64(p + 24, xsdt);
    p[8] = checksum_byte(p, 20, 8);
    p[32] = checksum_byte(p, 36, 32);
}

void sdt_header(uint8_t *p, const char *signature, uint32_t length, uint8_t revision)
{
    memset(p, 0, ACPI_SDT_HEADER_LENGTH);
    memcpy(p, signature, 4);
    put32(p + 4, length);
    p[8] = revision;
    memcpy(p + 10, "VIGIL ", 6);
    memcpy(p + 16, "TESTTBL ", 8);
    put32(p + 24, 1);
    memcpy(p + 28, "VGL ", 4);
    put32(p + 32, 1);
}

void fix_checksum(uint8_t *table, uint32_t length) { table[9] = checksum_byte(table, length, 9); }

/* A FADT of the given length (fields beyond it are left out), with typical PC values. */
void fadt(uint8_t *p, uint32_t length, uint8_t revision)
{
    uint8_t full[FADT_FULL_LENGTH];
    memset(full, 0, sizeof full);
    sdt_header(full, "FACP", length, revision);
    put32(full + 36, 0x7FFE1000);  /* FIRMWARE_CTRL */
    put32(full + 40, 0x7FFE0040);  /* DSDT */
    put16(full + 46, 9);           /* SCI_INT */
    put32(full + 48, 0xB2);        /* SMI_CMD */
    full[52] = 0xF1;               /* ACPI_ENABLE */
    full[53] = 0xF0;               /* ACPI_DISABLE */
    put32(full + 56, 0x600);       /* PM1a_EVT_BLK */
    put32(full + 64, 0x604);       /* PM1a_CNT_BLK */
    put32(full + 68, 0x0);         /* PM1b_CNT_BLK */
    put32(full + 76, 0x608);       /* PM_TMR_BLK */
    put32(full + 112, 0x000084A5); /* Flags without RESET_REG_SUP */
    memcpy(p, full, length);
    fix_checksum(p, length);
}

void fadt_set_reset(uint8_t *p, uint32_t length, uint8_t space, uint64_t address, uint8_t value, bool supported)
{
    uint32_t flags;
    memcpy(&flags, p + 112, 4);
    flags = supported ? flags | RESET_REG_SUP : flags & ~RESET_REG_SUP;
    put32(p + 112, flags);
    p[116] = space;
    p[117] = 8;
    p[118] = 0;
    p[119] = 1;
    put64(p + 120, address);
    p[128] = value;
    fix_checksum(p, length);
}

