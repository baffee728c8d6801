#include "hv/guest_state.h"

#include "arch/x86_64/vmx.h"

#define ACCESS_RIGHTS_DPL_SHIFT 5

uint64_t guest_visible_cr0(const struct vcpu *vcpu)
{
    uint64_t mask = vcpu->cr0_guest_host_mask;
    return (vmcs_read_natural(VMCS_CR0_READ_SHADOW) & mask) | (vmcs_read_natural(VMCS_GUEST_CR0) & ~mask);
}

uint64_t guest_visible_cr4(const struct vcpu *vcpu)
{
    uint64_t mask = vcpu->cr4_guest_host_mask;
    return (vmcs_read_natural(VMCS_CR4_READ_SHADOW) & mask) | (vmcs_read_natural(VMCS_GUEST_CR4) & ~mask);
}

/* In virtual-8086 mode VM entry requires every segment's DPL to be 3 (SDM Vol. 3C
 * §27.3.1.2), so SS.DPL is the CPL there too: one VMREAD on the VMCALL path. */
unsigned guest_cpl(void)
{
    return (unsigned)(vmcs_read32(VMCS_GUEST_SS_ACCESS_RIGHTS) >> ACCESS_RIGHTS_DPL_SHIFT) & 3;
}
