/*
 * bench_agent (tools/bench): the reference agent's main loop (tests/guests/agent.c:
 * beat every period_ms, poll the mailbox every AGENT_POLL_MS, read the host time
 * record on each poll), on the same Additions library, plus cycle counters, so the
 * bench can measure the mailbox from both sides. The NOP that the console's `ping`
 * sends is answered by the library, exactly as in the reference agent.
 *
 * Counters (guest TSC): every vigil_additions_poll() call is timed; one that
 * handled a request adds to requests/request_cycles (the copy-in, the handler, the
 * reply and its doorbell exit, the hypervisor's handling of which the TSC counts
 * too), one that found nothing adds to idle_polls/idle_poll_cycles.
 *
 * EXECUTE commands:
 *   report     stdout "requests=R request_cycles=C idle_polls=P idle_poll_cycles=Q
 *              beats=B doorbells=D doorbell_cycles=E" (E: cycles inside the doorbell
 *              OUTs, i.e. the exits); then the counters restart (the report's
 *              own request is not counted)
 *   tsc        stdout "tsc=N"
 *   spew N     N bytes of "spew line 00001\n"..., streamed in payload-sized chunks
 *   stopbeat   stops beating for good (keeps polling); stdout "last_beat_tsc=N"
 *   poweroff   answers, then powers the machine off
 * COM2: "bench-agent: first beat at TSC N" after registration.
 * Command line: period_ms=N (default 1000).
 */
#include "runtime/guest_runtime.h"

#include <string.h>

#include "guest-svc/additions/additions.h"
#include "lib/format.h"

#define AGENT_POLL_MS 10u
#define SPEW_MAX (16u << 20)

static struct vigil_additions additions;
static uint64_t tsc_hz, period_cycles, poll_cycles, next_beat, next_poll, last_beat_tsc;
static bool beating = true, first_beat_reported, reset_pending, power_off_pending;
static uint64_t requests, request_cycles, idle_polls, idle_poll_cycles, beats, doorbells, doorbell_cycles;
static void (*bare_doorbell)(void *context, uint16_t port);

/* The platform's doorbell, timed: the OUT's VM exit, as long as the hypervisor
 * keeps the guest waiting for it. */
static void timed_doorbell(void *context, uint16_t port)
{
    uint64_t start = guest_rdtsc();
    bare_doorbell(context, port);
    doorbell_cycles += guest_rdtsc() - start;
    doorbells++;
}
static char output[VIGIL_MESSAGE_PAYLOAD_MAX];

static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static bool parse_unsigned(const char *text, uint64_t *value)
{
    uint64_t result = 0;
    if (!text || !*text)
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9' || result > 1000000000000ull)
            return false;
        result = result * 10 + (uint64_t)(*text - '0');
    }
    *value = result;
    return true;
}

static bool out_text(struct vigil_additions_request *request, uint32_t stream, const char *text)
{
    return vigil_additions_stream(&additions, request, stream, text, strlen(text)) == VIGIL_ADDITIONS_OK;
}

static void finish(struct vigil_additions_request *request, int32_t exit_code)
{
    enum vigil_additions_error error = vigil_additions_execute_finish(&additions, request, exit_code, 0);
    if (error != VIGIL_ADDITIONS_OK)
        guest_print("bench-agent: answer not delivered: %s\n", vigil_additions_error_string(error));
}

static void spew(struct vigil_additions_request *request, uint64_t total)
{
    uint64_t produced = 0;
    unsigned line = 1;
    char text[32];
    while (produced < total) {
        size_t used = 0;
        while (used + 16 <= sizeof output && produced + used < total) {
            int length = format_string(text, sizeof text, "spew line %05u\n", line++);
            size_t take = (size_t)length;
            if (take > total - produced - used)
                take = (size_t)(total - produced - used);
            memcpy(output + used, text, take);
            used += take;
        }
        if (vigil_additions_stream(&additions, request, VIGIL_MESSAGE_STDOUT, output, used) != VIGIL_ADDITIONS_OK)
            return;
        produced += used;
    }
    finish(request, 0);
}

