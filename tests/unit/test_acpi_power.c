/*
 * Unit tests for ACPI power-off and reset (drivers/acpi/acpi_power.c) against fake
 * physical memory holding the tables (RSDP in the BIOS area or at the boot loader's
 * hint, RSDT/XSDT, FADT, DSDT with \_S5) and fake I/O ports that record every write.
 * The values are read once (acpi_power_read); power-off and reset use only them.
 * Power-off: QEMU's debug-exit port first, then SLP_TYP|SLP_EN to PM1a (and PM1b)
 * in legacy mode, then once more after enabling ACPI mode through SMI_CMD, then
 * Bochs' "Shutdown" port; each broken table gives its own reason. Reset: the FADT
 * reset register when declared, then 0xCF9 and the keyboard controller.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/port_io.h"
#include "drivers/acpi/acpi_power.h"
#include "tests/unit/acpi_table_builders.h"

/* ---- fake physical memory: the low 2 MiB */
#define MEMORY_SIZE (2u << 20)
#define RSDP_BIOS 0xE0040u
#define RSDP_HINT 0x9F000u
#define RSDT 0x100000u
#define XSDT 0x100080u
#define FADT 0x100100u
#define DSDT 0x100400u
#define PM1A 0x604u
#define PM1B 0x640u
#define SMI_CMD 0xB2u
#define SLP_EN 0x2000u
#define SCI_EN 1u

static uint8_t memory[MEMORY_SIZE];

const uint8_t *acpi_host_test_physical(uint64_t address)
{
    if (address >= MEMORY_SIZE)
        fail_msg("read of physical address 0x%llx outside the fake memory", (unsigned long long)address);
    return memory + address;
}

/* ---- fake ports */
struct port_write {
    uint16_t port;
    unsigned width;
    uint32_t value;
};
static struct port_write writes[64];
static unsigned write_count;
static bool sci_enabled, smi_enables_acpi;

static void record(uint16_t port, unsigned width, uint32_t value)
{
    if (write_count < sizeof writes / sizeof writes[0])
        writes[write_count] = (struct port_write){port, width, value};
    write_count++;
    if (port == SMI_CMD && value == 0xF1 && smi_enables_acpi)
        sci_enabled = true;
}

void port_out8(uint16_t port, uint8_t value) { record(port, 8, value); }
void port_out16(uint16_t port, uint16_t value) { record(port, 16, value); }
void port_out32(uint16_t port, uint32_t value) { record(port, 32, value); }
uint16_t port_in16(uint16_t port)
{
    assert_true(port == PM1A || port == PM1B);
    return sci_enabled ? SCI_EN : 0;
}
uint8_t port_in8(uint16_t port) { (void)port; fail(); return 0; }
uint32_t port_in32(uint16_t port) { (void)port; fail(); return 0; }

/* ---- the tables */
static const uint8_t s5_body[] = {
    0x10, 0x12, '\\',                                          /* Scope(\) */
    0x08, '_', 'S', '5', '_', 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x07, 0x00, 0x00, /* Name(_S5_, {5, 7, 0, 0}) */
};

static void put_dsdt(const uint8_t *body, size_t length)
{
    uint8_t *table = memory + DSDT;
    sdt_header(table, "DSDT", (uint32_t)(ACPI_SDT_HEADER_LENGTH + length), 2);
    memcpy(table + ACPI_SDT_HEADER_LENGTH, body, length);
    fix_checksum(table, (uint32_t)(ACPI_SDT_HEADER_LENGTH + length));
}

/* A PC's tables: RSDP (v1) in the BIOS area -> RSDT -> FADT -> DSDT with \_S5. */
static int setup(void **state)
{
    (void)state;
    memset(memory, 0, sizeof memory);
    rsdp_v1(memory + RSDP_BIOS, RSDT);
    sdt_header(memory + RSDT, "RSDT", ACPI_SDT_HEADER_LENGTH + 8, 1);
    put32(memory + RSDT + ACPI_SDT_HEADER_LENGTH, 0x100300); /* an unrelated table first */
    put32(memory + RSDT + ACPI_SDT_HEADER_LENGTH + 4, FADT);
    fix_checksum(memory + RSDT, ACPI_SDT_HEADER_LENGTH + 8);
    sdt_header(memory + 0x100300, "APIC", ACPI_SDT_HEADER_LENGTH, 1);
    fix_checksum(memory + 0x100300, ACPI_SDT_HEADER_LENGTH);
    fadt(memory + FADT, FADT_FULL_LENGTH, 4);
    put32(memory + FADT + 40, DSDT);
    fix_checksum(memory + FADT, FADT_FULL_LENGTH);
    put_dsdt(s5_body, sizeof s5_body);
    write_count = 0;
    sci_enabled = false;
    smi_enables_acpi = true;
    return 0;
}

