/*
 * The guest service's public types and limits (guest_service.h has its
 * functions): events, what it needs from the hypervisor, requests and their
 * completion, counters. Every part of guest-svc/host and its callers share them.
 */
#ifndef VIGIL_GUEST_SVC_HOST_SERVICE_TYPES_H
#define VIGIL_GUEST_SVC_HOST_SERVICE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/abi.h>

#include "guest-svc/host/heartbeat_monitor.h"

/* ---- Events (Virtual Server's OnHeartbeatStopped, OnTripleFault, OnRequestShutdown) */
enum guest_service_event_kind {
    GUEST_EVENT_ADDITIONS_REGISTERED,
    GUEST_EVENT_HEARTBEAT_STOPPED,
    GUEST_EVENT_HEARTBEAT_RESUMED,
    GUEST_EVENT_GUEST_SHUTDOWN,   /* the guest powered off or announced its shutdown */
    GUEST_EVENT_TRIPLE_FAULT,
    GUEST_EVENT_HEARTBEAT_ANOMALY, /* counter went backwards or jumped absurdly */
};
struct guest_service_event {
    enum guest_service_event_kind kind;
    uint64_t time_ms;   /* platform now */
    char detail[128];   /* one line, e.g. the additions version, the gap, the reason */
};
const char *guest_service_event_name(enum guest_service_event_kind kind); /* "heartbeat-stopped", ... */

/* ---- What the service needs from the hypervisor. */
struct guest_service_platform {
    void *context;
    uint64_t (*now_ms)(void *context);         /* monotonic milliseconds since boot */
    uint64_t (*unix_time_ns)(void *context);   /* host wall clock, UTC */
    uint64_t (*guest_tsc)(void *context);      /* the guest's TSC now */
    uint64_t tsc_frequency_hz;
    /* optional (may be NULL): inject an interrupt vector the guest registered */
    void (*inject_interrupt)(void *context, uint8_t vector);
    /* an event happened (the console prints it) */
    void (*emit_event)(void *context, const struct guest_service_event *event);
    /* a forced shutdown: stop the guest now (power off or reset it). Called from
     * guest_service_tick; afterwards the service treats the guest as stopped (queued
     * requests complete with VM_E_VM_NOT_RUNNING) and a later guest_service_guest_stopped
     * adds nothing. A guest that runs again (reboot) needs guest_service_init. */
    void (*force_guest_off)(void *context, bool reboot, const char *reason);
    /* log a one-line counted rejection of hostile input (may be NULL) */
    void (*log)(void *context, const char *message);
};

/* ---- Requests and their completion. A request is accepted (queued or sent) or
 * refused at once with a status. Its answer arrives later through the callbacks. */
struct guest_service_result {
    uint32_t status;        /* HRESULT */
    uint32_t request_id;
    /* for GET_PARAMETER: the value; for EXECUTE: unused (output streamed) */
    char value[VIGIL_PARAMETER_VALUE_MAX + 1];
    /* for EXECUTE */
    int32_t exit_code;
    uint32_t execute_flags; /* VIGIL_EXECUTE_KILLED, VIGIL_EXECUTE_TIMED_OUT */
};
struct guest_service_callbacks {
    void *context;
    /* streamed data: command output (stream = VIGIL_MESSAGE_STDOUT or _STDERR),
     * or one parameter name per call for LIST_PARAMETERS (stream = 0) */
    void (*on_data)(void *context, uint32_t request_id, uint32_t stream, const uint8_t *data, size_t length);
    /* exactly once per accepted request */
    void (*on_complete)(void *context, const struct guest_service_result *result);
};

struct guest_execute_command {
    unsigned argc;
    const char *const *argv;
    unsigned env_count;
    const char *const *env;  /* "NAME=value" */
    const char *cwd;         /* NULL = the agent's default */
    uint32_t timeout_ms;     /* 0 = none; the host gives up after timeout_ms + 5 s (30 s if 0) */
};

struct guest_shutdown_command {
    bool force, reboot;
    uint32_t timeout_ms;     /* 0 = VIGIL default (30 s) */
    const char *reason;      /* may be NULL */
};

/* ---- Counters (for `stats` and the benchmarks). messages_rejected counts every
 * REJECTED doorbell; replies_unsolicited is the part of them that answered no request
 * in flight (wrong sequence or operation). requests_completed counts on_complete calls. */
struct guest_service_statistics {
    uint64_t doorbells, doorbells_rate_limited, messages_rejected, replies_unsolicited;
    uint64_t requests_sent, requests_completed, requests_timed_out, requests_refused_busy;
    uint64_t chunks_received, bytes_streamed;
    uint64_t ticks;
};

#define GUEST_SERVICE_QUEUE_MAX 8
#define GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS 30000u
#define GUEST_SERVICE_SHUTDOWN_TIMEOUT_DEFAULT_MS 30000u
#define GUEST_SERVICE_DOORBELLS_PER_SECOND_MAX 2000u

#endif
