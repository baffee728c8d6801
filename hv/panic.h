/* What the hypervisor does when it cannot go on, and how it powers off. */
#ifndef VIGIL_HV_PANIC_H
#define VIGIL_HV_PANIC_H

#include <stdint.h>

#include "hv/cmdline.h"
#include "lib/panic.h" /* panic, panic_apply_policy: implemented in hv/panic.c */

struct acpi_power_config;
/* The policy, and the power-off/reset values acpi_power_read saved at start (copied). */
void panic_configure(enum panic_policy policy, const struct acpi_power_config *power);

/* Resets the machine with the saved ACPI values; returns only if that failed. */
void hv_reset(void);
/* After the guest stopped for good: the same policy as a panic (power off in
 * emulators, halt on hardware) without calling it one. */
__attribute__((noreturn)) void hv_stop_after_guest(const char *reason);
/* Orderly end: prints "vigil: power off: <reason>" and powers the machine off. */
__attribute__((noreturn)) void hv_power_off(const char *reason);

#endif
