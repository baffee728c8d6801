/*
 * The vigil guest Additions library (DESIGN.md §1, §2): the guest side of the
 * guest service, shared by the bare test agent (tests/guests/agent.c) and any
 * other agent (a Linux daemon using /dev/mem and ioperm, a kernel driver).
 *
 * Freestanding C: only <stdint.h>, <stddef.h>, <stdbool.h> and vigil/abi.h; no
 * libc call of its own (the compiler may still emit memcpy/memset for struct
 * copies, which every environment provides). Builds for -m32 and -m64.
 *
 * Everything machine-specific goes through struct vigil_additions_platform, a
 * table of function pointers the caller fills: CPUID, mapping guest-physical
 * memory, the doorbell OUT, the TSC, and an optional wait. A bare guest with
 * paging off (guest-physical = pointer) gets them all from
 * vigil_additions_bare_platform(); a Linux daemon would implement map_physical
 * with mmap of /dev/mem and doorbell with ioperm + outb.
 *
 * State: one struct vigil_additions per agent, owned by the caller (no globals,
 * ~17 KiB: keep it static, not on a small stack). Not thread-safe: one thread
 * calls everything (requests may nest: a handler may call poll again, e.g. to
 * take a KILL while its command runs; see VIGIL_ADDITIONS_NESTING_MAX).
 *
 * Everything read from the request slot is hostile input: the library copies a
 * request out once (re-checking its sequence after the copy), bounds its length
 * by VIGIL_MESSAGE_PAYLOAD_MAX, validates every string inside the payload and
 * answers malformed requests with VIGIL_E_INVALIDARG, unknown operations with
 * VIGIL_E_NOTIMPL, before any handler sees them.
 *
 * Protocol decisions the ABI header leaves open (see the report in additions.c):
 *  - every request gets exactly one final (non-MORE) message, KILL included;
 *  - an EXECUTE answer is stdout/stderr chunks (MORE) then one final chunk,
 *    status VIGIL_S_OK, holding struct vigil_execute_result (exit code, KILLED /
 *    TIMED_OUT); a request that cannot start gets a single error reply instead;
 *  - LIST_PARAMETERS streams whole names (never split across chunks), each NUL
 *    terminated, MORE on all chunks but the last (which may be empty).
 */
#ifndef VIGIL_GUEST_SVC_ADDITIONS_ADDITIONS_H
#define VIGIL_GUEST_SVC_ADDITIONS_ADDITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/abi.h"

/* ---- Errors ------------------------------------------------------------------ */
enum vigil_additions_error {
    VIGIL_ADDITIONS_OK = 0,
    VIGIL_ADDITIONS_ERROR_NO_HYPERVISOR,     /* CPUID 0x40000000 has no "VigilVigilHv" signature */
    VIGIL_ADDITIONS_ERROR_MAX_LEAF,          /* the hypervisor lacks leaf 0x40000002 */
    VIGIL_ADDITIONS_ERROR_ABI_MAJOR,         /* another ABI major version */
    VIGIL_ADDITIONS_ERROR_NO_DOORBELL,       /* no doorbell feature or port */
    VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION,  /* no shared-region feature, or leaf 0x40000002 all zero */
    VIGIL_ADDITIONS_ERROR_REGION_TOO_SMALL,  /* smaller than VIGIL_SHARED_REGION_SIZE */
    VIGIL_ADDITIONS_ERROR_REGION_UNALIGNED,  /* not page aligned */
    VIGIL_ADDITIONS_ERROR_MAP_FAILED,        /* platform could not map the region */
    VIGIL_ADDITIONS_ERROR_BAD_STATUS_PAGE,   /* status page magic or ABI major wrong */
    VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED,    /* call vigil_additions_discover() first */
    VIGIL_ADDITIONS_ERROR_NOT_REGISTERED,    /* call vigil_additions_register() first */
    VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT,  /* a caller's argument is out of range */
    VIGIL_ADDITIONS_ERROR_RATE_LIMITED,      /* the doorbell stayed rate limited through every retry */
    VIGIL_ADDITIONS_ERROR_REJECTED,          /* the hypervisor rejected the message (see its log) */
    VIGIL_ADDITIONS_ERROR_DOORBELL_RESULT,   /* status.doorbell_result holds an unknown value */
    VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED,  /* the request has had its final message (or was abandoned) */
};
/* "no vigil signature in CPUID 0x40000000", ... never NULL. */
const char *vigil_additions_error_string(enum vigil_additions_error error);

/* ---- Platform ------------------------------------------------------------------ */
struct vigil_additions_platform {
    void *context;
    /* CPUID leaf/subleaf -> EAX, EBX, ECX, EDX. */
    void (*cpuid)(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4]);
    /* Maps `size` bytes of guest-physical memory at `address`; NULL if impossible.
     * writable = false for the read-only Additions package. Never unmapped. */
    volatile void *(*map_physical)(void *context, uint64_t address, size_t size, bool writable);
    /* One OUT of VIGIL_DOORBELL_RING to `port`; returns once the exit completed
     * (the hypervisor has written status.doorbell_result). */
    void (*doorbell)(void *context, uint16_t port);
    /* The TSC (the clock of the time record). */
    uint64_t (*read_tsc)(void *context);
    /* Optional: wait about `milliseconds` (the back-off after RATE_LIMITED). An
     * agent may keep beating inside it, but must not call poll (the library is in
     * the middle of a send). NULL: the library spins on read_tsc, using the time
     * record's TSC frequency (1 GHz if unknown). */
    void (*wait_ms)(void *context, uint32_t milliseconds);
};

