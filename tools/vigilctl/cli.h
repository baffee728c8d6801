/*
 * vigilctl's command line (cli_parse.c: getopt_long; cli_help.c: the commands and
 * their help) and output formatting (format.c), kept apart
 * from the I/O so the unit tests can drive them (tests/unit/test_vigilctl_cli.c).
 */
#ifndef VIGILCTL_CLI_H
#define VIGILCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/vctl_json.h" /* jansson */

#define VIGILCTL_VERSION "0.1.0"

/* Exit codes (docs/vigilctl.md, docs/vigilctl.1). */
#define VCTL_EXIT_OK 0
#define VCTL_EXIT_USAGE 2
#define VCTL_EXIT_CONNECTION 3 /* cannot connect, disconnected, timed out */
#define VCTL_EXIT_PROTOCOL 4   /* the console's answer is not the protocol */
#define VCTL_EXIT_STATUS 5     /* the operation failed with an HRESULT */
#define VCTL_EXIT_INTERRUPTED 130
/* exec: the guest command's exit code; vigilctl's own failures: */
#define VCTL_EXIT_EXEC_FAILED 125   /* usage, connection, protocol */
#define VCTL_EXIT_EXEC_REFUSED 126  /* an HRESULT: the command could not be run */

#define VCTL_DEFAULT_TIMEOUT_S 30.0
#define VCTL_DEFAULT_BAUD 115200u
#define VCTL_PACE_MS_MAX 10000u /* --pace-ms, VIGILCTL_PACE_MS */
#define VCTL_TICK_MS_MAX 10000u /* --tick-ms */
#define VCTL_ENV_MAX 64
#define VCTL_LABELS_MAX 16

enum vctl_command {
    VCTL_CMD_NONE,
    VCTL_CMD_HELP,
    VCTL_CMD_VERSION,
    VCTL_CMD_STATUS,
    VCTL_CMD_INFO,
    VCTL_CMD_HEARTBEAT,
    VCTL_CMD_EXEC,
    VCTL_CMD_KILL,
    VCTL_CMD_PARAM,
    VCTL_CMD_TIMESYNC,
    VCTL_CMD_SHUTDOWN,
    VCTL_CMD_ADDITIONS,
    VCTL_CMD_STATS,
    VCTL_CMD_WATCH,
    VCTL_CMD_CONSOLE,
    VCTL_CMD_METRICS,
    VCTL_CMD_PING,
    VCTL_CMD_POWEROFF,
    VCTL_CMD_COUNT
};

enum vctl_param_action { VCTL_PARAM_GET, VCTL_PARAM_SET, VCTL_PARAM_LIST };

struct vctl_cli {
    /* global */
    const char *port;
    unsigned baud;
    bool json;
    double timeout_s;
    int verbose;
    /* input pacing (docs/vigilctl.md, vctl_client.h): the wait after the first
     * 16-byte chunk of a burst; -1 = not given (tick_ms + 10), 0 = no pacing */
    int pace_ms;
    int tick_ms;          /* the hypervisor's tick, a hint (default 50) */
    enum vctl_command command;
    enum vctl_command help_topic; /* help COMMAND / COMMAND --help; NONE: the overview */
    /* heartbeat */
    bool graph;
    bool set_failure_interval;
    uint32_t failure_interval_ms;
    /* heartbeat --graph, watch */
    double duration_s;   /* 0: until Ctrl-C (watch) / the default (graph) */
    double interval_s;   /* sampling period */
    long count;          /* watch: stop after N lines (0: no limit) */
    /* exec */
    const char *cwd;
    const char *env[VCTL_ENV_MAX];
    size_t env_count;
    bool exec_timeout_set;
    uint32_t exec_timeout_s;
    char **argv;
    int argc;
    /* kill */
    bool has_target;
    uint64_t target;
    /* param */
    enum vctl_param_action param_action;
    const char *param_name, *param_value;
    /* timesync: "on" | "off" | "status" */
    const char *timesync_action;
    /* shutdown */
    bool force, reboot, wait;
    bool shutdown_timeout_set;
    uint32_t shutdown_timeout_s;
    const char *reason;
    /* metrics */
    const char *labels[VCTL_LABELS_MAX]; /* NAME=VALUE */
    size_t label_count;
};

/* Result of vctl_cli_parse. */
enum { VCTL_PARSE_OK = 0, VCTL_PARSE_HELP = 1, VCTL_PARSE_ERROR = 2 };

/* Parses argv; env_port is $VIGILCTL_PORT, env_pace $VIGILCTL_PACE_MS (either may be
 * NULL; --port / --pace-ms win). On VCTL_PARSE_ERROR, error holds the message
 * (without "vigilctl: "). */
int vctl_cli_parse(int argc, char **argv, const char *env_port, const char *env_pace, struct vctl_cli *cli,
                   char *error, size_t size);
const char *vctl_command_name(enum vctl_command command);
const char *vctl_command_usage(enum vctl_command command); /* "param get NAME | ..." */
enum vctl_command vctl_command_lookup(const char *name);
/* The overview (topic NONE) or one command's help. */
void vctl_print_help(FILE *out, enum vctl_command topic);

/* ---- Output formatting (format.c) ---------------------------------------------- */
void vctl_format_duration_ms(char *out, size_t size, uint64_t ms); /* "1h 02m 03s", "850 ms" */
void vctl_print_status(FILE *out, const json_t *result);
void vctl_print_info(FILE *out, const json_t *result);
void vctl_print_heartbeat(FILE *out, const json_t *result);
void vctl_print_stats(FILE *out, const json_t *result);
/* Prometheus text exposition format 0.0.4. Any of the results may be NULL (not
 * read); up = whether the console answered. labels: NAME=VALUE pairs added to
 * every sample. Returns false if a label is malformed. */
bool vctl_print_metrics(FILE *out, bool up, const json_t *status, const json_t *heartbeat,
                        const json_t *stats, const char *const *labels, size_t label_count);
/* A sparkline of values scaled to max (0 = the largest value): one of the
 * eight block characters per value (UTF-8, 3 bytes each), ' ' for a value < 0. */
void vctl_sparkline(char *out, size_t size, const int *values, size_t count, int max);
/* "vigilctl: NAME (0xXXXXXXXX): sentence" (human) or {"error":{...}} (json). */
void vctl_print_status_error(FILE *out, bool json, const char *command, uint32_t status, const char *name,
                             const char *message);
/* kind: "usage", "connection", "protocol", "interrupted" ... */
void vctl_print_error(FILE *out, bool json, const char *command, const char *kind, const char *message);
/* Writes text with control characters (but TAB) as \xNN: guest strings on a terminal. */
void vctl_print_sanitized(FILE *out, const char *text, size_t length);

#endif
