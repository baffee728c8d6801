/*
 * The guest's life in the running hypervisor (docs/lifecycle.md): the one
 * struct guest_life, configured from the command line; the measured launch;
 * the recovery policies carried out on heartbeat loss and guest crashes, each
 * action an event and an audit entry.
 */
#ifndef VIGIL_HV_GUEST_RECOVERY_H
#define VIGIL_HV_GUEST_RECOVERY_H

#include <stdbool.h>

#include "guest-svc/host/guest_service.h"
#include "hv/cmdline.h"
#include "hv/guest_life.h"
#include "hv/multiboot.h"

struct guest_life *guest_life_instance(void);
/* Once, after the command line was parsed and the console is up: bad options are logged. */
void guest_recovery_configure(const struct hv_options *options);
/* SHA-256 of every boot module, logged and audited, checked against module_sha256=.
 * False (after logging which module and both digests) if the guest must not launch. */
bool guest_recovery_measure(const struct boot_info *boot);
/* The guest is about to run (again): counts the boot. */
void guest_recovery_guest_starting(void);
/* A guest-service event (heartbeat stopped/resumed) as it is emitted. */
void guest_recovery_event(const struct guest_service_event *event);
/* Every hypervisor tick: further attempts, delayed actions. */
void guest_recovery_tick(void);
/* The guest stopped (why: the event kind sent; detail: the reason). */
void guest_recovery_guest_stopped(enum guest_service_event_kind why, const char *detail);

#endif
