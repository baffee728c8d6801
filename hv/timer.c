#include "hv/timer.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "hv/log.h"
#include "hv/operator_console.h"
#include "hv/service.h"

static uint64_t tick_tsc = 1, fast_poll_tsc = 1, linger_tsc;
static unsigned rate_shift;
static uint64_t next_tick, next_poll, fast_until;
uint64_t timer_next_due;
static uint64_t ticks;

void timer_configure(uint64_t tsc_frequency_hz, uint32_t tick_ms, unsigned preemption_timer_rate_shift)
{
    tick_tsc = tsc_frequency_hz / 1000 * tick_ms;
    fast_poll_tsc = tsc_frequency_hz / 1000000 * TIMER_FAST_POLL_US;
    linger_tsc = tsc_frequency_hz / 1000 * TIMER_FAST_POLL_LINGER_MS;
    if (tick_tsc == 0)
        tick_tsc = 1;
    if (fast_poll_tsc == 0)
        fast_poll_tsc = 1;
    rate_shift = preemption_timer_rate_shift;
    uint64_t now = cpu_read_tsc();
    next_tick = next_poll = timer_next_due = now + tick_tsc;
    fast_until = 0;
}

enum service_tick_result timer_run_due(void)
{
    uint64_t now = cpu_read_tsc();
    bool tick = now >= next_tick;
    enum service_tick_result result = SERVICE_GUEST_CONTINUES;
    if (!tick && now < next_poll)
        return result;
    if (operator_console_receive() > 0)
        fast_until = now + linger_tsc;
    /* Output waiting in the log ring keeps the fast poll going: 16 bytes a
     * millisecond outruns 115200 baud (11.5 bytes a millisecond). */
    if (log_drain() && fast_until < now + fast_poll_tsc)
        fast_until = now + fast_poll_tsc;
    if (tick) {
        next_tick = now + tick_tsc;
        ticks++;
        result = service_tick();
        operator_console_tick();
    }
    /* Outside an input burst the poll rides on the tick: one timer exit per tick. */
    next_poll = now < fast_until ? now + fast_poll_tsc : next_tick;
    timer_next_due = next_poll < next_tick ? next_poll : next_tick;
    return result;
}

uint32_t timer_preemption_value(void)
{
    uint64_t now = cpu_read_tsc();
    uint64_t due = next_poll < next_tick ? next_poll : next_tick;
    uint64_t units = due > now ? (due - now) >> rate_shift : 0;
    if (units == 0)
        units = 1;
    if (units > 0xFFFFFFFFull)
        units = 0xFFFFFFFFull;
    return (uint32_t)units;
}

uint64_t hv_timer_ticks(void) { return ticks; }
