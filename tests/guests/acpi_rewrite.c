/*
 * acpi_rewrite: a hostile guest that rewrites the ACPI tables (they lie in RAM the
 * guest owns) so that a hypervisor reading them again at power-off would write S5
 * to the wrong port with the wrong sleep type: the FADT's PM1a control block moves
 * to an unused port, the DSDT's \_S5 is renamed away, both checksums fixed.
 * Then it asks for power-off through the PM1a port the firmware gave it.
 * vigil must power off with the values it read at start (hv/main.c).
 */
#include "runtime/guest_runtime.h"

#include "arch/x86_64/port_io.h"
#include "drivers/acpi/acpi_power.h"
#include "drivers/acpi/acpi_tables.h"

#define BIOS_AREA_START 0xE0000u
#define BIOS_AREA_LENGTH 0x20000u
#define DECOY_PORT 0x1234u
#define SLP_EN (1u << 13)

static uint8_t *at(uint32_t address)
{
    uintptr_t pointer = address;
    __asm__("" : "+r"(pointer));
    return (uint8_t *)pointer;
}

static uint32_t read32(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }

static void fix_checksum(uint8_t *table)
{
    uint32_t length = read32(table + 4);
    uint8_t sum = 0;
    table[9] = 0;
    for (uint32_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + table[i]);
    table[9] = (uint8_t)(0x100 - sum);
}

/* The FADT through the RSDT (the guest's view: BIOS area scan, 32-bit pointers). */
static uint8_t *find_fadt(void)
{
    long offset = acpi_find_rsdp(at(BIOS_AREA_START), BIOS_AREA_LENGTH);
    struct acpi_rsdp_info rsdp;
    if (offset < 0 || !acpi_parse_rsdp(at(BIOS_AREA_START + (uint32_t)offset), 36, &rsdp))
        return 0;
    uint8_t *rsdt = at(rsdp.rsdt_address);
    for (uint32_t entry = 36; entry + 4 <= read32(rsdt + 4); entry += 4) {
        uint8_t *table = at(read32(rsdt + entry));
        if (__builtin_memcmp(table, "FACP", 4) == 0)
            return table;
    }
    return 0;
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    struct acpi_power_config firmware = { .debug_exit_port = 0 };
    const char *failure = acpi_power_read(0, &firmware);
    uint8_t *fadt = find_fadt();
    if (failure || !fadt) {
        guest_print("acpi-rewrite: FAIL: no usable ACPI tables (%s)\n", failure ? failure : "no FADT");
        return;
    }
    guest_print("acpi-rewrite: firmware PM1a control 0x%x, S5 SLP_TYP %u\n", (unsigned)firmware.fadt.pm1a_control_port,
                (unsigned)firmware.s5.pm1a);

    uint8_t *dsdt = at((uint32_t)firmware.fadt.dsdt_address);
    uint32_t dsdt_length = read32(dsdt + 4);
    unsigned renamed = 0;
    for (uint32_t i = 36; i + 4 <= dsdt_length; i++) {
        if (__builtin_memcmp(dsdt + i, "_S5_", 4) == 0) {
            dsdt[i + 2] = '6'; /* \_S6_: no soft-off object any more */
            renamed++;
        }
    }
    fix_checksum(dsdt);
    fadt[64] = (uint8_t)DECOY_PORT;
    fadt[65] = (uint8_t)(DECOY_PORT >> 8);
    fadt[66] = fadt[67] = 0;
    fix_checksum(fadt);

    struct acpi_power_config rewritten = { .debug_exit_port = 0 };
    failure = acpi_power_read(0, &rewritten);
    guest_print("acpi-rewrite: tables rewritten (%u \\_S5 renamed): PM1a now 0x%x, S5 %s\n", renamed,
                (unsigned)rewritten.fadt.pm1a_control_port, failure ? failure : "still found");
    guest_print("acpi-rewrite: requesting S5 through the firmware's PM1a 0x%x\n",
                (unsigned)firmware.fadt.pm1a_control_port);
    guest_print_flush();
    port_out16((uint16_t)firmware.fadt.pm1a_control_port, (uint16_t)((firmware.s5.pm1a << 10) | SLP_EN));
    guest_print("acpi-rewrite: FAIL: still running after the S5 request\n");
}
