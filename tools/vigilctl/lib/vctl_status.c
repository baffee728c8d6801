/* HRESULT names and sentences: vigilctl says exactly what the hypervisor's
 * console says, from the one table in guest-svc/host/status_names.c. */
#include "vctl_status.h"

#include "guest-svc/host/guest_service.h"

const char *vctl_status_name(uint32_t status) { return guest_service_status_name(status); }

const char *vctl_status_message(uint32_t status) { return guest_service_status_message(status); }
