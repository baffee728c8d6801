/*
 * agent: the reference vigil guest agent (DESIGN.md §1, §2), built on the guest
 * Additions library (guest-svc/additions/). A bare Multiboot1 guest, paging off.
 *
 * It discovers vigil (none: "agent: no vigil: <reason>" and power off), registers
 * as "vigil-agent 1.0.0" / "vigil test guest" / hostname=NAME (default
 * "agent-guest"), then beats every period_ms=N (default 1000) and polls the
 * mailbox every AGENT_POLL_MS, so requests are answered quickly while the
 * heartbeat keeps the declared period. register_delay_ms=N (default 0) waits
 * N ms (guest TSC) before registering: a running guest whose Additions are not
 * there yet, for tests of the operations' refusals. Each request handled prints one
 * "agent: ..." line on COM2.
 *
 * EXECUTE runs built-in commands (no processes here):
 *   echo ARGS...   stdout "ARGS joined by spaces\n", exit 0
 *   uptime         stdout "<seconds since boot>\n"
 *   sleep N        N seconds, beating and polling: KILL stops it (KILLED, exit 137),
 *                  the request's timeout too (TIMED_OUT, exit 124)
 *   exit N         exit code N, no output
 *   spew N         N bytes of "spew line 00001\n"... (streaming of large output)
 *   stderr TEXT    TEXT on stderr, exit 1
 *   hang           stops beating and polling forever
 *   date           stdout the guest clock (the host's time while time sync is on)
 *   stopbeat N     answers at once, then keeps polling but does not beat for N s
 *   triplefault    empty IDT and int3: no answer
 *   veto on|off    SHUTDOWN_LOCKED on/off; SHUTDOWN answers ERROR_MACHINE_LOCKED while on
 *   env, pwd       the request's environment ("NAME=value" lines) and cwd ("/" if none)
 *   anything else  stderr "agent: unknown command 'X'\n", exit 127
 * Parameters: an in-memory store of AGENT_PARAMETERS_MAX entries.
 */
#include "runtime/guest_runtime.h"

#include <stdarg.h>
#include <string.h>

#include "arch/x86_64/port_io.h"
#include "drivers/pit/pit.h"
#include "drivers/rtc/rtc.h"
#include "guest-svc/additions/additions.h"
#include "lib/format.h"

#define AGENT_VERSION "vigil-agent 1.0.0"
#define AGENT_OS_NAME "vigil test guest"
#define AGENT_DEFAULT_HOSTNAME "agent-guest"
#define AGENT_POLL_MS 10u
#define AGENT_PARAMETERS_MAX 32u
#define AGENT_SPEW_MAX (64u << 20)
#define EXIT_KILLED 137
#define EXIT_TIMED_OUT 124
#define RESET_CONTROL_PORT 0xCF9

static struct vigil_additions additions;

static uint64_t tsc_hz, boot_tsc;
static uint64_t period_cycles, poll_cycles, next_beat, next_poll;
static bool beat_paused;
static uint64_t beat_paused_until;

static bool veto;
static bool command_running, kill_requested;

/* The guest clock: clock_base_ns at TSC clock_base_tsc, then free-running on the TSC;
 * re-based on the host's time record whenever time sync is on. */
static uint64_t clock_base_ns, clock_base_tsc;
static bool clock_synced;

static uint64_t rdtsc(void) { return guest_rdtsc(); }

/* The runtime has no strcmp. */
static bool streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static uint64_t cycles_to_ns(uint64_t cycles)
{
    return cycles / tsc_hz * 1000000000ull + cycles % tsc_hz * 1000000000ull / tsc_hz;
}

static uint64_t ms_to_cycles(uint64_t milliseconds) { return tsc_hz / 1000u * milliseconds; }

/* ---- clock ------------------------------------------------------------------------ */

