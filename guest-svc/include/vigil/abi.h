/*
 * The vigil guest ABI (DESIGN.md §2): the single source of truth shared by the
 * hypervisor, the guest Additions, the test guests and the host tools.
 * Plain C, fixed-width types, little-endian; every size and offset is checked
 * at the end of this file. Documented in docs/abi.md.
 *
 * Everything a guest writes into the shared region is hostile input to the
 * hypervisor: it copies a field out once, bounds every length and rejects what
 * it does not know with a status.
 */
#ifndef VIGIL_ABI_H
#define VIGIL_ABI_H

#include <stddef.h>
#include <stdint.h>

/* ---- Version ------------------------------------------------------------
 * A guest whose Additions speak another major version is refused (logged);
 * minor versions only add fields at the ends of structures and new operations. */
#define VIGIL_ABI_VERSION_MAJOR 1
#define VIGIL_ABI_VERSION_MINOR 0
#define VIGIL_ABI_VERSION ((VIGIL_ABI_VERSION_MAJOR << 16) | VIGIL_ABI_VERSION_MINOR)

/* ---- Discovery: CPUID ----------------------------------------------------- */
/* 0x40000000: EAX = highest vigil leaf, EBX:ECX:EDX = "VigilVigilHv". */
#define VIGIL_CPUID_LEAF_SIGNATURE 0x40000000u
/* 0x40000001: EAX = ABI version (major << 16 | minor), EBX = feature bits,
 * ECX = doorbell I/O port, EDX = 0. */
#define VIGIL_CPUID_LEAF_FEATURES 0x40000001u
/* 0x40000002: EAX = shared region guest-physical address bits 31:0, EBX = bits
 * 63:32, ECX = its size in bytes, EDX = 0. All zero if there is none. */
#define VIGIL_CPUID_LEAF_SHARED_REGION 0x40000002u
#define VIGIL_CPUID_LEAF_MAX VIGIL_CPUID_LEAF_SHARED_REGION

#define VIGIL_CPUID_SIGNATURE_EBX 0x69676956u /* "Vigi" */
#define VIGIL_CPUID_SIGNATURE_ECX 0x6769566Cu /* "lVig" */
#define VIGIL_CPUID_SIGNATURE_EDX 0x76486C69u /* "ilHv" */

/* Feature bits in CPUID 0x40000001 EBX. */
#define VIGIL_FEATURE_HYPERCALL (1u << 0)     /* the VMCALL interface below */
#define VIGIL_FEATURE_DOORBELL (1u << 1)      /* OUT to the doorbell port exits to vigil */
#define VIGIL_FEATURE_SHARED_REGION (1u << 2) /* leaf 0x40000002 describes a shared region */

/* ---- Doorbell --------------------------------------------------------------
 * One OUT (8, 16 or 32 bits) to this port is exactly one VM exit: "the response
 * slot holds a message". The value written is ignored (write VIGIL_DOORBELL_RING).
 * Chosen clear of the PC's legacy devices, PIIX4/ICH PM blocks, QEMU fw_cfg
 * (0x510) and VMware's backdoor (0x5658). VMCALL VIGIL_HYPERCALL_DOORBELL is the
 * same for kernels that prefer it. The hypervisor has handled the message when the
 * OUT (or VMCALL) completes: it reports the outcome in status.doorbell_result. */
#define VIGIL_DOORBELL_PORT 0x5647u
#define VIGIL_DOORBELL_RING 1u

/* ---- Hypercalls: VMCALL with RAX = number, arguments in RBX, RCX, RDX; the
 * result in RAX (VIGIL_HYPERCALL_ERROR_* on failure), RIP past the VMCALL. */
#define VIGIL_HYPERCALL_VERSION 0u  /* RAX <- VIGIL_ABI_VERSION */
#define VIGIL_HYPERCALL_PING 1u     /* RAX <- RBX + 1: a round trip with nothing else to do */
#define VIGIL_HYPERCALL_DOORBELL 2u /* same as the doorbell OUT; RAX <- doorbell result */
/* For benchmarks (tools/bench): RAX <- how many VM exits vigil has counted, of basic
 * exit reason RBX (0..69, SDM Vol. 3D Appendix C) or of every reason if RBX is
 * VIGIL_EXIT_COUNT_TOTAL; RDX <- the same count >> 32 (for 32-bit guests, which see
 * only EAX). The count includes this VMCALL's own exit (counted before it is handled).
 * An RBX past the table reads 0. Read-only: it changes nothing in the hypervisor. */
#define VIGIL_HYPERCALL_EXIT_COUNT 3u
#define VIGIL_EXIT_COUNT_TOTAL 0xFFFFFFFFu
#define VIGIL_HYPERCALL_ERROR_UNKNOWN ((uint64_t)-1) /* unknown hypercall number */

