/* vigilctl: errors and exit codes, one call, JSON output helpers (vigilctl.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/vctl_status.h"
#include "vigilctl.h"

/* ---- Errors and exit codes ----------------------------------------------------------- */

int exit_for(const struct ctx *x, int rc)
{
    if (rc == VCTL_E_INTERRUPTED)
        return VCTL_EXIT_INTERRUPTED;
    if (x->exec)
        return VCTL_EXIT_EXEC_FAILED;
    switch (rc) {
    case VCTL_E_USAGE: return VCTL_EXIT_USAGE;
    case VCTL_E_PROTOCOL: return VCTL_EXIT_PROTOCOL;
    default: return VCTL_EXIT_CONNECTION;
    }
}

const char *kind_for(int rc)
{
    switch (rc) {
    case VCTL_E_USAGE: return "usage";
    case VCTL_E_PROTOCOL: return "protocol";
    case VCTL_E_INTERRUPTED: return "interrupted";
    case VCTL_E_TIMEOUT: return "timeout";
    default: return "connection";
    }
}

int client_failure(struct ctx *x, int rc)
{
    const char *command = vctl_command_name(x->cli->command);
    const char *message = x->client != NULL ? vctl_client_error(x->client) : "error";
    vctl_print_error(stderr, false, command, NULL, message);
    if (x->cli->json)
        vctl_print_error(stdout, true, command, kind_for(rc), message);
    return exit_for(x, rc);
}

int status_failure(struct ctx *x, const struct vctl_request *r)
{
    char buffer[16];
    uint32_t status = vctl_response_status(r);
    const char *name = vctl_response_status_name(r, buffer, sizeof buffer);
    const char *message = vctl_response_message(r);
    vctl_print_status_error(stderr, false, vctl_command_name(x->cli->command), status, name, message);
    if (x->cli->json)
        vctl_print_status_error(stdout, true, vctl_command_name(x->cli->command), status, name, message);
    return x->exec ? VCTL_EXIT_EXEC_REFUSED : VCTL_EXIT_STATUS;
}

/* Sends and waits; on failure prints the error and sets *code. */
bool call(struct ctx *x, struct vctl_request *r, const char *cmd, const json_t *members, int *code)
{
    int rc = vctl_call(x->client, r, cmd, members, x->timeout_ms);
    if (rc != VCTL_OK) {
        *code = client_failure(x, rc);
        return false;
    }
    if (vctl_status_failed(vctl_response_status(r))) {
        *code = status_failure(x, r);
        return false;
    }
    return true;
}

json_t *pack_members(struct ctx *x, int *code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    json_error_t error;
    json_t *members = json_vpack_ex(&error, 0, format, args);
    va_end(args);
    if (members == NULL) {
        /* the only argument json_vpack refuses is a string that is not UTF-8 */
        char message[200];
        snprintf(message, sizeof message, "an argument is not valid UTF-8 text (%s)", error.text);
        *code = usage_failure(x, message);
    }
    return members;
}

int usage_failure(struct ctx *x, const char *message)
{
    vctl_print_error(stderr, false, vctl_command_name(x->cli->command), NULL, message);
    if (x->cli->json)
        vctl_print_error(stdout, true, vctl_command_name(x->cli->command), "usage", message);
    return x->exec ? VCTL_EXIT_EXEC_FAILED : VCTL_EXIT_USAGE;
}

void print_json_line(const json_t *value)
{
    vj_fprint(stdout, value);
    fputc('\n', stdout);
    fflush(stdout);
}

void print_ok_json(const char *extra_key, const char *extra_value)
{
    json_t *ok = json_pack("{s:i,s:s}", "status", 0, "status_name", "S_OK");
    if (extra_key != NULL)
        json_object_set_new(ok, extra_key, json_string(extra_value));
    print_json_line(ok);
    json_decref(ok);
}

void timestamp(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

void write_fd_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* stdout closed: keep the command's exit code */
        data += w;
        n -= (size_t)w;
    }
}