static uint64_t guest_clock_ns(void)
{
    uint64_t host;
    if (vigil_additions_host_time(&additions, &host)) {
        if (!clock_synced)
            guest_print("agent: time sync on\n");
        clock_synced = true;
        clock_base_ns = host;
        clock_base_tsc = rdtsc();
        return host;
    }
    if (clock_synced)
        guest_print("agent: time sync off: the clock free-runs\n");
    clock_synced = false;
    return clock_base_ns + cycles_to_ns(rdtsc() - clock_base_tsc);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (civil-from-days, H. Hinnant). */
static void format_date(char *out, size_t size, uint64_t unix_ns)
{
    uint64_t seconds = unix_ns / 1000000000ull;
    unsigned milliseconds = (unsigned)(unix_ns % 1000000000ull / 1000000u);
    uint64_t days = seconds / 86400u;
    unsigned second_of_day = (unsigned)(seconds % 86400u);
    uint64_t z = days + 719468u;
    uint64_t era = z / 146097u;
    unsigned day_of_era = (unsigned)(z - era * 146097u);
    unsigned year_of_era = (day_of_era - day_of_era / 1460u + day_of_era / 36524u - day_of_era / 146096u) / 365u;
    uint64_t year = year_of_era + era * 400u;
    unsigned day_of_year = day_of_era - (365u * year_of_era + year_of_era / 4u - year_of_era / 100u);
    unsigned mp = (5u * day_of_year + 2u) / 153u;
    unsigned day = day_of_year - (153u * mp + 2u) / 5u + 1u;
    unsigned month = mp < 10 ? mp + 3 : mp - 9;
    if (month <= 2)
        year++;
    format_string(out, size, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)year, month, day,
                  second_of_day / 3600u, second_of_day / 60u % 60u, second_of_day % 60u, milliseconds);
}

/* ---- beating and polling ----------------------------------------------------------------- */

static void beat_if_due(uint64_t now)
{
    if (beat_paused) {
        if (now < beat_paused_until)
            return;
        beat_paused = false;
        next_beat = now;
        guest_print("agent: heartbeat resumed\n");
    }
    if (now >= next_beat) {
        vigil_additions_beat(&additions);
        next_beat += period_cycles;
        if (next_beat <= now) /* fell behind (a long handler): no burst of catch-up beats */
            next_beat = now + period_cycles;
    }
}

static const struct vigil_additions_handlers handlers;

/* The agent's heartbeat and mailbox: called from the main loop and from inside
 * long commands (sleep, spew), where a KILL can then arrive (nested poll). */
static void service(void)
{
    uint64_t now = rdtsc();
    beat_if_due(now);
    if (now >= next_poll) {
        next_poll = now + poll_cycles;
        (void)guest_clock_ns(); /* follow the host time (or notice the sync went off) */
        vigil_additions_poll(&additions, &handlers);
    }
}

/* Platform wait (the library's back-off on RATE_LIMITED): beat, never poll. */
static void agent_wait_ms(void *context, uint32_t milliseconds)
{
    (void)context;
    uint64_t end = rdtsc() + ms_to_cycles(milliseconds);
    uint64_t now;
    while ((now = rdtsc()) < end) {
        beat_if_due(now);
        __asm__ volatile("pause");
    }
}

/* ---- command output ------------------------------------------------------------------------- */

static char output[VIGIL_MESSAGE_PAYLOAD_MAX];

static bool out(struct vigil_additions_request *request, uint32_t stream, const char *text, size_t length)
{
    return vigil_additions_stream(&additions, request, stream, text, length) == VIGIL_ADDITIONS_OK;
}

static bool out_string(struct vigil_additions_request *request, uint32_t stream, const char *text)
{
    return out(request, stream, text, strlen(text));
}

