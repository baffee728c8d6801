/* The boot log's ACPI summary (what acpi_discover found at start). */
#ifndef VIGIL_HV_ACPI_REPORT_H
#define VIGIL_HV_ACPI_REPORT_H

#include "drivers/acpi/acpi_power.h"

/* Prints the RSDP, MADT and FADT lines, or for each what is missing and the
 * fallback vigil uses instead. `failure` is acpi_discover's result. */
void acpi_report(const struct acpi_discovery *found, const struct acpi_power_config *power, const char *failure);

#endif
