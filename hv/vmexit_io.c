/*
 * I/O instruction exits (SDM Vol. 3C §28.2.1, Table 28-5 for the qualification).
 * Intercepted (hv/io_policy.h): the hypervisor console UART (the guest reads 0xFF
 * and its writes are dropped, so it cannot talk over vigil's log), the vigil
 * doorbell, and the ports through which a PC powers off or resets (so vigil sees
 * the guest's end before the machine goes), PCI configuration (0xCF8-0xCFF). All
 * other ports pass through. The I/O bitmap makes an access exit when any of its
 * bytes is intercepted (SDM Vol. 3C §26.1.3); an access that is not wholly inside
 * one device vigil owns is split into bytes, each going to its own device.
 */
#include "hv/vmexit_io.h"

#include <vigil/abi.h>

#include "arch/x86_64/port_io.h"
#include "arch/x86_64/vmx.h"
#include "boards/bochs/board.h"
#include "boards/pc/board.h"
#include "hv/guest_lifecycle.h"
#include "hv/io_policy.h"
#include "hv/log.h"
#include "hv/service.h"
#include "hv/vmexit_handlers.h"

#define UART_PORT_COUNT BOARD_PC_UART_PORT_COUNT
#define BOCHS_SHUTDOWN_PORT BOARD_BOCHS_SHUTDOWN_PORT
#define PCI_CONFIG_PORT BOARD_PC_PCI_CONFIG_PORT /* CONFIG_ADDRESS 0xCF8-0xCFB (dword), reset control 0xCF9 (byte), data 0xCFC-0xCFF */
#define PCI_CONFIG_PORT_COUNT 8
#define RESET_CONTROL_OFFSET (BOARD_PC_RESET_CONTROL_PORT - BOARD_PC_PCI_CONFIG_PORT)
#define RESET_CONTROL_RESET BOARD_PC_RESET_CONTROL_RESET
#define KEYBOARD_COMMAND_PORT BOARD_PC_KEYBOARD_COMMAND_PORT
#define SYSTEM_CONTROL_PORT_A BOARD_PC_SYSTEM_CONTROL_PORT_A
#define SYSTEM_CONTROL_RESET BOARD_PC_SYSTEM_CONTROL_FAST_RESET
#define ACPI_SLP_EN (1u << 13)

enum device { DEVICE_NONE, DEVICE_CONSOLE, DEVICE_DOORBELL, DEVICE_PM1A, DEVICE_PM1B, DEVICE_DEBUG_EXIT,
              DEVICE_BOCHS_SHUTDOWN, DEVICE_PCI_CONFIG, DEVICE_KEYBOARD_COMMAND, DEVICE_PORT_92, DEVICE_ACPI_RESET };

struct device_range {
    enum device device;
    uint16_t base;
    unsigned count;
};

static struct guest_io_ports ports;
static struct device_range devices[12];
static unsigned device_count;
static struct pci_protected_register pci_protected[PCI_PROTECTED_MAX];
static unsigned pci_protected_count;
static uint32_t pci_config_address;      /* the guest's last CONFIG_ADDRESS */
static struct io_statistics io_statistics;
static unsigned bochs_shutdown_matched; /* characters of "Shutdown" seen in a row */

const struct io_statistics *vmexit_io_statistics(void) { return &io_statistics; }

static void own(struct vcpu *vcpu, enum device device, uint16_t base, unsigned count)
{
    if (base == 0 || device_count == sizeof devices / sizeof devices[0])
        return;
    devices[device_count++] = (struct device_range){ device, base, count };
    vcpu_intercept_io_ports(vcpu, base, count);
}

void vmexit_io_configure(struct vcpu *vcpu, const struct guest_io_ports *configured)
{
    ports = *configured;
    device_count = 0;
    pci_config_address = 0;
    own(vcpu, DEVICE_CONSOLE, ports.console_base, UART_PORT_COUNT);
    own(vcpu, DEVICE_DOORBELL, VIGIL_DOORBELL_PORT, 4);
    own(vcpu, DEVICE_BOCHS_SHUTDOWN, BOCHS_SHUTDOWN_PORT, 1);
    own(vcpu, DEVICE_PCI_CONFIG, PCI_CONFIG_PORT, PCI_CONFIG_PORT_COUNT);
    own(vcpu, DEVICE_KEYBOARD_COMMAND, KEYBOARD_COMMAND_PORT, 1);
    own(vcpu, DEVICE_PORT_92, SYSTEM_CONTROL_PORT_A, 1);
    own(vcpu, DEVICE_PM1A, ports.pm1a_control, 2);
    own(vcpu, DEVICE_PM1B, ports.pm1b_control, 2);
    own(vcpu, DEVICE_DEBUG_EXIT, ports.debug_exit, 4);
    if (ports.acpi_reset_port < PCI_CONFIG_PORT || ports.acpi_reset_port >= PCI_CONFIG_PORT + PCI_CONFIG_PORT_COUNT)
        own(vcpu, DEVICE_ACPI_RESET, ports.acpi_reset_port, 1); /* else: 0xCF9, handled there */
    pci_protected_count = ports.protect_pci_chipset ? pci_find_protected_registers(pci_protected) : 0;
    for (unsigned i = 0; i < pci_protected_count; i++)
        log_info("PCI configuration writes refused: %s", pci_protected[i].what);
}

