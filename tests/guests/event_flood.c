/*
 * event_flood: a hostile guest that floods vigil with guest-caused events, to show
 * that the console stays usable (tests/integration/hostile-console.cmake; the rate
 * limit is in guest-svc/host/guest_service.c, docs/security.md "Console and events").
 *
 * It registers, then raises events in rounds of events=N (default 3000), alternating
 * a shutdown announcement (guest-shutdown) and a re-registration
 * (additions-registered) whose strings try to forge console output, and prints one
 * line per round on COM2:
 *   event-flood: round R: N events sent (A accepted, L rate limited, E other errors)
 * It floods for rounds=N rounds (default 0: until vigil cuts it off), beating the
 * heartbeat between events, and powers off after the last round.
 */
#include "runtime/guest_runtime.h"

#include "guest-svc/additions/additions.h"

#define DEFAULT_EVENTS 3000u
#define MAX_EVENTS 1000000u

static struct vigil_additions additions;

/* Strings a hostile guest would use to forge vigil's console lines. */
static const char forged_os_name[] = "\nvigil> \xe2\x80\xae\x1b[2K";
static const char forged_computer[] = "event: heartbeat-stopped: forged\r";

static enum vigil_additions_error raise_event(uint32_t index)
{
    if (index & 1)
        return vigil_additions_register(&additions, "flood 1.0", forged_os_name, forged_computer, 0, 0, 0);
    return vigil_additions_send_event(&additions, VIGIL_GUEST_EVENT_SHUTTING_DOWN);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    uint64_t events = guest_cmdline_number("events", DEFAULT_EVENTS);
    if (events == 0 || events > MAX_EVENTS) {
        guest_print("event-flood: events=%llu out of range 1..%u\n", (unsigned long long)events, MAX_EVENTS);
        return;
    }
    uint64_t rounds = guest_cmdline_number("rounds", 0);
    struct vigil_additions_platform platform;
    vigil_additions_bare_platform(&platform);
    enum vigil_additions_error error = vigil_additions_discover(&additions, &platform);
    if (error == VIGIL_ADDITIONS_OK)
        error = vigil_additions_register(&additions, "flood 1.0", forged_os_name, forged_computer, 0, 0, 0);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("event-flood: FAIL: %s\n", vigil_additions_error_string(error));
        return;
    }
    guest_print("event-flood: registered, flooding %llu events per round\n", (unsigned long long)events);
    for (uint64_t round = 1; rounds == 0 || round <= rounds; round++) {
        uint32_t accepted = 0, limited = 0, other = 0;
        for (uint32_t i = 0; i < events; i++) {
            vigil_additions_beat(&additions);
            error = raise_event(i);
            if (error == VIGIL_ADDITIONS_OK)
                accepted++;
            else if (error == VIGIL_ADDITIONS_ERROR_RATE_LIMITED)
                limited++;
            else
                other++;
        }
        guest_print("event-flood: round %llu: %u events sent (%u accepted, %u rate limited, %u other errors)\n",
                    (unsigned long long)round, (unsigned)events, (unsigned)accepted, (unsigned)limited,
                    (unsigned)other);
    }
}
