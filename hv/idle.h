/* What the hypervisor does once its guest has ended (cmdline guest_exit=). */
#ifndef VIGIL_HV_IDLE_H
#define VIGIL_HV_IDLE_H

#include "hv/cmdline.h"
#include "hv/guest_lifecycle.h"

void idle_configure(enum guest_exit_policy policy);
/* Called by hv_main after the run loop returned, outside any VM exit.
 * guest_exit=poweroff: power off (or apply the stop policy if the guest failed).
 * guest_exit=console: keep the console and the service's clock running, polled
 * from a loop (no guest, no VM exits: hv/timer.c by the TSC), until the
 * operator powers off. */
__attribute__((noreturn)) void idle_after_guest(const struct guest_end *end);

#endif
