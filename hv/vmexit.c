#include "hv/vmexit.h"

#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/vmexit_handlers.h"
#include "hv/vmexit_statistics.h"

/* Basic exit reason -> handler (SDM Vol. 3D Appendix C). A reason without a
 * handler is unexpected: vigil never enables the control that causes it, so
 * vmexit_handle_unexpected stops the guest. */
static vmexit_handler *const handlers[VMX_EXIT_REASON_LIMIT] = {
    [EXIT_REASON_EXCEPTION_OR_NMI] = vmexit_handle_exception_or_nmi,
    [EXIT_REASON_TRIPLE_FAULT] = vmexit_handle_triple_fault,
    [EXIT_REASON_INIT_SIGNAL] = vmexit_handle_init_signal,
    [EXIT_REASON_STARTUP_IPI] = vmexit_handle_startup_ipi,
    [EXIT_REASON_INTERRUPT_WINDOW] = vmexit_handle_interrupt_window,
    [EXIT_REASON_NMI_WINDOW] = vmexit_handle_nmi_window,
    [EXIT_REASON_TASK_SWITCH] = vmexit_handle_task_switch,
    [EXIT_REASON_CPUID] = vmexit_handle_cpuid,
    [EXIT_REASON_GETSEC] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_INVD] = vmexit_handle_invd,
    [EXIT_REASON_VMCALL] = vmexit_handle_vmcall,
    [EXIT_REASON_VMCLEAR] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMLAUNCH] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMPTRLD] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMPTRST] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMREAD] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMRESUME] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMWRITE] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMXOFF] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_VMXON] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_CONTROL_REGISTER_ACCESS] = vmexit_handle_control_register,
    [EXIT_REASON_IO_INSTRUCTION] = vmexit_handle_io,
    [EXIT_REASON_RDMSR] = vmexit_handle_rdmsr,
    [EXIT_REASON_WRMSR] = vmexit_handle_wrmsr,
    [EXIT_REASON_ENTRY_FAILURE_GUEST_STATE] = vmexit_handle_entry_failure,
    [EXIT_REASON_ENTRY_FAILURE_MSR_LOADING] = vmexit_handle_entry_failure,
    [EXIT_REASON_MWAIT] = vmexit_handle_hidden_instruction,
    [EXIT_REASON_MONITOR] = vmexit_handle_hidden_instruction,
    [EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK] = vmexit_handle_entry_failure,
    [EXIT_REASON_EPT_VIOLATION] = vmexit_handle_ept_violation,
    [EXIT_REASON_EPT_MISCONFIGURATION] = vmexit_handle_ept_misconfiguration,
    [EXIT_REASON_INVEPT] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_PREEMPTION_TIMER] = vmexit_handle_preemption_timer,
    [EXIT_REASON_INVVPID] = vmexit_handle_vmx_instruction,
    [EXIT_REASON_XSETBV] = vmexit_handle_xsetbv,
    [EXIT_REASON_VMFUNC] = vmexit_handle_vmx_instruction,
};

void vmexit_record(struct vcpu *vcpu)
{
    uint32_t exit_reason = vmcs_read32(VMCS_EXIT_REASON);
    vcpu->exit_reason = VMX_EXIT_REASON_BASIC(exit_reason);
    vcpu->exit_entry_failed = (exit_reason & VMX_EXIT_REASON_ENTRY_FAILURE) != 0;
    vcpu->exit_qualification = vmcs_read_natural(VMCS_EXIT_QUALIFICATION);
    vmexit_statistics_count(vcpu->exit_reason);
    /* Every VM exit clears the valid bit of the VM-entry interruption field
     * (SDM Vol. 3C §28.2.4); an event cut short by this exit goes back in. Not
     * after a failed entry: nothing was delivered. */
    if (!vcpu->exit_entry_failed)
        reinject_interrupted_event(vcpu);
    vmexit_reflect_host_nmis(vcpu);
}

enum vmexit_action vmexit_handle(struct vcpu *vcpu)
{
    if (vcpu->exit_entry_failed)
        return vmexit_handle_entry_failure(vcpu);
    vmexit_handler *handler = vcpu->exit_reason < VMX_EXIT_REASON_LIMIT ? handlers[vcpu->exit_reason] : 0;
    return handler ? handler(vcpu) : vmexit_handle_unexpected(vcpu);
}
