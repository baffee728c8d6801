/* The hypervisor's clocks: monotonic milliseconds from the TSC, and wall time
 * from the RTC read at boot advanced by the TSC. */
#ifndef VIGIL_HV_CLOCK_H
#define VIGIL_HV_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Calibrated TSC rate; reads the RTC. Returns false if the RTC gave no valid
 * time (wall time then starts at the Unix epoch, and says so in the log). */
bool clock_init(uint64_t tsc_frequency_hz);
uint64_t clock_tsc_frequency(void);
uint64_t clock_now_ms(void);       /* since clock_init */
uint64_t clock_unix_time_ns(void); /* UTC */

#endif
