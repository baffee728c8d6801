/* HRESULT names and sentences: the same table as guest-svc/host/status_names.c. */
#include "vctl_status.h"

#include <stddef.h>

#include "vigil/abi.h"

static const struct {
    uint32_t status;
    const char *name, *message;
} statuses[] = {
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

const char *vctl_status_name(uint32_t status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].name;
    return NULL;
}

const char *vctl_status_message(uint32_t status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].message;
    return "unknown status code";
}
