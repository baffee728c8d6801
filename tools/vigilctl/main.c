/*
 * vigilctl: the operator's tool for vigil over the hypervisor's serial console
 * (docs/vigilctl.md, docs/vigilctl.1; protocol: docs/console-protocol.md).
 */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigilctl.h"

volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}
/* ---- main ---------------------------------------------------------------------------------- */

static void on_log(void *context, const char *line, size_t length)
{
    struct ctx *x = context;
    if (x->cli->verbose == 0)
        return;
    fputs("console: ", stderr);
    vctl_print_sanitized(stderr, line, length);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    struct vctl_cli cli;
    char error[512];
    int parsed = vctl_cli_parse(argc, argv, getenv("VIGILCTL_PORT"), getenv("VIGILCTL_PACE_MS"), &cli, error,
                                sizeof error);
    struct ctx x = {&cli, NULL, -1, isatty(1) != 0, false};
    if (parsed == VCTL_PARSE_HELP) {
        vctl_print_help(stdout, cli.help_topic);
        return VCTL_EXIT_OK;
    }
    if (parsed != VCTL_PARSE_OK) {
        fprintf(stderr, "vigilctl: %s\n", error);
        if (cli.json)
            vctl_print_error(stdout, true, vctl_command_name(cli.command), "usage", error);
        return cli.command == VCTL_CMD_EXEC ? VCTL_EXIT_EXEC_FAILED : VCTL_EXIT_USAGE;
    }
    if (cli.command == VCTL_CMD_VERSION) {
        printf("vigilctl %s\n", VIGILCTL_VERSION);
        return VCTL_EXIT_OK;
    }
    x.exec = cli.command == VCTL_CMD_EXEC;
    x.timeout_ms = cli.timeout_s <= 0 ? -1 : (int)fmin(cli.timeout_s * 1000.0, 2e9);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits notice at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct vctl_client_config config;
    memset(&config, 0, sizeof config);
    config.interrupted = &interrupted;
    config.on_log = on_log;
    config.context = &x;
    /* input pacing (docs/vigilctl.md, "Why vigilctl paces its input") */
    config.pace_ms = cli.pace_ms < 0 ? 0 : cli.pace_ms == 0 ? VCTL_PACE_OFF : cli.pace_ms;
    config.tick_ms = cli.tick_ms;
    int rc = vctl_connect(cli.port, cli.baud, x.timeout_ms < 0 ? 30000 : x.timeout_ms, &config, &x.client, error,
                          sizeof error);
    if (rc != VCTL_OK) {
        x.client = NULL;
        if (cli.command == VCTL_CMD_METRICS) {
            fprintf(stderr, "vigilctl: metrics: %s\n", error);
            if (!cli.json)
                vctl_print_metrics(stdout, false, NULL, NULL, NULL, cli.labels, cli.label_count);
            else
                printf("{\"up\":false,\"status\":null,\"heartbeat\":null,\"stats\":null}\n");
            return exit_for(&x, rc);
        }
        fprintf(stderr, "vigilctl: %s\n", error);
        if (cli.json)
            vctl_print_error(stdout, true, vctl_command_name(cli.command), kind_for(rc), error);
        return exit_for(&x, rc);
    }
    rc = vctl_enter_json(x.client, x.timeout_ms);
    int code;
    if (rc != VCTL_OK && cli.command == VCTL_CMD_METRICS)
        code = cmd_metrics(&x, rc);
    else if (rc != VCTL_OK)
        code = client_failure(&x, rc);
    else {
        switch (cli.command) {
        case VCTL_CMD_STATUS: code = cmd_result(&x, "status", vctl_print_status); break;
        case VCTL_CMD_INFO: code = cmd_result(&x, "guest", vctl_print_info); break;
        case VCTL_CMD_HEARTBEAT:
            code = cli.set_failure_interval ? cmd_heartbeat_set(&x)
                   : cli.graph              ? cmd_heartbeat_graph(&x)
                                            : cmd_result(&x, "heartbeat", vctl_print_heartbeat);
            break;
        case VCTL_CMD_EXEC: code = cmd_exec(&x); break;
        case VCTL_CMD_KILL: code = cmd_kill(&x); break;
        case VCTL_CMD_PARAM: code = cmd_param(&x); break;
        case VCTL_CMD_TIMESYNC: code = cmd_timesync(&x); break;
        case VCTL_CMD_SHUTDOWN: code = cmd_shutdown(&x); break;
        case VCTL_CMD_ADDITIONS: code = cmd_additions(&x); break;
        case VCTL_CMD_STATS: code = cmd_result(&x, "stats", vctl_print_stats); break;
        case VCTL_CMD_WATCH: code = cmd_watch(&x); break;
        case VCTL_CMD_CONSOLE: code = cmd_console(&x); break;
        case VCTL_CMD_METRICS: code = cmd_metrics(&x, VCTL_OK); break;
        case VCTL_CMD_PING: code = cmd_ping(&x); break;
        case VCTL_CMD_POWEROFF: code = cmd_poweroff(&x); break;
        default: code = VCTL_EXIT_USAGE; break;
        }
        if (cli.command != VCTL_CMD_CONSOLE && cli.command != VCTL_CMD_POWEROFF) {
            interrupted = 0;
            vctl_restore_mode(x.client, 2000); /* leave the console as we found it */
        }
    }
    fflush(stdout);
    vctl_client_free(x.client);
    return code;
}

