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
/* Once the guest service runs: the heartbeat interval from the command line, and
 * the service's observer (events, ticks, the guest's end) pointed here. */
void guest_recovery_service_started(void);
/* The guest is about to run (again): counts the boot. */
void guest_recovery_guest_starting(void);
/* A guest-service event (heartbeat stopped/resumed) as it is emitted. */
void guest_recovery_event(const struct guest_service_event *event);
/* Every hypervisor tick: further attempts, delayed actions. True while a policy
 * wants the running guest stopped for a restart (the run loop stops it). */
bool guest_recovery_tick(void);
/* The guest asked for a reset (0xCF9, ...): a restart under the loop guard. */
void guest_recovery_reset_requested(void);
/* An operator's reboot that vigil carries out (shutdown --reboot, forced): not delayed, not counted. */
void guest_recovery_operator_restart(void);
/* The pristine copy of module 0 still has the digest measured at the first launch. */
bool guest_recovery_check_pristine(const void *copy, uint64_t size);
/* After the guest ended: true when it is to be started again now (waits through a
 * policy's backoff with the console up); false if it stays stopped. */
bool guest_recovery_restart_due(void);
/* The guest stopped (why: the event kind sent; detail: the reason). */
void guest_recovery_guest_stopped(enum guest_service_event_kind why, const char *detail);

#endif
