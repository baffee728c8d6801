/* The 8254 PIT, used once at boot to measure the TSC frequency. */
#ifndef VIGIL_DRIVERS_PIT_PIT_H
#define VIGIL_DRIVERS_PIT_PIT_H

#include <stdint.h>

#define PIT_FREQUENCY_HZ 1193182u

/* TSC ticks per second, measured against a 50 ms one-shot of PIT channel 2
 * (gated through port 0x61, so no interrupt is needed). Returns 0 if the PIT's
 * output never rose within a generous bound (no PIT, or a broken one). */
uint64_t pit_measure_tsc_frequency(void);

#endif
