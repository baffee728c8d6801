/* vigilctl: command-line parsing and help (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct command_info {
    const char *name;
    const char *usage;   /* after "vigilctl [OPTIONS] " */
    const char *summary;
    const char *details; /* NULL: none */
};

static const struct command_info commands[VCTL_CMD_COUNT] = {
    [VCTL_CMD_HELP] = {"help", "help [COMMAND]", "show this help, or a command's", NULL},
    [VCTL_CMD_VERSION] = {"version", "version", "print vigilctl's version", NULL},
    [VCTL_CMD_STATUS] = {"status", "status",
                         "hypervisor version and uptime, guest and Additions state, heartbeat, time sync",
                         "Prints the hypervisor's view of the guest. A property the guest never\n"
                         "registered shows as 'unavailable' (null with --json).\n"},
    [VCTL_CMD_INFO] = {"info", "info",
                       "the IVMGuestOS properties: AdditionsVersion, OSName, ComputerName, CanShutdown, ...",
                       "Prints AdditionsVersion, OSName, ComputerName (IVMGuestOS2), CanShutdown,\n"
                       "HeartbeatPercentage, IsHeartbeating and IsHostTimeSyncEnabled.\n"},
    [VCTL_CMD_HEARTBEAT] = {"heartbeat",
                            "heartbeat [--graph [--duration S] [--interval S]] [--failure-interval MS]",
                            "heartbeat percentages, IsHeartbeating, last-beat age, gaps; --graph: a sparkline",
                            "Without options: the full heartbeat report (state, declared period, failure\n"
                            "interval, HeartbeatPercentage over the last 60 s and 1/5/15 minutes,\n"
                            "IsHeartbeating, last-beat age, longest gap, beats, anomalies).\n"
                            "  --graph             draw beats per interval as a terminal sparkline. The console\n"
                            "                      keeps no per-second history, so vigilctl samples the beat\n"
                            "                      counter every --interval (default 1 s) for --duration\n"
                            "                      (default 60 s; 0 = until Ctrl-C) and shows the stored\n"
                            "                      1/5/15-minute percentages as the longer history\n"
                            "  --failure-interval MS  set IsHeartbeating's failure interval (1000..3600000)\n"},
    [VCTL_CMD_EXEC] = {"exec", "exec [--cwd DIR] [--env NAME=VALUE]... [--timeout S] [--] PROGRAM [ARG]...",
                       "run a program in the guest, stream its output, exit with its exit code",
                       "Runs PROGRAM in the guest (ExecuteCommand). Its standard output and error are\n"
                       "copied to vigilctl's as they arrive; vigilctl exits with the command's exit\n"
                       "code (0..255). vigilctl's own failures exit 125 (connection, protocol) or 126\n"
                       "(the hypervisor or the guest refused to run it: an HRESULT).\n"
                       "  --cwd DIR           working directory in the guest\n"
                       "  --env NAME=VALUE    environment entry (repeatable, at most 64)\n"
                       "  --timeout S         the guest kills the command after S seconds (0 = none);\n"
                       "                      default: the global --timeout. vigilctl waits S plus the\n"
                       "                      global --timeout for the end\n"
                       "Ctrl-C kills the command in the guest. With --json, output is JSON lines:\n"
                       "{\"stream\":\"stdout\",\"data\":\"...\"} as it arrives, then {\"exit_code\":N,...}.\n"},
    [VCTL_CMD_KILL] = {"kill", "kill [ID]", "kill a running exec (by its request id; default the latest)", NULL},
    [VCTL_CMD_PARAM] = {"param", "param get NAME | param set NAME VALUE | param list",
                        "the guest's parameters (GetParameter/SetParameter)",
                        "Names are 1..255 characters without '\\'; values at most 1024 bytes.\n"},
    [VCTL_CMD_TIMESYNC] = {"timesync", "timesync [on|off|status]",
                           "IsHostTimeSyncEnabled: show, or switch host time sync", NULL},
    [VCTL_CMD_SHUTDOWN] = {"shutdown", "shutdown [--force] [--reboot] [--timeout S] [--reason TEXT] [--wait]",
                           "ask the guest to shut down (or reboot); --wait: until it is down",
                           "  --force             after the timeout the hypervisor stops the guest itself\n"
                           "  --reboot            reboot instead of power off\n"
                           "  --timeout S         the shutdown timeout (0 = the hypervisor's default, 30 s)\n"
                           "  --reason TEXT       reason passed to the guest (at most 255 bytes)\n"
                           "  --wait              show progress until the guest is down (a guest-shutdown\n"
                           "                      event, the guest no longer running, or the machine\n"
                           "                      powering off and closing the console); gives up after\n"
                           "                      the shutdown timeout plus the global --timeout\n"
                           "The guest may refuse: ERROR_MACHINE_LOCKED (exit 5).\n"},
    [VCTL_CMD_ADDITIONS] = {"additions", "additions install",
                            "offer the Additions package to the running agent (InstallAdditions)", NULL},
    [VCTL_CMD_STATS] = {"stats", "stats", "VM-exit counters per reason and the guest service's counters", NULL},
    [VCTL_CMD_WATCH] = {"watch", "watch [--interval S] [--count N] [--duration S]",
                        "live heartbeat and events, one line per event",
                        "Samples the heartbeat every --interval (default 1 s) and prints events as they\n"
                        "arrive, one line each. On a terminal a live status line with a sparkline of\n"
                        "the recent beats is redrawn in place; piped, every sample is a plain line.\n"
                        "Runs until Ctrl-C, or for scripts:\n"
                        "  --count N           stop after N lines (events and samples)\n"
                        "  --duration S        stop after S seconds\n"
                        "With --json every line is a JSON object: events as the console sends them,\n"
                        "samples as {\"heartbeat\":{...}}.\n"},
    [VCTL_CMD_CONSOLE] = {"console", "console",
                          "interactive passthrough to the human console (Ctrl-] quits)",
                          "Switches the console to human mode and connects the terminal to it, raw\n"
                          "(keys go as they are typed). Ctrl-] quits and restores the terminal.\n"
                          "Without a terminal on standard input, copies stdin to the console until EOF.\n"},
    [VCTL_CMD_METRICS] = {"metrics", "metrics [--label NAME=VALUE]...",
                          "heartbeat, exit and operation counters in the Prometheus text format",
                          "Prints the Prometheus text exposition format (HELP and TYPE lines), suitable\n"
                          "for node_exporter's textfile collector:\n"
                          "  vigilctl --port tcp:bmc1:2001 metrics --label host=bmc1 > /var/lib/node_exporter/vigil.prom.$$ &&\n"
                          "    mv /var/lib/node_exporter/vigil.prom.$$ /var/lib/node_exporter/vigil.prom\n"
                          "When the console does not answer, prints vigil_up 0 and exits 3.\n"
                          "  --label NAME=VALUE  add a label to every sample (repeatable)\n"},
    [VCTL_CMD_PING] = {"ping", "ping", "a round trip to the guest Additions (NOP)", NULL},
    [VCTL_CMD_POWEROFF] = {"poweroff", "poweroff [--reboot]",
                           "power off (or reset) the whole machine: the hypervisor's own poweroff",
                           "Stops the hypervisor itself, whatever the guest does (use shutdown to ask\n"
                           "the guest first). Success once the console acknowledges it or closes.\n"
                           "  --reboot            reset the machine instead\n"},
};

