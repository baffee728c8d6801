#include "hv/guest_lifecycle.h"

#include <stdarg.h>

#include "hv/guest_state_dump.h"
#include "hv/log.h"
#include "hv/msr_policy.h"
#include "hv/service.h"
#include "hv/vmexit_statistics.h"
#include "lib/format.h"

static struct guest_end end;
static bool ended;

const struct guest_end *guest_ending(void) { return ended ? &end : 0; }

static enum vmexit_action guest_ended(enum guest_end_kind kind, enum guest_service_event_kind event, const char *reason)
{
    vmexit_print_statistics();
    msr_policy_print_statistics();
    service_guest_ended(event, reason);
    end.kind = kind;
    format_string(end.reason, sizeof end.reason, "%s", reason);
    ended = true;
    return VMEXIT_GUEST_ENDED;
}

enum vmexit_action guest_stop(struct vcpu *vcpu, const char *format, ...)
{
    char reason[192];
    va_list arguments;
    va_start(arguments, format);
    format_vstring(reason, sizeof reason, format, arguments);
    va_end(arguments);
    return guest_stop_as(vcpu, GUEST_EVENT_GUEST_SHUTDOWN, reason);
}

enum vmexit_action guest_stop_as(struct vcpu *vcpu, enum guest_service_event_kind kind, const char *reason)
{
    (void)vcpu; /* its VMCS is the current one: the dump reads it */
    char headline[224];
    format_string(headline, sizeof headline, "guest stopped: %s", reason);
    guest_state_dump(headline);
    return guest_ended(GUEST_END_STOPPED, kind, reason);
}

enum vmexit_action guest_request_reset(struct vcpu *vcpu, const char *reason)
{
    return guest_stop(vcpu, "the guest asked for a machine reset: %s (vigil does not restart guests yet)", reason);
}

enum vmexit_action guest_powered_off(struct vcpu *vcpu, const char *how)
{
    (void)vcpu;
    log_raw_printf("vigil: guest powered off (%s)\n", how);
    return guest_ended(GUEST_END_POWERED_OFF, GUEST_EVENT_GUEST_SHUTDOWN, how);
}

enum vmexit_action guest_forced_off(struct vcpu *vcpu, bool reboot_requested)
{
    if (reboot_requested)
        return guest_stop(vcpu, "forced off after the shutdown timeout (reboot requested; vigil does not restart guests)");
    return guest_stop(vcpu, "forced off after the shutdown timeout");
}
