/*
 * The mailbox (DESIGN.md §2), sending side and the guest's end: one request in
 * flight in the request slot, a queue of GUEST_SERVICE_QUEUE_MAX behind it.
 * It moves messages; what they mean is the service's (guest_service.c).
 */
#ifndef VIGIL_GUEST_SVC_HOST_MAILBOX_H
#define VIGIL_GUEST_SVC_HOST_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-svc/host/service_state.h"

/* The request a new operation is encoded into: the in-flight slot if the mailbox
 * is idle, else the tail of the queue; NULL if the queue is full (counted). Nothing
 * is accepted until gs_commit(). */
struct gs_request *gs_reserve(struct guest_service *service);
/* Accept the reserved request: send it now or leave it queued. */
void gs_commit(struct guest_service *service, struct gs_request *request, uint32_t *request_id);
/* Send the next queued request if none is in flight. */
void gs_pump(struct guest_service *service);
/* Expire the in-flight request if its deadline passed (tick). */
void gs_expire(struct guest_service *service, uint64_t now);
/* Complete the in-flight and every queued request (the guest is gone). */
void gs_fail_all(struct guest_service *service, uint32_t status);
/* The KILL that guest_service_kill sends. */
uint32_t gs_kill(struct guest_service *service, uint32_t request_id);
/* The guest is gone: fail everything, keep the cached registration. */
void gs_mark_stopped(struct guest_service *service);

/* A request taken out of the mailbox, whose result its caller delivers. */
struct gs_finished {
    uint32_t id;
    bool internal;
    struct guest_service_callbacks callbacks;
};
/* Shared with the receiving half (mailbox_receive.c). */
const char *gs_operation_name(uint32_t operation);
struct gs_finished gs_take_in_flight(struct guest_service *service);
void gs_deliver(struct guest_service *service, const struct gs_finished *done, struct guest_service_result *result);
void gs_fail_in_flight(struct guest_service *service, uint32_t status);

#endif