/* ---- Status codes: HRESULTs, defined once in vigil/status.h ------------------ */
#include "vigil/status.h"

/* ---- Shared region layout ---------------------------------------------------
 * Page 0: status page. Page 1: mailbox request slot (host writes, guest reads).
 * Page 2: mailbox response slot (guest writes, host reads). */
#define VIGIL_PAGE_SIZE 4096u
#define VIGIL_SHARED_REGION_SIZE (3u * VIGIL_PAGE_SIZE)
#define VIGIL_STATUS_PAGE_OFFSET 0u
#define VIGIL_REQUEST_SLOT_OFFSET VIGIL_PAGE_SIZE
#define VIGIL_RESPONSE_SLOT_OFFSET (2u * VIGIL_PAGE_SIZE)

#define VIGIL_STATUS_MAGIC 0x50534756u /* "VGSP" */

#define VIGIL_ADDITIONS_VERSION_MAX 64  /* bytes incl. NUL */
#define VIGIL_OS_NAME_MAX 128
#define VIGIL_COMPUTER_NAME_MAX 256
#define VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS 1000u
#define VIGIL_HEARTBEAT_PERIOD_MIN_MS 100u
#define VIGIL_HEARTBEAT_PERIOD_MAX_MS 60000u

/* Agent states (status.agent_state, written by the guest). */
#define VIGIL_AGENT_ABSENT 0u
#define VIGIL_AGENT_STARTING 1u
#define VIGIL_AGENT_RUNNING 2u
#define VIGIL_AGENT_STOPPING 3u /* shutting down */

/* Capability bits the Additions register (status.capabilities). */
#define VIGIL_CAPABILITY_EXECUTE (1u << 0)
#define VIGIL_CAPABILITY_SHUTDOWN (1u << 1)
#define VIGIL_CAPABILITY_PARAMETERS (1u << 2)
#define VIGIL_CAPABILITY_TIME_SYNC (1u << 3)
#define VIGIL_CAPABILITY_INSTALL_ADDITIONS (1u << 4)
#define VIGIL_CAPABILITY_REQUEST_INTERRUPT (1u << 5) /* request_interrupt_vector is valid */

/* Guest flags (status.guest_flags). */
#define VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED (1u << 0) /* the guest refuses shutdown now: CanShutdown is false */

/* Host flags (status.host_flags, written by the hypervisor). */
#define VIGIL_HOST_FLAG_TIME_SYNC (1u << 0)          /* apply status.time to the guest clock */
#define VIGIL_HOST_FLAG_REQUEST_PENDING (1u << 1)    /* request.sequence holds an unanswered request */
#define VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED (1u << 2) /* a Shutdown operation is in progress */
#define VIGIL_HOST_FLAG_ADDITIONS_OFFERED (1u << 3)  /* status.additions_package_* describe a package */

/* Outcome of the last doorbell (status.doorbell_result, written by the hypervisor). */
#define VIGIL_DOORBELL_ACCEPTED 0u
#define VIGIL_DOORBELL_RATE_LIMITED 1u /* too many doorbells: ring again on a later beat */
#define VIGIL_DOORBELL_REJECTED 2u     /* the message was malformed: see the hypervisor log */

/* pvclock-style host time (DESIGN.md §2): the host writes sequence odd, the
 * fields, then sequence even; a reader retries while sequence is odd or changed.
 * Guest wall time = unix_time_ns + (rdtsc - tsc_timestamp) * 1e9 / tsc_frequency_hz. */
struct vigil_time_record {
    uint32_t sequence;
    uint32_t reserved;
    uint64_t tsc_timestamp;
    uint64_t unix_time_ns;
    uint64_t tsc_frequency_hz;
};

struct vigil_status_page {
    /* written by the hypervisor at boot */
    uint32_t magic;          /* VIGIL_STATUS_MAGIC */
    uint32_t abi_version;    /* VIGIL_ABI_VERSION of the hypervisor */
    uint32_t region_size;    /* VIGIL_SHARED_REGION_SIZE */
    uint32_t reserved0;

    /* guest -> host: the hot path. The guest only increments heartbeat_counter,
     * with a plain store: no exit. */
    uint64_t heartbeat_counter;
    uint32_t heartbeat_period_ms;   /* declared beat period; 0 = VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS */
    uint32_t agent_state;           /* VIGIL_AGENT_* */

