#include "hv/event_injection.h"

#include "arch/x86_64/vmx.h"
#include "hv/vcpu.h"

#define RFLAGS_IF (1ull << 9)

static int pending_external_vector = -1;

/* Exceptions that push an error code (SDM Vol. 3A §6.13). */
static bool exception_has_error_code(uint8_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

void inject_exception(uint8_t vector)
{
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | vector);
}

void inject_exception_with_error_code(uint8_t vector, uint32_t error_code)
{
    if (!exception_has_error_code(vector)) {
        inject_exception(vector);
        return;
    }
    vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO,
                 INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | vector);
}

void inject_nmi(void)
{
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

static void set_interrupt_window_exiting(bool enabled)
{
    if (enabled)
        the_vcpu.primary_controls |= PROC_INTERRUPT_WINDOW_EXITING;
    else
        the_vcpu.primary_controls &= ~PROC_INTERRUPT_WINDOW_EXITING;
    vmcs_write32(VMCS_PRIMARY_PROCESSOR_CONTROLS, the_vcpu.primary_controls);
}

bool inject_external_interrupt(uint8_t vector)
{
    if (pending_external_vector >= 0)
        return false;
    if (guest_interruptible()) {
        vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_EXTERNAL | vector);
        return true;
    }
    pending_external_vector = vector;
    set_interrupt_window_exiting(true);
    return true;
}

void inject_pending_external_interrupt(void)
{
    set_interrupt_window_exiting(false);
    if (pending_external_vector < 0)
        return;
    uint8_t vector = (uint8_t)pending_external_vector;
    pending_external_vector = -1;
    inject_external_interrupt(vector);
}

void reinject_interrupted_event(void)
{
    uint32_t vectoring = vmcs_read32(VMCS_IDT_VECTORING_INFO);
    if (!(vectoring & INTERRUPTION_VALID))
        return;
    if (vectoring & INTERRUPTION_DELIVER_ERROR_CODE)
        vmcs_write32(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE));
    /* Software interrupts and exceptions need their instruction length again. */
    vmcs_write32(VMCS_ENTRY_INSTRUCTION_LENGTH, vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH));
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, vectoring & ~(1u << 12)); /* bit 12 is reserved in the entry field */
}
