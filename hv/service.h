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

/* Starts the service on the shared region (host pointer = guest-physical address,
 * identity mapped). */
void service_start(uint64_t shared_region_physical);
/* Offers an Additions package (a boot module the guest sees read-only). */
void service_offer_additions(uint64_t guest_physical, uint32_t size, const char *version);
bool service_active(void);
struct guest_service *service_instance(void);

/* CPUID leaf 0x40000002. */
void service_cpuid_shared_region(uint32_t registers[4]);
/* The doorbell (OUT to the port or VMCALL): returns the VIGIL_DOORBELL_* result. */
uint32_t service_doorbell(void);
/* The timer tick, in VMX non-root exits and in the idle loop after the guest ended. */
void service_tick(void);
/* The guest has ended (powered off, stopped, forced off): tell the service. */
void service_guest_ended(enum guest_service_event_kind why, const char *detail);
/* Set when a forced shutdown decided to end the guest; checked after each tick. */
bool service_force_off_requested(bool *reboot);

#endif
