/*
 * Private to guest-svc/host: the guest service's state, and the shared-region
 * and platform helpers every part uses (service_state.c). The parts, lowest
 * first: service_state.c; mailbox.c (request queue, sending, expiry, kill, the
 * guest's end) and mailbox_receive.c (a message from the response slot, replies);
 * operations.c (validation and request encoders) and guest_service.c (init,
 * registration, properties, tick, the doorbell: the service decides). Calls go
 * one way, down this list.
 *
 * Shared region discipline: every access goes through a volatile pointer; a
 * guest-written field is read once into a private copy and only the copy is
 * used. Host-written fields are written from private state and never read back
 * (the guest may scribble on them).
 */
#ifndef VIGIL_GUEST_SVC_HOST_SERVICE_STATE_H
#define VIGIL_GUEST_SVC_HOST_SERVICE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/abi.h>

#include "guest-svc/host/heartbeat_monitor.h"
#include "guest-svc/host/service_types.h"

/* Host-side wait for an EXECUTE with a guest timeout: timeout_ms plus this grace. */
#define GS_EXECUTE_TIMEOUT_GRACE_MS 5000u
/* How long the service waits for the guest to acknowledge a KILL it sent itself
 * (after an EXECUTE timed out or answered malformed) before sending the next request. */
#define GS_KILL_TIMEOUT_MS 5000u
/* The time record is refreshed on the first tick at least this long after the last. */
#define GS_TIME_REFRESH_MS 1000u
/* Log lines about hostile input, at most this many per second (then counted). */
#define GS_LOG_LINES_PER_SECOND_MAX 10u

struct gs_request {
    uint32_t id;
    uint16_t operation;         /* VIGIL_OP_* */
    bool internal;              /* a KILL the service sent itself: no callbacks */
    bool shutdown_force, shutdown_reboot;
    uint32_t length;            /* payload bytes */
    uint32_t timeout_ms;        /* host-side deadline after sending (SHUTDOWN: after gs_commit) */
    struct guest_service_callbacks callbacks;
    char shutdown_reason[VIGIL_SHUTDOWN_REASON_MAX + 1];
    /* SHUTDOWN: set by gs_commit (its timeout runs while it waits in the queue);
     * any other request: set when it is sent */
    uint64_t deadline_ms;
    /* once sent */
    uint32_t sequence;
    uint32_t next_chunk;
    bool final_received;        /* SHUTDOWN accepted: now waiting for the guest to stop */
    bool kill_acknowledged;     /* EXECUTE: the guest answered our out-of-band KILL before any chunk */
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
};

/* The registration, copied out of the status page once. Strings are NUL-terminated. */
struct gs_registration {
    uint32_t sequence;
    uint32_t abi_version;
    uint32_t capabilities;
    uint32_t heartbeat_period_ms;
    uint32_t interrupt_vector;  /* 32..255, or 0 = none */
    char additions_version[VIGIL_ADDITIONS_VERSION_MAX];
    char os_name[VIGIL_OS_NAME_MAX];
    char computer_name[VIGIL_COMPUTER_NAME_MAX];
};

struct guest_service {
    struct guest_service_platform platform;
    volatile struct vigil_status_page *status;
    volatile struct vigil_message *request_slot;
    const volatile struct vigil_message *response_slot;
    uint64_t region_guest_physical;

    bool running;
    bool registered;            /* Additions registered and not refused since */
    bool ever_registered;       /* the cached registration below is valid */
    bool registration_seen;     /* last_registration_sequence is valid */
    uint32_t last_registration_sequence;
    struct gs_registration registration;
    uint64_t registration_strings_repaired; /* fields without NUL / with control characters */

    struct heartbeat_monitor monitor;
    uint32_t sampled_period_ms;

    uint32_t host_flags;        /* private copy of status.host_flags */
    uint32_t time_sequence;     /* private copy of status.time.sequence (even) */
    uint64_t time_refreshed_ms;

    uint64_t doorbell_window_second;
    uint32_t doorbell_window_count;
    uint64_t log_window_second;
    uint32_t log_window_count;
    uint64_t log_suppressed;

    uint32_t next_request_id, next_sequence;
    bool in_flight_valid;
    struct gs_request in_flight;
    struct gs_request queue[GUEST_SERVICE_QUEUE_MAX];
    uint32_t queue_head, queue_count;
    uint32_t kill_sequence;     /* an out-of-band KILL whose answer is accepted; 0 = none */

    bool package_offered;
    uint64_t package_address;
    uint32_t package_size;

    struct guest_service_statistics statistics;
    struct vigil_message response; /* the response slot, copied out once */
    char line[192];                /* log line scratch */
};

/* ---- Shared region access (service_state.c) */
void gs_copy_from_guest(void *destination, const volatile void *source, size_t size);
void gs_copy_to_guest(volatile void *destination, const void *source, size_t size);
void gs_write_host_flags(struct guest_service *service);
void gs_refresh_time(struct guest_service *service, uint64_t now);

/* ---- Platform wrappers (service_state.c) */
uint64_t gs_now(const struct guest_service *service);
void gs_emit(struct guest_service *service, enum guest_service_event_kind kind, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void gs_log(struct guest_service *service, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* bounded strlen: at most max (if no NUL within max bytes, returns max) */
size_t gs_bounded_length(const char *text, size_t max);

/* ---- Checks every operation shares (service_state.c) */
/* A refused request (before it was accepted) leaves no trace; common checks: */
uint32_t gs_check_available(const struct guest_service *service, uint32_t capability);
/* Parameter names: 1..VIGIL_PARAMETER_NAME_MAX bytes, no backslash, no control character. */
bool gs_parameter_name_valid(const char *name);

#endif
