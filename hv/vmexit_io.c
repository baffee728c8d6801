/*
 * I/O instruction exits (SDM Vol. 3C §28.2.1, Table 28-5 for the qualification).
 * Intercepted: the hypervisor console UART (the guest reads 0xFF and its writes
 * are dropped, so it cannot talk over vigil's log), the vigil doorbell, and the
 * ports through which a PC powers off or resets (so vigil can report the guest's
 * end before the machine goes). All other ports pass through.
 */
#include "hv/vmexit_io.h"

#include <vigil/abi.h>

#include "arch/x86_64/port_io.h"
#include "arch/x86_64/vmx.h"
#include "hv/format.h"
#include "hv/guest_lifecycle.h"
#include "hv/log.h"
#include "hv/service.h"
#include "hv/vmexit.h"

#define UART_PORT_COUNT 8
#define BOCHS_SHUTDOWN_PORT 0x8900
#define RESET_CONTROL_PORT 0xCF9
#define RESET_CONTROL_RESET (1u << 2)
#define ACPI_SLP_EN (1u << 13)
#define ACPI_SLP_TYP_SHIFT 10

static struct guest_io_ports ports;
static struct io_statistics io_statistics;
static unsigned bochs_shutdown_matched; /* characters of "Shutdown" seen in a row */

const struct io_statistics *vmexit_io_statistics(void) { return &io_statistics; }

void vmexit_io_configure(struct vcpu *vcpu, const struct guest_io_ports *configured)
{
    ports = *configured;
    vcpu_intercept_io_ports(vcpu, ports.console_base, UART_PORT_COUNT);
    vcpu_intercept_io_ports(vcpu, VIGIL_DOORBELL_PORT, 4);
    vcpu_intercept_io_ports(vcpu, BOCHS_SHUTDOWN_PORT, 1);
    vcpu_intercept_io_ports(vcpu, RESET_CONTROL_PORT, 1);
    if (ports.pm1a_control)
        vcpu_intercept_io_ports(vcpu, ports.pm1a_control, 2);
    if (ports.pm1b_control)
        vcpu_intercept_io_ports(vcpu, ports.pm1b_control, 2);
    if (ports.debug_exit)
        vcpu_intercept_io_ports(vcpu, ports.debug_exit, 4);
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

static bool in_range(uint16_t port, uint16_t base, unsigned count)
{
    return base != 0 && port >= base && port < base + count;
}

/* Performs the access on the real port: an IN's value goes to *value. */
static void pass_through(uint16_t port, unsigned size, bool is_in, uint32_t *value)
{
    if (is_in)
        *value = port_in(port, size);
    else
        port_out(port, size, *value);
}

/* Acts on the access; *value is what an OUT wrote and becomes what an IN gets. */
static enum vmexit_action handle_port(struct vcpu *vcpu, uint16_t port, unsigned size, bool is_in, uint32_t *value)
{
    uint32_t all_ones = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    if (in_range(port, ports.console_base, UART_PORT_COUNT)) {
        if (io_statistics.console_accesses_dropped++ == 0)
            log_warn("guest touched the hypervisor console UART (port 0x%x): it reads as absent", port);
        *value = all_ones;
        return VMEXIT_RESUME_GUEST;
    }
    if (in_range(port, VIGIL_DOORBELL_PORT, 4)) {
        if (is_in) {
            *value = 0;
        } else {
            io_statistics.doorbell_rings++;
            service_doorbell(); /* the outcome is in the status page: the guest needs no second exit */
        }
        return VMEXIT_RESUME_GUEST;
    }
    if (port == ports.pm1a_control || port == ports.pm1b_control) {
        if (!is_in && (*value & ACPI_SLP_EN))
            return guest_powered_off(vcpu, "ACPI sleep request, SLP_TYP and SLP_EN written to PM1 control");
        pass_through(port, size, is_in, value);
        return VMEXIT_RESUME_GUEST;
    }
    if (port == ports.debug_exit && ports.debug_exit) {
        if (!is_in) {
            log_raw_printf("vigil: guest wrote 0x%x to the isa-debug-exit port\n", *value);
            return guest_powered_off(vcpu, "isa-debug-exit");
        }
        *value = all_ones;
        return VMEXIT_RESUME_GUEST;
    }
    if (port == BOCHS_SHUTDOWN_PORT) {
        static const char shutdown[] = "Shutdown";
        if (!is_in) {
            char c = (char)*value;
            bochs_shutdown_matched = c == shutdown[bochs_shutdown_matched] ? bochs_shutdown_matched + 1
                                     : c == shutdown[0]                    ? 1
                                                                           : 0;
            if (bochs_shutdown_matched == sizeof shutdown - 1)
                return guest_powered_off(vcpu, "Bochs shutdown port 0x8900");
        }
        *value = all_ones;
        return VMEXIT_RESUME_GUEST;
    }
    if (port == RESET_CONTROL_PORT && !is_in && (*value & RESET_CONTROL_RESET)) {
        char reason[96];
        format_string(reason, sizeof reason, "the guest asked for a machine reset through port 0xCF9 (value 0x%x)",
                      *value);
        return guest_request_reset(vcpu, reason);
    }
    /* 0xCF9 otherwise, or intercepted by a neighbouring range of a wide access: pass through. */
    pass_through(port, size, is_in, value);
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
    uint32_t result = (uint32_t)r->rax & mask;
    if (handle_port(vcpu, port, size, is_in, &result) == VMEXIT_GUEST_ENDED)
        return VMEXIT_GUEST_ENDED;
    if (is_in) /* IN writes AL/AX/EAX; a 32-bit IN zero-extends into RAX like any 32-bit write */
        r->rax = size == 4 ? result : ((r->rax & ~(uint64_t)mask) | (result & mask));
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}
