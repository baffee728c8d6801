#include "hv/tsc_calibration.h"

#include "arch/x86_64/cpu.h"
#include "drivers/acpi/acpi_pm_timer.h"
#include "drivers/pit/pit.h"
#include "drivers/tsc/tsc_frequency.h"
#include "hv/log.h"

#define FALLBACK_HZ 1000000000ull
#define AGREEMENT_PERCENT 5u

static uint64_t cpuid_frequency(const char **source)
{
    uint32_t regs[4];
    cpu_cpuid(0, 0, regs);
    uint32_t max_leaf = regs[0];
    if (max_leaf >= 0x15) {
        cpu_cpuid(0x15, 0, regs);
        uint64_t hz = tsc_hz_from_cpuid_15(regs[0], regs[1], regs[2]);
        if (hz) {
            *source = "CPUID 0x15 (crystal ratio)";
            return hz;
        }
    }
    if (max_leaf >= 0x16) {
        cpu_cpuid(0x16, 0, regs);
        uint64_t hz = tsc_hz_from_cpuid_16(regs[0]);
        if (hz) {
            *source = "CPUID 0x16 (base frequency)";
            return hz;
        }
    }
    return 0;
}

static bool agree(uint64_t a, uint64_t b)
{
    uint64_t difference = a > b ? a - b : b - a;
    return difference <= b / 100u * AGREEMENT_PERCENT;
}

uint64_t tsc_calibrate(const struct acpi_power_config *power)
{
    const char *measured_source = "the ACPI PM timer";
    uint64_t measured = 0;
    if (power->fadt_valid && power->fadt.pm_timer_port && power->fadt.pm_timer_port <= 0xFFFF) {
        measured = acpi_pm_timer_measure_tsc((uint16_t)power->fadt.pm_timer_port, power->fadt.pm_timer_32bit);
        if (!measured)
            log_warn("TSC calibration: the ACPI PM timer at 0x%lx does not count; trying the PIT",
                     (unsigned long)power->fadt.pm_timer_port);
    }
    if (!measured) {
        measured_source = "the PIT";
        measured = pit_measure_tsc_frequency();
    }
    const char *cpuid_source = 0;
    uint64_t cpuid_hz = cpuid_frequency(&cpuid_source);
    if (cpuid_hz && (!measured || agree(cpuid_hz, measured))) {
        log_info("TSC: %lu kHz from %s%s%s", (unsigned long)(cpuid_hz / 1000), cpuid_source,
                 measured ? ", confirmed by " : ", unconfirmed: no reference timer counts",
                 measured ? measured_source : "");
        return cpuid_hz;
    }
    if (cpuid_hz)
        log_info("TSC: %s says %lu kHz but %s measures %lu kHz: using the measurement", cpuid_source,
                 (unsigned long)(cpuid_hz / 1000), measured_source, (unsigned long)(measured / 1000));
    if (measured) {
        log_info("TSC: %lu kHz measured against %s", (unsigned long)(measured / 1000), measured_source);
        return measured;
    }
    log_warn("TSC calibration: no CPUID frequency, no PM timer, the PIT did not count; assuming 1 GHz "
             "(ticks will be off)");
    return FALLBACK_HZ;
}
