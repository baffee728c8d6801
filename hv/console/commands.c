/* The command table and the synchronous commands, shared by both modes. */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

const struct console_command console_commands[COMMAND_COUNT] = {
    [COMMAND_HELP] = {"help", "help [COMMAND]", "list the commands, or show one command's usage", false},
    [COMMAND_STATUS] = {"status", "status", "guest, Additions, heartbeat and time sync at a glance", true},
    [COMMAND_GUEST] = {"guest", "guest", "the guest's IVMGuestOS properties", true},
    [COMMAND_HEARTBEAT] = {"heartbeat", "heartbeat [interval MS]", "heartbeat report, or set the failure interval",
                           true},
    [COMMAND_EXEC] = {"exec", "exec [--timeout S] [--cwd DIR] [--env NAME=VALUE]... [--] PROGRAM [ARG]...",
                      "run a program in the guest, streaming its output", true},
    [COMMAND_KILL] = {"kill", "kill [ID]", "kill a running exec (default: the latest)", true},
    [COMMAND_SHUTDOWN] = {"shutdown", "shutdown [--force] [--reboot] [--timeout S] [--reason TEXT]",
                          "ask the guest to shut down or reboot", true},
    [COMMAND_PARAM] = {"param", "param get NAME | param set NAME VALUE | param list", "the guest's parameters", true},
    [COMMAND_TIMESYNC] = {"timesync", "timesync [on|off|status]", "host time synchronisation", true},
    [COMMAND_ADDITIONS] = {"additions", "additions install", "offer the Additions package for an upgrade", true},
    [COMMAND_STATS] = {"stats", "stats", "VM-exit and guest service counters", false},
    [COMMAND_LOG] = {"log", "log [level 0..4]", "show or set the hypervisor log level", false},
    [COMMAND_MODE] = {"mode", "mode json|human", "switch between this and the JSON line protocol", false},
    [COMMAND_PING] = {"ping", "ping", "a round trip to the guest Additions", true},
    [COMMAND_POWEROFF] = {"poweroff", "poweroff [--reboot]",
                          "end vigil: power the machine off (or reset it); a running guest is cut off", false},
};

static const char *const log_level_names[] = {"error", "warn", "info", "debug", "trace"};

int console_command_lookup(const char *name)
{
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(console_commands[i].name, name) == 0)
            return i;
    return -1;
}

static void run_help(struct console *console, struct console_request *request)
{
    if (request->name != NULL) {
        int command = console_command_lookup(request->name);
        if (command < 0) {
            char text[160];
            format_string(text, sizeof text, "unknown command '%s' (try help)", request->name);
            console_reply_invalid(console, &request->target, text);
            return;
        }
        console_result_begin(console, &request->target);
        console_field_string(console, "usage", console_commands[command].usage);
        console_field_string(console, "summary", console_commands[command].summary);
        console_result_end(console);
        return;
    }
    if (console->mode == CONSOLE_MODE_JSON) {
        console_result_begin(console, &request->target);
        json_writer_key(&console->writer, "commands");
        json_writer_array_begin(&console->writer);
        for (int i = 0; i < COMMAND_COUNT; i++)
            json_writer_string(&console->writer, console_commands[i].name);
        json_writer_array_end(&console->writer);
        console_result_end(console);
        return;
    }
    for (int i = 0; i < COMMAND_COUNT; i++)
        console_printf(console, "  %-10s %s\n", console_commands[i].name, console_commands[i].summary);
    console_print(console, "  (help COMMAND shows its usage; Ctrl-U erases the line, Ctrl-C cancels it)\n");
}

static void string_property(struct console *console, const char *key,
                            uint32_t (*get)(const struct guest_service *, char *, size_t))
{
    char value[VIGIL_COMPUTER_NAME_MAX + 1];
    uint32_t status = get(console->host.service, value, sizeof value);
    if (status == VIGIL_S_OK)
        console_field_string(console, key, value);
    else
        console_field_unavailable(console, key, status);
}

static void bool_property(struct console *console, const char *key,
                          uint32_t (*get)(const struct guest_service *, bool *))
{
    bool value = false;
    uint32_t status = get(console->host.service, &value);
    if (status == VIGIL_S_OK)
        console_field_bool(console, key, value);
    else
        console_field_unavailable(console, key, status);
}

static void percentage_property(struct console *console)
{
    uint32_t value = 0;
    uint32_t status = guest_service_heartbeat_percentage(console->host.service, &value);
    if (status == VIGIL_S_OK)
        console_field_uint(console, "heartbeat_percentage", value, "%");
    else
        console_field_unavailable(console, "heartbeat_percentage", status);
}

static uint64_t uptime_ms(struct console *console)
{
    return console->host.uptime_ms != NULL ? console->host.uptime_ms(console->host.context) : 0;
}

static const char *version(struct console *console)
{
    const char *text = console->host.version != NULL ? console->host.version(console->host.context) : NULL;
    return text != NULL ? text : "unknown";
}