static void execute(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                    const struct vigil_additions_command *command)
{
    (void)context;
    (void)a;
    const char *name = command->argv[0];
    uint64_t number = 0;
    char text[256];
    if (streq(name, "report")) {
        format_string(text, sizeof text,
                      "requests=%llu request_cycles=%llu idle_polls=%llu idle_poll_cycles=%llu beats=%llu "
                      "doorbells=%llu doorbell_cycles=%llu\n",
                      (unsigned long long)requests, (unsigned long long)request_cycles, (unsigned long long)idle_polls,
                      (unsigned long long)idle_poll_cycles, (unsigned long long)beats, (unsigned long long)doorbells,
                      (unsigned long long)doorbell_cycles);
        reset_pending = true;
        if (out_text(request, VIGIL_MESSAGE_STDOUT, text))
            finish(request, 0);
    } else if (streq(name, "tsc")) {
        format_string(text, sizeof text, "tsc=%llu\n", (unsigned long long)guest_rdtsc());
        if (out_text(request, VIGIL_MESSAGE_STDOUT, text))
            finish(request, 0);
    } else if (streq(name, "spew") && command->argc == 2 && parse_unsigned(command->argv[1], &number) &&
               number <= SPEW_MAX) {
        spew(request, number);
    } else if (streq(name, "stopbeat")) {
        beating = false;
        format_string(text, sizeof text, "last_beat_tsc=%llu\n", (unsigned long long)last_beat_tsc);
        guest_print("bench-agent: heartbeat stopped; last beat at TSC %llu\n", (unsigned long long)last_beat_tsc);
        if (out_text(request, VIGIL_MESSAGE_STDOUT, text))
            finish(request, 0);
    } else if (streq(name, "poweroff")) {
        power_off_pending = true;
        finish(request, 0);
    } else {
        format_string(text, sizeof text, "bench-agent: unknown command '%s'\n", name);
        if (out_text(request, VIGIL_MESSAGE_STDERR, text))
            finish(request, 127);
    }
}

static const struct vigil_additions_handlers handlers = { .execute = execute };

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    struct vigil_additions_platform platform;
    vigil_additions_bare_platform(&platform);
    bare_doorbell = platform.doorbell;
    platform.doorbell = timed_doorbell;
    enum vigil_additions_error error = vigil_additions_discover(&additions, &platform);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("bench-agent: no vigil: %s\n", vigil_additions_error_string(error));
        return;
    }
    tsc_hz = vigil_additions_tsc_frequency(&additions);
    if (tsc_hz < 1000000u) {
        guest_print("bench-agent: no TSC frequency in the time record\n");
        return;
    }
    uint64_t period_ms = guest_cmdline_number("period_ms", VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS);
    if (period_ms < VIGIL_HEARTBEAT_PERIOD_MIN_MS || period_ms > VIGIL_HEARTBEAT_PERIOD_MAX_MS)
        period_ms = VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS;
    period_cycles = tsc_hz / 1000u * period_ms;
    poll_cycles = tsc_hz / 1000u * AGENT_POLL_MS;
    error = vigil_additions_register(&additions, "vigil-bench-agent 1.0.0", "vigil bench guest", "bench-guest",
                                     VIGIL_CAPABILITY_EXECUTE, (uint32_t)period_ms, 0);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("bench-agent: registration failed: %s\n", vigil_additions_error_string(error));
        return;
    }
    guest_print("bench-agent: registered, period %u ms, tsc %llu Hz\n", (unsigned)period_ms,
                (unsigned long long)tsc_hz);

    next_beat = next_poll = guest_rdtsc();
    for (;;) {
        uint64_t now = guest_rdtsc();
        if (beating && now >= next_beat) {
            vigil_additions_beat(&additions);
            last_beat_tsc = now;
            beats++;
            next_beat += period_cycles;
            if (next_beat <= now)
                next_beat = now + period_cycles;
            if (!first_beat_reported) {
                first_beat_reported = true;
                guest_print("bench-agent: first beat at TSC %llu\n", (unsigned long long)now);
            }
        }
        if (now >= next_poll) {
            next_poll = now + poll_cycles;
            uint64_t unix_ns;
            (void)vigil_additions_host_time(&additions, &unix_ns); /* as the reference agent does */
            uint64_t start = guest_rdtsc();
            int handled = vigil_additions_poll(&additions, &handlers);
            uint64_t cycles = guest_rdtsc() - start;
            if (handled) {
                requests++;
                request_cycles += cycles;
            } else {
                idle_polls++;
                idle_poll_cycles += cycles;
            }
            if (reset_pending) {
                reset_pending = false;
                requests = request_cycles = idle_polls = idle_poll_cycles = beats = doorbells = doorbell_cycles = 0;
            }
            if (power_off_pending)
                return; /* entry.S powers off */
        }
        __asm__ volatile("pause");
    }
}