const char *vctl_command_name(enum vctl_command command)
{
    return command > VCTL_CMD_NONE && command < VCTL_CMD_COUNT ? commands[command].name : "vigilctl";
}

enum vctl_command vctl_command_lookup(const char *name)
{
    for (int i = 1; i < VCTL_CMD_COUNT; i++)
        if (commands[i].name != NULL && strcmp(commands[i].name, name) == 0)
            return (enum vctl_command)i;
    return VCTL_CMD_NONE;
}

void vctl_print_help(FILE *out, enum vctl_command topic)
{
    if (topic > VCTL_CMD_NONE && topic < VCTL_CMD_COUNT) {
        const struct command_info *c = &commands[topic];
        fprintf(out, "usage: vigilctl [GLOBAL OPTIONS] %s\n\n%s.\n", c->usage, c->summary);
        if (c->details != NULL)
            fprintf(out, "\n%s", c->details);
        fprintf(out, "\nGlobal options: vigilctl --help. Exit codes: see vigilctl(1).\n");
        return;
    }
    fprintf(out,
            "usage: vigilctl [--port DEV|tcp:HOST:PORT|unix:PATH] [--baud N] [--json] [--timeout S]\n"
            "                [--pace-ms MS] [--tick-ms MS] [--verbose] COMMAND [ARGS]\n"
            "\n"
            "Controls a vigil hypervisor and its guest over the hypervisor's serial console\n"
            "(its JSON-lines mode, docs/console-protocol.md).\n"
            "\n"
            "Global options:\n"
            "  -p, --port SPEC     DEV (a serial device or pty, e.g. /dev/ttyUSB0), tcp:HOST:PORT\n"
            "                      (a console server: ser2net, a BMC's serial-over-LAN, an emulator),\n"
            "                      tcp:PORT (127.0.0.1) or unix:PATH; default $VIGILCTL_PORT\n"
            "  -b, --baud N        serial line speed (default 115200; devices only)\n"
            "  -j, --json          machine-readable output: one JSON object per line\n"
            "  -t, --timeout S     how long to wait for the console (default 30; 0 = no limit)\n"
            "      --pace-ms MS    input pacing: wait MS after the first 16 bytes sent, then\n"
            "                      2 ms between 16-byte chunks, so the console UART's 16-byte\n"
            "                      FIFO never overruns (default: the tick + 10 = 60;\n"
            "                      $VIGILCTL_PACE_MS; 0 = no pacing)\n"
            "      --tick-ms MS    the hypervisor's tick (tick_ms=), for the pacing (default 50)\n"
            "  -v, --verbose       show the console's other lines (the hypervisor log) on stderr\n"
            "  -h, --help          this help (COMMAND --help: the command's)\n"
            "  -V, --version       vigilctl's version\n"
            "\n"
            "Commands:\n");
    for (int i = 1; i < VCTL_CMD_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Exit codes: 0 ok, 2 usage, 3 connection or timeout, 4 protocol error,\n"
            "5 the operation failed (HRESULT), 130 interrupted; exec: the guest command's\n"
            "exit code, 125/126 for vigilctl's own failures.\n"
            "\n"
            "Examples:\n"
            "  vigilctl --port /dev/ttyUSB0 status\n"
            "  VIGILCTL_PORT=tcp:bmc1:2001 vigilctl exec -- uname -a\n"
            "  vigilctl -p unix:/tmp/vigil.sock shutdown --reason 'kernel update' --wait\n");
}

