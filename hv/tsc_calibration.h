/* The TSC frequency vigil's clock runs on, chosen once at boot (hv/clock.c). */
#ifndef VIGIL_HV_TSC_CALIBRATION_H
#define VIGIL_HV_TSC_CALIBRATION_H

#include <stdint.h>

#include "drivers/acpi/acpi_power.h"

/* CPUID 0x15, else 0x16, each only when a measurement against the ACPI PM timer
 * (or the PIT) agrees within 5% (an emulator's CPUID may name a frequency its TSC
 * does not run at); else the PM timer measurement; the PIT as the last resort.
 * Logs the source and the frequency. Never 0: with no working reference it
 * assumes 1 GHz and says so. */
uint64_t tsc_calibrate(const struct acpi_power_config *power);

#endif
