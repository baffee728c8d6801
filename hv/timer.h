/*
 * The hypervisor's own clock work, due by the TSC: the tick (tick_ms: the guest
 * service's heartbeat sampling and timeouts, the console's housekeeping) and the
 * console UART receive poll.
 *
 * The VMX-preemption timer counts only while the guest runs, and restarts or
 * pauses across exits, so it is only the alarm for an idle guest: every VM exit
 * also runs what is due (timer_run_due), so a guest that exits a lot cannot
 * starve the tick.
 *
 * The UART is polled on the tick; once a byte arrives the poll runs every
 * millisecond for half a second (a 16550 FIFO holds 16 bytes, 1.4 ms at 115200
 * baud), so input arriving in bursts is not lost while an idle guest still costs
 * only tick-rate exits.
 */
#ifndef VIGIL_HV_TIMER_H
#define VIGIL_HV_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "hv/service.h"

#define TIMER_FAST_POLL_US 1000u
#define TIMER_FAST_POLL_LINGER_MS 500u

void timer_configure(uint64_t tsc_frequency_hz, uint32_t tick_ms, unsigned preemption_timer_rate_shift);
/* Runs the console poll and the tick if their time has come; returns what the
 * service's tick decided about the guest (SERVICE_GUEST_CONTINUES without a tick). */
enum service_tick_result timer_run_due(void);
/* The TSC at which timer_run_due has work: one compare on the exit path. */
extern uint64_t timer_next_due;
static inline bool timer_work_due(void) { return cpu_read_tsc() >= timer_next_due; }
/* VMX-preemption-timer units until the next due work (at least 1). */
uint32_t timer_preemption_value(void);
uint64_t hv_timer_ticks(void);

#endif
