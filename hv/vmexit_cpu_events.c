/*
 * Exits added by the CPU hardening (issue 12): NMIs (NMI exiting and virtual NMIs
 * on, so an NMI never lands in vigil while the guest runs), the NMI window, the
 * instructions CPUID hides (MONITOR/MWAIT: #UD, as on a CPU without them), and
 * task switches (not emulated: the guest stops, vigil goes on).
 */
#include "arch/x86_64/exception.h"
#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/guest_lifecycle.h"
#include "hv/vmexit_handlers.h"

#define INTERRUPTION_TYPE_MASK (7u << 8)

/* Reason 0 with an NMI: the NMI arrived while the guest ran; it is the guest's
 * (the exception bitmap is 0, so no guest exception ever exits here). */
enum vmexit_action vmexit_handle_exception_or_nmi(struct vcpu *vcpu)
{
    uint32_t information = vmcs_read32(VMCS_EXIT_INTERRUPTION_INFO);
    if ((information & INTERRUPTION_VALID) && (information & INTERRUPTION_TYPE_MASK) == INTERRUPTION_TYPE_NMI) {
        queue_nmi(vcpu);
        return VMEXIT_RESUME_GUEST;
    }
    return guest_stop(vcpu, "unexpected exception exit, interruption information 0x%x, qualification 0x%lx",
                      information, (unsigned long)vcpu->exit_qualification);
}

enum vmexit_action vmexit_handle_nmi_window(struct vcpu *vcpu)
{
    inject_pending_nmi(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_hidden_instruction(struct vcpu *vcpu)
{
    static bool reported;
    return vmexit_refuse_instruction(vcpu, &reported, "CPUID does not offer it");
}

/* Task switches through a task gate, a TSS descriptor in a CALL/JMP or IRET with
 * NT always exit (SDM Vol. 3C §26.1.2); emulating them (SDM Vol. 3A §8.3) is not
 * done yet, so the guest stops with the reason. Source of the switch: bits 31:30
 * of the qualification (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT). */
enum vmexit_action vmexit_handle_task_switch(struct vcpu *vcpu)
{
    static const char *const sources[4] = { "CALL", "IRET", "JMP", "a task gate in the IDT" };
    uint64_t q = vcpu->exit_qualification;
    return guest_stop(vcpu, "task switch to TSS selector 0x%lx by %s is not emulated", (unsigned long)(q & 0xFFFF),
                      sources[(q >> 30) & 3]);
}

void vmexit_reflect_host_nmis(struct vcpu *vcpu) { reflect_host_nmis(vcpu, exception_host_nmi_count); }
