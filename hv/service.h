/*
 * The hypervisor's side of the guest service: it owns the shared region and the
 * guest_service instance, and connects them to VM exits, the timer tick, the
 * clocks and the console (guest-svc/host is pure C and knows none of these).
 */
#ifndef VIGIL_HV_SERVICE_H
#define VIGIL_HV_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"

struct vcpu;

/* What the service's tick decided about the guest. */
enum service_tick_result {
    SERVICE_GUEST_CONTINUES = 0,
    SERVICE_FORCE_GUEST_OFF,         /* a forced shutdown timed out: end the guest */
    SERVICE_FORCE_GUEST_OFF_REBOOT,  /* the same, and the shutdown asked for a reboot */
    SERVICE_POLICY_STOP_GUEST,       /* a recovery policy (heartbeat loss) stops the guest for a restart */
};

/* Starts the service on the shared region (host pointer = guest-physical address,
 * identity mapped); its interrupts go to vcpu. */
void service_start(struct vcpu *vcpu, uint64_t shared_region_physical);
/* Offers an Additions package (a boot module the guest sees read-only). */
void service_offer_additions(uint64_t guest_physical, uint32_t size, const char *version);
bool service_active(void);
struct guest_service *service_instance(void);

/* CPUID leaf 0x40000002. */
void service_cpuid_shared_region(uint32_t registers[4]);
/* The doorbell (OUT to the port or VMCALL): returns the VIGIL_DOORBELL_* result. */
uint32_t service_doorbell(void);
/* Who acts on the guest's life (hv/guest_recovery.c registers itself, so the
 * service does not depend on it): told of every event, asked on every tick
 * whether a policy wants the running guest stopped, told when the guest ended. */
struct service_observer {
    void (*event)(const struct guest_service_event *event);
    bool (*tick)(void); /* true: stop the guest for a restart */
    void (*guest_ended)(enum guest_service_event_kind why, const char *detail);
};
void service_set_observer(const struct service_observer *observer);
/* An NMI into the guest's vCPU on the next entry (recovery policy nmi). */
void service_inject_nmi(void);
/* The timer tick, between VM exits and in the idle loop after the guest ended. */
enum service_tick_result service_tick(void);
/* The guest starts again: the shared region as at the first launch (the service
 * keeps what the operator knew). */
void service_guest_restarted(void);
/* The guest has ended (powered off, stopped, forced off): tell the service. */
void service_guest_ended(enum guest_service_event_kind why, const char *detail);

#endif