static bool out_format(struct vigil_additions_request *request, uint32_t stream, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static bool out_format(struct vigil_additions_request *request, uint32_t stream, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int length = format_vstring(output, sizeof output, format, arguments);
    va_end(arguments);
    if (length < 0)
        return false;
    if ((size_t)length >= sizeof output)
        length = (int)sizeof output - 1;
    return out(request, stream, output, (size_t)length);
}

/* argv[first..] joined by spaces, then "\n", bounded by the output buffer. */
static size_t join(const struct vigil_additions_command *command, uint32_t first, char *buffer, size_t size)
{
    size_t used = 0;
    for (uint32_t i = first; i < command->argc; i++) {
        for (const char *p = i > first ? " " : ""; *p && used + 2 < size; p++)
            buffer[used++] = *p;
        for (const char *p = command->argv[i]; *p && used + 2 < size; p++)
            buffer[used++] = *p;
    }
    buffer[used++] = '\n';
    buffer[used] = '\0';
    return used;
}

static void finish(struct vigil_additions_request *request, int32_t exit_code, uint32_t flags)
{
    enum vigil_additions_error error = vigil_additions_execute_finish(&additions, request, exit_code, flags);
    if (error != VIGIL_ADDITIONS_OK)
        guest_print("agent: answer of request %u not delivered: %s\n", (unsigned)request->sequence,
                    vigil_additions_error_string(error));
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

/* Why a long command must stop now, as execute result flags (0 = go on). */
static uint32_t interrupted(uint64_t deadline)
{
    if (kill_requested)
        return VIGIL_EXECUTE_KILLED;
    if (deadline && rdtsc() >= deadline)
        return VIGIL_EXECUTE_TIMED_OUT;
    return 0;
}

static void finish_interrupted(struct vigil_additions_request *request, const char *what, uint32_t why)
{
    guest_print("agent: %s %s\n", what, why == VIGIL_EXECUTE_KILLED ? "killed" : "timed out");
    finish(request, why == VIGIL_EXECUTE_KILLED ? EXIT_KILLED : EXIT_TIMED_OUT, why);
}

static void command_sleep(struct vigil_additions_request *request, uint64_t seconds, uint64_t deadline)
{
    uint64_t end = rdtsc() + tsc_hz * seconds;
    while (rdtsc() < end) {
        service();
        uint32_t why = interrupted(deadline);
        if (why) {
            finish_interrupted(request, "sleep", why);
            return;
        }
        __asm__ volatile("pause");
    }
    finish(request, 0, 0);
}

static void command_spew(struct vigil_additions_request *request, uint64_t total, uint64_t deadline)
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
        if (!out(request, VIGIL_MESSAGE_STDOUT, output, used))
            return; /* rejected: the host no longer wants this answer */
        produced += used;
        service();
        uint32_t why = interrupted(deadline);
        if (why) {
            finish_interrupted(request, "spew", why);
            return;
        }
    }
    finish(request, 0, 0);
}

__attribute__((noreturn)) static void hang(void)
{
    guest_print("agent: hanging: no more beats or polls\n");
    for (;;)
        __asm__ volatile("pause");
}

__attribute__((noreturn)) static void triple_fault(void)
{
    guest_print("agent: triple fault\n");
    guest_print_flush();
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } empty_idt = { 0, 0 };
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
    guest_print("agent: still running after the triple fault\n");
    guest_power_off();
}

