/*
 * Reads ACPI tables through an identity map of the low 4 GiB (the hypervisor's,
 * or a test guest's with paging off: this file is also built for -m32); tables
 * above that are treated as absent (the emulators and GRUB put them low).
 */
#include "drivers/acpi/acpi_power.h"

#include "arch/x86_64/port_io.h"
#include "boards/bochs/board.h"
#include "boards/pc/board.h"
#include "drivers/acpi/acpi_tables.h"

#define IDENTITY_MAP_LIMIT 0x100000000ull
#define EBDA_SEGMENT_POINTER 0x40E
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_LENGTH 0x20000
#define SLP_EN (1u << 13)
#define SCI_EN 1u

/* A pointer to identity-mapped physical memory. The empty asm hides the constant
 * address from gcc's object-bounds analysis (-Warray-bounds on low fixed addresses).
 * Host unit tests provide the memory instead (acpi_power.h). */
static const uint8_t *identity_pointer(uint64_t address)
{
#ifdef VIGIL_HOST_TEST
    return acpi_host_test_physical(address);
#else
    uintptr_t pointer = (uintptr_t)address;
    __asm__("" : "+r"(pointer));
    return (const uint8_t *)pointer;
#endif
}

static const uint8_t *physical(uint64_t address, uint64_t length)
{
    if (address == 0 || address >= IDENTITY_MAP_LIMIT || length > IDENTITY_MAP_LIMIT - address)
        return 0;
    return identity_pointer(address);
}

static const uint8_t *find_rsdp(uint64_t hint, enum acpi_rsdp_source *source)
{
    *source = ACPI_RSDP_BOOT_INFO;
    if (hint && physical(hint, 36))
        return physical(hint, 36);
    uint16_t ebda_segment;
    __builtin_memcpy(&ebda_segment, identity_pointer(EBDA_SEGMENT_POINTER), 2);
    uint64_t ebda = (uint64_t)ebda_segment << 4;
    *source = ACPI_RSDP_EBDA;
    if (ebda >= 0x80000 && ebda < 0xA0000) {
        long offset = acpi_find_rsdp(identity_pointer(ebda), 1024);
        if (offset >= 0)
            return identity_pointer(ebda + (uint64_t)offset);
    }
    *source = ACPI_RSDP_BIOS_AREA;
    long offset = acpi_find_rsdp(identity_pointer(BIOS_AREA_START), BIOS_AREA_LENGTH);
    if (offset >= 0)
        return identity_pointer(BIOS_AREA_START + (uint64_t)offset);
    *source = ACPI_RSDP_NOT_FOUND;
    return 0;
}

const char *acpi_rsdp_source_name(enum acpi_rsdp_source source)
{
    switch (source) {
    case ACPI_RSDP_BOOT_INFO: return "the boot loader's RSDP tag";
    case ACPI_RSDP_EBDA: return "the EBDA";
    case ACPI_RSDP_BIOS_AREA: return "the BIOS area";
    case ACPI_RSDP_NOT_FOUND: break;
    }
    return "nowhere";
}

/* Maps an SDT: first its header, then its declared (checked) length. */
static const uint8_t *map_table(uint64_t address, uint32_t *length)
{
    const uint8_t *header = physical(address, ACPI_SDT_HEADER_LENGTH);
    if (!header)
        return 0;
    uint32_t declared;
    __builtin_memcpy(&declared, header + 4, 4);
    const uint8_t *table = physical(address, declared);
    if (!table || (*length = acpi_table_length(table, declared)) == 0)
        return 0;
    return table;
}

/* Maps a table the root points at without validating it (the parsers do, and say
 * what is wrong), or returns 0 when its header or declared length is unreachable. */
static const uint8_t *map_unchecked(uint64_t address, uint32_t *declared)
{
    const uint8_t *header = physical(address, ACPI_SDT_HEADER_LENGTH);
    if (!header)
        return 0;
    __builtin_memcpy(declared, header + 4, 4);
    return physical(address, *declared);
}

/* The one walk: RSDP, RSDT/XSDT, then the first FADT and the first MADT. */
static const char *walk_tables(uint64_t rsdp_hint, struct acpi_fadt_info *fadt, struct acpi_discovery *found)
{
    __builtin_memset(found, 0, sizeof *found);
    found->madt_failure = "no MADT";
    const uint8_t *rsdp = find_rsdp(rsdp_hint, &found->rsdp_source);
    struct acpi_rsdp_info rsdp_info;
    if (!rsdp || !acpi_parse_rsdp(rsdp, 36, &rsdp_info)) {
        found->rsdp_source = ACPI_RSDP_NOT_FOUND;
        found->madt_failure = "no valid RSDP";
        return "no valid RSDP";
    }
    found->rsdp_address = (uint64_t)(uintptr_t)rsdp;
    found->rsdp_revision = rsdp_info.revision;
    bool extended = rsdp_info.xsdt_address != 0 && physical(rsdp_info.xsdt_address, 1);
    found->root_is_xsdt = extended;
    uint32_t root_length;
    const uint8_t *root = map_table(extended ? rsdp_info.xsdt_address : rsdp_info.rsdt_address, &root_length);
    if (!root) {
        found->madt_failure = "RSDT/XSDT missing or bad checksum";
        return "RSDT/XSDT missing or bad checksum";
    }
    const char *fadt_failure = "no FADT";
    bool fadt_seen = false, madt_seen = false;
    unsigned entry_size = extended ? 8 : 4;
    for (uint32_t offset = ACPI_SDT_HEADER_LENGTH; offset + entry_size <= root_length; offset += entry_size) {
        uint64_t address = 0;
        __builtin_memcpy(&address, root + offset, entry_size);
        uint32_t length;
        const uint8_t *table = map_unchecked(address, &length);
        if (!table)
            continue;
        if (!fadt_seen && __builtin_memcmp(table, "FACP", 4) == 0) {
            fadt_seen = true;
            fadt_failure = acpi_parse_fadt(table, length, fadt) ? 0 : "FADT malformed (length, checksum or PM1a)";
        } else if (!madt_seen && __builtin_memcmp(table, "APIC", 4) == 0) {
            madt_seen = true;
            found->madt_address = address;
            found->madt_length = length;
            found->madt_failure = acpi_parse_madt(table, length, &found->madt);
            found->madt_valid = found->madt_failure == 0;
        }
    }
    return fadt_failure;
}