static uint32_t port_in(uint16_t port, unsigned size)
{
    return size == 1 ? port_in8(port) : size == 2 ? port_in16(port) : port_in32(port);
}

static void port_out(uint16_t port, unsigned size, uint32_t value)
{
    if (size == 1)
        port_out8(port, (uint8_t)value);
    else if (size == 2)
        port_out16(port, (uint16_t)value);
    else
        port_out32(port, value);
}

static enum vmexit_action pass_through(uint16_t port, unsigned size, bool is_in, uint32_t *value)
{
    if (is_in)
        *value = port_in(port, size);
    else
        port_out(port, size, *value);
    return VMEXIT_RESUME_GUEST;
}

static void refused_write(const char *what, uint16_t port, uint32_t value)
{
    if (io_statistics.writes_refused++ == 0)
        log_warn("guest write of 0x%x to port 0x%x refused: %s (reported once)", value, port, what);
}

static enum vmexit_action bochs_shutdown(struct vcpu *vcpu, bool is_in, uint32_t *value)
{
    static const char shutdown[] = BOARD_BOCHS_SHUTDOWN_STRING;
    if (is_in) {
        *value = 0xFFFFFFFFu;
        return VMEXIT_RESUME_GUEST;
    }
    bochs_shutdown_matched = ((char)*value == shutdown[bochs_shutdown_matched]) ? bochs_shutdown_matched + 1
                             : ((char)*value == shutdown[0])                    ? 1
                                                                                : 0;
    if (bochs_shutdown_matched == sizeof shutdown - 1) {
        bochs_shutdown_matched = 0;
        return guest_powered_off(vcpu, "Bochs shutdown port 0x8900");
    }
    return VMEXIT_RESUME_GUEST;
}

/* 0xCF8-0xCFF: CONFIG_ADDRESS is latched by dword writes only; a byte at 0xCF9 is
 * the reset control register; data writes are checked against what vigil relies on. */
static enum vmexit_action pci_config(struct vcpu *vcpu, uint16_t port, unsigned offset, unsigned size, bool is_in,
                                     uint32_t *value)
{
    if (!is_in && offset == 0 && size == 4)
        pci_config_address = *value;
    if (!is_in && offset == RESET_CONTROL_OFFSET && size == 1 && (*value & RESET_CONTROL_RESET))
        return guest_request_reset(vcpu, "port 0xCF9");
    if (!is_in && offset >= 4) {
        const struct pci_protected_register *refused =
            pci_write_refused(pci_protected, pci_protected_count, pci_config_address, offset - 4, size);
        if (refused) {
            refused_write(refused->what, port, *value);
            return VMEXIT_RESUME_GUEST;
        }
    }
    return pass_through(port, size, is_in, value);
}

/* One access wholly inside one device; offset = port - the device's base. For an
 * IN, *value receives what the guest reads. */