static void run_status(struct console *console, struct console_request *request, bool full)
{
    struct guest_service *service = console->host.service;
    console_result_begin(console, &request->target);
    if (!full) {
        console_field_string(console, "hypervisor", version(console));
        console_field_uint(console, "uptime_ms", uptime_ms(console), " ms");
        console_field_bool(console, "guest_running", guest_service_guest_running(service));
        console_field_bool(console, "additions_registered", guest_service_additions_registered(service));
    }
    string_property(console, "additions_version", guest_service_additions_version);
    string_property(console, "os_name", guest_service_os_name);
    string_property(console, "computer_name", guest_service_computer_name);
    percentage_property(console);
    bool_property(console, "is_heartbeating", guest_service_is_heartbeating);
    bool_property(console, "time_sync", guest_service_is_time_sync_enabled);
    if (full)
        bool_property(console, "can_shutdown", guest_service_can_shutdown);
    console_result_end(console);
}

static void run_heartbeat(struct console *console, struct console_request *request)
{
    struct guest_service *service = console->host.service;
    if (request->has_number) {
        uint32_t status = guest_service_set_heartbeat_failure_interval(service, (uint32_t)request->number);
        if (status != VIGIL_S_OK)
            console_reply_status(console, &request->target, status);
        else
            console_reply_ok(console, &request->target, "heartbeat: failure interval set");
        return;
    }
    struct heartbeat_report report;
    memset(&report, 0, sizeof report);
    guest_service_heartbeat_report(service, &report);
    console_result_begin(console, &request->target);
    console_field_string(console, "state", !report.started ? "not started" : report.heartbeating ? "beating" : "stopped");
    console_field_bool(console, "heartbeating", report.heartbeating);
    console_field_uint(console, "period_ms", report.period_ms, " ms");
    console_field_uint(console, "failure_interval_ms", report.failure_interval_ms, " ms");
    console_field_uint(console, "percentage", report.percentage, "% (last 60 s)");
    console_field_uint(console, "percentage_1_minute", report.percentage_1_minute, "%");
    console_field_uint(console, "percentage_5_minutes", report.percentage_5_minutes, "%");
    console_field_uint(console, "percentage_15_minutes", report.percentage_15_minutes, "%");
    if (report.last_beat_age_ms == UINT64_MAX) {
        if (console->mode == CONSOLE_MODE_JSON) {
            json_writer_key(&console->writer, "last_beat_age_ms");
            json_writer_null(&console->writer);
        } else
            console_print(console, "last beat age ms: never\n");
    } else
        console_field_uint(console, "last_beat_age_ms", report.last_beat_age_ms, " ms");
    console_field_uint(console, "longest_gap_ms", report.longest_gap_ms, " ms");
    console_field_uint(console, "beats_total", report.beats_total, NULL);
    console_field_uint(console, "anomalies_backwards", report.anomalies_backwards, NULL);
    console_field_uint(console, "anomalies_jumps", report.anomalies_jumps, NULL);
    console_result_end(console);
}

static void run_kill(struct console *console, struct console_request *request)
{
    struct console_slot *slot = console_slot_find_exec(console, !request->has_number, request->number);
    if (slot == NULL) {
        console_reply_invalid(console, &request->target,
                              request->has_number ? "kill: no running exec with that id" : "kill: no exec is running");
        return;
    }
    uint32_t status = guest_service_kill(console->host.service, slot->service_request_id);
    if (status != VIGIL_S_OK) {
        console_reply_status(console, &request->target, status);
        return;
    }
    char text[64];
    format_string(text, sizeof text, "kill: exec %llu is being killed", (unsigned long long)slot->request.target.id);
    console_reply_ok(console, &request->target, text);
}

static void run_timesync(struct console *console, struct console_request *request)
{
    struct guest_service *service = console->host.service;
    if (request->action == ACTION_ON || request->action == ACTION_OFF) {
        uint32_t status = guest_service_set_time_sync(service, request->action == ACTION_ON);
        if (status != VIGIL_S_OK) {
            console_reply_status(console, &request->target, status);
            return;
        }
    }
    bool enabled = false;
    uint32_t status = guest_service_is_time_sync_enabled(service, &enabled);
    if (status != VIGIL_S_OK) {
        console_reply_status(console, &request->target, status);
        return;
    }
    console_result_begin(console, &request->target);
    console_field_bool(console, "time_sync", enabled);
    console_result_end(console);
}

