/*
 * The guest service, host side (DESIGN.md §1, §2, §5): the mailbox device, the
 * heartbeat monitor and the IVMGuestOS / IVMGuestOS2 operations. Pure C: it
 * knows nothing of VMX. It sees the shared region as memory the guest may change
 * at any moment, and the rest of the machine through struct guest_service_platform.
 *
 * Threading: none. The hypervisor calls guest_service_tick() from its timer tick,
 * guest_service_doorbell() from the doorbell exit, and the operation functions
 * from the console; all on one CPU, never re-entered.
 */
#ifndef VIGIL_GUEST_SVC_HOST_GUEST_SERVICE_H
#define VIGIL_GUEST_SVC_HOST_GUEST_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/abi.h>

#include "guest-svc/host/heartbeat_monitor.h"
#include "guest-svc/host/service_types.h"


struct guest_service; /* opaque size below: the hypervisor allocates it statically */
size_t guest_service_size(void);

/* region: the host's pointer to the shared region (VIGIL_SHARED_REGION_SIZE bytes,
 * which the guest sees at region_guest_physical). Initialises the status page. */
void guest_service_init(struct guest_service *service, const struct guest_service_platform *platform,
                        volatile void *region, uint64_t region_guest_physical);
/* Timer tick: samples the heartbeat, notices registration, expires timeouts,
 * refreshes the time record, sends the next queued request. */
void guest_service_tick(struct guest_service *service);
/* Doorbell exit: handles exactly one message from the response slot. Returns the
 * VIGIL_DOORBELL_* result it also wrote to the status page. */
uint32_t guest_service_doorbell(struct guest_service *service);
/* The guest is gone (powered off, triple fault, stopped): running requests
 * complete with VM_E_VM_NOT_RUNNING; properties stay readable (cached). */
void guest_service_guest_stopped(struct guest_service *service, enum guest_service_event_kind why, const char *detail);

/* Offers an Additions package (read-only guest memory) for InstallAdditions. */
void guest_service_offer_additions(struct guest_service *service, uint64_t guest_physical, uint32_t size,
                                   const char *version);

/* ---- IVMGuestOS properties: synchronous, from the cached registration. Return an
 * HRESULT; output strings are NUL-terminated and bounded by `size`. */
uint32_t guest_service_additions_version(const struct guest_service *service, char *out, size_t size);
uint32_t guest_service_os_name(const struct guest_service *service, char *out, size_t size);
uint32_t guest_service_computer_name(const struct guest_service *service, char *out, size_t size);
uint32_t guest_service_can_shutdown(const struct guest_service *service, bool *out);
uint32_t guest_service_heartbeat_percentage(const struct guest_service *service, uint32_t *out);
uint32_t guest_service_is_heartbeating(const struct guest_service *service, bool *out);
uint32_t guest_service_is_time_sync_enabled(const struct guest_service *service, bool *out);
uint32_t guest_service_set_time_sync(struct guest_service *service, bool enabled);
/* the full heartbeat report (1/5/15-minute percentages, gaps, last-beat age) */
void guest_service_heartbeat_report(const struct guest_service *service, struct heartbeat_report *out);
/* the failure interval of IsHeartbeating (default 10 s) */
uint32_t guest_service_set_heartbeat_failure_interval(struct guest_service *service, uint32_t milliseconds);
bool guest_service_guest_running(const struct guest_service *service);
bool guest_service_additions_registered(const struct guest_service *service);

/* ---- IVMGuestOS methods: asynchronous. On success *request_id identifies the
 * request in the callbacks; on failure the HRESULT says why and no callback comes. */
uint32_t guest_service_execute(struct guest_service *service, const struct guest_execute_command *command,
                               const struct guest_service_callbacks *callbacks, uint32_t *request_id);
/* Kill the running command of request_id (its completion reports VIGIL_EXECUTE_KILLED).
 * A command still queued completes at once with E_ABORT and VIGIL_EXECUTE_KILLED; an id
 * that is no EXECUTE in flight or queued gives E_INVALIDARG. */
uint32_t guest_service_kill(struct guest_service *service, uint32_t request_id);
uint32_t guest_service_set_parameter(struct guest_service *service, const char *name, const char *value,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id);
uint32_t guest_service_get_parameter(struct guest_service *service, const char *name,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id);
uint32_t guest_service_list_parameters(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                                       uint32_t *request_id);
uint32_t guest_service_shutdown(struct guest_service *service, const struct guest_shutdown_command *command,
                                const struct guest_service_callbacks *callbacks, uint32_t *request_id);
/* VM_E_DRIVE_INVALID if no package is offered (guest_service_offer_additions). */
uint32_t guest_service_install_additions(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                                         uint32_t *request_id);
uint32_t guest_service_nop(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                           uint32_t *request_id);

/* Validation shared with the console: 1..255 characters, no '\\', no control characters. */
bool guest_service_parameter_name_valid(const char *name);

const struct guest_service_statistics *guest_service_get_statistics(const struct guest_service *service);
/* Status names and sentences: vigil_status_name()/vigil_status_message() in vigil/status.h. */

#endif
