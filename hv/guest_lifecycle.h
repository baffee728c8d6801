/*
 * How the guest's life ends: exit handlers end it by returning what guest_stop,
 * guest_stop_as or guest_powered_off return, and the run loop (hv/vcpu_run.c)
 * ends it with guest_forced_off when the service's shutdown timeout decides so.
 * The loop then returns to hv_main, which decides what the machine does next
 * (hv/idle.c) outside any VM exit. (Launch: hv/guest_launch.c; restart: later.)
 */
#ifndef VIGIL_HV_GUEST_LIFECYCLE_H
#define VIGIL_HV_GUEST_LIFECYCLE_H

#include <stdbool.h>

#include "guest-svc/host/guest_service.h"
#include "hv/vmexit_action.h"

enum guest_end_kind {
    GUEST_END_STOPPED,      /* it could not go on (fault, unexpected exit, forced off, reset) */
    GUEST_END_POWERED_OFF,  /* it asked to power off */
};

struct guest_end {
    enum guest_end_kind kind;
    char reason[192];
};

/* The guest cannot go on: "vigil: guest stopped: <why>", guest state, exit
 * counts; the service hears of it. Returns VMEXIT_GUEST_ENDED. */
__attribute__((format(printf, 2, 3))) enum vmexit_action guest_stop(struct vcpu *vcpu, const char *format, ...);
/* guest_stop with the event kind the service reports (e.g. a triple fault). */
enum vmexit_action guest_stop_as(struct vcpu *vcpu, enum guest_service_event_kind kind, const char *reason);
/* The guest asked for a machine reset (0xCF9, keyboard controller, port 0x92, the
 * ACPI reset register): vigil owns the reset path. Today a clean stop with the
 * reason ("the guest asked for a machine reset: <reason> ..."); the one place where
 * a guest restart goes. */
enum vmexit_action guest_request_reset(struct vcpu *vcpu, const char *reason);
/* The guest asked to power off: "vigil: guest powered off (<how>)", counts. */
enum vmexit_action guest_powered_off(struct vcpu *vcpu, const char *how);
/* A forced shutdown (Shutdown with force) timed out: the guest is stopped. */
enum vmexit_action guest_forced_off(struct vcpu *vcpu, bool reboot_requested);
/* How the guest ended, or NULL while it has not. */
const struct guest_end *guest_ending(void);

#endif