    /* guest -> host: registration. The guest makes registration_sequence odd,
     * writes the fields below, then makes it even and rings the doorbell with a
     * VIGIL_OP_REGISTER message. */
    uint32_t registration_sequence;
    uint32_t additions_abi_version; /* VIGIL_ABI_VERSION the Additions were built with */
    uint32_t capabilities;          /* VIGIL_CAPABILITY_* */
    uint32_t guest_flags;           /* VIGIL_GUEST_FLAG_* */
    uint32_t request_interrupt_vector; /* 32..255 with VIGIL_CAPABILITY_REQUEST_INTERRUPT */
    uint32_t reserved1;
    char additions_version[VIGIL_ADDITIONS_VERSION_MAX];
    char os_name[VIGIL_OS_NAME_MAX];
    char computer_name[VIGIL_COMPUTER_NAME_MAX];

    /* host -> guest */
    uint32_t host_flags;            /* VIGIL_HOST_FLAG_* */
    uint32_t doorbell_result;       /* VIGIL_DOORBELL_* for the last doorbell */
    uint64_t doorbell_count;        /* doorbells the hypervisor has handled */
    struct vigil_time_record time;
    uint64_t additions_package_address; /* guest-physical, read-only to the guest */
    uint32_t additions_package_size;
    uint32_t reserved2;
    char additions_package_version[VIGIL_ADDITIONS_VERSION_MAX];
};

/* ---- Mailbox ------------------------------------------------------------------
 * Host -> guest: the host fills the request slot, then writes request.sequence
 * (a new, increasing number) and sets VIGIL_HOST_FLAG_REQUEST_PENDING. The guest
 * polls request.sequence on each beat (or takes the interrupt it registered).
 * Guest -> host: the guest fills the response slot with sequence = the request's
 * sequence, then rings the doorbell. A streamed response is several messages with
 * chunk = 0, 1, 2, ... and VIGIL_MESSAGE_MORE on all but the last; each doorbell
 * hands over one chunk (the slot may be reused when the OUT completes).
 * Guest-initiated messages (register, events) use sequence 0 and their own ops.
 * Rewriting the request slot: the host first writes sequence = 0, then the
 * fields and payload, then the new sequence; a guest ignores sequence 0 and
 * re-reads the sequence after copying a request, dropping a torn copy.
 * LIST_PARAMETERS chunks hold whole names, each NUL-terminated. The final chunk
 * of an EXECUTE answer with S_OK is exactly a struct vigil_execute_result; with
 * an error status it may be empty. Unknown event codes are REJECTED. */
#define VIGIL_MESSAGE_HEADER_SIZE 24u
#define VIGIL_MESSAGE_PAYLOAD_MAX (VIGIL_PAGE_SIZE - VIGIL_MESSAGE_HEADER_SIZE)

/* Message flags */
#define VIGIL_MESSAGE_MORE (1u << 0)   /* more chunks of this response follow */
#define VIGIL_MESSAGE_STDOUT (1u << 1) /* this chunk is standard output of a command */
#define VIGIL_MESSAGE_STDERR (1u << 2) /* this chunk is standard error of a command */

struct vigil_message {
    uint32_t sequence;
    uint16_t operation; /* VIGIL_OP_* */
    uint16_t flags;     /* VIGIL_MESSAGE_* */
    uint32_t status;    /* HRESULT, in responses */
    uint32_t length;    /* payload bytes used, <= VIGIL_MESSAGE_PAYLOAD_MAX */
    uint32_t chunk;     /* index within a streamed response */
    uint32_t reserved;
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
};

/* Operations, host -> guest (request payloads below). */
#define VIGIL_OP_NOP 0x0001u              /* empty; the answer is empty: a round trip */
#define VIGIL_OP_EXECUTE 0x0002u          /* struct vigil_execute_request + strings */
#define VIGIL_OP_KILL 0x0003u             /* kill the running command; empty payload */
#define VIGIL_OP_SET_PARAMETER 0x0004u    /* name NUL value NUL */
#define VIGIL_OP_GET_PARAMETER 0x0005u    /* name NUL; answer: value NUL */
#define VIGIL_OP_LIST_PARAMETERS 0x0006u  /* empty; answer: name NUL name NUL ... (streamed) */
#define VIGIL_OP_SHUTDOWN 0x0007u         /* struct vigil_shutdown_request + reason */
#define VIGIL_OP_INSTALL_ADDITIONS 0x0008u /* empty: upgrade from the offered package */
/* Guest -> host, guest-initiated (sequence 0). */
#define VIGIL_OP_REGISTER 0x0100u         /* empty: the status page's registration fields are ready */
#define VIGIL_OP_EVENT 0x0101u            /* struct vigil_guest_event */

#define VIGIL_PARAMETER_NAME_MAX 255u     /* characters, 1..255, no '\\' */
#define VIGIL_PARAMETER_VALUE_MAX 1024u   /* bytes, without the NUL */