static void assert_write(unsigned index, uint16_t port, unsigned width, uint32_t value)
{
    if (index >= write_count)
        fail_msg("write %u missing (only %u)", index, write_count);
    const struct port_write *w = &writes[index];
    if (w->port != port || w->width != width || w->value != value)
        fail_msg("write %u: port 0x%x width %u value 0x%x, expected port 0x%x width %u value 0x%x", index, w->port,
                 w->width, w->value, port, width, value);
}

static void assert_bochs_shutdown_from(unsigned index)
{
    static const char text[] = "Shutdown";
    for (unsigned i = 0; i < 8; i++)
        assert_write(index + i, 0x8900, 8, (uint8_t)text[i]);
    assert_int_equal(write_count, index + 8);
}

/* What vigil does at start (acpi_power_read), then at the end (acpi_power_off). */
static struct acpi_power_config read_config(uint16_t debug_exit_port, uint64_t rsdp_hint)
{
    struct acpi_power_config config;
    memset(&config, 0, sizeof config);
    config.debug_exit_port = debug_exit_port;
    const char *failure = acpi_power_read(rsdp_hint, &config);
    assert_true(failure == config.s5_failure && config.s5_valid == (failure == NULL));
    return config;
}

static const char *power_off(uint16_t debug_exit_port, uint64_t rsdp_hint, uint8_t exit_code)
{
    struct acpi_power_config config = read_config(debug_exit_port, rsdp_hint);
    write_count = 0;
    return acpi_power_off(&config, exit_code);
}

static void test_power_off_legacy_then_acpi_mode(void **state)
{
    (void)state;
    const char *failure = power_off(0xf4, 0, ACPI_EXIT_CODE_FAILURE);
    /* the fake machine never goes off: the reason says how far it got */
    assert_string_equal(failure, "S5 written but the machine is still running");
    assert_write(0, 0xf4, 32, ACPI_EXIT_CODE_FAILURE);  /* QEMU isa-debug-exit */
    assert_write(1, PM1A, 16, (5u << 10) | SLP_EN);       /* legacy mode first: no SMI */
    assert_write(2, SMI_CMD, 8, 0xF1);                    /* then ACPI mode */
    assert_write(3, PM1A, 16, (5u << 10) | SLP_EN);
    assert_bochs_shutdown_from(4);
}

static void test_power_off_already_in_acpi_mode(void **state)
{
    (void)state;
    sci_enabled = true;
    assert_non_null(power_off(0, 0, ACPI_EXIT_CODE_SUCCESS));
    assert_write(0, PM1A, 16, (5u << 10) | SLP_EN); /* no debug-exit port configured */
    assert_bochs_shutdown_from(1);                  /* no SMI, no second write */
}

static void test_power_off_smi_does_not_enable(void **state)
{
    (void)state;
    smi_enables_acpi = false;
    assert_string_equal(power_off(0, 0, 0), "S5 written but the machine is still running");
    assert_write(0, PM1A, 16, (5u << 10) | SLP_EN);
    assert_write(1, SMI_CMD, 8, 0xF1);
    assert_bochs_shutdown_from(2); /* ACPI mode never came: no second S5 write */
}

static void test_power_off_pm1b(void **state)
{
    (void)state;
    sci_enabled = true;
    put32(memory + FADT + 68, PM1B);
    fix_checksum(memory + FADT, FADT_FULL_LENGTH);
    power_off(0, 0, 0);
    assert_write(0, PM1A, 16, (5u << 10) | SLP_EN);
    assert_write(1, PM1B, 16, (7u << 10) | SLP_EN); /* the package's second value */
    assert_bochs_shutdown_from(2);
}

static void test_power_off_rsdp_hint_and_xsdt(void **state)
{
    (void)state;
    sci_enabled = true;
    memset(memory + RSDP_BIOS, 0, 20); /* nothing in the BIOS area: only the hint finds it */
    sdt_header(memory + XSDT, "XSDT", ACPI_SDT_HEADER_LENGTH + 8, 1);
    put64(memory + XSDT + ACPI_SDT_HEADER_LENGTH, FADT);
    fix_checksum(memory + XSDT, ACPI_SDT_HEADER_LENGTH + 8);
    rsdp_v2(memory + RSDP_HINT, 0x1FFFF0 /* a bad RSDT: the XSDT must win */, XSDT);
    assert_string_equal(power_off(0, RSDP_HINT, 0), "S5 written but the machine is still running");
    assert_write(0, PM1A, 16, (5u << 10) | SLP_EN);
    /* without the hint: no RSDP */
    write_count = 0;
    assert_string_equal(power_off(0, 0, 0), "no valid RSDP");
    assert_bochs_shutdown_from(0);
}

