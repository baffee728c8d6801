/*
 * The mailbox's receiving half (DESIGN.md §2): the doorbell hands over one
 * message of the response slot, copied out once, bounded and checked before
 * use; a reply completes or streams into the request in flight. A guest-initiated
 * message (sequence 0) is the service's (guest_service.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/mailbox_receive.h"

#include "guest-svc/host/mailbox.h"

uint32_t gs_mailbox_rejected(struct guest_service *service)
{
    service->statistics.messages_rejected++;
    return VIGIL_DOORBELL_REJECTED;
}

/* A response that cannot be right for the request it answers: the request ends
 * with E_PROTOCOL, and the message is rejected. */
static uint32_t protocol_error(struct guest_service *service, const char *why)
{
    gs_log(service, "malformed reply to request %u (%s): %s", (unsigned)service->in_flight.id,
           gs_operation_name(service->in_flight.operation), why);
    gs_fail_in_flight(service, VIGIL_E_PROTOCOL);
    gs_pump(service);
    return gs_mailbox_rejected(service);
}

static uint32_t complete_with(struct guest_service *service, struct guest_service_result *result)
{
    struct gs_finished done = gs_take_in_flight(service);
    gs_deliver(service, &done, result);
    gs_pump(service);
    return VIGIL_DOORBELL_ACCEPTED;
}

static uint32_t complete_status(struct guest_service *service, uint32_t status)
{
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = status;
    return complete_with(service, &result);
}

static void stream(struct guest_service *service, uint32_t kind, const uint8_t *data, size_t length)
{
    service->statistics.bytes_streamed += length;
    const struct guest_service_callbacks *callbacks = &service->in_flight.callbacks;
    if (callbacks->on_data)
        callbacks->on_data(callbacks->context, service->in_flight.id, kind, data, length);
}

static uint32_t execute_reply(struct guest_service *service, const struct vigil_message *message)
{
    if (message->flags & VIGIL_MESSAGE_MORE) {
        uint32_t kind = message->flags & (VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_STDERR);
        if (kind == (VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_STDERR))
            return protocol_error(service, "chunk marked both stdout and stderr");
        if (kind == 0 && message->length != 0)
            return protocol_error(service, "output chunk marked neither stdout nor stderr");
        if (message->length)
            stream(service, kind, message->payload, message->length);
        return VIGIL_DOORBELL_ACCEPTED;
    }
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = message->status;
    if (message->length == sizeof(struct vigil_execute_result)) {
        struct vigil_execute_result end;
        memcpy(&end, message->payload, sizeof(end));
        result.exit_code = end.exit_code;
        result.execute_flags = end.flags & (VIGIL_EXECUTE_KILLED | VIGIL_EXECUTE_TIMED_OUT);
    } else if (message->status == VIGIL_S_OK) {
        return protocol_error(service, "execute result is not 8 bytes");
    }
    return complete_with(service, &result);
}

static uint32_t list_reply(struct guest_service *service, const struct vigil_message *message)
{
    bool more = (message->flags & VIGIL_MESSAGE_MORE) != 0;
    if (!more && message->status != VIGIL_S_OK)
        return complete_status(service, message->status);
    const char *names = (const char *)message->payload;
    uint32_t length = message->length;
    if (length && names[length - 1] != '\0')
        return protocol_error(service, "parameter names not NUL-terminated");
    /* Check the whole chunk before delivering any of it. */
    for (uint32_t at = 0; at < length;) {
        size_t n = strlen(names + at);
        if (n == 0 || n > VIGIL_PARAMETER_NAME_MAX || !gs_parameter_name_valid(names + at))
            return protocol_error(service, "invalid parameter name in list");
        at += (uint32_t)n + 1;
    }
    uint32_t sequence = service->in_flight.sequence;
    for (uint32_t at = 0; at < length;) {
        size_t n = strlen(names + at);
        stream(service, 0, (const uint8_t *)names + at, n);
        at += (uint32_t)n + 1;
        if (!service->in_flight_valid || service->in_flight.sequence != sequence)
            return VIGIL_DOORBELL_ACCEPTED; /* defensive: a callback ended the request */
    }
    if (more)
        return VIGIL_DOORBELL_ACCEPTED;
    return complete_status(service, VIGIL_S_OK);
}

static uint32_t get_parameter_reply(struct guest_service *service, const struct vigil_message *message)
{
    if (message->flags & VIGIL_MESSAGE_MORE)
        return protocol_error(service, "GET_PARAMETER answer cannot be streamed");
    if (message->status != VIGIL_S_OK)
        return complete_status(service, message->status);
    const uint8_t *end = memchr(message->payload, '\0', message->length);
    if (!end)
        return protocol_error(service, "parameter value not NUL-terminated");
    size_t length = (size_t)(end - message->payload);
    if (length > VIGIL_PARAMETER_VALUE_MAX)
        return protocol_error(service, "parameter value too long");
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = VIGIL_S_OK;
    memcpy(result.value, message->payload, length);
    result.value[length] = '\0';
    return complete_with(service, &result);
}

