/* Names of the guest-service events (status code names live in vigil/status.h). */
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/host/service_types.h"

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