static void test_power_off_broken_tables(void **state)
{
    (void)state;
    memory[DSDT + 40] ^= 0xFF; /* DSDT checksum */
    assert_string_equal(power_off(0, 0, 0), "DSDT missing or bad checksum");
    assert_bochs_shutdown_from(0);

    setup(NULL);
    static const uint8_t no_s5[] = {0x08, 'P', 'I', 'C', 'D', 0x00};
    put_dsdt(no_s5, sizeof no_s5);
    assert_string_equal(power_off(0, 0, 0), "no \\_S5 object in the DSDT");
    assert_bochs_shutdown_from(0);

    setup(NULL);
    memory[FADT + 50] ^= 0x01; /* FADT checksum: the table is there but not usable */
    assert_string_equal(power_off(0, 0, 0), "FADT malformed (length, checksum or PM1a)");
    assert_bochs_shutdown_from(0);

    setup(NULL);
    memory[RSDT + 20] ^= 0x01;
    assert_string_equal(power_off(0, 0, 0), "RSDT/XSDT missing or bad checksum");

    setup(NULL);
    put32(memory + FADT + 64, 0x10000); /* PM1a_CNT beyond the port space */
    fix_checksum(memory + FADT, FADT_FULL_LENGTH);
    assert_string_equal(power_off(0, 0, 0), "PM1 control block outside the I/O port space");
    assert_bochs_shutdown_from(0);
}

static void test_values_read_once(void **state)
{
    (void)state;
    sci_enabled = true;
    struct acpi_power_config config = read_config(0, 0);
    /* the guest owns the tables' memory afterwards: whatever it writes there is not read */
    memset(memory, 0xA5, sizeof memory);
    write_count = 0;
    assert_string_equal(acpi_power_off(&config, 0), "S5 written but the machine is still running");
    assert_write(0, PM1A, 16, (5u << 10) | SLP_EN);
    assert_bochs_shutdown_from(1);
    /* never read: no values, a clear reason */
    struct acpi_power_config unread;
    memset(&unread, 0, sizeof unread);
    write_count = 0;
    assert_string_equal(acpi_power_off(&unread, 0), "ACPI values never read");
    assert_bochs_shutdown_from(0);
}

static void test_reset_register_first(void **state)
{
    (void)state;
    fadt_set_reset(memory + FADT, FADT_FULL_LENGTH, 0x01, 0xB9, 0x42, true);
    struct acpi_power_config config = read_config(0, 0);
    acpi_reset_through_ports(&config);
    assert_write(0, 0xB9, 8, 0x42);
    assert_write(1, 0xCF9, 8, 0x02);
    assert_write(2, 0xCF9, 8, 0x06);
    assert_write(3, 0x64, 8, 0xFE);
    assert_int_equal(write_count, 4);
}

static void test_reset_without_reset_register(void **state)
{
    (void)state;
    /* declared in memory space, or not supported: not used */
    fadt_set_reset(memory + FADT, FADT_FULL_LENGTH, 0x00, 0xB9, 0x42, true);
    struct acpi_power_config config = read_config(0, 0);
    acpi_reset_through_ports(&config);
    assert_write(0, 0xCF9, 8, 0x02);
    assert_write(1, 0xCF9, 8, 0x06);
    assert_write(2, 0x64, 8, 0xFE);
    assert_int_equal(write_count, 3);
    write_count = 0;
    memset(memory + RSDP_BIOS, 0, 20); /* no tables at all: the fixed ports still */
    config = read_config(0, 0);
    assert_false(config.fadt_valid);
    acpi_reset_through_ports(&config);
    assert_int_equal(write_count, 3);
    assert_write(2, 0x64, 8, 0xFE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_power_off_legacy_then_acpi_mode, setup),
        cmocka_unit_test_setup(test_power_off_already_in_acpi_mode, setup),
        cmocka_unit_test_setup(test_power_off_smi_does_not_enable, setup),
        cmocka_unit_test_setup(test_power_off_pm1b, setup),
        cmocka_unit_test_setup(test_power_off_rsdp_hint_and_xsdt, setup),
        cmocka_unit_test_setup(test_power_off_broken_tables, setup),
        cmocka_unit_test_setup(test_values_read_once, setup),
        cmocka_unit_test_setup(test_reset_register_first, setup),
        cmocka_unit_test_setup(test_reset_without_reset_register, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
