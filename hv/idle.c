#include "hv/idle.h"

#include "hv/log.h"
#include "hv/panic.h"
#include "hv/timer.h"

static enum guest_exit_policy exit_policy = GUEST_EXIT_POWEROFF;
void idle_configure(enum guest_exit_policy policy) { exit_policy = policy; }

void idle_after_guest(const struct guest_end *end)
{
    const char *reason = end->kind == GUEST_END_POWERED_OFF ? "guest powered off" : "the guest stopped";
    if (exit_policy == GUEST_EXIT_POWEROFF) {
        if (end->kind == GUEST_END_POWERED_OFF)
            hv_power_off(reason);
        hv_stop_after_guest(reason);
    }
    log_info("%s; the console stays up (guest_exit=console)", reason);
    for (;;) {
        timer_run_due(); /* no guest left for the service to force off */
        __asm__ volatile("pause");
    }
}
