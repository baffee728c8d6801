/*
 * Which guest I/O ports exit, and what vigil does with them (hv/io_policy.h).
 * Everything else passes through untouched (the guest's own COM2 among them).
 */
#ifndef VIGIL_HV_VMEXIT_IO_H
#define VIGIL_HV_VMEXIT_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vcpu.h"

struct guest_io_ports {
    uint16_t console_base;      /* the hypervisor's console UART: hidden from the guest */
    uint16_t pm1a_control;      /* ACPI PM1a/PM1b control: S5 = the guest powers off; 0 = none */
    uint16_t pm1b_control;
    uint16_t debug_exit;        /* QEMU isa-debug-exit, if configured; 0 = none */
    uint16_t acpi_reset_port;   /* FADT RESET_REG in system I/O space; 0 = none */
    uint8_t acpi_reset_value;
    bool protect_pci_chipset;   /* probe PCI for the chipset's ACPI PM registers (not in host tests) */
};

struct io_statistics {
    uint64_t doorbell_rings;
    uint64_t console_accesses_dropped;
    uint64_t writes_refused;          /* PCI chipset registers, keyboard controller output port */
    uint64_t wide_accesses_split;     /* accesses reaching into a device vigil owns from outside */
};

void vmexit_io_configure(struct vcpu *vcpu, const struct guest_io_ports *ports);
const struct io_statistics *vmexit_io_statistics(void);

#endif