/* ---- Parsing ------------------------------------------------------------------ */

struct args {
    int argc, index;
    char **argv;
    char *error;
    size_t size;
};

static int usage_error(struct args *a, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(struct args *a, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(a->error, a->size, format, args);
    va_end(args);
    return VCTL_PARSE_ERROR;
}

/* Matches "--name" (then the value is the next argument) or "--name=value". */
static bool option_value(struct args *a, const char *name, const char *short_name, const char **value, int *rc)
{
    const char *arg = a->argv[a->index];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
        *value = arg + n + 1;
        a->index++;
        return true;
    }
    if (strcmp(arg, name) == 0 || (short_name != NULL && strcmp(arg, short_name) == 0)) {
        if (a->index + 1 >= a->argc) {
            *rc = usage_error(a, "%s needs a value", name);
            *value = NULL;
            return true;
        }
        *value = a->argv[a->index + 1];
        a->index += 2;
        return true;
    }
    return false;
}

static bool parse_seconds(const char *text, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' || errno != 0 || v > max)
        return false;
    *out = v;
    return true;
}

static bool is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

/* Options of the command, then its positional arguments. Sets rc on error. */
static int parse_command(struct args *a, struct vctl_cli *cli)
{
    int rc = VCTL_PARSE_OK;
    const char *value;
    enum vctl_command cmd = cli->command;
    const char *name = commands[cmd].name;
    /* positionals collected here (exec: the rest) */
    const char *positional[4];
    int positional_count = 0;
    while (a->index < a->argc && rc == VCTL_PARSE_OK) {
        const char *arg = a->argv[a->index];
        if (is_help(arg)) {
            cli->help_topic = cmd;
            cli->command = VCTL_CMD_HELP;
            return VCTL_PARSE_HELP;
        }
        if (cmd == VCTL_CMD_EXEC) {
            if (strcmp(arg, "--") == 0) {
                a->index++;
                break;
            }
            if (option_value(a, "--cwd", NULL, &value, &rc)) {
                if (value != NULL && value[0] == '\0')
                    rc = usage_error(a, "exec: --cwd must not be empty");
                cli->cwd = value;
                continue;
            }
            if (option_value(a, "--env", "-e", &value, &rc)) {
                if (value == NULL)
                    continue;
                const char *eq = strchr(value, '=');
                if (eq == NULL || eq == value)
                    rc = usage_error(a, "exec: --env wants NAME=VALUE, not '%s'", value);
                else if (cli->env_count >= VCTL_ENV_MAX)
                    rc = usage_error(a, "exec: at most %d --env", VCTL_ENV_MAX);
                else
                    cli->env[cli->env_count++] = value;
                continue;
            }
            if (option_value(a, "--timeout", NULL, &value, &rc)) {
                uint64_t s;
                if (value != NULL && !parse_uint(value, 4294967, &s))
                    rc = usage_error(a, "exec: bad --timeout '%s' (whole seconds, 0..4294967)", value);
                else if (value != NULL) {
                    cli->exec_timeout_set = true;
                    cli->exec_timeout_s = (uint32_t)s;
                }
                continue;
            }
            if (arg[0] == '-' && arg[1] != '\0')
                return usage_error(a, "exec: unknown option '%s' (put '--' before the program)", arg);
            break; /* the program */
        }
        if (cmd == VCTL_CMD_HEARTBEAT || cmd == VCTL_CMD_WATCH) {
            if (cmd == VCTL_CMD_HEARTBEAT && strcmp(arg, "--graph") == 0) {
                cli->graph = true;
                a->index++;
                continue;
            }
            if (option_value(a, "--interval", NULL, &value, &rc)) {
                if (value != NULL && (!parse_seconds(value, 3600, &cli->interval_s) || cli->interval_s < 0.05))
                    rc = usage_error(a, "%s: bad --interval '%s' (seconds, 0.05..3600)", name, value);
                continue;
            }
            if (option_value(a, "--duration", NULL, &value, &rc)) {
                if (value != NULL && !parse_seconds(value, 1e7, &cli->duration_s))
                    rc = usage_error(a, "%s: bad --duration '%s' (seconds)", name, value);
                continue;
            }
            if (cmd == VCTL_CMD_WATCH && option_value(a, "--count", "-n", &value, &rc)) {
                uint64_t n;
                if (value != NULL && (!parse_uint(value, 1000000000, &n) || n == 0))
                    rc = usage_error(a, "watch: bad --count '%s' (1 or more)", value);
                else if (value != NULL)
                    cli->count = (long)n;
                continue;
            }
            if (cmd == VCTL_CMD_HEARTBEAT && option_value(a, "--failure-interval", NULL, &value, &rc)) {
                uint64_t ms;
                if (value != NULL && (!parse_uint(value, 3600000, &ms) || ms < 1000))
                    rc = usage_error(a, "heartbeat: bad --failure-interval '%s' (ms, 1000..3600000)", value);
                else if (value != NULL) {
                    cli->set_failure_interval = true;
                    cli->failure_interval_ms = (uint32_t)ms;
                }
                continue;
            }
        }
        if (cmd == VCTL_CMD_SHUTDOWN) {
            if (strcmp(arg, "--force") == 0 || strcmp(arg, "-f") == 0) {
                cli->force = true;
                a->index++;
                continue;
            }
            if (strcmp(arg, "--reboot") == 0 || strcmp(arg, "-r") == 0) {
                cli->reboot = true;
                a->index++;
                continue;
            }
            if (strcmp(arg, "--wait") == 0 || strcmp(arg, "-w") == 0) {
                cli->wait = true;
                a->index++;
                continue;
            }
            if (option_value(a, "--timeout", NULL, &value, &rc)) {
                uint64_t s;
                if (value != NULL && !parse_uint(value, 4294967, &s))
                    rc = usage_error(a, "shutdown: bad --timeout '%s' (whole seconds, 0..4294967)", value);
                else if (value != NULL) {
                    cli->shutdown_timeout_set = true;
                    cli->shutdown_timeout_s = (uint32_t)s;
                }
                continue;
            }
            if (option_value(a, "--reason", NULL, &value, &rc)) {
                if (value != NULL && strlen(value) > 255)
                    rc = usage_error(a, "shutdown: --reason is %zu bytes (at most 255)", strlen(value));
                cli->reason = value;
                continue;
            }
        }
        if (cmd == VCTL_CMD_POWEROFF && (strcmp(arg, "--reboot") == 0 || strcmp(arg, "-r") == 0)) {
            cli->reboot = true;
            a->index++;
            continue;
        }
        if (cmd == VCTL_CMD_METRICS && option_value(a, "--label", "-l", &value, &rc)) {
            if (value == NULL)
                continue;
            if (cli->label_count >= VCTL_LABELS_MAX)
                rc = usage_error(a, "metrics: at most %d --label", VCTL_LABELS_MAX);
            else
                cli->labels[cli->label_count++] = value;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            a->index++;
            while (a->index < a->argc && positional_count < 4)
                positional[positional_count++] = a->argv[a->index++];
            if (a->index < a->argc)
                return usage_error(a, "%s: too many arguments", name);
            break;
        }
        if (arg[0] == '-' && arg[1] != '\0' && !(cmd == VCTL_CMD_PARAM && positional_count >= 2))
            return usage_error(a, "%s: unknown option '%s' (vigilctl %s --help)", name, arg, name);
        if (positional_count == 4)
            return usage_error(a, "%s: too many arguments", name);
        positional[positional_count++] = arg;
        a->index++;
    }
    if (rc != VCTL_PARSE_OK)
        return rc;

    switch (cmd) {
    case VCTL_CMD_EXEC:
        if (a->index >= a->argc)
            return usage_error(a, "exec: no program (usage: %s)", commands[cmd].usage);
        cli->argv = a->argv + a->index;
        cli->argc = a->argc - a->index;
        if (cli->argc > 64)
            return usage_error(a, "exec: %d arguments (at most 64)", cli->argc);
        return VCTL_PARSE_OK;
    case VCTL_CMD_HELP:
        if (positional_count > 1)
            return usage_error(a, "help: one command at most");
        if (positional_count == 1) {
            cli->help_topic = vctl_command_lookup(positional[0]);
            if (cli->help_topic == VCTL_CMD_NONE)
                return usage_error(a, "help: unknown command '%s'", positional[0]);
        }
        return VCTL_PARSE_HELP;
    case VCTL_CMD_KILL:
        if (positional_count > 1)
            return usage_error(a, "kill: too many arguments");
        if (positional_count == 1) {
            if (!parse_uint(positional[0], 9007199254740991ull, &cli->target))
                return usage_error(a, "kill: bad id '%s'", positional[0]);
            cli->has_target = true;
        }
        return VCTL_PARSE_OK;
    case VCTL_CMD_PARAM: {
        if (positional_count == 0)
            return usage_error(a, "param: get, set or list? (usage: %s)", commands[cmd].usage);
        const char *action = positional[0];
        int want;
        if (strcmp(action, "get") == 0) {
            cli->param_action = VCTL_PARAM_GET;
            want = 2;
        } else if (strcmp(action, "set") == 0) {
            cli->param_action = VCTL_PARAM_SET;
            want = 3;
        } else if (strcmp(action, "list") == 0) {
            cli->param_action = VCTL_PARAM_LIST;
            want = 1;
        } else
            return usage_error(a, "param: unknown action '%s' (get, set or list)", action);
        if (positional_count != want)
            return usage_error(a, "param %s: usage: %s", action,
                               want == 1 ? "param list" : want == 2 ? "param get NAME" : "param set NAME VALUE");
        if (want >= 2) {
            cli->param_name = positional[1];
            size_t n = strlen(cli->param_name);
            if (n == 0 || n > 255 || strchr(cli->param_name, '\\') != NULL)
                return usage_error(a, "param: invalid name '%s' (1-255 characters, no '\\')", cli->param_name);
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)cli->param_name[i] < 0x20 || cli->param_name[i] == 0x7F)
                    return usage_error(a, "param: the name has a control character");
        }
        if (want == 3) {
            cli->param_value = positional[2];
            if (strlen(cli->param_value) > 1024)
                return usage_error(a, "param set: the value is %zu bytes (at most 1024)", strlen(cli->param_value));
        }
        return VCTL_PARSE_OK;
    }
    case VCTL_CMD_TIMESYNC:
        if (positional_count > 1)
            return usage_error(a, "timesync: usage: %s", commands[cmd].usage);
        cli->timesync_action = positional_count == 1 ? positional[0] : "status";
        if (strcmp(cli->timesync_action, "on") != 0 && strcmp(cli->timesync_action, "off") != 0 &&
            strcmp(cli->timesync_action, "status") != 0)
            return usage_error(a, "timesync: '%s'? (on, off or status)", cli->timesync_action);
        return VCTL_PARSE_OK;
    case VCTL_CMD_ADDITIONS:
        if (positional_count != 1 || strcmp(positional[0], "install") != 0)
            return usage_error(a, "additions: usage: %s", commands[cmd].usage);
        return VCTL_PARSE_OK;
    default:
        if (positional_count > 0)
            return usage_error(a, "%s: unexpected argument '%s' (usage: %s)", name, positional[0],
                               commands[cmd].usage);
        if (cmd == VCTL_CMD_HEARTBEAT && cli->set_failure_interval && cli->graph)
            return usage_error(a, "heartbeat: --graph and --failure-interval do not go together");
        if (cmd == VCTL_CMD_HEARTBEAT && !cli->graph && (cli->duration_s > 0 || cli->interval_s > 0))
            return usage_error(a, "heartbeat: --duration and --interval go with --graph");
        return VCTL_PARSE_OK;
    }
}