static uint32_t shutdown_reply(struct guest_service *service, const struct vigil_message *message)
{
    if (message->flags & VIGIL_MESSAGE_MORE)
        return protocol_error(service, "SHUTDOWN answer cannot be streamed");
    if (message->status != VIGIL_S_OK)
        return complete_status(service, message->status); /* e.g. ERROR_MACHINE_LOCKED: vetoed */
    /* Accepted: the request completes when the guest stops, or at its deadline. */
    service->in_flight.final_received = true;
    service->host_flags &= ~VIGIL_HOST_FLAG_REQUEST_PENDING;
    gs_write_host_flags(service);
    return VIGIL_DOORBELL_ACCEPTED;
}

uint32_t gs_mailbox_reply(struct guest_service *service, const struct vigil_message *message)
{
    if (service->kill_sequence && message->sequence == service->kill_sequence &&
        message->operation == VIGIL_OP_KILL) {
        service->kill_sequence = 0; /* the answer to an out-of-band KILL */
        struct gs_request *execute = &service->in_flight;
        if (service->in_flight_valid && execute->operation == VIGIL_OP_EXECUTE && !execute->internal &&
            execute->next_chunk == 0) {
            /* Nothing of the command yet: it may never have started (gs_kill). */
            execute->kill_acknowledged = true;
            uint64_t end = gs_now(service) + GS_KILL_TIMEOUT_MS;
            if (end < execute->deadline_ms)
                execute->deadline_ms = end;
        }
        return VIGIL_DOORBELL_ACCEPTED;
    }
    struct gs_request *request = &service->in_flight;
    if (!service->in_flight_valid || request->final_received || message->sequence != request->sequence ||
        message->operation != request->operation) {
        service->statistics.replies_unsolicited++;
        gs_log(service, "unsolicited reply: sequence %u op 0x%x (in flight: %u op 0x%x)",
               (unsigned)message->sequence, (unsigned)message->operation,
               service->in_flight_valid ? (unsigned)request->sequence : 0u,
               service->in_flight_valid ? (unsigned)request->operation : 0u);
        return gs_mailbox_rejected(service);
    }
    if (message->chunk != request->next_chunk) {
        gs_log(service, "reply to request %u: chunk %u, expected %u", (unsigned)request->id,
               (unsigned)message->chunk, (unsigned)request->next_chunk);
        return gs_mailbox_rejected(service);
    }
    request->next_chunk++;
    service->statistics.chunks_received++;
    /* A chunk after the KILL's answer: the command did start. It keeps the
     * shortened deadline; if its end does not come, it times out (and is killed
     * again) like any EXECUTE. */
    request->kill_acknowledged = false;

    switch (request->operation) {
    case VIGIL_OP_EXECUTE: return execute_reply(service, message);
    case VIGIL_OP_LIST_PARAMETERS: return list_reply(service, message);
    case VIGIL_OP_GET_PARAMETER: return get_parameter_reply(service, message);
    case VIGIL_OP_SHUTDOWN: return shutdown_reply(service, message);
    default:
        if (message->flags & VIGIL_MESSAGE_MORE)
            return protocol_error(service, "answer cannot be streamed");
        return complete_status(service, request->internal ? VIGIL_S_OK : message->status);
    }
}

uint32_t gs_mailbox_take(struct guest_service *service)
{
    uint64_t second = gs_now(service) / 1000u;
    if (second != service->doorbell_window_second) {
        service->doorbell_window_second = second;
        service->doorbell_window_count = 0;
    }
    if (++service->doorbell_window_count > GUEST_SERVICE_DOORBELLS_PER_SECOND_MAX) {
        service->statistics.doorbells_rate_limited++;
        return VIGIL_DOORBELL_RATE_LIMITED;
    }
    if (!service->running)
        return gs_mailbox_rejected(service);

    struct vigil_message *message = &service->response;
    gs_copy_from_guest(message, service->response_slot, VIGIL_MESSAGE_HEADER_SIZE);
    if (message->length > VIGIL_MESSAGE_PAYLOAD_MAX) {
        gs_log(service, "message length %u exceeds %u", (unsigned)message->length,
               (unsigned)VIGIL_MESSAGE_PAYLOAD_MAX);
        return gs_mailbox_rejected(service);
    }
    gs_copy_from_guest(message->payload, service->response_slot->payload, message->length);
    return VIGIL_DOORBELL_ACCEPTED;
}

