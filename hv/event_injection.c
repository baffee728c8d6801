#include "hv/event_injection.h"

#include "arch/x86_64/vmx.h"

#define RFLAGS_IF (1ull << 9)
#define RFLAGS_RF (1ull << 16)
#define CR0_PE (1ull << 0)

static uint64_t host_nmis_reflected;

/* Exceptions that push an error code (SDM Vol. 3A §6.13) -- in protected and
 * long mode only: in real mode no exception pushes one, and VM entry refuses an
 * error code for an unrestricted guest with CR0.PE = 0 (SDM Vol. 3C §27.2.1.3). */
static bool exception_has_error_code(uint8_t vector)
{
    if (!(vmcs_read_natural(VMCS_GUEST_CR0) & CR0_PE))
        return false;
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

/* Faults, unlike traps (#DB is either, #BP and #OF) and aborts (#DF, #MC), push
 * RFLAGS with RF set so that the restarted instruction does not hit its own
 * instruction breakpoint again (SDM Vol. 3A §6.5, §17.3.1.1). An injected event
 * pushes the guest-state RFLAGS, so RF is set there (SDM Vol. 3C §27.6.1.1). */
static bool exception_is_fault(uint8_t vector)
{
    return vector < 32 && vector != 1 && vector != 2 && vector != 3 && vector != 4 && vector != 8 && vector != 18;
}

static void set_resume_flag_for_fault(uint8_t vector)
{
    if (exception_is_fault(vector))
        vmcs_write_natural(VMCS_GUEST_RFLAGS, vmcs_read_natural(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
}

void inject_exception(struct vcpu *vcpu, uint8_t vector)
{
    (void)vcpu; /* its VMCS is the current one */
    set_resume_flag_for_fault(vector);
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | vector);
}

void inject_exception_with_error_code(struct vcpu *vcpu, uint8_t vector, uint32_t error_code)
{
    if (!exception_has_error_code(vector)) {
        inject_exception(vcpu, vector);
        return;
    }
    set_resume_flag_for_fault(vector);
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

/* NMIs (NMI exiting and virtual NMIs on): one the guest cannot take now waits for
 * an NMI-window exit (SDM Vol. 3C §25.6.2, §26.7.6). VM entry refuses to inject an
 * NMI under blocking by MOV SS or, with virtual NMIs, blocking by NMI; some CPUs
 * also under blocking by STI (SDM Vol. 3C §27.3.1.5). */
static bool guest_can_take_nmi(void)
{
    uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE);
    return !(blocking & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS |
                         INTERRUPTIBILITY_BLOCKING_BY_NMI)) &&
           !(vmcs_read32(VMCS_ENTRY_INTERRUPTION_INFO) & INTERRUPTION_VALID);
}

static void set_nmi_window_exiting(struct vcpu *vcpu, bool enabled)
{
    uint32_t wanted = enabled ? vcpu->primary_controls | PROC_NMI_WINDOW_EXITING
                              : vcpu->primary_controls & ~PROC_NMI_WINDOW_EXITING;
    if (wanted == vcpu->primary_controls)
        return;
    vcpu->primary_controls = wanted;
    vmcs_write32(VMCS_PRIMARY_PROCESSOR_CONTROLS, wanted);
}

void inject_pending_nmi(struct vcpu *vcpu)
{
    if (vcpu->pending_nmis && guest_can_take_nmi()) {
        vcpu->pending_nmis--;
        inject_nmi(vcpu);
    }
    set_nmi_window_exiting(vcpu, vcpu->pending_nmis != 0);
}

void queue_nmi(struct vcpu *vcpu)
{
    if (vcpu->pending_nmis < 2) /* like the CPU: one NMI being handled, one more latched */
        vcpu->pending_nmis++;
    inject_pending_nmi(vcpu);
}

void reflect_host_nmis(struct vcpu *vcpu, uint64_t host_nmis_seen)
{
    while (host_nmis_reflected < host_nmis_seen) {
        host_nmis_reflected++;
        queue_nmi(vcpu);
    }
}
