#include "arch/x86_64/vmx_capability.h"

#include "lib/format.h"
#include <string.h>

#include "arch/x86_64/msr.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define VMX_BASIC_TRUE_CONTROLS (1ull << 55)
#define VMX_MEMORY_TYPE_WRITE_BACK 6

#define PIN_BASED_PREEMPTION_TIMER (1u << 6)
#define PROC_BASED_SECONDARY_CONTROLS (1u << 31)
#define SECONDARY_ENABLE_EPT (1u << 1)
#define SECONDARY_ENABLE_VPID (1u << 5)
#define SECONDARY_UNRESTRICTED_GUEST (1u << 7)

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D §A.10). */
#define EPT_CAP_4_LEVEL_WALK (1ull << 6)
#define EPT_CAP_WRITE_BACK (1ull << 14)
#define EPT_CAP_2MB_PAGES (1ull << 16)
#define EPT_CAP_1GB_PAGES (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_ACCESSED_DIRTY (1ull << 21)
#define VPID_CAP_INVVPID (1ull << 32)

const char *vmx_probe_result_reason(enum vmx_probe_result result)
{
    switch (result) {
    case VMX_AVAILABLE: return "available";
    case VMX_NO_CPUID_FLAG: return "no VMX in CPUID (CPUID.1:ECX bit 5 clear)";
    case VMX_DISABLED_BY_FIRMWARE:
        return "disabled and locked in IA32_FEATURE_CONTROL (enable VT-x in the firmware setup)";
    case VMX_FEATURE_CONTROL_UNREADABLE: return "IA32_FEATURE_CONTROL (0x3a) cannot be read";
    case VMX_FEATURE_CONTROL_WRITE_FAILED: return "IA32_FEATURE_CONTROL (0x3a) refused the VMX enable bit";
    case VMX_CAPABILITY_MSR_UNREADABLE: return "a VMX capability MSR cannot be read";
    case VMX_UNSUPPORTED_MEMORY_TYPE: return "VMCS memory type is not write-back";
    }
    return "unknown";
}

static bool read_msr(const struct cpu_access *cpu, uint32_t msr, uint64_t *value, uint32_t *failed_msr)
{
    if (cpu->read_msr(cpu->context, msr, value))
        return true;
    if (failed_msr)
        *failed_msr = msr;
    return false;
}

/* IA32_FEATURE_CONTROL (SDM Vol. 3C §24.7): if the firmware left it unlocked, enable
 * VMX outside SMX and lock it, as the firmware should have; if locked off, refuse. */
