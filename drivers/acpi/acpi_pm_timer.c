#include "drivers/acpi/acpi_pm_timer.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/port_io.h"
#include "drivers/tsc/tsc_frequency.h"

#define CALIBRATION_TICKS (ACPI_PM_TIMER_HZ / 20u) /* 50 ms */
#define POLL_LIMIT 100000000u

uint64_t acpi_pm_timer_measure_tsc(uint16_t port, bool width_32)
{
    /* Start on a tick edge so the first partial tick does not count. */
    uint32_t first = port_in32(port), start;
    uint32_t polls = 0;
    while ((start = port_in32(port)) == first) {
        if (++polls > POLL_LIMIT)
            return 0; /* the timer does not count */
    }
    uint64_t tsc_start = cpu_read_tsc();
    uint32_t ticks = 0;
    for (polls = 0; ticks < CALIBRATION_TICKS; ticks = pm_timer_ticks(start, port_in32(port), width_32)) {
        if (++polls > POLL_LIMIT)
            return 0;
    }
    uint64_t tsc_ticks = cpu_read_tsc() - tsc_start;
    return tsc_hz_from_reference(tsc_ticks, ticks, ACPI_PM_TIMER_HZ);
}
