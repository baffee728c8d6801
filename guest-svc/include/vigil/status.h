/*
 * vigil status codes: the one home of every HRESULT the hypervisor, the guest
 * Additions, vigilctl and the tests use (DESIGN.md §1). Virtual Server's values
 * where one exists; vigil-specific ones in the same style, documented in
 * docs/console-protocol.md. The Python constants the integration tests use are
 * generated from this file at build time (tools/gen-status-py).
 *
 * To add a code: one #define and one X() line in VIGIL_STATUS_TABLE.
 */
#ifndef VIGIL_STATUS_H
#define VIGIL_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define VIGIL_S_OK 0x00000000u
#define VIGIL_E_NOTIMPL 0x80004001u            /* operation not implemented by this agent */
#define VIGIL_E_ABORT 0x80004004u              /* the command was killed */
#define VIGIL_E_FAIL 0x80004005u               /* unspecified failure in the guest */
#define VIGIL_E_ACCESSDENIED 0x80070005u       /* refused by policy (e.g. the exec allow-list) */
#define VIGIL_E_INVALIDARG 0x80070057u
#define VIGIL_E_NOT_FOUND 0x80070490u          /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND): no such parameter */
#define VIGIL_E_BUSY 0x800700AAu               /* HRESULT_FROM_WIN32(ERROR_BUSY): request queue full */
#define VIGIL_E_PROTOCOL 0x800706BEu           /* HRESULT_FROM_WIN32(RPC_S_CALL_FAILED): malformed reply */
#define VIGIL_E_RATE_LIMITED 0x800706BBu       /* HRESULT_FROM_WIN32(RPC_S_SERVER_TOO_BUSY): console request limit */
#define VIGIL_ERROR_MACHINE_LOCKED 0x800704F7u /* the guest vetoed the shutdown */
#define VIGIL_VM_E_TIMED_OUT 0xA0040202u
#define VIGIL_VM_E_VM_NOT_RUNNING 0xA0040206u
#define VIGIL_VM_E_VM_UNKNOWN 0xA0040207u
#define VIGIL_VM_E_DRIVE_INVALID 0xA0040502u
#define VIGIL_VM_E_ADDITIONS_NOT_AVAIL 0xA0040504u
#define VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL 0xA0040505u
#define VIGIL_VM_E_VM_PAUSED 0xA0040507u

/* X(code macro, name shown to the operator, one sentence) */
#define VIGIL_STATUS_TABLE(X)                                                                      \
    X(VIGIL_S_OK, "S_OK", "the operation succeeded")                                               \
    X(VIGIL_E_NOTIMPL, "E_NOTIMPL", "the guest Additions do not implement this operation")         \
    X(VIGIL_E_ABORT, "E_ABORT", "the command was killed")                                          \
    X(VIGIL_E_FAIL, "E_FAIL", "the operation failed in the guest")                                 \
    X(VIGIL_E_ACCESSDENIED, "E_ACCESSDENIED", "refused by vigil's policy")                         \
    X(VIGIL_E_INVALIDARG, "E_INVALIDARG", "an argument is invalid")                                \
    X(VIGIL_E_NOT_FOUND, "E_NOT_FOUND", "no such parameter")                                       \
    X(VIGIL_E_BUSY, "E_BUSY", "the request queue is full")                                         \
    X(VIGIL_E_PROTOCOL, "E_PROTOCOL", "the guest Additions sent a malformed reply")                \
    X(VIGIL_E_RATE_LIMITED, "E_RATE_LIMITED", "too many console requests this second; retry later") \
    X(VIGIL_ERROR_MACHINE_LOCKED, "ERROR_MACHINE_LOCKED", "the guest refused to shut down")        \
    X(VIGIL_VM_E_TIMED_OUT, "VM_E_TIMED_OUT", "the operation timed out")                           \
    X(VIGIL_VM_E_VM_NOT_RUNNING, "VM_E_VM_NOT_RUNNING", "the virtual machine is not running")      \
    X(VIGIL_VM_E_VM_UNKNOWN, "VM_E_VM_UNKNOWN", "the virtual machine is unknown")                  \
    X(VIGIL_VM_E_DRIVE_INVALID, "VM_E_DRIVE_INVALID", "no Additions package is offered to the guest") \
    X(VIGIL_VM_E_ADDITIONS_NOT_AVAIL, "VM_E_ADDITIONS_NOT_AVAIL", "the guest Additions are not running") \
    X(VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL, "VM_E_ADDITIONS_FEATURE_NOT_AVAIL",                 \
      "the guest Additions do not offer this feature")                                             \
    X(VIGIL_VM_E_VM_PAUSED, "VM_E_VM_PAUSED", "the virtual machine is paused")

/* "E_INVALIDARG" for VIGIL_E_INVALIDARG; NULL for a code not in the table. */
static inline const char *vigil_status_name(uint32_t status)
{
#define VIGIL_STATUS_NAME_CASE(code, name, message) \
    case code: return name;
    switch (status) {
    VIGIL_STATUS_TABLE(VIGIL_STATUS_NAME_CASE)
    }
#undef VIGIL_STATUS_NAME_CASE
    return NULL;
}

/* One sentence, e.g. "the guest Additions are not running"; "unknown status code". */
static inline const char *vigil_status_message(uint32_t status)
{
#define VIGIL_STATUS_MESSAGE_CASE(code, name, message) \
    case code: return message;
    switch (status) {
    VIGIL_STATUS_TABLE(VIGIL_STATUS_MESSAGE_CASE)
    }
#undef VIGIL_STATUS_MESSAGE_CASE
    return "unknown status code";
}

#endif /* VIGIL_STATUS_H */
