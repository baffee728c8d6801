#include "hv/vcpu_run.h"

#include "arch/x86_64/vmx.h"
#include "arch/x86_64/vmx_entry.h"
#include "hv/bench_hooks.h"
#include "hv/timer.h"
#include "hv/vmexit.h"

/* The tick and the console poll are due by the TSC, not only by the preemption
 * timer (which counts guest time only): run them between any two exits, so a
 * guest that exits a lot cannot starve them. Then the alarm for an idle guest
 * is re-armed to the next due work (the handler of a timer exit armed it before
 * the work ran, to a deadline now past). */
static enum vmexit_action run_due_timer_work(struct vcpu *vcpu)
{
    if (!timer_work_due())
        return VMEXIT_RESUME_GUEST;
    enum service_tick_result result = timer_run_due();
    vmcs_write32(VMCS_GUEST_PREEMPTION_TIMER_VALUE, timer_preemption_value());
    switch (result) {
    case SERVICE_GUEST_CONTINUES:
        break;
    case SERVICE_FORCE_GUEST_OFF:
        return guest_forced_off(vcpu, false);
    case SERVICE_FORCE_GUEST_OFF_REBOOT:
        return guest_forced_off(vcpu, true);
    }
    return VMEXIT_RESUME_GUEST;
}

const struct guest_end *vcpu_run(struct vcpu *vcpu)
{
    for (;;) {
        enum vmx_result entered = vmx_enter_guest(&vcpu->registers, vcpu->launched);
        if (entered != VMX_SUCCEEDED)
            vmx_require_success(vcpu->launched ? "VMRESUME" : "VMLAUNCH", entered); /* panics */
        vcpu->launched = true;
        if (VMEXIT_DISPATCH(vcpu) == VMEXIT_GUEST_ENDED || run_due_timer_work(vcpu) == VMEXIT_GUEST_ENDED)
            return guest_ending();
    }
}
