#include "hv/timer.h"

static uint64_t ticks;

void hv_timer_tick(void)
{
    ticks++;
    /* The console poll and the heartbeat monitor hang off this tick (guest service). */
}

uint64_t hv_timer_ticks(void) { return ticks; }
