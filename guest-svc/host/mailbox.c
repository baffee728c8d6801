/*
 * The mailbox (DESIGN.md §2): one request in flight in the request slot, a queue
 * of GUEST_SERVICE_QUEUE_MAX behind it; the doorbell hands over one message of the
 * response slot, which is copied out once, bounded and checked before use.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/guest_service_internal.h"

static const char *operation_name(uint32_t operation)
{
    switch (operation) {
    case VIGIL_OP_NOP: return "NOP";
    case VIGIL_OP_EXECUTE: return "EXECUTE";
    case VIGIL_OP_KILL: return "KILL";
    case VIGIL_OP_SET_PARAMETER: return "SET_PARAMETER";
    case VIGIL_OP_GET_PARAMETER: return "GET_PARAMETER";
    case VIGIL_OP_LIST_PARAMETERS: return "LIST_PARAMETERS";
    case VIGIL_OP_SHUTDOWN: return "SHUTDOWN";
    case VIGIL_OP_INSTALL_ADDITIONS: return "INSTALL_ADDITIONS";
    case VIGIL_OP_REGISTER: return "REGISTER";
    case VIGIL_OP_EVENT: return "EVENT";
    default: return "unknown";
    }
}

/* ---- Sending ------------------------------------------------------------------------- */

static uint32_t next_sequence(struct guest_service *service)
{
    uint32_t sequence = service->next_sequence++;
    if (service->next_sequence == 0)
        service->next_sequence = 1; /* 0 marks guest-initiated messages */
    return sequence;
}

static void write_request_slot(struct guest_service *service, uint16_t operation, const uint8_t *payload,
                               uint32_t length, uint32_t sequence)
{
    volatile struct vigil_message *slot = service->request_slot;
    /* Sequence 0 first: a guest copying the previous request out (it re-reads the
     * sequence after its copy, and ignores 0) sees the change and drops the torn copy.
     * This matters when the slot is rewritten under a request the guest may be
     * reading: an out-of-band KILL, or the next request after a timeout. */
    slot->sequence = 0;
    __asm__ volatile("" ::: "memory");
    gs_copy_to_guest(slot->payload, payload, length);
    slot->operation = operation;
    slot->flags = 0;
    slot->status = 0;
    slot->length = length;
    slot->chunk = 0;
    slot->reserved = 0;
    __asm__ volatile("" ::: "memory");
    slot->sequence = sequence;
    __asm__ volatile("" ::: "memory");
    service->host_flags |= VIGIL_HOST_FLAG_REQUEST_PENDING;
    if (operation == VIGIL_OP_SHUTDOWN)
        service->host_flags |= VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED;
    gs_write_host_flags(service);
    service->statistics.requests_sent++;
    uint32_t vector = service->registration.interrupt_vector;
    if (service->registered && vector && service->platform.inject_interrupt)
        service->platform.inject_interrupt(service->platform.context, (uint8_t)vector);
}

/* A SHUTDOWN's timeout runs from gs_commit, queued or not (an operator's
 * `shutdown --force --timeout 3` must not wait behind a hung EXECUTE's 35 s), so
 * the guest is told what is left of it when the request reaches the slot. */
static void set_shutdown_time_left(struct gs_request *request, uint64_t now)
{
    struct vigil_shutdown_request header;
    if (request->length < sizeof(header))
        return;
    uint64_t left = request->deadline_ms > now ? request->deadline_ms - now : 1u;
    memcpy(&header, request->payload, sizeof(header));
    header.timeout_ms = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    memcpy(request->payload, &header, sizeof(header));
}

/* Sends service->in_flight, which the caller has filled. */
static void send_in_flight(struct guest_service *service)
{
    struct gs_request *request = &service->in_flight;
    uint64_t now = gs_now(service);
    request->sequence = next_sequence(service);
    request->next_chunk = 0;
    request->final_received = false;
    request->kill_acknowledged = false;
    if (request->operation == VIGIL_OP_SHUTDOWN && !request->internal)
        set_shutdown_time_left(request, now); /* deadline_ms: set by gs_commit */
    else
        request->deadline_ms = now + request->timeout_ms;
    service->in_flight_valid = true;
    write_request_slot(service, request->operation, request->payload, request->length, request->sequence);
}

