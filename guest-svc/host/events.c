/*
 * Guest service events and their rate limit (guest_service.h): a token bucket per
 * event kind, so a guest that floods one kind (re-registering, announcing its
 * shutdown, making its heartbeat counter jump) costs the console a burst and then
 * one line per second; the dropped ones are counted in the next event of the kind
 * and in the statistics. docs/security.md, "Console and events".
 */
#include <stdarg.h>
#include <string.h>

#include "guest-svc/host/service_state.h"
#include "lib/format.h"

void gs_events_init(struct guest_service *service, uint64_t now)
{
    for (unsigned kind = 0; kind < GUEST_EVENT_KIND_COUNT; kind++) {
        service->event_buckets[kind].tokens = GUEST_SERVICE_EVENT_BURST;
        service->event_buckets[kind].dropped = 0;
        service->event_buckets[kind].refilled_ms = now;
    }
}

/* Token bucket per event kind: true if an event of this kind may go out now. */
static bool event_allowed(struct guest_service *service, enum guest_service_event_kind kind, uint64_t now)
{
    struct gs_event_bucket *bucket = &service->event_buckets[kind];
    uint64_t refills = (now - bucket->refilled_ms) / GUEST_SERVICE_EVENT_REFILL_MS;
    if (now < bucket->refilled_ms)
        refills = 0; /* a clock that went backwards refills nothing */
    if (refills > 0) {
        uint64_t tokens = bucket->tokens + refills;
        bucket->tokens = tokens > GUEST_SERVICE_EVENT_BURST ? GUEST_SERVICE_EVENT_BURST : (uint32_t)tokens;
        bucket->refilled_ms += refills * GUEST_SERVICE_EVENT_REFILL_MS;
    }
    if (bucket->tokens == 0) {
        bucket->dropped++;
        service->statistics.events_dropped++;
        return false;
    }
    bucket->tokens--;
    return true;
}

static void emit(struct guest_service *service, bool limited, enum guest_service_event_kind kind,
                 const char *format, va_list arguments)
{
    struct guest_service_event event;
    memset(&event, 0, sizeof(event));
    event.kind = kind;
    event.time_ms = gs_now(service);
    if ((unsigned)kind >= GUEST_EVENT_KIND_COUNT || (limited && !event_allowed(service, kind, event.time_ms)))
        return;
    format_vstring(event.detail, sizeof(event.detail), format, arguments);
    event.dropped = service->event_buckets[kind].dropped;
    service->event_buckets[kind].dropped = 0;
    service->statistics.events_emitted++;
    if (service->platform.emit_event)
        service->platform.emit_event(service->platform.context, &event);
}

void gs_emit(struct guest_service *service, enum guest_service_event_kind kind, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    emit(service, true, kind, format, arguments);
    va_end(arguments);
}

void gs_emit_stop(struct guest_service *service, enum guest_service_event_kind kind, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    emit(service, false, kind, format, arguments);
    va_end(arguments);
}