static enum vmexit_action device_access(struct vcpu *vcpu, enum device device, uint16_t port, unsigned offset,
                                        unsigned size, bool is_in, uint32_t *value)
{
    switch (device) {
    case DEVICE_CONSOLE:
        if (io_statistics.console_accesses_dropped++ == 0)
            log_warn("guest touched the hypervisor console UART (port 0x%x): it reads as absent", port);
        if (is_in)
            *value = 0xFFFFFFFFu;
        return VMEXIT_RESUME_GUEST;
    case DEVICE_DOORBELL:
        if (is_in) {
            *value = 0;
            return VMEXIT_RESUME_GUEST;
        }
        io_statistics.doorbell_rings++;
        service_doorbell(); /* the outcome is in the status page: the guest needs no second exit */
        return VMEXIT_RESUME_GUEST;
    case DEVICE_PM1A:
    case DEVICE_PM1B:
        if (!is_in && ((*value << (8 * offset)) & ACPI_SLP_EN))
            return guest_powered_off(vcpu, "ACPI sleep request, SLP_TYP and SLP_EN written to PM1 control");
        return pass_through(port, size, is_in, value);
    case DEVICE_DEBUG_EXIT:
        if (is_in) {
            *value = 0xFFFFFFFFu;
            return VMEXIT_RESUME_GUEST;
        }
        log_raw_printf("vigil: guest wrote 0x%x to the isa-debug-exit port\n", *value);
        return guest_powered_off(vcpu, "isa-debug-exit");
    case DEVICE_BOCHS_SHUTDOWN:
        return bochs_shutdown(vcpu, is_in, value);
    case DEVICE_PCI_CONFIG:
        return pci_config(vcpu, port, offset, size, is_in, value);
    case DEVICE_KEYBOARD_COMMAND:
        if (!is_in && i8042_command_resets((uint8_t)*value))
            return guest_request_reset(vcpu, "keyboard controller command 0xFE (port 0x64)");
        if (!is_in && i8042_command_refused((uint8_t)*value)) {
            refused_write("keyboard controller 'write output port' (reset line, A20)", port, *value);
            return VMEXIT_RESUME_GUEST;
        }
        return pass_through(port, size, is_in, value);
    case DEVICE_PORT_92:
        if (!is_in && (*value & SYSTEM_CONTROL_RESET))
            return guest_request_reset(vcpu, "port 0x92 bit 0 (fast reset)");
        return pass_through(port, size, is_in, value);
    case DEVICE_ACPI_RESET:
        if (!is_in && (uint8_t)*value == ports.acpi_reset_value)
            return guest_request_reset(vcpu, "the ACPI reset register");
        return pass_through(port, size, is_in, value);
    case DEVICE_NONE:
        break;
    }
    return pass_through(port, size, is_in, value);
}

static const struct device_range *device_touched(uint16_t port, unsigned size)
{
    for (unsigned i = 0; i < device_count; i++)
        if (io_access_overlaps(port, size, devices[i].base, devices[i].count))
            return &devices[i];
    return 0;
}

/* Acts on the access; for an IN, *value receives what the guest reads. */
static enum vmexit_action handle_access(struct vcpu *vcpu, uint16_t port, unsigned size, bool is_in, uint32_t *value)
{
    const struct device_range *d = device_touched(port, size);
    if (!d) /* intercepted for a neighbour that this access does not touch */
        return pass_through(port, size, is_in, value);
    if (io_access_inside(port, size, d->base, d->count))
        return device_access(vcpu, d->device, port, (unsigned)(port - d->base), size, is_in, value);
    if (io_statistics.wide_accesses_split++ == 0)
        log_warn("guest %u-byte access at port 0x%x reaches into port 0x%x-0x%x: split into bytes (reported once)",
                 size, port, d->base, d->base + d->count - 1);
    uint32_t result = 0;
    for (unsigned i = 0; i < size; i++) {
        uint16_t byte_port = (uint16_t)(port + i);
        uint32_t byte = (*value >> (8 * i)) & 0xFF;
        const struct device_range *b = device_touched(byte_port, 1);
        enum vmexit_action action = b ? device_access(vcpu, b->device, byte_port, (unsigned)(byte_port - b->base), 1,
                                                      is_in, &byte)
                                      : pass_through(byte_port, 1, is_in, &byte);
        if (action != VMEXIT_RESUME_GUEST)
            return action;
        result |= (byte & 0xFF) << (8 * i);
    }
    if (is_in)
        *value = result;
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_io(struct vcpu *vcpu)
{
    uint64_t q = vcpu->exit_qualification;
    unsigned size = (unsigned)(q & 7) + 1;
    bool is_in = (q & 8) != 0;
    bool is_string = (q & 16) != 0;
    uint16_t port = (uint16_t)(q >> 16);
    if (is_string || (size != 1 && size != 2 && size != 4))
        return guest_stop(vcpu, "%s I/O %s port 0x%x (size %u) is not emulated", is_string ? "string" : "odd-sized",
                          is_in ? "from" : "to", port, size);

    struct guest_registers *r = &vcpu->registers;
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    uint32_t value = (uint32_t)r->rax & mask;
    if (handle_access(vcpu, port, size, is_in, &value) == VMEXIT_GUEST_ENDED)
        return VMEXIT_GUEST_ENDED;
    if (is_in) /* IN writes AL/AX/EAX; a 32-bit IN zero-extends into RAX like any 32-bit write */
        r->rax = size == 4 ? value : ((r->rax & ~(uint64_t)mask) | (value & mask));
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}
