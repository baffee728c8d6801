/*
 * Putting events into the guest on the next VM entry (SDM Vol. 3C §27.6):
 * exceptions, NMIs, external interrupts, with an interrupt window when the guest
 * cannot take an external interrupt right now.
 */
#ifndef VIGIL_HV_EVENT_INJECTION_H
#define VIGIL_HV_EVENT_INJECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/vcpu.h"

#define VECTOR_INVALID_OPCODE 6
#define VECTOR_GENERAL_PROTECTION 13

void inject_exception(struct vcpu *vcpu, uint8_t vector);
void inject_exception_with_error_code(struct vcpu *vcpu, uint8_t vector, uint32_t error_code);
void inject_nmi(struct vcpu *vcpu);
/* Injects now if the guest is interruptible, else queues the vector and asks
 * for an interrupt-window exit. Returns false if one is already queued. */
bool inject_external_interrupt(struct vcpu *vcpu, uint8_t vector);
/* Called on an interrupt-window exit: injects the queued vector. */
void inject_pending_external_interrupt(struct vcpu *vcpu);
/* An NMI for the guest (reflected from the host, or one that arrived while the
 * guest ran): injected now if the guest can take it, else at an NMI-window exit. */
void queue_nmi(struct vcpu *vcpu);
/* On an NMI-window exit (and after queue_nmi): injects a waiting NMI if possible. */
void inject_pending_nmi(struct vcpu *vcpu);
/* NMIs vigil took itself (arch/x86_64/exception.c counts them) go to the guest:
 * the machine's NMI sources (watchdogs, error reports) are the guest's. */
void reflect_host_nmis(struct vcpu *vcpu, uint64_t host_nmis_seen);
/* An event being delivered when the exit happened must be delivered again
 * (SDM Vol. 3C §28.2.4): copies IDT-vectoring information to the entry fields. */
void reinject_interrupted_event(struct vcpu *vcpu);

#endif
