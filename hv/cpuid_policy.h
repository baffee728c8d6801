/*
 * CPUID default deny (issue 12): what the guest is told about the processor.
 * One logical CPU; no VMX, SMX, MONITOR/MWAIT, PMU, Intel PT, SGX, CET; OSXSAVE
 * from the guest's own CR4; the hypervisor leaves 0x40000000-0x4FFFFFFF are
 * vigil's (signature "VigilVigilHv", never KVM's) and read 0 past vigil's own.
 */
#ifndef VIGIL_HV_CPUID_POLICY_H
#define VIGIL_HV_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* The guest state the answer depends on. */
struct cpuid_guest {
    uint64_t cr4;                /* as the guest sees it (read shadow for owned bits) */
    uint32_t secondary_controls; /* instructions this VMCS lets the guest run */
    uint64_t tsc_hz;             /* the TSC rate vigil measured; 0: leaves 0x15/0x16 unchanged */
};

/* Pure: turns the real processor's answer to (leaf, subleaf) in registers
 * (EAX, EBX, ECX, EDX) into the guest's. Leaves 0x40000000-0x4FFFFFFF are not
 * handled here (cpuid_policy_answer). */
void cpuid_policy_filter(uint32_t leaf, uint32_t subleaf, uint32_t registers[4], const struct cpuid_guest *guest);

/* The guest's answer: vigil's leaves, or the real CPUID filtered. */
void cpuid_policy_answer(uint32_t leaf, uint32_t subleaf, uint32_t registers[4], const struct cpuid_guest *guest);

/* Pure: may XCR0 take `value` on a CPU whose CPUID leaf 0xD subleaf 0 reports
 * `supported` (EDX:EAX)? SDM Vol. 1 §13.3: x87 set; AVX needs SSE; the three
 * AVX-512 components all or none, and only with AVX; MPX's two together; AMX's
 * two together; nothing the CPU lacks. */
bool xcr0_value_valid(uint64_t value, uint64_t supported);

#endif