int vctl_cli_parse(int argc, char **argv, const char *env_port, const char *env_pace, struct vctl_cli *cli,
                   char *error, size_t size)
{
    memset(cli, 0, sizeof *cli);
    cli->baud = VCTL_DEFAULT_BAUD;
    cli->timeout_s = VCTL_DEFAULT_TIMEOUT_S;
    cli->port = env_port != NULL && env_port[0] != '\0' ? env_port : NULL;
    cli->pace_ms = -1;
    cli->tick_ms = 50;
    error[0] = '\0';
    struct args a = {argc, 1, argv, error, size};
    int rc = VCTL_PARSE_OK;
    const char *value;
    uint64_t number;
    const char *pace_option = NULL; /* --pace-ms, checked after the environment's */
    while (a.index < argc) {
        const char *arg = argv[a.index];
        if (is_help(arg)) {
            cli->command = VCTL_CMD_HELP;
            return VCTL_PARSE_HELP;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            cli->command = VCTL_CMD_VERSION;
            return VCTL_PARSE_OK;
        }
        if (strcmp(arg, "--json") == 0 || strcmp(arg, "-j") == 0) {
            cli->json = true;
            a.index++;
            continue;
        }
        if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            cli->verbose++;
            a.index++;
            continue;
        }
        if (option_value(&a, "--port", "-p", &value, &rc)) {
            if (rc != VCTL_PARSE_OK)
                return rc;
            if (value[0] == '\0')
                return usage_error(&a, "--port must not be empty");
            cli->port = value;
            continue;
        }
        if (option_value(&a, "--baud", "-b", &value, &rc)) {
            if (rc != VCTL_PARSE_OK)
                return rc;
            uint64_t baud;
            if (!parse_uint(value, 4000000, &baud) || baud == 0)
                return usage_error(&a, "bad --baud '%s' (e.g. 9600, 115200)", value);
            cli->baud = (unsigned)baud;
            continue;
        }
        if (option_value(&a, "--timeout", "-t", &value, &rc)) {
            if (rc != VCTL_PARSE_OK)
                return rc;
            if (!parse_seconds(value, 4294967, &cli->timeout_s))
                return usage_error(&a, "bad --timeout '%s' (seconds, 0 = no limit)", value);
            continue;
        }
        if (option_value(&a, "--pace-ms", NULL, &value, &rc)) {
            if (rc != VCTL_PARSE_OK)
                return rc;
            if (!parse_uint(value, VCTL_PACE_MS_MAX, &number))
                return usage_error(&a, "bad --pace-ms '%s' (milliseconds 0..%u, 0 = no pacing)", value,
                                   VCTL_PACE_MS_MAX);
            pace_option = value;
            cli->pace_ms = (int)number;
            continue;
        }
        if (option_value(&a, "--tick-ms", NULL, &value, &rc)) {
            if (rc != VCTL_PARSE_OK)
                return rc;
            if (!parse_uint(value, VCTL_TICK_MS_MAX, &number) || number == 0)
                return usage_error(&a, "bad --tick-ms '%s' (the hypervisor's tick, milliseconds 1..%u)", value,
                                   VCTL_TICK_MS_MAX);
            cli->tick_ms = (int)number;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return usage_error(&a, "unknown option '%s' (vigilctl --help)", arg);
        break;
    }
    if (pace_option == NULL && env_pace != NULL && env_pace[0] != '\0') {
        if (!parse_uint(env_pace, VCTL_PACE_MS_MAX, &number))
            return usage_error(&a, "bad VIGILCTL_PACE_MS '%s' (milliseconds 0..%u, 0 = no pacing)", env_pace,
                               VCTL_PACE_MS_MAX);
        cli->pace_ms = (int)number;
    }
    if (a.index >= argc)
        return usage_error(&a, "no command (vigilctl --help lists them)");
    const char *name = argv[a.index++];
    cli->command = vctl_command_lookup(name);
    if (cli->command == VCTL_CMD_NONE)
        return usage_error(&a, "unknown command '%s' (vigilctl --help lists them)", name);
    rc = parse_command(&a, cli);
    if (rc != VCTL_PARSE_OK)
        return rc;
    if (cli->command == VCTL_CMD_VERSION)
        return VCTL_PARSE_OK;
    if (cli->port == NULL)
        return usage_error(&a, "no port: give --port DEV|tcp:HOST:PORT|unix:PATH or set VIGILCTL_PORT");
    if (!cli->exec_timeout_set)
        cli->exec_timeout_s = (uint32_t)ceil(cli->timeout_s);
    return VCTL_PARSE_OK;
}