static void agent_execute(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                          const struct vigil_additions_command *command)
{
    (void)context;
    (void)a;
    char line[160];
    join(command, 0, line, sizeof line);
    line[strlen(line) - 1] = '\0';
    guest_print("agent: exec %s\n", line);

    const char *name = command->argv[0];
    const char *argument = command->argc > 1 ? command->argv[1] : NULL;
    uint64_t number = 0;
    uint64_t deadline = command->timeout_ms ? rdtsc() + ms_to_cycles(command->timeout_ms) : 0;
    command_running = true;
    kill_requested = false;

    if (streq(name, "echo")) {
        size_t length = join(command, 1, output, sizeof output);
        if (out(request, VIGIL_MESSAGE_STDOUT, output, length))
            finish(request, 0, 0);
    } else if (streq(name, "uptime")) {
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "%llu\n",
                       (unsigned long long)((rdtsc() - boot_tsc) / tsc_hz)))
            finish(request, 0, 0);
    } else if (streq(name, "sleep") && parse_unsigned(argument, &number) && number <= 86400u) {
        command_sleep(request, number, deadline);
    } else if (streq(name, "exit") && parse_unsigned(argument, &number) && number <= 255u) {
        finish(request, (int32_t)number, 0);
    } else if (streq(name, "spew") && parse_unsigned(argument, &number) && number <= AGENT_SPEW_MAX) {
        command_spew(request, number, deadline);
    } else if (streq(name, "stderr")) {
        size_t length = join(command, 1, output, sizeof output);
        if (out(request, VIGIL_MESSAGE_STDERR, output, length))
            finish(request, 1, 0);
    } else if (streq(name, "hang")) {
        hang();
    } else if (streq(name, "date")) {
        char date[40];
        format_date(date, sizeof date, guest_clock_ns());
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "%s\n", date))
            finish(request, 0, 0);
    } else if (streq(name, "stopbeat") && parse_unsigned(argument, &number) && number <= 86400u) {
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "heartbeat stopped for %u s\n", (unsigned)number))
            finish(request, 0, 0);
        guest_print("agent: heartbeat stopped for %u s\n", (unsigned)number);
        beat_paused = true;
        beat_paused_until = rdtsc() + tsc_hz * number;
    } else if (streq(name, "tsc-write")) {
        /* A hostile kernel rewinds the TSC (tests/integration/hostile-cpu.cmake): vigil's
         * clock must not follow. The agent's own clock is rebased with it. */
        uint64_t before = rdtsc();
        guest_wrmsr(0x10, 0);
        guest_wrmsr(0x3B, 0x8000000000000000ull); /* TSC_ADJUST: half the range back */
        boot_tsc -= before;
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "tsc rewound\n"))
            finish(request, 0, 0);
    } else if (streq(name, "triplefault")) {
        triple_fault();
    } else if (streq(name, "veto") && argument && (streq(argument, "on") || streq(argument, "off"))) {
        veto = streq(argument, "on");
        vigil_additions_set_shutdown_locked(&additions, veto);
        guest_print("agent: shutdown veto %s\n", veto ? "on" : "off");
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "veto %s\n", veto ? "on" : "off"))
            finish(request, 0, 0);
    } else if (streq(name, "env")) {
        bool ok = true;
        for (uint32_t i = 0; ok && i < command->env_count; i++)
            ok = out_string(request, VIGIL_MESSAGE_STDOUT, command->env[i]) &&
                 out_string(request, VIGIL_MESSAGE_STDOUT, "\n");
        if (ok)
            finish(request, 0, 0);
    } else if (streq(name, "pwd")) {
        if (out_format(request, VIGIL_MESSAGE_STDOUT, "%s\n", command->cwd ? command->cwd : "/"))
            finish(request, 0, 0);
    } else if (streq(name, "sleep") || streq(name, "exit") || streq(name, "spew") ||
               streq(name, "stopbeat") || streq(name, "veto")) {
        if (out_format(request, VIGIL_MESSAGE_STDERR, "agent: %s: bad argument '%s'\n", name,
                       argument ? argument : ""))
            finish(request, 2, 0);
    } else {
        if (out_format(request, VIGIL_MESSAGE_STDERR, "agent: unknown command '%s'\n", name))
            finish(request, 127, 0);
    }
    command_running = false;
    kill_requested = false;
}

static uint32_t agent_kill(void *context)
{
    (void)context;
    guest_print("agent: kill (%s)\n", command_running ? "stopping the running command" : "nothing running");
    if (command_running)
        kill_requested = true;
    return VIGIL_S_OK;
}

/* ---- parameters ------------------------------------------------------------------------------ */

struct parameter {
    bool used;
    char name[VIGIL_PARAMETER_NAME_MAX + 1];
    char value[VIGIL_PARAMETER_VALUE_MAX + 1];
};
static struct parameter parameters[AGENT_PARAMETERS_MAX];

static void copy_bounded(char *destination, const char *source, size_t size)
{
    size_t i = 0;
    for (; i + 1 < size && source[i]; i++)
        destination[i] = source[i];
    destination[i] = '\0';
}

static struct parameter *find_parameter(const char *name)
{
    for (unsigned i = 0; i < AGENT_PARAMETERS_MAX; i++) {
        if (parameters[i].used && streq(parameters[i].name, name))
            return &parameters[i];
    }
    return NULL;
}

static uint32_t agent_set_parameter(void *context, const char *name, const char *value)
{
    (void)context;
    struct parameter *p = find_parameter(name);
    for (unsigned i = 0; !p && i < AGENT_PARAMETERS_MAX; i++) {
        if (!parameters[i].used)
            p = &parameters[i];
    }
    if (!p) {
        guest_print("agent: set parameter '%s': store full\n", name);
        return VIGIL_E_FAIL;
    }
    p->used = true;
    copy_bounded(p->name, name, sizeof p->name);
    copy_bounded(p->value, value, sizeof p->value);
    guest_print("agent: set parameter '%s'\n", name);
    return VIGIL_S_OK;
}

