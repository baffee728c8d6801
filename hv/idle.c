#include "hv/idle.h"

#include "hv/log.h"
#include "hv/panic.h"
#include "hv/timer.h"

static enum guest_exit_policy exit_policy = GUEST_EXIT_POWEROFF;
void idle_configure(enum guest_exit_policy policy) { exit_policy = policy; }

void idle_after_guest(const char *reason, bool powered_off)
{
    if (exit_policy == GUEST_EXIT_POWEROFF) {
        if (powered_off)
            hv_power_off(reason);
        hv_stop_after_guest(reason);
    }
    log_info("%s; the console stays up (guest_exit=console)", reason);
    for (;;) {
        timer_run_due();
        __asm__ volatile("pause");
    }
}