struct gs_request *gs_reserve(struct guest_service *service)
{
    if (!service->in_flight_valid && service->queue_count == 0)
        return &service->in_flight;
    if (service->queue_count >= GUEST_SERVICE_QUEUE_MAX) {
        service->statistics.requests_refused_busy++;
        return NULL;
    }
    return &service->queue[(service->queue_head + service->queue_count) % GUEST_SERVICE_QUEUE_MAX];
}

void gs_commit(struct guest_service *service, struct gs_request *request, uint32_t *request_id)
{
    request->id = service->next_request_id++;
    if (service->next_request_id == 0)
        service->next_request_id = 1;
    if (request_id)
        *request_id = request->id;
    if (request->operation == VIGIL_OP_SHUTDOWN)
        request->deadline_ms = gs_now(service) + request->timeout_ms; /* also while queued: gs_expire */
    if (request == &service->in_flight)
        send_in_flight(service);
    else
        service->queue_count++;
}

void gs_pump(struct guest_service *service)
{
    if (!service->running || service->in_flight_valid || service->queue_count == 0)
        return;
    service->in_flight = service->queue[service->queue_head];
    service->queue_head = (service->queue_head + 1) % GUEST_SERVICE_QUEUE_MAX;
    service->queue_count--;
    send_in_flight(service);
}

/* The service's own KILL (after an EXECUTE failed host-side): held in flight until
 * the guest acknowledges it or GS_KILL_TIMEOUT_MS pass, so that the next request
 * does not overwrite it before the guest saw it. */
static void send_internal_kill(struct guest_service *service)
{
    struct gs_request *request = &service->in_flight;
    request->id = 0;
    request->operation = VIGIL_OP_KILL;
    request->internal = true;
    request->length = 0;
    request->timeout_ms = GS_KILL_TIMEOUT_MS;
    memset(&request->callbacks, 0, sizeof(request->callbacks));
    send_in_flight(service);
}

/* ---- Completion ------------------------------------------------------------------------ */

struct finished {
    uint32_t id;
    bool internal;
    struct guest_service_callbacks callbacks;
};

/* Takes the in-flight request out of the mailbox; the caller delivers its result. */
static struct finished take_in_flight(struct guest_service *service)
{
    struct finished done = {service->in_flight.id, service->in_flight.internal, service->in_flight.callbacks};
    service->host_flags &= ~VIGIL_HOST_FLAG_REQUEST_PENDING;
    if (service->in_flight.operation == VIGIL_OP_SHUTDOWN)
        service->host_flags &= ~VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED;
    gs_write_host_flags(service);
    service->in_flight_valid = false;
    return done;
}

static void deliver(struct guest_service *service, const struct finished *done, struct guest_service_result *result)
{
    if (done->internal)
        return;
    service->statistics.requests_completed++;
    result->request_id = done->id;
    if (done->callbacks.on_complete)
        done->callbacks.on_complete(done->callbacks.context, result);
}

static void deliver_status(struct guest_service *service, const struct finished *done, uint32_t status)
{
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = status;
    deliver(service, done, &result);
}

/* Ends the in-flight request with a status; an EXECUTE ended host-side (timeout,
 * malformed answer) also has its command killed in the guest. */
static void fail_in_flight(struct guest_service *service, uint32_t status)
{
    bool was_execute = service->in_flight.operation == VIGIL_OP_EXECUTE && !service->in_flight.internal;
    struct finished done = take_in_flight(service);
    if (was_execute && service->running)
        send_internal_kill(service);
    deliver_status(service, &done, status);
}

