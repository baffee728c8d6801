/*
 * vigilctl's commands (the program, not the library): what they share.
 *   main.c          arguments, signals, connecting, dispatch to a command
 *   cmd_common.c    errors and exit codes, one call, JSON output helpers
 *   cmd_simple.c    status, info, heartbeat, param, timesync, kill, ping, poweroff,
 *                   additions, stats, metrics
 *   cmd_exec.c      exec (streamed output, Ctrl-C kills the command in the guest)
 *   cmd_shutdown.c  shutdown [--wait]
 *   cmd_heartbeat.c heartbeat --graph, watch
 *   cmd_console.c   console (the human console, raw)
 */
#ifndef VIGILCTL_H
#define VIGILCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "lib/vctl_client.h"

/* Set by SIGINT/SIGTERM/SIGHUP; commands that end on Ctrl-C clear it. */
extern volatile sig_atomic_t interrupted;

struct ctx {
    struct vctl_cli *cli;
    struct vctl_client *client;
    int timeout_ms; /* -1: no limit */
    bool tty;       /* stdout is a terminal */
    bool exec;      /* exit codes of exec (125/126) */
};

/* ---- cmd_common.c ---- */
/* The exit code and the error kind ("usage", "timeout"...) for a library error. */
int exit_for(const struct ctx *x, int rc);
const char *kind_for(int rc);
/* Print the client's last error / the response's HRESULT (stderr, and stdout with
 * --json); return the exit code. */
int client_failure(struct ctx *x, int rc);
int status_failure(struct ctx *x, const struct vctl_request *r);
/* A bad argument found after parsing (e.g. not UTF-8): prints it, returns the exit code. */
int usage_failure(struct ctx *x, const char *message);
/* Sends and waits; on failure prints the error and sets *code. members: borrowed. */
bool call(struct ctx *x, struct vctl_request *r, const char *cmd, const json_t *members, int *code);
/* A request's members built by json_pack; NULL (with a usage error printed and
 * *code set) if an argument cannot be put in JSON (a string that is not UTF-8). */
json_t *pack_members(struct ctx *x, int *code, const char *format, ...);
void print_json_line(const json_t *value);
/* {"status":0,"status_name":"S_OK"[,KEY:VALUE]} */
void print_ok_json(const char *extra_key, const char *extra_value);
void timestamp(char *out, size_t size);
void write_fd_all(int fd, const char *data, size_t n);

/* ---- the commands: each returns the exit code ---- */
int cmd_result(struct ctx *x, const char *cmd, void (*print)(FILE *, const json_t *));
int cmd_no_result(struct ctx *x, const char *cmd, const json_t *members, const char *done_text);
int cmd_param(struct ctx *x);
int cmd_timesync(struct ctx *x);
int cmd_heartbeat_set(struct ctx *x);
int cmd_ping(struct ctx *x);
int cmd_kill(struct ctx *x);
int cmd_poweroff(struct ctx *x);
int cmd_additions(struct ctx *x);
int cmd_metrics(struct ctx *x, int connect_rc);
int cmd_exec(struct ctx *x);
int cmd_shutdown(struct ctx *x);
int cmd_heartbeat_graph(struct ctx *x);
int cmd_watch(struct ctx *x);
int cmd_console(struct ctx *x);

#endif