static uint32_t agent_get_parameter(void *context, const char *name, char *value, size_t size)
{
    (void)context;
    struct parameter *p = find_parameter(name);
    guest_print("agent: get parameter '%s'%s\n", name, p ? "" : ": not found");
    if (!p)
        return VIGIL_E_NOT_FOUND;
    copy_bounded(value, p->value, size);
    return VIGIL_S_OK;
}

static bool agent_list_parameter(void *context, uint32_t index, const char **name)
{
    (void)context;
    uint32_t seen = 0;
    if (index == 0)
        guest_print("agent: list parameters\n");
    for (unsigned i = 0; i < AGENT_PARAMETERS_MAX; i++) {
        if (parameters[i].used && seen++ == index) {
            *name = parameters[i].name;
            return true;
        }
    }
    return false;
}

/* ---- shutdown, additions ------------------------------------------------------------------------- */

static void agent_shutdown(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                           const struct vigil_additions_shutdown *shutdown)
{
    (void)context;
    if (veto) {
        guest_print("agent: shutdown vetoed (reason '%s')\n", shutdown->reason);
        vigil_additions_reply(a, request, VIGIL_ERROR_MACHINE_LOCKED, NULL, 0);
        return;
    }
    bool reboot = (shutdown->flags & VIGIL_SHUTDOWN_REBOOT) != 0;
    vigil_additions_reply(a, request, VIGIL_S_OK, NULL, 0);
    vigil_additions_set_state(a, VIGIL_AGENT_STOPPING);
    vigil_additions_send_event(a, VIGIL_GUEST_EVENT_SHUTTING_DOWN);
    guest_print("agent: shutting down (reason '%s')%s\n", shutdown->reason, reboot ? ", reboot" : "");
    guest_print_flush();
    if (reboot) {
        /* PCI reset control: "hard reset" then "reset CPU"; vigil then stops the guest. */
        port_out8(RESET_CONTROL_PORT, 0x02);
        port_out8(RESET_CONTROL_PORT, 0x06);
        for (uint32_t spin = 0; spin < 10000000u; spin++)
            __asm__ volatile("pause");
        guest_print("agent: reset through port 0xcf9 did nothing: powering off\n");
    }
    guest_power_off();
}

static uint32_t agent_install_additions(void *context, const struct vigil_additions_package *package)
{
    (void)context;
    if (!package->offered || !package->data) {
        guest_print("agent: install additions: no package offered\n");
        return VIGIL_E_FAIL;
    }
    /* A checksum proves the package is readable. A real agent would verify it,
     * unpack it and restart itself from it; this test guest has nowhere to install
     * to, so it only reports what it was offered. */
    uint32_t checksum = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < package->size; i++)
        checksum = (checksum ^ package->data[i]) * 16777619u;
    guest_print("agent: install additions: version '%s', %u bytes at 0x%llx, fnv1a 0x%08x"
                " (no upgrade in this test guest)\n",
                package->version, (unsigned)package->size, (unsigned long long)package->address, (unsigned)checksum);
    return VIGIL_S_OK;
}

static const struct vigil_additions_handlers handlers = {
    .context = NULL,
    .execute = agent_execute,
    .kill = agent_kill,
    .set_parameter = agent_set_parameter,
    .get_parameter = agent_get_parameter,
    .list_parameter = agent_list_parameter,
    .shutdown = agent_shutdown,
    .install_additions = agent_install_additions,
};

/* ---- start -------------------------------------------------------------------------------------- */

