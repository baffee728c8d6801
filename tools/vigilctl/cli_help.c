/* vigilctl: the commands, their usage and help text (see cli.h). */
#include "cli.h"

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
                       "{\"stream\":\"stdout\",\"data_b64\":\"...\"} (the bytes, base64) as it arrives,\n"
                       "then {\"exit_code\":N,...}.\n"},
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

const char *vctl_command_usage(enum vctl_command command)
{
    return command > VCTL_CMD_NONE && command < VCTL_CMD_COUNT ? commands[command].usage : "";
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