static enum vmx_probe_result check_feature_control(const struct cpu_access *cpu, struct vmx_capabilities *out,
                                                   uint32_t *failed_msr)
{
    uint64_t feature_control;
    if (!read_msr(cpu, MSR_IA32_FEATURE_CONTROL, &feature_control, failed_msr))
        return VMX_FEATURE_CONTROL_UNREADABLE;
    if (feature_control & FEATURE_CONTROL_LOCKED)
        return (feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? VMX_AVAILABLE : VMX_DISABLED_BY_FIRMWARE;
    uint64_t wanted = feature_control | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
    uint64_t readback;
    if (!cpu->write_msr(cpu->context, MSR_IA32_FEATURE_CONTROL, wanted) ||
        !read_msr(cpu, MSR_IA32_FEATURE_CONTROL, &readback, failed_msr) || readback != wanted) {
        if (failed_msr)
            *failed_msr = MSR_IA32_FEATURE_CONTROL;
        return VMX_FEATURE_CONTROL_WRITE_FAILED;
    }
    out->feature_control_locked_by_vigil = true;
    return VMX_AVAILABLE;
}

enum vmx_probe_result vmx_probe(const struct cpu_access *cpu, struct vmx_capabilities *out, uint32_t *failed_msr)
{
    memset(out, 0, sizeof *out);
    uint32_t registers[4];
    cpu->cpuid(cpu->context, 1, 0, registers);
    if (!(registers[2] & CPUID_1_ECX_VMX))
        return VMX_NO_CPUID_FLAG;

    enum vmx_probe_result result = check_feature_control(cpu, out, failed_msr);
    if (result != VMX_AVAILABLE)
        return result;

    uint64_t basic;
    if (!read_msr(cpu, MSR_IA32_VMX_BASIC, &basic, failed_msr))
        return VMX_CAPABILITY_MSR_UNREADABLE;
    out->vmcs_revision = (uint32_t)(basic & 0x7FFFFFFF);
    out->vmcs_region_size = (uint32_t)((basic >> 32) & 0x1FFF);
    out->true_controls = (basic & VMX_BASIC_TRUE_CONTROLS) != 0;
    if (((basic >> 50) & 0xF) != VMX_MEMORY_TYPE_WRITE_BACK)
        return VMX_UNSUPPORTED_MEMORY_TYPE;

    /* The TRUE MSRs report the real allowed-0 settings of the default-1 controls
     * (SDM Vol. 3D §A.2); use them whenever they exist. */
    bool t = out->true_controls;
    if (!read_msr(cpu, t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS, &out->pinbased_allowed, failed_msr) ||
        !read_msr(cpu, t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS, &out->procbased_allowed, failed_msr) ||
        !read_msr(cpu, t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS, &out->exit_allowed, failed_msr) ||
        !read_msr(cpu, t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS, &out->entry_allowed, failed_msr) ||
        !read_msr(cpu, MSR_IA32_VMX_MISC, &out->misc, failed_msr) ||
        !read_msr(cpu, MSR_IA32_VMX_CR0_FIXED0, &out->cr0_fixed0, failed_msr) ||
        !read_msr(cpu, MSR_IA32_VMX_CR0_FIXED1, &out->cr0_fixed1, failed_msr) ||
        !read_msr(cpu, MSR_IA32_VMX_CR4_FIXED0, &out->cr4_fixed0, failed_msr) ||
        !read_msr(cpu, MSR_IA32_VMX_CR4_FIXED1, &out->cr4_fixed1, failed_msr))
        return VMX_CAPABILITY_MSR_UNREADABLE;

    out->preemption_timer = vmx_control_allowed(out->pinbased_allowed, PIN_BASED_PREEMPTION_TIMER);
    out->preemption_timer_rate_shift = (unsigned)(out->misc & 0x1F);
    out->secondary_controls = vmx_control_allowed(out->procbased_allowed, PROC_BASED_SECONDARY_CONTROLS);
    if (out->secondary_controls) {
        if (!read_msr(cpu, MSR_IA32_VMX_PROCBASED_CTLS2, &out->procbased2_allowed, failed_msr))
            return VMX_CAPABILITY_MSR_UNREADABLE;
        out->ept = vmx_control_allowed(out->procbased2_allowed, SECONDARY_ENABLE_EPT);
        out->vpid = vmx_control_allowed(out->procbased2_allowed, SECONDARY_ENABLE_VPID);
        out->unrestricted_guest = vmx_control_allowed(out->procbased2_allowed, SECONDARY_UNRESTRICTED_GUEST);
    }
    /* IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled (SDM Vol. 3D §A.10). */
    if (out->ept || out->vpid) {
        uint64_t capability;
        if (!read_msr(cpu, MSR_IA32_VMX_EPT_VPID_CAP, &capability, failed_msr))
            return VMX_CAPABILITY_MSR_UNREADABLE;
        out->ept_vpid_capabilities = capability;
        out->ept_4_level_walk = (capability & EPT_CAP_4_LEVEL_WALK) != 0;
        out->ept_write_back = (capability & EPT_CAP_WRITE_BACK) != 0;
        out->ept_2mb_pages = (capability & EPT_CAP_2MB_PAGES) != 0;
        out->ept_1gb_pages = (capability & EPT_CAP_1GB_PAGES) != 0;
        out->invept = (capability & EPT_CAP_INVEPT) != 0;
        out->ept_accessed_dirty = (capability & EPT_CAP_ACCESSED_DIRTY) != 0;
        out->invvpid = (capability & VPID_CAP_INVVPID) != 0;
    }
    return VMX_AVAILABLE;
}

static const char *yes_no(bool value) { return value ? "yes" : "no"; }

size_t vmx_capabilities_format(const struct vmx_capabilities *c, char *buffer, size_t size)
{
    char timer[48];
    if (c->preemption_timer)
        format_string(timer, sizeof timer, "yes (TSC/%lu)", 1ul << c->preemption_timer_rate_shift);
    else
        format_string(timer, sizeof timer, "no");
    int written = format_string(buffer, size,
                           "VMCS revision 0x%lx, EPT %s (2M %s, 1G %s, A/D %s, INVEPT %s), VPID %s, "
                           "unrestricted guest %s, preemption timer %s",
                           (unsigned long)c->vmcs_revision, yes_no(c->ept), yes_no(c->ept_2mb_pages),
                           yes_no(c->ept_1gb_pages), yes_no(c->ept_accessed_dirty), yes_no(c->invept),
                           yes_no(c->vpid), yes_no(c->unrestricted_guest), timer);
    return written < 0 ? 0 : (size_t)written;
}
