/*
 * MSR exits. The MSR bitmap lets the guest read and write everything directly
 * except (DESIGN.md §4 stage 5):
 *  - IA32_FEATURE_CONTROL: reads as locked with VMX off; writes #GP (it is locked);
 *  - the VMX capability MSRs 0x480-0x491: #GP, as on a CPU without VMX;
 *  - IA32_SMM_MONITOR_CTL: #GP;
 *  - microcode update trigger and MTRRs: writes are ignored (logged once) because
 *    they change the real machine under the hypervisor; reads pass through.
 * EFER, PAT, DEBUGCTL and SYSENTER are switched by the VMCS, so they pass through.
 * MSRs outside the bitmap's two ranges always exit (SDM Vol. 3C §26.1.3): vigil
 * performs the access for the guest and turns a fault into #GP.
 */
#include "hv/vmexit_msr.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/msr.h"
#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/log.h"
#include "hv/vmexit.h"

#define MSR_IA32_BIOS_UPDATE_TRIGGER 0x79
#define MSR_IA32_SMM_MONITOR_CTL 0x9B
#define MSR_VMX_FIRST 0x480
#define MSR_VMX_LAST 0x491
#define MSR_MTRR_VARIABLE_FIRST 0x200
#define MSR_MTRR_VARIABLE_LAST 0x21F
#define MSR_MTRR_DEFAULT_TYPE 0x2FF

static const uint32_t fixed_range_mtrrs[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F };

enum msr_policy { MSR_PASS_THROUGH, MSR_FAULT, MSR_FEATURE_CONTROL, MSR_IGNORE_WRITES };

static enum msr_policy policy_for(uint32_t msr)
{
    if (msr == MSR_IA32_FEATURE_CONTROL)
        return MSR_FEATURE_CONTROL;
    if ((msr >= MSR_VMX_FIRST && msr <= MSR_VMX_LAST) || msr == MSR_IA32_SMM_MONITOR_CTL)
        return MSR_FAULT;
    if (msr == MSR_IA32_BIOS_UPDATE_TRIGGER || msr == MSR_MTRR_DEFAULT_TYPE ||
        (msr >= MSR_MTRR_VARIABLE_FIRST && msr <= MSR_MTRR_VARIABLE_LAST))
        return MSR_IGNORE_WRITES;
    for (unsigned i = 0; i < sizeof fixed_range_mtrrs / sizeof fixed_range_mtrrs[0]; i++)
        if (msr == fixed_range_mtrrs[i])
            return MSR_IGNORE_WRITES;
    return MSR_PASS_THROUGH;
}

void vmexit_msr_configure(struct vcpu *vcpu)
{
    vcpu_intercept_msr(vcpu, MSR_IA32_FEATURE_CONTROL, true, true);
    for (uint32_t msr = MSR_VMX_FIRST; msr <= MSR_VMX_LAST; msr++)
        vcpu_intercept_msr(vcpu, msr, true, true);
    vcpu_intercept_msr(vcpu, MSR_IA32_SMM_MONITOR_CTL, true, true);
    vcpu_intercept_msr(vcpu, MSR_IA32_BIOS_UPDATE_TRIGGER, false, true);
    vcpu_intercept_msr(vcpu, MSR_MTRR_DEFAULT_TYPE, false, true);
    for (uint32_t msr = MSR_MTRR_VARIABLE_FIRST; msr <= MSR_MTRR_VARIABLE_LAST; msr++)
        vcpu_intercept_msr(vcpu, msr, false, true);
    for (unsigned i = 0; i < sizeof fixed_range_mtrrs / sizeof fixed_range_mtrrs[0]; i++)
        vcpu_intercept_msr(vcpu, fixed_range_mtrrs[i], false, true);
}

enum vmexit_action vmexit_handle_rdmsr(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint32_t msr = (uint32_t)r->rcx;
    uint64_t value = 0;
    switch (policy_for(msr)) {
    case MSR_FEATURE_CONTROL:
        value = FEATURE_CONTROL_LOCKED; /* locked, VMX enabled neither inside nor outside SMX */
        break;
    case MSR_FAULT:
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    case MSR_IGNORE_WRITES:
    case MSR_PASS_THROUGH:
        if (!cpu_read_msr_checked(msr, &value)) {
            inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
            return VMEXIT_RESUME_GUEST;
        }
        break;
    }
    r->rax = (uint32_t)value;
    r->rdx = (uint32_t)(value >> 32);
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_wrmsr(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint32_t msr = (uint32_t)r->rcx;
    uint64_t value = ((r->rdx & 0xFFFFFFFF) << 32) | (r->rax & 0xFFFFFFFF);
    switch (policy_for(msr)) {
    case MSR_FEATURE_CONTROL:
    case MSR_FAULT:
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    case MSR_IGNORE_WRITES: {
        static bool reported;
        if (!reported) {
            reported = true;
            log_warn("guest write of 0x%lx to MSR 0x%x ignored (machine-wide MSR; reported once)",
                     (unsigned long)value, msr);
        }
        break;
    }
    case MSR_PASS_THROUGH:
        if (!cpu_write_msr_checked(msr, value)) {
            inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
            return VMEXIT_RESUME_GUEST;
        }
        break;
    }
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}