void gs_fail_all(struct guest_service *service, uint32_t status)
{
    if (service->in_flight_valid) {
        bool shutdown = service->in_flight.operation == VIGIL_OP_SHUTDOWN;
        struct finished done = take_in_flight(service);
        /* the guest stopping is what a Shutdown asked for */
        deliver_status(service, &done, shutdown && status == VIGIL_VM_E_VM_NOT_RUNNING ? VIGIL_S_OK : status);
    }
    while (service->queue_count) {
        struct gs_request *request = &service->queue[service->queue_head];
        struct finished done = {request->id, request->internal, request->callbacks};
        service->queue_head = (service->queue_head + 1) % GUEST_SERVICE_QUEUE_MAX;
        service->queue_count--;
        deliver_status(service, &done, status);
    }
    service->kill_sequence = 0;
}

/* Removes the index-th queued request (0 = the head) and returns what its
 * completion needs. */
static struct finished remove_queued(struct guest_service *service, uint32_t index)
{
    struct gs_request *request = &service->queue[(service->queue_head + index) % GUEST_SERVICE_QUEUE_MAX];
    struct finished done = {request->id, request->internal, request->callbacks};
    for (uint32_t j = index; j + 1 < service->queue_count; j++)
        service->queue[(service->queue_head + j) % GUEST_SERVICE_QUEUE_MAX] =
            service->queue[(service->queue_head + j + 1) % GUEST_SERVICE_QUEUE_MAX];
    service->queue_count--;
    return done;
}

/* A forced SHUTDOWN reached its deadline (in flight, or still queued behind
 * another request): the hypervisor stops the guest itself. The SHUTDOWN, already
 * taken out of the mailbox (done), completes with S_OK; everything else with
 * VM_E_VM_NOT_RUNNING (gs_mark_stopped). */
static void force_off(struct guest_service *service, const struct finished *done, bool reboot, const char *reason,
                      uint32_t timeout_ms, bool was_queued)
{
    if (service->platform.force_guest_off)
        service->platform.force_guest_off(service->platform.context, reboot, reason);
    gs_emit_stop(service, GUEST_EVENT_GUEST_SHUTDOWN, "forced %s after %u ms%s: %s", reboot ? "reset" : "power off",
            (unsigned)timeout_ms, was_queued ? " (still queued)" : "", reason[0] ? reason : "no reason given");
    service->running = false; /* the callback must not queue to a guest that is gone */
    deliver_status(service, done, VIGIL_S_OK);
    gs_mark_stopped(service);
}

static void expire_in_flight(struct guest_service *service)
{
    struct gs_request *request = &service->in_flight;
    if (request->internal) {
        gs_log(service, "the guest did not acknowledge KILL (sequence %u)", (unsigned)request->sequence);
        take_in_flight(service);
        return;
    }
    if (request->operation == VIGIL_OP_SHUTDOWN && request->shutdown_force) {
        char reason[VIGIL_SHUTDOWN_REASON_MAX + 1];
        memcpy(reason, request->shutdown_reason, sizeof(reason));
        bool reboot = request->shutdown_reboot;
        uint32_t timeout = request->timeout_ms;
        struct finished done = take_in_flight(service);
        force_off(service, &done, reboot, reason, timeout, false);
        return;
    }
    if (request->operation == VIGIL_OP_EXECUTE && request->kill_acknowledged) {
        /* The guest answered the KILL guest_service_kill sent, and nothing of the
         * command came within GS_KILL_TIMEOUT_MS after: it never started (the KILL
         * replaced it in the slot before the guest copied it out). Not a timeout,
         * and no second KILL: the guest has taken one since (see gs_kill). */
        gs_log(service, "request %u (EXECUTE) killed before the guest started it", (unsigned)request->id);
        struct finished done = take_in_flight(service);
        struct guest_service_result result;
        memset(&result, 0, sizeof(result));
        result.status = VIGIL_E_ABORT;
        result.exit_code = -1;
        result.execute_flags = VIGIL_EXECUTE_KILLED;
        deliver(service, &done, &result);
        return;
    }
    service->statistics.requests_timed_out++;
    gs_log(service, "request %u (%s) timed out after %u ms", (unsigned)request->id,
           operation_name(request->operation), (unsigned)request->timeout_ms);
    fail_in_flight(service, VIGIL_VM_E_TIMED_OUT);
}