#if defined(__i386__) || defined(__x86_64__)
/* x86, CPL 0 (or iopl 3), paging off or guest-physical identity mapped: CPUID,
 * OUTB, RDTSC by inline asm; map_physical = the address itself. wait_ms NULL. */
void vigil_additions_bare_platform(struct vigil_additions_platform *platform);
#endif

/* ---- Requests as the handlers see them ---------------------------------------- */
#define VIGIL_ADDITIONS_NESTING_MAX 3u /* requests in progress at once (a KILL during an EXECUTE, ...) */
#define VIGIL_ADDITIONS_RATE_LIMIT_RETRIES 1000u
#define VIGIL_ADDITIONS_RATE_LIMIT_WAIT_MS 2u
#define VIGIL_ADDITIONS_PACKAGE_SIZE_MAX (256u << 20) /* larger offered packages are refused */

struct vigil_additions_request {
    uint32_t sequence;
    uint16_t operation;
    uint16_t flags;
    uint32_t length;               /* payload bytes, <= VIGIL_MESSAGE_PAYLOAD_MAX */
    uint32_t next_chunk;           /* index of the next message of the answer */
    bool answered;                 /* the final message went out (or the answer was abandoned) */
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX + 1]; /* + a NUL after the last byte */
};

/* VIGIL_OP_EXECUTE, validated: pointers into request->payload. */
struct vigil_additions_command {
    uint32_t argc;                 /* 1..VIGIL_EXECUTE_ARGUMENTS_MAX */
    const char *argv[VIGIL_EXECUTE_ARGUMENTS_MAX];
    uint32_t env_count;            /* 0..VIGIL_EXECUTE_ARGUMENTS_MAX */
    const char *env[VIGIL_EXECUTE_ARGUMENTS_MAX];
    const char *cwd;               /* NULL if absent */
    uint32_t timeout_ms;           /* 0 = none */
};

/* VIGIL_OP_SHUTDOWN, validated. */
struct vigil_additions_shutdown {
    uint32_t flags;                /* VIGIL_SHUTDOWN_FORCE, VIGIL_SHUTDOWN_REBOOT (unknown bits kept) */
    uint32_t timeout_ms;
    const char *reason;            /* "" if none; <= VIGIL_SHUTDOWN_REASON_MAX characters */
};

/* VIGIL_OP_INSTALL_ADDITIONS: what the status page offers. */
struct vigil_additions_package {
    bool offered;                  /* VIGIL_HOST_FLAG_ADDITIONS_OFFERED and a non-empty package */
    uint64_t address;              /* guest-physical */
    uint32_t size;
    char version[VIGIL_ADDITIONS_VERSION_MAX]; /* NUL-terminated copy */
    const volatile uint8_t *data;  /* mapped read-only; NULL if not offered or unmappable */
};

struct vigil_additions;

/* Handlers: NULL = the operation answers VIGIL_E_NOTIMPL (NOP is answered by the
 * library). Those that return a status have their answer sent by the library;
 * execute, shutdown must answer themselves with the reply helpers below (if they
 * return without a final message, the library answers VIGIL_E_FAIL). */
struct vigil_additions_handlers {
    void *context;
    void (*execute)(void *context, struct vigil_additions *additions, struct vigil_additions_request *request,
                    const struct vigil_additions_command *command);
    uint32_t (*kill)(void *context);
    uint32_t (*set_parameter)(void *context, const char *name, const char *value);
    /* writes the value, NUL-terminated, into value[value_size] (value_size = VIGIL_PARAMETER_VALUE_MAX + 1) */
    uint32_t (*get_parameter)(void *context, const char *name, char *value, size_t value_size);
    /* the index-th parameter name (0, 1, ...): true and *name, or false past the last */
    bool (*list_parameter)(void *context, uint32_t index, const char **name);
    void (*shutdown)(void *context, struct vigil_additions *additions, struct vigil_additions_request *request,
                     const struct vigil_additions_shutdown *shutdown);
    uint32_t (*install_additions)(void *context, const struct vigil_additions_package *package);
};

struct vigil_additions_statistics {
    uint64_t doorbells, rate_limited_retries, rejected;
    uint64_t requests, requests_malformed, requests_torn; /* torn: sequence changed during the copy */
};

struct vigil_additions {
    struct vigil_additions_platform platform;
    bool discovered, registered;
    uint32_t hypervisor_abi_version, features;
    uint16_t doorbell_port;
    uint64_t region_address;
    uint32_t region_size;
    volatile struct vigil_status_page *status;
    volatile struct vigil_message *request_slot;
    volatile struct vigil_message *response_slot;
    uint64_t heartbeat;             /* the last value written (a hint: beat reads the counter) */
    uint32_t last_request_sequence; /* the last request taken */
    uint32_t depth;                 /* requests in progress */
    bool executing;                 /* an EXECUTE is in progress */
    struct vigil_additions_statistics statistics;
    struct vigil_additions_request requests[VIGIL_ADDITIONS_NESTING_MAX];
    uint8_t scratch[VIGIL_MESSAGE_PAYLOAD_MAX];
};

