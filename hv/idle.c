#include "hv/idle.h"

#include "hv/clock.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "hv/timer.h"

static enum guest_exit_policy exit_policy = GUEST_EXIT_POWEROFF;
static uint32_t idle_tick_ms = HV_TICK_MS_DEFAULT;

void idle_configure(enum guest_exit_policy policy, uint32_t tick_ms)
{
    exit_policy = policy;
    idle_tick_ms = tick_ms;
}

void idle_after_guest(const char *reason, bool powered_off)
{
    if (exit_policy == GUEST_EXIT_POWEROFF) {
        if (powered_off)
            hv_power_off(reason);
        hv_stop_after_guest(reason);
    }
    log_info("%s; the console stays up (guest_exit=console)", reason);
    uint64_t next_tick = clock_now_ms() + idle_tick_ms;
    for (;;) {
        uint64_t now = clock_now_ms();
        if (now >= next_tick) {
            next_tick = now + idle_tick_ms;
            hv_timer_tick();
        }
        __asm__ volatile("pause");
    }
}
