#include "hv/timer.h"

#include "hv/operator_console.h"
#include "hv/service.h"

static uint64_t ticks;

void hv_timer_tick(void)
{
    ticks++;
    service_tick();
    operator_console_poll();
}

uint64_t hv_timer_ticks(void) { return ticks; }