const char *acpi_read_fadt(uint64_t rsdp_hint, struct acpi_fadt_info *fadt)
{
    struct acpi_discovery found;
    return walk_tables(rsdp_hint, fadt, &found);
}

bool acpi_enable_mode(const struct acpi_fadt_info *fadt)
{
    if (port_in16((uint16_t)fadt->pm1a_control_port) & SCI_EN)
        return true;
    if (!fadt->smi_command_port || !fadt->acpi_enable_value)
        return false;
    port_out8((uint16_t)fadt->smi_command_port, fadt->acpi_enable_value);
    for (unsigned spin = 0; spin < 1000000; spin++) {
        if (port_in16((uint16_t)fadt->pm1a_control_port) & SCI_EN)
            return true;
        __asm__ volatile("pause");
    }
    return false;
}

const char *acpi_power_read(uint64_t rsdp_hint, struct acpi_power_config *config)
{
    struct acpi_discovery found;
    return acpi_discover(rsdp_hint, config, &found);
}

const char *acpi_discover(uint64_t rsdp_hint, struct acpi_power_config *config, struct acpi_discovery *found)
{
    config->fadt_valid = config->s5_valid = false;
    const char *failure = walk_tables(rsdp_hint, &config->fadt, found);
    if (!failure) {
        config->fadt_valid = true;
        uint32_t dsdt_length;
        const uint8_t *dsdt = map_table(config->fadt.dsdt_address, &dsdt_length);
        if (!dsdt)
            failure = "DSDT missing or bad checksum";
        else if (!acpi_find_s5_sleep_type(dsdt + ACPI_SDT_HEADER_LENGTH, dsdt_length - ACPI_SDT_HEADER_LENGTH,
                                          &config->s5))
            failure = "no \\_S5 object in the DSDT";
        else if (config->fadt.pm1a_control_port > 0xFFFF || config->fadt.pm1b_control_port > 0xFFFF)
            failure = "PM1 control block outside the I/O port space";
    }
    config->s5_valid = failure == 0;
    config->s5_failure = failure;
    return failure;
}

/* S5 from the values read at start: no table is read here. */
static const char *enter_s5(const struct acpi_power_config *config)
{
    if (!config->s5_valid)
        return config->s5_failure ? config->s5_failure : "ACPI values never read";
    const struct acpi_fadt_info *fadt = &config->fadt;
    /* Emulators power off on the SLP_EN write even in legacy mode, so try that
     * first: enabling ACPI mode goes through SMI_CMD, an SMI, best avoided under a
     * hypervisor. Real firmware may need ACPI mode first (ACPI §16.3.1): if the
     * machine is still running, enable it and write again. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1 && ((port_in16((uint16_t)fadt->pm1a_control_port) & SCI_EN) || !acpi_enable_mode(fadt)))
            break;
        port_out16((uint16_t)fadt->pm1a_control_port, (uint16_t)((config->s5.pm1a << 10) | SLP_EN));
        if (fadt->pm1b_control_port)
            port_out16((uint16_t)fadt->pm1b_control_port, (uint16_t)((config->s5.pm1b << 10) | SLP_EN));
        for (unsigned spin = 0; spin < 1000000; spin++)
            __asm__ volatile("pause");
    }
    return "S5 written but the machine is still running";
}

const char *acpi_power_off(const struct acpi_power_config *config, uint8_t exit_code)
{
    if (config->debug_exit_port)
        port_out32(config->debug_exit_port, exit_code);
    const char *failure = enter_s5(config);
    static const char bochs_shutdown[] = BOARD_BOCHS_SHUTDOWN_STRING;
    for (unsigned i = 0; i < sizeof bochs_shutdown - 1; i++)
        port_out8(BOARD_BOCHS_SHUTDOWN_PORT, (uint8_t)bochs_shutdown[i]);
    return failure;
}

void acpi_reset_through_ports(const struct acpi_power_config *config)
{
    if (config->fadt_valid && config->fadt.reset_register_valid)
        port_out8(config->fadt.reset_port, config->fadt.reset_value);
    port_out8(BOARD_PC_RESET_CONTROL_PORT, BOARD_PC_RESET_CONTROL_HARD);
    /* full reset through the PCI reset control register */
    port_out8(BOARD_PC_RESET_CONTROL_PORT, BOARD_PC_RESET_CONTROL_HARD | BOARD_PC_RESET_CONTROL_RESET);
    port_out8(BOARD_PC_KEYBOARD_COMMAND_PORT, BOARD_PC_KEYBOARD_PULSE_RESET); /* keyboard controller pulse of the reset line */
}

void acpi_reset(const struct acpi_power_config *config)
{
    acpi_reset_through_ports(config);
    /* Last resort: a triple fault through an empty IDT. */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } empty_idt = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
}
