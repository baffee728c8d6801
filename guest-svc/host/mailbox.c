/*
 * The mailbox (DESIGN.md §2): one request in flight in the request slot, a queue
 * of GUEST_SERVICE_QUEUE_MAX behind it; the doorbell hands over one message of the
 * response slot, which is copied out once, bounded and checked before use.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/mailbox.h"

const char *gs_operation_name(uint32_t operation)
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


/* Takes the in-flight request out of the mailbox; the caller delivers its result. */
struct gs_finished gs_take_in_flight(struct guest_service *service)
{
    struct gs_finished done = {service->in_flight.id, service->in_flight.internal, service->in_flight.callbacks};
    service->host_flags &= ~VIGIL_HOST_FLAG_REQUEST_PENDING;
    if (service->in_flight.operation == VIGIL_OP_SHUTDOWN)
        service->host_flags &= ~VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED;
    gs_write_host_flags(service);
    service->in_flight_valid = false;
    return done;
}

void gs_deliver(struct guest_service *service, const struct gs_finished *done, struct guest_service_result *result)
{
    if (done->internal)
        return;
    service->statistics.requests_completed++;
    result->request_id = done->id;
    if (done->callbacks.on_complete)
        done->callbacks.on_complete(done->callbacks.context, result);
}

/* An EXECUTE killed before the guest started it: E_ABORT, exit code -1, KILLED. */
static void deliver_killed(struct guest_service *service, const struct gs_finished *done)
{
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = VIGIL_E_ABORT;
    result.exit_code = -1;
    result.execute_flags = VIGIL_EXECUTE_KILLED;
    gs_deliver(service, done, &result);
}

static void deliver_status(struct guest_service *service, const struct gs_finished *done, uint32_t status)
{
    struct guest_service_result result;
    memset(&result, 0, sizeof(result));
    result.status = status;
    gs_deliver(service, done, &result);
}

/* Ends the in-flight request with a status; an EXECUTE ended host-side (timeout,
 * malformed answer) also has its command killed in the guest. */
void gs_fail_in_flight(struct guest_service *service, uint32_t status)
{
    bool was_execute = service->in_flight.operation == VIGIL_OP_EXECUTE && !service->in_flight.internal;
    struct gs_finished done = gs_take_in_flight(service);
    if (was_execute && service->running)
        send_internal_kill(service);
    deliver_status(service, &done, status);
}

void gs_fail_all(struct guest_service *service, uint32_t status)
{
    if (service->in_flight_valid) {
        bool shutdown = service->in_flight.operation == VIGIL_OP_SHUTDOWN;
        struct gs_finished done = gs_take_in_flight(service);
        /* the guest stopping is what a Shutdown asked for */
        deliver_status(service, &done, shutdown && status == VIGIL_VM_E_VM_NOT_RUNNING ? VIGIL_S_OK : status);
    }
    while (service->queue_count) {
        struct gs_request *request = &service->queue[service->queue_head];
        struct gs_finished done = {request->id, request->internal, request->callbacks};
        service->queue_head = (service->queue_head + 1) % GUEST_SERVICE_QUEUE_MAX;
        service->queue_count--;
        deliver_status(service, &done, status);
    }
    service->kill_sequence = 0;
}

/* Removes the index-th queued request (0 = the head) and returns what its
 * completion needs. */
static struct gs_finished remove_queued(struct guest_service *service, uint32_t index)
{
    struct gs_request *request = &service->queue[(service->queue_head + index) % GUEST_SERVICE_QUEUE_MAX];
    struct gs_finished done = {request->id, request->internal, request->callbacks};
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
static void force_off(struct guest_service *service, const struct gs_finished *done, bool reboot, const char *reason,
                      uint32_t timeout_ms, bool was_queued)
{
    if (service->platform.force_guest_off)
        service->platform.force_guest_off(service->platform.context, reboot, reason);
    gs_emit(service, GUEST_EVENT_GUEST_SHUTDOWN, "forced %s after %u ms%s: %s", reboot ? "reset" : "power off",
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
        gs_take_in_flight(service);
        return;
    }
    if (request->operation == VIGIL_OP_SHUTDOWN && request->shutdown_force) {
        char reason[VIGIL_SHUTDOWN_REASON_MAX + 1];
        memcpy(reason, request->shutdown_reason, sizeof(reason));
        bool reboot = request->shutdown_reboot;
        uint32_t timeout = request->timeout_ms;
        struct gs_finished done = gs_take_in_flight(service);
        force_off(service, &done, reboot, reason, timeout, false);
        return;
    }
    if (request->operation == VIGIL_OP_EXECUTE && request->kill_acknowledged) {
        /* The guest answered the KILL guest_service_kill sent, and nothing of the
         * command came within GS_KILL_TIMEOUT_MS after: it never started (the KILL
         * replaced it in the slot before the guest copied it out). Not a timeout,
         * and no second KILL: the guest has taken one since (see gs_kill). */
        gs_log(service, "request %u (EXECUTE) killed before the guest started it", (unsigned)request->id);
        struct gs_finished done = gs_take_in_flight(service);
        deliver_killed(service, &done);
        return;
    }
    service->statistics.requests_timed_out++;
    gs_log(service, "request %u (%s) timed out after %u ms", (unsigned)request->id,
           gs_operation_name(request->operation), (unsigned)request->timeout_ms);
    gs_fail_in_flight(service, VIGIL_VM_E_TIMED_OUT);
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
        struct gs_finished done = remove_queued(service, i);
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
        struct gs_finished done = remove_queued(service, i);
        deliver_killed(service, &done);
        return VIGIL_S_OK;
    }
    return VIGIL_E_INVALIDARG;
}

/* ---- The doorbell ---------------------------------------------------------------------- */

void gs_mark_stopped(struct guest_service *service)
{
    service->running = false;
    service->registered = false;
    gs_fail_all(service, VIGIL_VM_E_VM_NOT_RUNNING);
    service->host_flags &= ~(VIGIL_HOST_FLAG_REQUEST_PENDING | VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED);
    gs_write_host_flags(service);
}
