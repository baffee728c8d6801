/* Names and one-sentence messages for the status codes of abi.h and the events. */
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"

struct status_text {
    uint32_t status;
    const char *name;
    const char *message;
};

static const struct status_text statuses[] = {
    {VIGIL_S_OK, "S_OK", "the operation succeeded"},
    {VIGIL_E_NOTIMPL, "E_NOTIMPL", "the guest Additions do not implement this operation"},
    {VIGIL_E_ABORT, "E_ABORT", "the command was killed"},
    {VIGIL_E_FAIL, "E_FAIL", "the operation failed in the guest"},
    {VIGIL_E_INVALIDARG, "E_INVALIDARG", "an argument is invalid"},
    {VIGIL_E_NOT_FOUND, "E_NOT_FOUND", "no such parameter"},
    {VIGIL_E_BUSY, "E_BUSY", "the request queue is full"},
    {VIGIL_E_PROTOCOL, "E_PROTOCOL", "the guest Additions sent a malformed reply"},
    {VIGIL_ERROR_MACHINE_LOCKED, "ERROR_MACHINE_LOCKED", "the guest refused to shut down"},
    {VIGIL_VM_E_TIMED_OUT, "VM_E_TIMED_OUT", "the operation timed out"},
    {VIGIL_VM_E_VM_NOT_RUNNING, "VM_E_VM_NOT_RUNNING", "the virtual machine is not running"},
    {VIGIL_VM_E_VM_UNKNOWN, "VM_E_VM_UNKNOWN", "the virtual machine is unknown"},
    {VIGIL_VM_E_DRIVE_INVALID, "VM_E_DRIVE_INVALID", "no Additions package is offered to the guest"},
    {VIGIL_VM_E_ADDITIONS_NOT_AVAIL, "VM_E_ADDITIONS_NOT_AVAIL", "the guest Additions are not running"},
    {VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL, "VM_E_ADDITIONS_FEATURE_NOT_AVAIL",
     "the guest Additions do not offer this feature"},
    {VIGIL_VM_E_VM_PAUSED, "VM_E_VM_PAUSED", "the virtual machine is paused"},
};

static const struct status_text *find(uint32_t status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status)
            return &statuses[i];
    return NULL;
}

const char *guest_service_status_name(uint32_t status)
{
    const struct status_text *text = find(status);
    return text ? text->name : NULL;
}

const char *guest_service_status_message(uint32_t status)
{
    const struct status_text *text = find(status);
    return text ? text->message : "unknown status code";
}

const char *guest_service_event_name(enum guest_service_event_kind kind)
{
    switch (kind) {
    case GUEST_EVENT_ADDITIONS_REGISTERED: return "additions-registered";
    case GUEST_EVENT_HEARTBEAT_STOPPED: return "heartbeat-stopped";
    case GUEST_EVENT_HEARTBEAT_RESUMED: return "heartbeat-resumed";
    case GUEST_EVENT_GUEST_SHUTDOWN: return "guest-shutdown";
    case GUEST_EVENT_TRIPLE_FAULT: return "triple-fault";
    case GUEST_EVENT_HEARTBEAT_ANOMALY: return "heartbeat-anomaly";
    }
    return "unknown";
}