static void run_stats(struct console *console, struct console_request *request)
{
    bool json = console->mode == CONSOLE_MODE_JSON;
    console_result_begin(console, &request->target);
    if (json) {
        json_writer_key(&console->writer, "exits");
        json_writer_object_begin(&console->writer);
    } else
        console_print(console, "exits:\n");
    for (unsigned i = 0; console->host.exit_counter != NULL && i < 256; i++) {
        const char *name = NULL;
        uint64_t count = 0;
        if (!console->host.exit_counter(console->host.context, i, &name, &count))
            break;
        if (name == NULL)
            name = "?";
        if (json) {
            json_writer_key(&console->writer, name);
            json_writer_uint(&console->writer, count);
        } else {
            console_print(console, "  ");
            console_print_sanitized(console, name, strlen(name));
            console_printf(console, ": %llu\n", (unsigned long long)count);
        }
    }
    if (json) {
        json_writer_object_end(&console->writer);
        json_writer_key(&console->writer, "service");
        json_writer_object_begin(&console->writer);
    } else
        console_print(console, "guest service:\n");
    const struct guest_service_statistics *statistics =
        console->host.service != NULL ? guest_service_get_statistics(console->host.service) : NULL;
    if (statistics != NULL) {
        const struct {
            const char *key;
            uint64_t value;
        } counters[] = {
            {"doorbells", statistics->doorbells},
            {"doorbells_rate_limited", statistics->doorbells_rate_limited},
            {"messages_rejected", statistics->messages_rejected},
            {"replies_unsolicited", statistics->replies_unsolicited},
            {"requests_sent", statistics->requests_sent},
            {"requests_completed", statistics->requests_completed},
            {"requests_timed_out", statistics->requests_timed_out},
            {"requests_refused_busy", statistics->requests_refused_busy},
            {"chunks_received", statistics->chunks_received},
            {"bytes_streamed", statistics->bytes_streamed},
            {"ticks", statistics->ticks},
        };
        for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
            if (!json)
                console_print(console, "  ");
            console_field_uint(console, counters[i].key, counters[i].value, NULL);
        }
    }
    if (json)
        json_writer_object_end(&console->writer);
    console_result_end(console);
}

static void run_log(struct console *console, struct console_request *request)
{
    if (console->host.get_log_level == NULL || console->host.set_log_level == NULL) {
        console_reply_status(console, &request->target, VIGIL_E_NOTIMPL);
        return;
    }
    if (request->has_number && !console->host.set_log_level(console->host.context, (unsigned)request->number)) {
        console_reply_invalid(console, &request->target, "log: level refused");
        return;
    }
    unsigned level = console->host.get_log_level(console->host.context);
    console_result_begin(console, &request->target);
    console_field_uint(console, "level", level, NULL);
    console_field_string(console, "level_name", level < 5 ? log_level_names[level] : "unknown");
    console_result_end(console);
}

static void run_mode(struct console *console, struct console_request *request)
{
    /* The answer is always one JSON line (in the old mode when leaving JSON, in the
     * new one when entering it): a client sees its switch confirmed in JSON. */
    if (request->mode == CONSOLE_MODE_JSON)
        console->mode = CONSOLE_MODE_JSON;
    console_result_begin(console, &request->target);
    console_field_string(console, "mode", request->mode == CONSOLE_MODE_JSON ? "json" : "human");
    console_result_end(console);
    console->mode = request->mode;
    line_editor_set_raw(&console->editor, request->mode == CONSOLE_MODE_JSON);
}

static void run_poweroff(struct console *console, struct console_request *request)
{
    if (console->host.power_off == NULL) {
        console_reply_status(console, &request->target, VIGIL_E_NOTIMPL);
        return;
    }
    bool guest_running = console->host.service != NULL && guest_service_guest_running(console->host.service);
    /* The answer first: the machine is gone once the callback runs. */
    if (console->mode == CONSOLE_MODE_JSON) {
        console_result_begin(console, &request->target);
        console_field_bool(console, "reboot", request->reboot);
        console_field_bool(console, "guest_cut_off", guest_running);
        console_result_end(console);
    } else
        console_printf(console, "poweroff: %s%s\n", request->reboot ? "resetting the machine" : "powering off",
                       guest_running ? " (the running guest is cut off)" : "");
    console->host.power_off(console->host.context, request->reboot);
}

void console_run(struct console *console, struct console_slot *slot, struct console_request *request)
{
    const struct console_command *command = &console_commands[request->command];
    if (command->needs_service && console->host.service == NULL) {
        console_reply_status(console, &request->target, VIGIL_VM_E_VM_NOT_RUNNING);
        return;
    }
    switch (request->command) {
    case COMMAND_HELP: run_help(console, request); break;
    case COMMAND_STATUS: run_status(console, request, false); break;
    case COMMAND_GUEST: run_status(console, request, true); break;
    case COMMAND_HEARTBEAT: run_heartbeat(console, request); break;
    case COMMAND_KILL: run_kill(console, request); break;
    case COMMAND_TIMESYNC: run_timesync(console, request); break;
    case COMMAND_STATS: run_stats(console, request); break;
    case COMMAND_LOG: run_log(console, request); break;
    case COMMAND_MODE: run_mode(console, request); break;
    case COMMAND_POWEROFF: run_poweroff(console, request); break;
    case COMMAND_EXEC:
    case COMMAND_SHUTDOWN:
    case COMMAND_PARAM:
    case COMMAND_ADDITIONS:
    case COMMAND_PING:
        if (slot == NULL)
            console_reply_status(console, &request->target, VIGIL_E_BUSY);
        else
            console_submit(console, slot);
        break;
    default:
        break;
    }
}