/* VIGIL_OP_EXECUTE payload: this header, then argc argument strings, env_count
 * "NAME=value" strings and (if cwd_present) the working directory, each NUL
 * terminated, all within the payload. */
struct vigil_execute_request {
    uint32_t argc;          /* 1..VIGIL_EXECUTE_ARGUMENTS_MAX */
    uint32_t env_count;     /* 0..VIGIL_EXECUTE_ARGUMENTS_MAX */
    uint32_t cwd_present;   /* 0 or 1 */
    uint32_t timeout_ms;    /* 0 = none; the guest kills the command after this */
};
#define VIGIL_EXECUTE_ARGUMENTS_MAX 64u

/* Final chunk of an EXECUTE answer (no VIGIL_MESSAGE_MORE): the command's end. */
struct vigil_execute_result {
    int32_t exit_code;
    uint32_t flags; /* VIGIL_EXECUTE_KILLED, VIGIL_EXECUTE_TIMED_OUT */
};
#define VIGIL_EXECUTE_KILLED (1u << 0)
#define VIGIL_EXECUTE_TIMED_OUT (1u << 1)

/* VIGIL_OP_SHUTDOWN payload: this header, then the reason, NUL terminated. */
struct vigil_shutdown_request {
    uint32_t flags;      /* VIGIL_SHUTDOWN_* */
    uint32_t timeout_ms; /* after this, with FORCE, the hypervisor stops the guest itself */
};
#define VIGIL_SHUTDOWN_FORCE (1u << 0)
#define VIGIL_SHUTDOWN_REBOOT (1u << 1)
#define VIGIL_SHUTDOWN_REASON_MAX 255u

/* VIGIL_OP_EVENT payload. */
struct vigil_guest_event {
    uint32_t code; /* VIGIL_GUEST_EVENT_* */
    uint32_t reserved;
};
#define VIGIL_GUEST_EVENT_SHUTTING_DOWN 1u /* the guest starts its own shutdown */

/* ---- Layout checks ------------------------------------------------------------- */
_Static_assert(VIGIL_CPUID_LEAF_MAX - VIGIL_CPUID_LEAF_SIGNATURE < 0x100, "vigil leaves stay in 0x400000xx");
_Static_assert(VIGIL_DOORBELL_PORT <= 0xFFFF, "an I/O port is 16 bits");
_Static_assert(sizeof(struct vigil_time_record) == 32, "time record size");
_Static_assert(offsetof(struct vigil_status_page, heartbeat_counter) == 16, "heartbeat counter offset");
_Static_assert(offsetof(struct vigil_status_page, heartbeat_counter) % 8 == 0, "heartbeat counter is naturally aligned (atomic store)");
_Static_assert(offsetof(struct vigil_status_page, heartbeat_period_ms) == 24, "heartbeat period offset");
_Static_assert(offsetof(struct vigil_status_page, registration_sequence) == 32, "registration offset");
_Static_assert(offsetof(struct vigil_status_page, additions_version) == 56, "additions version offset");
_Static_assert(offsetof(struct vigil_status_page, os_name) == 120, "os name offset");
_Static_assert(offsetof(struct vigil_status_page, computer_name) == 248, "computer name offset");
_Static_assert(offsetof(struct vigil_status_page, host_flags) == 504, "host flags offset");
_Static_assert(offsetof(struct vigil_status_page, doorbell_count) == 512, "doorbell count offset");
_Static_assert(offsetof(struct vigil_status_page, time) == 520, "time record offset");
_Static_assert(offsetof(struct vigil_status_page, additions_package_address) == 552, "package address offset");
_Static_assert(offsetof(struct vigil_status_page, additions_package_version) == 568, "package version offset");
_Static_assert(sizeof(struct vigil_status_page) == 632, "status page structure size");
_Static_assert(sizeof(struct vigil_status_page) <= VIGIL_PAGE_SIZE, "the status page fits its page");
_Static_assert(offsetof(struct vigil_message, payload) == VIGIL_MESSAGE_HEADER_SIZE, "message header size");
_Static_assert(sizeof(struct vigil_message) == VIGIL_PAGE_SIZE, "a message slot is one page");
_Static_assert(sizeof(struct vigil_execute_request) == 16, "execute request header");
_Static_assert(sizeof(struct vigil_execute_result) == 8, "execute result");
_Static_assert(sizeof(struct vigil_shutdown_request) == 8, "shutdown request header");
_Static_assert(sizeof(struct vigil_guest_event) == 8, "guest event");
_Static_assert(VIGIL_PARAMETER_NAME_MAX + 1 + VIGIL_PARAMETER_VALUE_MAX + 1 <= VIGIL_MESSAGE_PAYLOAD_MAX,
               "a SetParameter request fits one message");

#endif
