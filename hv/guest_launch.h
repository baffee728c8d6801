/* From boot module to running guest (DESIGN.md §4 stages 3-6). */
#ifndef VIGIL_HV_GUEST_LAUNCH_H
#define VIGIL_HV_GUEST_LAUNCH_H

#include "arch/x86_64/vmx_capability.h"
#include "drivers/acpi/acpi_power.h"
#include "hv/cmdline.h"
#include "hv/multiboot.h"
#include "hv/vcpu_run.h"

/* Loads module 0 as a Multiboot1 ELF guest and runs it until it ends; returns
 * how it ended, or NULL if there is no guest module. Refusals (bad ELF, missing
 * VT-x features) are logged and end in the stop policy. */
const struct guest_end *guest_launch(struct boot_info *boot, const struct hv_options *options,
                                     const struct vmx_capabilities *capabilities,
                                     const struct acpi_power_config *power, uint64_t tsc_frequency);

#endif
