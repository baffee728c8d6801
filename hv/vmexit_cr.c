/*
 * Control-register exits (qualification: SDM Vol. 3C §28.2.1, Table 28-3).
 * vigil owns the CR0/CR4 bits that VMX operation fixes (NE; CR4.VMXE) and CR0.PG,
 * because turning paging on with EFER.LME set enters IA-32e mode, which the
 * "IA-32e mode guest" VM-entry control and EFER.LMA must follow (SDM Vol. 3C
 * §25.8.1). The guest sees its own values through the read shadows.
 */
#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/guest_lifecycle.h"
#include "hv/guest_state.h"
#include "hv/vmexit_handlers.h"

#define CR0_PE (1ull << 0)
#define CR0_TS (1ull << 3)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define CS_ACCESS_RIGHTS_L (1u << 13)
#define CR4_VMXE (1ull << 13)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

enum cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

static bool write_cr0(struct vcpu *vcpu, uint64_t value)
{
    const struct vmx_capabilities *c = &vcpu->capabilities;
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)))
        return false;
    uint64_t old_shadow = vmcs_read_natural(VMCS_CR0_READ_SHADOW);
    uint64_t efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
    bool paging_on = (value & CR0_PG) && !(old_shadow & CR0_PG);
    bool paging_off = !(value & CR0_PG) && (old_shadow & CR0_PG);
    if (paging_on && (efer & EFER_LME)) {
        /* Long mode needs PAE first (PAE is the guest's: set without an exit). */
        if (!(guest_visible_cr4(vcpu) & CR4_PAE))
            return false;
        vmcs_write64(VMCS_GUEST_IA32_EFER, efer | EFER_LMA);
        vcpu->entry_controls |= ENTRY_IA32E_MODE_GUEST;
        vmcs_write32(VMCS_ENTRY_CONTROLS, vcpu->entry_controls);
    } else if (paging_off && (efer & EFER_LMA)) {
        /* Leaving long mode: not from 64-bit code, not with PCIDs on (SDM Vol. 2B MOV
         * to CR0: #GP); a VM entry with those would fail instead of faulting. */
        if ((vmcs_read32(VMCS_GUEST_CS_ACCESS_RIGHTS) & CS_ACCESS_RIGHTS_L) || (guest_visible_cr4(vcpu) & CR4_PCIDE))
            return false;
        vmcs_write64(VMCS_GUEST_IA32_EFER, efer & ~EFER_LMA);
        vcpu->entry_controls &= ~ENTRY_IA32E_MODE_GUEST;
        vmcs_write32(VMCS_ENTRY_CONTROLS, vcpu->entry_controls);
    }
    uint64_t must_be_one = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);
    vmcs_write_natural(VMCS_CR0_READ_SHADOW, value);
    vmcs_write_natural(VMCS_GUEST_CR0, (value | must_be_one) & c->cr0_fixed1);
    return true;
}

static bool write_cr4(struct vcpu *vcpu, uint64_t value)
{
    const struct vmx_capabilities *c = &vcpu->capabilities;
    /* VMX is hidden: setting VMXE faults as on a CPU without VMX; so do bits the CPU lacks. */
    if ((value & CR4_VMXE) || (value & ~(c->cr4_fixed1 | c->cr4_fixed0)) || (value >> 32))
        return false;
    vmcs_write_natural(VMCS_CR4_READ_SHADOW, value);
    vmcs_write_natural(VMCS_GUEST_CR4, (value | c->cr4_fixed0) & c->cr4_fixed1);
    return true;
}

enum vmexit_action vmexit_handle_control_register(struct vcpu *vcpu)
{
    uint64_t q = vcpu->exit_qualification;
    unsigned control_register = (unsigned)(q & 15);
    enum cr_access_type type = (enum cr_access_type)((q >> 4) & 3);
    unsigned general_register = (unsigned)((q >> 8) & 15);
    bool ok = true;

    switch (type) {
    case CR_MOV_TO: {
        uint64_t value = vcpu_register_read(vcpu, general_register);
        if (control_register == 0)
            ok = write_cr0(vcpu, value);
        else if (control_register == 4)
            ok = write_cr4(vcpu, value);
        else if (control_register == 3)
            vmcs_write_natural(VMCS_GUEST_CR3, value); /* only when the CPU forces CR3-load exiting */
        else
            return guest_stop(vcpu, "unexpected MOV to CR%u", control_register);
        break;
    }
    case CR_MOV_FROM:
        if (control_register != 3)
            return guest_stop(vcpu, "unexpected MOV from CR%u", control_register);
        vcpu_register_write(vcpu, general_register, vmcs_read_natural(VMCS_GUEST_CR3));
        break;
    case CR_CLTS:
        vmcs_write_natural(VMCS_CR0_READ_SHADOW, vmcs_read_natural(VMCS_CR0_READ_SHADOW) & ~CR0_TS);
        vmcs_write_natural(VMCS_GUEST_CR0, vmcs_read_natural(VMCS_GUEST_CR0) & ~CR0_TS);
        break;
    case CR_LMSW: {
        /* LMSW loads CR0 bits 3:0 but cannot clear PE (SDM Vol. 2A LMSW). */
        uint64_t shadow = vmcs_read_natural(VMCS_CR0_READ_SHADOW);
        uint64_t source = (q >> 16) & 0xF;
        ok = write_cr0(vcpu, (shadow & ~0xEull) | source | (shadow & CR0_PE));
        break;
    }
    }
    if (!ok) {
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    }
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}