/* The value of the first "name=VALUE" word of the command line, or fallback. */
static void cmdline_word(const char *name, char *value, size_t size, const char *fallback)
{
    const char *cursor = guest_cmdline();
    size_t name_length = strlen(name);
    while (*cursor) {
        while (*cursor == ' ' || *cursor == '\t')
            cursor++;
        const char *word = cursor;
        while (*cursor && *cursor != ' ' && *cursor != '\t')
            cursor++;
        size_t word_length = (size_t)(cursor - word);
        if (word_length > name_length + 1 && memcmp(word, name, name_length) == 0 && word[name_length] == '=') {
            size_t length = word_length - name_length - 1;
            if (length >= size)
                length = size - 1;
            memcpy(value, word + name_length + 1, length);
            value[length] = '\0';
            return;
        }
    }
    copy_bounded(value, fallback, size);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    boot_tsc = rdtsc();
    guest_print("agent: starting (cmdline '%s')\n", guest_cmdline());

    struct vigil_additions_platform platform;
    vigil_additions_bare_platform(&platform);
    platform.wait_ms = agent_wait_ms;
    enum vigil_additions_error error = vigil_additions_discover(&additions, &platform);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("agent: no vigil: %s\n", vigil_additions_error_string(error));
        return; /* entry.S powers off */
    }

    tsc_hz = vigil_additions_tsc_frequency(&additions);
    const char *tsc_source = "time record";
    if (tsc_hz == 0) {
        tsc_hz = pit_measure_tsc_frequency();
        tsc_source = "PIT";
    }
    if (tsc_hz < 1000000u) {
        tsc_hz = 1000000000u;
        tsc_source = "assumed: no time record, PIT failed";
    }
    guest_print("agent: vigil abi %u.%u, shared region 0x%llx (%u bytes), doorbell port 0x%x, tsc %llu Hz (%s)\n",
                (unsigned)(additions.hypervisor_abi_version >> 16),
                (unsigned)(additions.hypervisor_abi_version & 0xFFFF),
                (unsigned long long)additions.region_address, (unsigned)additions.region_size,
                (unsigned)additions.doorbell_port, (unsigned long long)tsc_hz, tsc_source);

    struct rtc_time rtc;
    uint64_t rtc_seconds;
    if (rtc_read(&rtc) && rtc_to_unix_seconds(&rtc, &rtc_seconds))
        clock_base_ns = rtc_seconds * 1000000000ull;
    clock_base_tsc = rdtsc();

    char hostname[VIGIL_COMPUTER_NAME_MAX];
    cmdline_word("hostname", hostname, sizeof hostname, AGENT_DEFAULT_HOSTNAME);
    uint64_t period_ms = guest_cmdline_number("period_ms", VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS);
    if (period_ms < VIGIL_HEARTBEAT_PERIOD_MIN_MS || period_ms > VIGIL_HEARTBEAT_PERIOD_MAX_MS) {
        uint64_t clamped = period_ms < VIGIL_HEARTBEAT_PERIOD_MIN_MS ? VIGIL_HEARTBEAT_PERIOD_MIN_MS
                                                                     : VIGIL_HEARTBEAT_PERIOD_MAX_MS;
        guest_print("agent: period_ms=%llu out of range: using %llu\n", (unsigned long long)period_ms,
                    (unsigned long long)clamped);
        period_ms = clamped;
    }
    period_cycles = ms_to_cycles(period_ms);
    poll_cycles = ms_to_cycles(AGENT_POLL_MS < period_ms ? AGENT_POLL_MS : period_ms);

    uint64_t register_delay_ms = guest_cmdline_number("register_delay_ms", 0);
    if (register_delay_ms > 0) {
        guest_print("agent: registering in %llu ms\n", (unsigned long long)register_delay_ms);
        for (uint64_t end = rdtsc() + ms_to_cycles(register_delay_ms); rdtsc() < end;)
            __asm__ volatile("pause");
    }

    uint32_t capabilities = VIGIL_CAPABILITY_EXECUTE | VIGIL_CAPABILITY_SHUTDOWN | VIGIL_CAPABILITY_PARAMETERS |
                            VIGIL_CAPABILITY_TIME_SYNC | VIGIL_CAPABILITY_INSTALL_ADDITIONS;
    error = vigil_additions_register(&additions, AGENT_VERSION, AGENT_OS_NAME, hostname, capabilities,
                                     (uint32_t)period_ms, 0);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("agent: registration failed: %s\n", vigil_additions_error_string(error));
        return;
    }
    guest_print("agent: registered (version '%s', computer '%s', period %u ms)\n", AGENT_VERSION, hostname,
                (unsigned)period_ms);

    uint64_t now = rdtsc();
    next_beat = now;
    next_poll = now;
    for (;;) {
        service();
        __asm__ volatile("pause");
    }
}
