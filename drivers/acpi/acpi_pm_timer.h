/* The ACPI power-management timer (ACPI 6.4 §4.8.3.3) as a TSC calibration reference. */
#ifndef VIGIL_DRIVERS_ACPI_ACPI_PM_TIMER_H
#define VIGIL_DRIVERS_ACPI_ACPI_PM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* TSC ticks per second over ~50 ms of the PM timer at I/O `port` (the FADT's
 * PM_TMR_BLK), or 0 when the timer does not count (absent, stuck) or the result
 * is not sane. Needs no interrupt. */
uint64_t acpi_pm_timer_measure_tsc(uint16_t port, bool width_32);

#endif