/* ---- API ----------------------------------------------------------------------------
 * Copies *platform, checks CPUID 0x40000000 (signature, max leaf), 0x40000001 (ABI
 * major, doorbell feature and port, shared-region feature), 0x40000002 (address,
 * size >= VIGIL_SHARED_REGION_SIZE, page aligned), maps the region and checks the
 * status page magic and ABI major. */
enum vigil_additions_error vigil_additions_discover(struct vigil_additions *additions,
                                                    const struct vigil_additions_platform *platform);

/* Registration (strings are copied bounded and NUL-terminated, truncated if too
 * long; NULL = ""): agent_state STARTING, registration_sequence odd, the fields,
 * registration_sequence even, agent_state RUNNING, then a VIGIL_OP_REGISTER
 * message. period_ms: 0 (= default) or VIGIL_HEARTBEAT_PERIOD_MIN_MS..MAX_MS. */
enum vigil_additions_error vigil_additions_register(struct vigil_additions *additions, const char *version,
                                                    const char *os_name, const char *computer_name,
                                                    uint32_t capabilities, uint32_t period_ms, uint32_t guest_flags);

/* One heartbeat: the status page's counter + 1, written with one atomic 64-bit
 * store and no VM exit (see vigil_additions_beat in additions.c for -m32). */
void vigil_additions_beat(struct vigil_additions *additions);

/* Takes at most one new request and dispatches it; returns 1 if it handled one,
 * 0 if there was none (or it was torn and will be retried next time). May be
 * called from inside a handler (nesting up to VIGIL_ADDITIONS_NESTING_MAX; deeper
 * requests, and a second EXECUTE while one runs, are answered VIGIL_E_BUSY). */
int vigil_additions_poll(struct vigil_additions *additions, const struct vigil_additions_handlers *handlers);

/* The final (only) message of an answer: status, payload[length] (length <=
 * VIGIL_MESSAGE_PAYLOAD_MAX), chunk = the request's next chunk index, no MORE. */
enum vigil_additions_error vigil_additions_reply(struct vigil_additions *additions,
                                                 struct vigil_additions_request *request, uint32_t status,
                                                 const void *payload, size_t length);

/* Streams data[length] as chunks of <= VIGIL_MESSAGE_PAYLOAD_MAX bytes with
 * stream_flags (VIGIL_MESSAGE_STDOUT or _STDERR; 0 for parameter names) and MORE,
 * consecutive chunk indexes, one doorbell each. RATE_LIMITED: the same chunk again
 * after a wait; REJECTED: stop, and the request counts as answered (abandoned). */
enum vigil_additions_error vigil_additions_stream(struct vigil_additions *additions,
                                                  struct vigil_additions_request *request, uint32_t stream_flags,
                                                  const void *data, size_t length);

/* The final chunk of an EXECUTE answer: struct vigil_execute_result, status S_OK. */
enum vigil_additions_error vigil_additions_execute_finish(struct vigil_additions *additions,
                                                          struct vigil_additions_request *request, int32_t exit_code,
                                                          uint32_t execute_flags);

/* A guest-initiated VIGIL_OP_EVENT (sequence 0). */
enum vigil_additions_error vigil_additions_send_event(struct vigil_additions *additions, uint32_t code);

/* Host time (pvclock record, sequence protocol). False if TIME_SYNC is off, the
 * record is not valid (frequency 0) or it never read consistently. */
bool vigil_additions_host_time(struct vigil_additions *additions, uint64_t *unix_ns);
/* The time record's TSC frequency, whatever the TIME_SYNC flag; 0 if unknown. */
uint64_t vigil_additions_tsc_frequency(struct vigil_additions *additions);
/* status.host_flags now (0 before discovery). */
uint32_t vigil_additions_host_flags(const struct vigil_additions *additions);

/* VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED on/off: one store to status.guest_flags, which the
 * host reads live; no registration-sequence change (that would be a re-registration), no doorbell. */
enum vigil_additions_error vigil_additions_set_shutdown_locked(struct vigil_additions *additions, bool locked);
/* status.agent_state (VIGIL_AGENT_*), e.g. STOPPING before a shutdown. */
enum vigil_additions_error vigil_additions_set_state(struct vigil_additions *additions, uint32_t state);

/* Request payload parsers (pure; also used by poll before dispatch). True if valid. */
bool vigil_additions_parse_execute(const struct vigil_additions_request *request,
                                   struct vigil_additions_command *command);
bool vigil_additions_parse_parameter(const struct vigil_additions_request *request, bool with_value,
                                     const char **name, const char **value);
bool vigil_additions_parse_shutdown(const struct vigil_additions_request *request,
                                    struct vigil_additions_shutdown *shutdown);

#endif
