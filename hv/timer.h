/* The hypervisor's own clock: the VMX-preemption timer tick and TSC calibration. */
#ifndef VIGIL_HV_TIMER_H
#define VIGIL_HV_TIMER_H

#include <stdint.h>

/* Called on every preemption-timer exit (the tick, cmdline tick_ms=). */
void hv_timer_tick(void);
uint64_t hv_timer_ticks(void);

#endif
