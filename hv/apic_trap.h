/*
 * One CPU, enforced in xAPIC mode (issue 12): the local APIC's 4 KiB page is
 * mapped read-only in EPT, so every guest write to it exits as an EPT violation.
 * vigil decodes the store (hv/mmio_decode.h), sends ICR writes through the IPI
 * filter (hv/apic_filter.h) and performs every other write on the real APIC.
 * Reads stay exit-free. (x2APIC mode: the ICR MSR is intercepted, hv/msr_policy.c.)
 */
#ifndef VIGIL_HV_APIC_TRAP_H
#define VIGIL_HV_APIC_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vcpu.h"
#include "hv/vmexit_action.h"

/* Reads guest-physical memory that is the guest's (EPT-mapped readable); false otherwise. */
typedef bool apic_trap_memory_reader(void *context, uint64_t physical, void *buffer, unsigned size);

/* Remembers the APIC page (IA32_APIC_BASE bits 51:12) and how to read the guest's
 * memory. The caller maps that page read-only in EPT. */
void apic_trap_configure(uint64_t apic_page, apic_trap_memory_reader *reader, void *context);

/* Is this EPT violation (guest-physical address, exit qualification) a write to the APIC page? */
bool apic_trap_covers(uint64_t guest_physical, uint64_t qualification);

/* Emulates the guest's write to the APIC page at guest_physical and skips the
 * instruction; an instruction vigil cannot decode stops the guest. */
enum vmexit_action apic_trap_write(struct vcpu *vcpu, uint64_t guest_physical);

/* The real APIC's registers (memory-mapped at the APIC page); host tests provide them. */
uint32_t apic_mmio_read(uint64_t address);
void apic_mmio_write(uint64_t address, uint32_t value);

#endif
