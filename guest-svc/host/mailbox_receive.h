/*
 * The mailbox's receiving half: a doorbell hands over one message of the
 * response slot, copied out once and bounded; a reply completes or streams into
 * the request in flight. Guest-initiated messages are the service's to decide
 * (guest_service.c).
 */
#ifndef VIGIL_GUEST_SVC_HOST_MAILBOX_RECEIVE_H
#define VIGIL_GUEST_SVC_HOST_MAILBOX_RECEIVE_H

#include <stdint.h>

#include "guest-svc/host/service_state.h"

/* Rate limit, then copy the response slot into service->response: returns
 * VIGIL_DOORBELL_ACCEPTED if there is a message to look at, else the doorbell's
 * result (rate limited, or rejected: not running, length out of bounds). */
uint32_t gs_mailbox_take(struct guest_service *service);
/* A reply (sequence != 0) to the request in flight: the doorbell's result. */
uint32_t gs_mailbox_reply(struct guest_service *service, const struct vigil_message *message);
/* Counts a rejected message: returns VIGIL_DOORBELL_REJECTED. */
uint32_t gs_mailbox_rejected(struct guest_service *service);

#endif
