#include "hv/vcpu_run.h"

#include "arch/x86_64/vmx_entry.h"
#include "hv/bench_hooks.h"
#include "hv/timer.h"
#include "hv/vmexit.h"

/* The tick and the console poll are due by the TSC, not only by the preemption
 * timer (which counts guest time only): run them on any exit, so a guest that
 * exits a lot cannot starve them. After the exit is recorded (an interrupted
 * event is back in the entry fields, so an interrupt the work injects waits its
 * turn) and before its handler (a timer exit's handler then re-arms the alarm
 * past the work that just ran). */
static enum vmexit_action run_due_timer_work(struct vcpu *vcpu)
{
    if (!timer_work_due())
        return VMEXIT_RESUME_GUEST;
    switch (timer_run_due()) {
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
        vmexit_record(vcpu);
        /* A failed entry is handled at once (it panics); a forced power-off decided
         * by the timer work ends the guest before this exit is handled. */
        if ((!vcpu->exit_entry_failed && run_due_timer_work(vcpu) == VMEXIT_GUEST_ENDED) ||
            VMEXIT_HANDLE(vcpu) == VMEXIT_GUEST_ENDED)
            return guest_ending();
    }
}