/* SHUTDOWNs still queued whose timeout (counted from gs_commit) has passed:
 * forced ones stop the guest now, the others end with VM_E_TIMED_OUT and never
 * reach the guest. */
static void expire_queued_shutdowns(struct guest_service *service, uint64_t now)
{
    for (uint32_t i = 0; i < service->queue_count && service->running;) {
        const struct gs_request *request = &service->queue[(service->queue_head + i) % GUEST_SERVICE_QUEUE_MAX];
        if (request->operation != VIGIL_OP_SHUTDOWN || request->internal || now < request->deadline_ms) {
            i++;
            continue;
        }
        char reason[VIGIL_SHUTDOWN_REASON_MAX + 1];
        memcpy(reason, request->shutdown_reason, sizeof(reason));
        bool force = request->shutdown_force, reboot = request->shutdown_reboot;
        uint32_t id = request->id, timeout = request->timeout_ms;
        struct finished done = remove_queued(service, i);
        if (force) {
            force_off(service, &done, reboot, reason, timeout, true);
            return;
        }
        service->statistics.requests_timed_out++;
        gs_log(service, "request %u (SHUTDOWN) timed out after %u ms, still queued", (unsigned)id,
               (unsigned)timeout);
        deliver_status(service, &done, VIGIL_VM_E_TIMED_OUT); /* may queue more: i stays */
    }
}

void gs_expire(struct guest_service *service, uint64_t now)
{
    if (service->in_flight_valid && now >= service->in_flight.deadline_ms)
        expire_in_flight(service);
    if (service->running)
        expire_queued_shutdowns(service, now);
}

uint32_t gs_kill(struct guest_service *service, uint32_t request_id)
{
    if (!service->running)
        return VIGIL_VM_E_VM_NOT_RUNNING;
    if (request_id == 0)
        return VIGIL_E_INVALIDARG;
    if (service->in_flight_valid && !service->in_flight.internal && service->in_flight.id == request_id) {
        if (service->in_flight.operation != VIGIL_OP_EXECUTE)
            return VIGIL_E_INVALIDARG;
        /* Out of band: the KILL replaces the EXECUTE in the request slot; the
         * EXECUTE stays in flight and reports KILLED in its final chunk; the guest's
         * answer to the KILL itself is accepted (reply()).
         *
         * The guest may not have copied the EXECUTE out yet: then the KILL replaced
         * it and it never runs, so no chunk of it will ever come. The host cannot
         * tell that case from a command that runs without output yet (the guest
         * leaves no trace of taking a request), so the EXECUTE is NOT completed here
         * without sending anything: a command already running would go on unkilled
         * with its end dropped as unsolicited. The KILL is always sent (harmless if
         * nothing runs), and if the guest answers it before any chunk of the
         * EXECUTE, the EXECUTE gets GS_KILL_TIMEOUT_MS for its final chunk (a running
         * command's KILLED end follows its KILL's answer); after that it completes as
         * killed before it started (E_ABORT, KILLED, like a queued one) instead of
         * ending VM_E_TIMED_OUT at its full deadline (expire_in_flight). */
        uint32_t sequence = next_sequence(service);
        service->kill_sequence = sequence;
        write_request_slot(service, VIGIL_OP_KILL, NULL, 0, sequence);
        return VIGIL_S_OK;
    }
    for (uint32_t i = 0; i < service->queue_count; i++) {
        uint32_t index = (service->queue_head + i) % GUEST_SERVICE_QUEUE_MAX;
        if (service->queue[index].id != request_id)
            continue;
        if (service->queue[index].operation != VIGIL_OP_EXECUTE)
            return VIGIL_E_INVALIDARG;
        /* Never sent: complete it here, killed before it started. */
        struct finished done = remove_queued(service, i);
        struct guest_service_result result;
        memset(&result, 0, sizeof(result));
        result.status = VIGIL_E_ABORT;
        result.exit_code = -1;
        result.execute_flags = VIGIL_EXECUTE_KILLED;
        deliver(service, &done, &result);
        return VIGIL_S_OK;
    }
    return VIGIL_E_INVALIDARG;
}

