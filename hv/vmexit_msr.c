/*
 * MSR exits: the decision is hv/msr_policy.c's (default deny, an allow-list with a
 * reason per MSR, virtualized MSRs); here only the registers and the #GP. MSRs
 * outside the bitmap's two ranges always exit (SDM Vol. 3C §26.1.3).
 */
#include "hv/vmexit_msr.h"

#include "hv/event_injection.h"
#include "hv/msr_policy.h"
#include "hv/vmexit_handlers.h"

void vmexit_msr_configure(struct vcpu *vcpu)
{
    msr_policy_build_bitmap(vcpu->msr_bitmap);
    msr_policy_start(vcpu->msr_bitmap);
}

enum vmexit_action vmexit_handle_rdmsr(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint64_t value = 0;
    if (msr_policy_read(vcpu, (uint32_t)r->rcx, &value) != MSR_DONE) {
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    }
    r->rax = (uint32_t)value;
    r->rdx = (uint32_t)(value >> 32);
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_wrmsr(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint64_t value = ((r->rdx & 0xFFFFFFFF) << 32) | (r->rax & 0xFFFFFFFF);
    if (msr_policy_write(vcpu, (uint32_t)r->rcx, value) != MSR_DONE) {
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    }
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}
