/*
 * Does this CPU offer VT-x, and what of it (DESIGN.md §4 stage 2)? Reads CPUID
 * and the VMX capability MSRs through struct cpu_access so host tests can play
 * any CPU model, and so can Bochs' models with ignore_bad_msrs=0.
 */
#ifndef VIGIL_ARCH_X86_64_VMX_CAPABILITY_H
#define VIGIL_ARCH_X86_64_VMX_CAPABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/cpu_access.h"

enum vmx_probe_result {
    VMX_AVAILABLE = 0,
    VMX_NO_CPUID_FLAG,             /* CPUID.1:ECX.VMX[bit 5] = 0 */
    VMX_DISABLED_BY_FIRMWARE,      /* IA32_FEATURE_CONTROL locked with VMX-outside-SMX clear */
    VMX_FEATURE_CONTROL_UNREADABLE,
    VMX_FEATURE_CONTROL_WRITE_FAILED,
    VMX_CAPABILITY_MSR_UNREADABLE,
    VMX_UNSUPPORTED_MEMORY_TYPE,   /* IA32_VMX_BASIC[53:50] is not write-back */
};

struct vmx_capabilities {
    uint32_t vmcs_revision;        /* IA32_VMX_BASIC[30:0] */
    uint32_t vmcs_region_size;     /* IA32_VMX_BASIC[44:32] */
    bool true_controls;            /* IA32_VMX_BASIC[55]: the TRUE_* MSRs exist */
    bool feature_control_locked_by_vigil;
    uint64_t pinbased_allowed, procbased_allowed, procbased2_allowed, exit_allowed, entry_allowed; /* low = allowed-0, high = allowed-1 */
    uint64_t misc, ept_vpid_capabilities;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool secondary_controls, ept, vpid, unrestricted_guest, preemption_timer;
    unsigned preemption_timer_rate_shift; /* the timer counts down once every 2^shift TSC ticks */
    bool ept_4_level_walk, ept_write_back, ept_2mb_pages, ept_1gb_pages, ept_accessed_dirty, invept, invvpid;
};

enum vmx_probe_result vmx_probe(const struct cpu_access *cpu, struct vmx_capabilities *out,
                                uint32_t *failed_msr);
const char *vmx_probe_result_reason(enum vmx_probe_result result);
/* One-line summary, e.g. "VMCS revision 0x2b, EPT yes (2M yes, 1G yes, A/D yes, INVEPT yes), ..." */
size_t vmx_capabilities_format(const struct vmx_capabilities *capabilities, char *buffer, size_t size);
/* A control value for a VMCS control field: (wanted | allowed-0) & allowed-1 (SDM Vol. 3D §A.3). */
static inline uint32_t vmx_adjust_controls(uint64_t allowed, uint32_t wanted)
{
    return (wanted | (uint32_t)allowed) & (uint32_t)(allowed >> 32);
}
static inline bool vmx_control_allowed(uint64_t allowed, uint32_t bit_mask)
{
    return ((uint32_t)(allowed >> 32) & bit_mask) == bit_mask;
}

#endif
