#include "hv/event_injection.h"

#include "arch/x86_64/vmx.h"

#define RFLAGS_IF (1ull << 9)

/* Exceptions that push an error code (SDM Vol. 3A §6.13). */
static bool exception_has_error_code(uint8_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

void inject_exception(struct vcpu *vcpu, uint8_t vector)
{
    (void)vcpu; /* its VMCS is the current one */
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | vector);
}

void inject_exception_with_error_code(struct vcpu *vcpu, uint8_t vector, uint32_t error_code)
{
    if (!exception_has_error_code(vector)) {
        inject_exception(vcpu, vector);
        return;
    }
    vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO,
                 INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | vector);
}

void inject_nmi(struct vcpu *vcpu)
{
    (void)vcpu;
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
}

static bool guest_interruptible(void)
{
    uint64_t rflags = vmcs_read_natural(VMCS_GUEST_RFLAGS);
    uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE);
    uint32_t entry_event = vmcs_read32(VMCS_ENTRY_INTERRUPTION_INFO);
    return (rflags & RFLAGS_IF) && !(blocking & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS)) &&
           !(entry_event & INTERRUPTION_VALID);
}

static void set_interrupt_window_exiting(struct vcpu *vcpu, bool enabled)
{
    if (enabled)
        vcpu->primary_controls |= PROC_INTERRUPT_WINDOW_EXITING;
    else
        vcpu->primary_controls &= ~PROC_INTERRUPT_WINDOW_EXITING;
    vmcs_write32(VMCS_PRIMARY_PROCESSOR_CONTROLS, vcpu->primary_controls);
}

bool inject_external_interrupt(struct vcpu *vcpu, uint8_t vector)
{
    if (vcpu->external_interrupt_queued)
        return false;
    if (guest_interruptible()) {
        vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_EXTERNAL | vector);
        return true;
    }
    vcpu->external_interrupt_queued = true;
    vcpu->queued_external_vector = vector;
    set_interrupt_window_exiting(vcpu, true);
    return true;
}

void inject_pending_external_interrupt(struct vcpu *vcpu)
{
    set_interrupt_window_exiting(vcpu, false);
    if (!vcpu->external_interrupt_queued)
        return;
    vcpu->external_interrupt_queued = false;
    inject_external_interrupt(vcpu, vcpu->queued_external_vector);
}

void reinject_interrupted_event(struct vcpu *vcpu)
{
    (void)vcpu;
    uint32_t vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);
    if (!(vectoring & INTERRUPTION_VALID))
        return;
    if (vectoring & INTERRUPTION_DELIVER_ERROR_CODE)
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE));
    /* Software interrupts and exceptions need their instruction length again. */
    vmcs_write32(VMCS_ENTRY_INSTRUCTION_LENGTH, vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH));
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, vectoring & ~(1u << 12)); /* bit 12 is reserved in the entry field */
}
