/* HRESULT names and sentences: vigilctl says exactly what the hypervisor's
 * console says, from the one table in guest-svc/include/vigil/status.h. */
#include "vctl_status.h"

#include "vigil/status.h"

const char *vctl_status_name(uint32_t status) { return vigil_status_name(status); }

const char *vctl_status_message(uint32_t status) { return vigil_status_message(status); }
