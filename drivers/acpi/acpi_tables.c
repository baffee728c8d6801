#include "drivers/acpi/acpi_tables.h"

#include <string.h>

#define RSDP_V1_LENGTH 20
#define RSDP_V2_LENGTH 36
#define FADT_MINIMUM_LENGTH 116   /* through the reset register fields (ACPI 2.0+) */
#define FADT_V1_LENGTH 76

#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0A
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01

static uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

bool acpi_checksum_valid(const uint8_t *bytes, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return sum == 0;
}

long acpi_find_rsdp(const uint8_t *area, size_t length)
{
    for (size_t offset = 0; offset + RSDP_V1_LENGTH <= length; offset += 16) {
        if (memcmp(area + offset, ACPI_RSDP_SIGNATURE, 8) == 0 && acpi_checksum_valid(area + offset, RSDP_V1_LENGTH))
            return (long)offset;
    }
    return -1;
}

bool acpi_parse_rsdp(const uint8_t *rsdp, size_t available, struct acpi_rsdp_info *out)
{
    if (available < RSDP_V1_LENGTH || memcmp(rsdp, ACPI_RSDP_SIGNATURE, 8) != 0 ||
        !acpi_checksum_valid(rsdp, RSDP_V1_LENGTH))
        return false;
    out->revision = rsdp[15];
    out->rsdt_address = read32(rsdp + 16);
    out->xsdt_address = 0;
    /* ACPI 2.0+ RSDP: length at 20, XSDT at 24, extended checksum over the whole. */
    if (out->revision >= 2 && available >= RSDP_V2_LENGTH) {
        uint32_t length = read32(rsdp + 20);
        if (length >= RSDP_V2_LENGTH && length <= available && acpi_checksum_valid(rsdp, length))
            out->xsdt_address = read64(rsdp + 24);
    }
    return true;
}

uint32_t acpi_table_length(const uint8_t *table, size_t available)
{
    if (available < ACPI_SDT_HEADER_LENGTH)
        return 0;
    uint32_t length = read32(table + 4);
    if (length < ACPI_SDT_HEADER_LENGTH || length > available || !acpi_checksum_valid(table, length))
        return 0;
    return length;
}

bool acpi_parse_fadt(const uint8_t *fadt, size_t available, struct acpi_fadt_info *out)
{
    uint32_t length = acpi_table_length(fadt, available);
    if (length < FADT_V1_LENGTH || memcmp(fadt, "FACP", 4) != 0)
        return false;
    memset(out, 0, sizeof *out);
    out->dsdt_address = read32(fadt + 40);
    out->smi_command_port = read32(fadt + 48);
    out->acpi_enable_value = fadt[52];
    out->pm1a_control_port = read32(fadt + 64);
    out->pm1b_control_port = read32(fadt + 68);
    if (length >= 80)
        out->pm_timer_port = read32(fadt + 76); /* PM_TMR_BLK (ACPI 6.4 Table 5.9) */
    if (length >= FADT_MINIMUM_LENGTH) {
        /* RESET_REG: Generic Address Structure at 116 (12 bytes), RESET_VALUE at 128;
         * flag RESET_REG_SUP is bit 10 of Flags at 112. Only system I/O space (0x01). */
        uint32_t flags = read32(fadt + 112);
        out->pm_timer_32bit = (flags & (1u << 8)) != 0; /* TMR_VAL_EXT (ACPI 6.4 Table 5.10) */
        if (length >= 129 && (flags & (1u << 10)) && fadt[116] == 0x01) {
            out->reset_register_valid = true;
            out->reset_port = (uint16_t)read64(fadt + 120);
            out->reset_value = fadt[128];
        }
    }
    /* X_DSDT (offset 140) wins when present and non-zero (ACPI 6.4 §5.2.9). */
    if (length >= 148 && read64(fadt + 140) != 0)
        out->dsdt_address = read64(fadt + 140);
    return out->pm1a_control_port != 0;
}

/* One AML integer as written in a Package: ZeroOp, OneOp or BytePrefix n. */
static bool read_aml_small_integer(const uint8_t *aml, size_t length, size_t *position, uint8_t *value)
{
    if (*position >= length)
        return false;
    uint8_t op = aml[*position];
    if (op == AML_ZERO_OP || op == AML_ONE_OP) {
        *value = op;
        *position += 1;
        return true;
    }
    if (op == AML_BYTE_PREFIX && *position + 1 < length) {
        *value = aml[*position + 1];
        *position += 2;
        return true;
    }
    return false;
}

bool acpi_find_s5_sleep_type(const uint8_t *aml, size_t length, struct acpi_sleep_type *out)
{
    for (size_t i = 0; i + 4 <= length; i++) {
        if (memcmp(aml + i, "_S5_", 4) != 0)
            continue;
        /* NameOp precedes the name, directly or with a root/parent prefix ('\\' or '^'). */
        bool named = (i >= 1 && aml[i - 1] == AML_NAME_OP) ||
                     (i >= 2 && aml[i - 2] == AML_NAME_OP && (aml[i - 1] == '\\' || aml[i - 1] == '^'));
        size_t position = i + 4;
        if (!named || position >= length || aml[position] != AML_PACKAGE_OP)
            continue;
        position++;
        if (position >= length)
            return false;
        /* PkgLength: bits 7:6 of the lead byte count the extra bytes (ACPI §20.2.4). */
        position += 1 + ((aml[position] >> 6) & 3);
        position++; /* NumElements */
        if (read_aml_small_integer(aml, length, &position, &out->pm1a) &&
            read_aml_small_integer(aml, length, &position, &out->pm1b))
            return true;
    }
    return false;
}