/* ---- The doorbell ---------------------------------------------------------------------- */

static uint32_t rejected(struct guest_service *service)
{
    service->statistics.messages_rejected++;
    return VIGIL_DOORBELL_REJECTED;
}

/* A response that cannot be right for the request it answers: the request ends
 * with E_PROTOCOL, and the message is rejected. */
static uint32_t protocol_error(struct guest_service *service, const char *why)
{
    gs_log(service, "malformed reply to request %u (%s): %s", (unsigned)service->in_flight.id,
           operation_name(service->in_flight.operation), why);
    fail_in_flight(service, VIGIL_E_PROTOCOL);
    gs_pump(service);
    return rejected(service);
}

static uint32_t complete_with(struct guest_service *service, struct guest_service_result *result)
{
    struct finished done = take_in_flight(service);
    deliver(service, &done, result);
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
        if (n == 0 || n > VIGIL_PARAMETER_NAME_MAX || !guest_service_parameter_name_valid(names + at))
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

static uint32_t guest_initiated(struct guest_service *service, const struct vigil_message *message)
{
    switch (message->operation) {
    case VIGIL_OP_REGISTER:
        switch (gs_register(service)) {
        case GS_REGISTRATION_OK: return VIGIL_DOORBELL_ACCEPTED;
        case GS_REGISTRATION_BUSY:
            gs_log(service, "REGISTER while the registration is being written (sequence odd or changing)");
            return rejected(service);
        default: return rejected(service);
        }
    case VIGIL_OP_EVENT: {
        struct vigil_guest_event event;
        if (message->length < sizeof(event)) {
            gs_log(service, "EVENT message of %u bytes", (unsigned)message->length);
            return rejected(service);
        }
        memcpy(&event, message->payload, sizeof(event));
        if (event.code == VIGIL_GUEST_EVENT_SHUTTING_DOWN) {
            gs_emit(service, GUEST_EVENT_GUEST_SHUTDOWN, "the guest is shutting down");
            return VIGIL_DOORBELL_ACCEPTED;
        }
        gs_log(service, "unknown guest event %u", (unsigned)event.code);
        return rejected(service);
    }
    default:
        gs_log(service, "unknown guest-initiated operation 0x%x", (unsigned)message->operation);
        return rejected(service);
    }
}

static uint32_t reply(struct guest_service *service, const struct vigil_message *message)
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
        return rejected(service);
    }
    if (message->chunk != request->next_chunk) {
        gs_log(service, "reply to request %u: chunk %u, expected %u", (unsigned)request->id,
               (unsigned)message->chunk, (unsigned)request->next_chunk);
        return rejected(service);
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

static uint32_t handle_doorbell(struct guest_service *service)
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
        return rejected(service);

    struct vigil_message *message = &service->response;
    gs_copy_from_guest(message, service->response_slot, VIGIL_MESSAGE_HEADER_SIZE);
    if (message->length > VIGIL_MESSAGE_PAYLOAD_MAX) {
        gs_log(service, "message length %u exceeds %u", (unsigned)message->length,
               (unsigned)VIGIL_MESSAGE_PAYLOAD_MAX);
        return rejected(service);
    }
    gs_copy_from_guest(message->payload, service->response_slot->payload, message->length);

    if (message->sequence == 0)
        return guest_initiated(service, message);
    return reply(service, message);
}

uint32_t guest_service_doorbell(struct guest_service *service)
{
    service->statistics.doorbells++;
    uint32_t result = handle_doorbell(service);
    service->status->doorbell_result = result;
    service->status->doorbell_count = service->statistics.doorbells;
    return result;
}
