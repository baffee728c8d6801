/*
 * vigilctl: the operator's tool for vigil over the hypervisor's serial console
 * (docs/vigilctl.md, docs/vigilctl.1; protocol: docs/console-protocol.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lib/vctl_client.h"
#include "lib/vctl_status.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct ctx {
    struct vctl_cli *cli;
    struct vctl_client *client;
    int timeout_ms; /* -1: no limit */
    bool tty;       /* stdout is a terminal */
    bool exec;      /* exit codes of exec (125/126) */
};

/* ---- Errors and exit codes ----------------------------------------------------------- */

static int exit_for(const struct ctx *x, int rc)
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

static const char *kind_for(int rc)
{
    switch (rc) {
    case VCTL_E_USAGE: return "usage";
    case VCTL_E_PROTOCOL: return "protocol";
    case VCTL_E_INTERRUPTED: return "interrupted";
    case VCTL_E_TIMEOUT: return "timeout";
    default: return "connection";
    }
}

static int client_failure(struct ctx *x, int rc)
{
    const char *command = vctl_command_name(x->cli->command);
    const char *message = x->client != NULL ? vctl_client_error(x->client) : "error";
    vctl_print_error(stderr, false, command, NULL, message);
    if (x->cli->json)
        vctl_print_error(stdout, true, command, kind_for(rc), message);
    return exit_for(x, rc);
}

static int status_failure(struct ctx *x, const struct vctl_request *r)
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
static bool call(struct ctx *x, struct vctl_request *r, const char *cmd, const char *members, int *code)
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

static void print_json_line(const struct vj_value *v)
{
    vj_fprint(stdout, v);
    fputc('\n', stdout);
    fflush(stdout);
}

static void print_ok_json(const char *extra_key, const char *extra_value)
{
    printf("{\"status\":0,\"status_name\":\"S_OK\"");
    if (extra_key != NULL) {
        struct vj_buf b;
        vj_buf_init(&b);
        b.need_comma = true;
        vj_key(&b, extra_key);
        vj_string(&b, extra_value);
        if (b.data != NULL)
            fputs(b.data, stdout);
        vj_buf_free(&b);
    }
    printf("}\n");
}

static void timestamp(char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* ---- Simple commands ------------------------------------------------------------------ */

static int cmd_result(struct ctx *x, const char *cmd, void (*print)(FILE *, const struct vj_value *))
{
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, cmd, NULL, &code)) {
        const struct vj_value *result = vctl_response_result(&r);
        if (result == NULL || result->type != VJ_OBJECT) {
            vctl_client_set_error(x->client, VCTL_E_PROTOCOL, "the response to '%s' has no result object", cmd);
            code = client_failure(x, VCTL_E_PROTOCOL);
        } else if (x->cli->json)
            print_json_line(result);
        else
            print(stdout, result);
    }
    vctl_request_release(&r);
    return code;
}

static int cmd_no_result(struct ctx *x, const char *cmd, const char *members, const char *done_text)
{
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, cmd, members, &code)) {
        if (x->cli->json)
            print_ok_json(NULL, NULL);
        else if (done_text != NULL)
            printf("%s\n", done_text);
    }
    vctl_request_release(&r);
    return code;
}

static int cmd_param(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    struct vj_buf m;
    vj_buf_init(&m);
    m.need_comma = false;
    vj_key(&m, "action");
    vj_string(&m, cli->param_action == VCTL_PARAM_GET ? "get" : cli->param_action == VCTL_PARAM_SET ? "set" : "list");
    if (cli->param_name != NULL) {
        vj_key(&m, "name");
        vj_string(&m, cli->param_name);
    }
    if (cli->param_value != NULL) {
        vj_key(&m, "value");
        vj_string(&m, cli->param_value);
    }
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, "param", m.data, &code)) {
        const struct vj_value *result = vctl_response_result(&r);
        if (cli->param_action == VCTL_PARAM_GET) {
            size_t n = 0;
            const char *value = vj_get_string(result, "value", &n);
            if (value == NULL) {
                vctl_client_set_error(x->client, VCTL_E_PROTOCOL, "the answer to 'param get' has no value");
                code = client_failure(x, VCTL_E_PROTOCOL);
            } else if (cli->json)
                print_json_line(result);
            else {
                fwrite(value, 1, n, stdout);
                fputc('\n', stdout);
            }
        } else if (cli->param_action == VCTL_PARAM_SET) {
            if (cli->json)
                print_ok_json("name", cli->param_name);
        } else {
            if (cli->json) {
                struct vj_buf b;
                vj_buf_init(&b);
                vj_begin_object(&b);
                vj_key(&b, "names");
                vj_begin_array(&b);
                for (size_t i = 0; i < r.streamed_count; i++) {
                    size_t n = 0;
                    const char *name = vj_get_string(r.streamed[i], "data", &n);
                    if (name != NULL)
                        vj_string_bytes(&b, name, n);
                }
                vj_end_array(&b);
                vj_key(&b, "count");
                vj_uint(&b, r.streamed_count);
                vj_end_object(&b);
                if (b.data != NULL)
                    printf("%s\n", b.data);
                vj_buf_free(&b);
            } else
                for (size_t i = 0; i < r.streamed_count; i++) {
                    size_t n = 0;
                    const char *name = vj_get_string(r.streamed[i], "data", &n);
                    if (name != NULL) {
                        vctl_print_sanitized(stdout, name, n);
                        fputc('\n', stdout);
                    }
                }
        }
    }
    vctl_request_release(&r);
    vj_buf_free(&m);
    return code;
}

static int cmd_timesync(struct ctx *x)
{
    char members[48];
    snprintf(members, sizeof members, "\"action\":\"%s\"", x->cli->timesync_action);
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, "timesync", members, &code)) {
        const struct vj_value *result = vctl_response_result(&r);
        bool on;
        if (!vj_get_bool(result, "time_sync", &on)) {
            vctl_client_set_error(x->client, VCTL_E_PROTOCOL, "the answer to 'timesync' has no time_sync");
            code = client_failure(x, VCTL_E_PROTOCOL);
        } else if (x->cli->json)
            print_json_line(result);
        else
            printf("time sync: %s\n", on ? "on" : "off");
    }
    vctl_request_release(&r);
    return code;
}

static int cmd_heartbeat_set(struct ctx *x)
{
    char members[48];
    snprintf(members, sizeof members, "\"interval\":%u", x->cli->failure_interval_ms);
    char text[80];
    snprintf(text, sizeof text, "heartbeat failure interval: %u ms", x->cli->failure_interval_ms);
    return cmd_no_result(x, "heartbeat", members, text);
}

static int cmd_ping(struct ctx *x)
{
    int64_t t0 = vctl_now_ms();
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, "ping", NULL, &code)) {
        int64_t ms = vctl_now_ms() - t0;
        if (x->cli->json)
            printf("{\"status\":0,\"status_name\":\"S_OK\",\"round_trip_ms\":%" PRId64 "}\n", ms);
        else
            printf("the guest Additions answered in %" PRId64 " ms\n", ms);
    }
    vctl_request_release(&r);
    return code;
}

static int cmd_kill(struct ctx *x)
{
    char members[48] = "";
    if (x->cli->has_target)
        snprintf(members, sizeof members, "\"target\":%" PRIu64, x->cli->target);
    return cmd_no_result(x, "kill", members, "the command is being killed");
}

static int cmd_poweroff(struct ctx *x)
{
    struct vctl_request r;
    vctl_request_init(&r);
    int rc = vctl_call(x->client, &r, "poweroff", x->cli->reboot ? "\"reboot\":true" : NULL, x->timeout_ms);
    int code = VCTL_EXIT_OK;
    const char *what = x->cli->reboot ? "the machine is being reset" : "the machine is powering off";
    if (rc == VCTL_E_CLOSED)
        what = x->cli->reboot ? "the console closed: the machine is being reset"
                              : "the console closed: the machine powered off";
    else if (rc != VCTL_OK)
        code = client_failure(x, rc);
    else if (vctl_status_failed(vctl_response_status(&r)))
        code = status_failure(x, &r);
    if (code == VCTL_EXIT_OK) {
        if (x->cli->json)
            print_ok_json("state", x->cli->reboot ? "resetting" : "powering-off");
        else
            printf("poweroff: %s\n", what);
    }
    vctl_request_release(&r);
    return code;
}

/* ---- exec ---------------------------------------------------------------------------------- */

static void write_all(int fd, const char *data, size_t n)
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

static void exec_stream(void *context, const char *stream, const char *data, size_t length)
{
    struct ctx *x = context;
    if (x->cli->json) {
        struct vj_buf b;
        vj_buf_init(&b);
        vj_begin_object(&b);
        vj_key(&b, "stream");
        vj_string(&b, stream);
        vj_key(&b, "data");
        vj_string_bytes(&b, data, length);
        vj_end_object(&b);
        vj_buf_raw(&b, "\n", 1);
        if (b.data != NULL) {
            fflush(stdout);
            write_all(1, b.data, b.length);
        }
        vj_buf_free(&b);
        return;
    }
    write_all(strcmp(stream, "stderr") == 0 ? 2 : 1, data, length);
}

static int cmd_exec(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    struct vj_buf m;
    vj_buf_init(&m);
    vj_key(&m, "argv");
    vj_begin_array(&m);
    for (int i = 0; i < cli->argc; i++)
        vj_string(&m, cli->argv[i]);
    vj_end_array(&m);
    vj_key(&m, "timeout");
    vj_uint(&m, cli->exec_timeout_s);
    if (cli->cwd != NULL) {
        vj_key(&m, "cwd");
        vj_string(&m, cli->cwd);
    }
    if (cli->env_count > 0) {
        vj_key(&m, "env");
        vj_begin_array(&m);
        for (size_t i = 0; i < cli->env_count; i++)
            vj_string(&m, cli->env[i]);
        vj_end_array(&m);
    }
    struct vctl_request r;
    vctl_request_init(&r);
    r.on_stream = exec_stream;
    r.stream_context = x;
    int code;
    int rc = vctl_send(x->client, &r, "exec", m.data);
    vj_buf_free(&m);
    if (rc != VCTL_OK)
        return client_failure(x, rc);
    int wait_ms = cli->exec_timeout_s == 0 || x->timeout_ms < 0
                      ? -1
                      : (int)fmin((double)cli->exec_timeout_s * 1000.0 + x->timeout_ms, 2e9);
    rc = vctl_wait(x->client, &r, wait_ms);
    if (rc == VCTL_E_INTERRUPTED) {
        /* Ctrl-C: kill the command in the guest, and show what it printed until it ended. */
        interrupted = 0;
        fprintf(stderr, "vigilctl: exec: interrupted: killing the command in the guest\n");
        char members[48];
        snprintf(members, sizeof members, "\"target\":%" PRIu64, r.id);
        struct vctl_request k;
        vctl_request_init(&k);
        if (vctl_call(x->client, &k, "kill", members, 5000) == VCTL_OK)
            vctl_wait(x->client, &r, 5000);
        vctl_request_release(&k);
        vctl_request_release(&r);
        return VCTL_EXIT_INTERRUPTED;
    }
    if (rc != VCTL_OK) {
        code = client_failure(x, rc);
        vctl_request_release(&r);
        return code;
    }
    uint32_t status = vctl_response_status(&r);
    int64_t exit_code = 0;
    bool has_exit = vj_get_i64(r.response, "exit_code", &exit_code);
    bool killed = false, timed_out = false;
    vj_get_bool(r.response, "killed", &killed);
    vj_get_bool(r.response, "timed_out", &timed_out);
    if (!has_exit && !killed && !timed_out) {
        if (vctl_status_failed(status))
            code = status_failure(x, &r);
        else {
            vctl_client_set_error(x->client, VCTL_E_PROTOCOL, "the answer to 'exec' has no exit_code");
            code = client_failure(x, VCTL_E_PROTOCOL);
        }
        vctl_request_release(&r);
        return code;
    }
    if (!has_exit)
        exit_code = timed_out ? 124 : 137;
    code = (int)((uint64_t)exit_code & 0xFF);
    if (cli->json) {
        printf("{\"exit_code\":%" PRId64 ",\"killed\":%s,\"timed_out\":%s,\"status\":%u}\n", exit_code,
               killed ? "true" : "false", timed_out ? "true" : "false", status);
    } else if (timed_out)
        fprintf(stderr, "vigilctl: exec: the command timed out after %u s and was killed (exit code %" PRId64 ")\n",
                cli->exec_timeout_s, exit_code);
    else if (killed)
        fprintf(stderr, "vigilctl: exec: the command was killed (exit code %" PRId64 ")\n", exit_code);
    vctl_request_release(&r);
    return code;
}

/* ---- shutdown -------------------------------------------------------------------------- */

/* Live progress: redrawn in place on a terminal, a line per change otherwise. */
static void progress(struct ctx *x, const char *text, bool final)
{
    static char last[256];
    if (x->cli->json)
        return;
    if (isatty(2)) {
        fprintf(stderr, "\r\033[K%s%s", text, final ? "\n" : "");
    } else if (strcmp(text, last) != 0 || final) {
        fprintf(stderr, "%s\n", text);
    }
    snprintf(last, sizeof last, "%s", text);
}

static int cmd_shutdown(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    struct vj_buf m;
    vj_buf_init(&m);
    vj_key(&m, "force");
    vj_bool(&m, cli->force);
    vj_key(&m, "reboot");
    vj_bool(&m, cli->reboot);
    if (cli->shutdown_timeout_set) {
        vj_key(&m, "timeout");
        vj_uint(&m, cli->shutdown_timeout_s);
    }
    if (cli->reason != NULL) {
        vj_key(&m, "reason");
        vj_string(&m, cli->reason);
    }
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    bool ok = call(x, &r, "shutdown", m.data, &code);
    vj_buf_free(&m);
    vctl_request_release(&r);
    if (!ok)
        return code;
    const char *what = cli->reboot ? "reboot" : "shutdown";
    if (!cli->wait) {
        if (cli->json)
            print_ok_json("state", "requested");
        else
            printf("%s: the guest accepted the request\n", what);
        return VCTL_EXIT_OK;
    }
    uint32_t shutdown_s = cli->shutdown_timeout_set && cli->shutdown_timeout_s > 0 ? cli->shutdown_timeout_s : 30;
    int64_t start = vctl_now_ms();
    int64_t deadline = x->timeout_ms < 0 ? INT64_MAX : start + (int64_t)shutdown_s * 1000 + x->timeout_ms;
    const char *how = NULL;
    bool announced = false;
    int64_t next_poll = start;
    char line[256];
    snprintf(line, sizeof line, "%s: accepted; waiting for the guest to go down", what);
    progress(x, line, false);
    while (how == NULL) {
        int64_t now = vctl_now_ms();
        if (now >= deadline) {
            snprintf(line, sizeof line, "%s: the guest is still running after %.0f s", what, (now - start) / 1000.0);
            progress(x, line, true);
            vctl_client_set_error(x->client, VCTL_E_TIMEOUT, "%s: the guest did not go down within %.0f s", what,
                                  (now - start) / 1000.0);
            return client_failure(x, VCTL_E_TIMEOUT);
        }
        if (now >= next_poll) {
            struct vctl_request s;
            vctl_request_init(&s);
            int rc = vctl_call(x->client, &s, "status", NULL, (int)fmin(5000.0, (double)(deadline - now)));
            bool running = true;
            if (rc == VCTL_OK)
                vj_get_bool(vctl_response_result(&s), "guest_running", &running);
            vctl_request_release(&s);
            if (rc == VCTL_E_CLOSED) {
                how = "the machine powered off (the console closed)";
                break;
            }
            if (rc == VCTL_E_INTERRUPTED)
                return client_failure(x, rc);
            if (rc == VCTL_OK && !running) {
                how = "the guest is no longer running";
                break;
            }
            next_poll = vctl_now_ms() + 1000;
            snprintf(line, sizeof line, "%s: waiting for the guest to go down: %.0f s%s", what,
                     (vctl_now_ms() - start) / 1000.0, announced ? " (the guest announced its shutdown)" : "");
            progress(x, line, false);
        }
        struct vj_value *event = NULL;
        int rc = vctl_next_event(x->client, (int)fmax(0.0, (double)(next_poll - vctl_now_ms())), &event);
        if (rc == VCTL_E_CLOSED) {
            how = "the machine powered off (the console closed)";
            break;
        }
        if (rc == VCTL_E_INTERRUPTED)
            return client_failure(x, rc);
        if (event == NULL)
            continue;
        const char *name = vj_get_string(event, "event", NULL);
        if (name != NULL && strcmp(name, "guest-shutdown") == 0)
            announced = true;
        else if (name != NULL && strcmp(name, "triple-fault") == 0)
            how = "the guest triple-faulted";
        vj_free(event);
    }
    double seconds = (vctl_now_ms() - start) / 1000.0;
    if (cli->json)
        printf("{\"status\":0,\"status_name\":\"S_OK\",\"state\":\"down\",\"how\":\"%s\",\"seconds\":%.1f}\n", how,
               seconds);
    else {
        snprintf(line, sizeof line, "%s: done after %.1f s: %s", what, seconds, how);
        progress(x, line, true);
    }
    return VCTL_EXIT_OK;
}

/* ---- heartbeat --graph and watch ---------------------------------------------------- */

struct beat_sample {
    bool ok, heartbeating;
    uint64_t beats, percentage, age_ms, period_ms;
    bool age_known;
    char state[24];
};

static int sample_heartbeat(struct ctx *x, struct beat_sample *s, struct vj_value **keep)
{
    struct vctl_request r;
    vctl_request_init(&r);
    memset(s, 0, sizeof *s);
    int rc = vctl_call(x->client, &r, "heartbeat", NULL, x->timeout_ms);
    if (rc == VCTL_OK && vctl_status_failed(vctl_response_status(&r))) {
        status_failure(x, &r);
        vctl_request_release(&r);
        return -1;
    }
    if (rc == VCTL_OK) {
        const struct vj_value *h = vctl_response_result(&r);
        s->ok = vj_get_u64(h, "beats_total", &s->beats);
        vj_get_bool(h, "heartbeating", &s->heartbeating);
        vj_get_u64(h, "percentage", &s->percentage);
        vj_get_u64(h, "period_ms", &s->period_ms);
        s->age_known = vj_get_u64(h, "last_beat_age_ms", &s->age_ms);
        const char *state = vj_get_string(h, "state", NULL);
        snprintf(s->state, sizeof s->state, "%s", state != NULL ? state : "?");
        if (keep != NULL) {
            /* detach the result: the caller owns it */
            *keep = r.response;
            r.response = NULL;
        }
    }
    vctl_request_release(&r);
    return rc;
}

#define SPARK_MAX 120

static int terminal_columns(void)
{
    struct winsize w;
    if (ioctl(1, TIOCGWINSZ, &w) == 0 && w.ws_col > 20)
        return w.ws_col;
    return 80;
}

static int cmd_heartbeat_graph(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    double interval = cli->interval_s > 0 ? cli->interval_s : 1.0;
    double duration = cli->duration_s > 0 ? cli->duration_s : 60.0;
    int width = x->tty ? terminal_columns() - 30 : 60;
    if (width > SPARK_MAX)
        width = SPARK_MAX;
    if (width < 10)
        width = 10;
    int values[SPARK_MAX];
    int count = 0;
    struct vj_value *first = NULL;
    struct beat_sample s, prev;
    int rc = sample_heartbeat(x, &prev, &first);
    if (rc != VCTL_OK)
        return rc < 0 ? VCTL_EXIT_STATUS : client_failure(x, rc);
    int64_t start = vctl_now_ms();
    int64_t end = start + (int64_t)(duration * 1000);
    uint64_t m1 = 0, m5 = 0, m15 = 0;
    vj_get_u64(vj_get(first, "result"), "percentage_1_minute", &m1);
    vj_get_u64(vj_get(first, "result"), "percentage_5_minutes", &m5);
    vj_get_u64(vj_get(first, "result"), "percentage_15_minutes", &m15);
    vj_free(first);
    if (!cli->json)
        printf("stored history: 1 min %" PRIu64 "%%, 5 min %" PRIu64 "%%, 15 min %" PRIu64 "%%\n"
               "(the console keeps no per-beat history: sampling beats every %.2g s for %.0f s)\n",
               m1, m5, m15, interval, duration);
    fflush(stdout);
    int all[4096];
    int all_count = 0;
    int64_t next = start;
    char spark[SPARK_MAX * 3 + 1];
    while (vctl_now_ms() < end) {
        next += (int64_t)(interval * 1000);
        int64_t wait = next - vctl_now_ms();
        if (wait > 0) {
            rc = vctl_pump(x->client, (int)wait);
            if (rc == VCTL_E_INTERRUPTED) {
                interrupted = 0;
                break;
            }
            if (rc != VCTL_OK)
                return client_failure(x, rc);
        }
        rc = sample_heartbeat(x, &s, NULL);
        if (rc == VCTL_E_INTERRUPTED) {
            interrupted = 0;
            break;
        }
        if (rc != VCTL_OK)
            return rc < 0 ? VCTL_EXIT_STATUS : client_failure(x, rc);
        int delta = s.beats >= prev.beats ? (int)(s.beats - prev.beats) : 0;
        prev = s;
        if (count == width) {
            memmove(values, values + 1, (size_t)(width - 1) * sizeof values[0]);
            count--;
        }
        values[count++] = delta;
        if (all_count < (int)(sizeof all / sizeof all[0]))
            all[all_count++] = delta;
        int expected = s.period_ms > 0 ? (int)ceil(interval * 1000.0 / (double)s.period_ms) : 0;
        if (x->tty && !cli->json) {
            vctl_sparkline(spark, sizeof spark, values, (size_t)count, expected);
            printf("\r\033[Kbeats |%s| %3" PRIu64 "%% %s", spark, s.percentage, s.state);
            fflush(stdout);
        }
    }
    if (cli->json) {
        printf("{\"interval_s\":%.3f,\"beats_per_interval\":[", interval);
        for (int i = 0; i < all_count; i++)
            printf("%s%d", i ? "," : "", all[i]);
        printf("],\"percentage\":%" PRIu64 ",\"percentage_1_minute\":%" PRIu64 ",\"percentage_5_minutes\":%" PRIu64
               ",\"percentage_15_minutes\":%" PRIu64 ",\"heartbeating\":%s,\"sampled\":true}\n",
               prev.percentage, m1, m5, m15, prev.heartbeating ? "true" : "false");
        return VCTL_EXIT_OK;
    }
    int expected = prev.period_ms > 0 ? (int)ceil(interval * 1000.0 / (double)prev.period_ms) : 0;
    vctl_sparkline(spark, sizeof spark, values, (size_t)count, expected);
    if (x->tty)
        printf("\r\033[K");
    printf("beats |%s| %" PRIu64 "%% (last 60 s), %s; one column = %.2g s, full height = %d beat(s)\n", spark,
           prev.percentage, prev.state, interval, expected);
    return VCTL_EXIT_OK;
}

static void print_event_line(struct ctx *x, const struct vj_value *event)
{
    if (x->cli->json) {
        print_json_line(event);
        return;
    }
    char when[32];
    timestamp(when, sizeof when);
    size_t n = 0, d = 0;
    const char *name = vj_get_string(event, "event", &n);
    const char *detail = vj_get_string(event, "detail", &d);
    uint64_t t = 0;
    bool has_t = vj_get_u64(event, "time_ms", &t);
    printf("%s event %s", when, name != NULL ? name : "?");
    if (detail != NULL && d > 0) {
        fputs(": ", stdout);
        vctl_print_sanitized(stdout, detail, d);
    }
    if (has_t)
        printf(" (vigil uptime %" PRIu64 ".%03" PRIu64 " s)", t / 1000, t % 1000);
    fputc('\n', stdout);
    fflush(stdout);
}

static int cmd_watch(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    double interval = cli->interval_s > 0 ? cli->interval_s : 1.0;
    int64_t start = vctl_now_ms();
    int64_t end = cli->duration_s > 0 ? start + (int64_t)(cli->duration_s * 1000) : INT64_MAX;
    long lines = 0;
    bool live = x->tty && !cli->json;
    int values[SPARK_MAX];
    int count = 0;
    int width = live ? terminal_columns() - 60 : 0;
    if (width > 40)
        width = 40;
    if (width < 5)
        width = 5;
    struct beat_sample prev = {0}, s;
    bool have_prev = false;
    uint64_t events = 0;
    char spark[SPARK_MAX * 3 + 1];
    int64_t next_sample = start;
    while (cli->count == 0 || lines < cli->count) {
        int64_t now = vctl_now_ms();
        if (now >= end)
            break;
        if (now >= next_sample) {
            struct vj_value *full = NULL;
            int rc = sample_heartbeat(x, &s, &full);
            if (rc == VCTL_E_INTERRUPTED) {
                vj_free(full);
                break;
            }
            if (rc != VCTL_OK) {
                vj_free(full);
                if (live)
                    printf("\n");
                return rc < 0 ? VCTL_EXIT_STATUS : client_failure(x, rc);
            }
            int delta = have_prev && s.beats >= prev.beats ? (int)(s.beats - prev.beats) : 0;
            if (have_prev) {
                if (count == width) {
                    memmove(values, values + 1, (size_t)(width - 1) * sizeof values[0]);
                    count--;
                }
                values[count++] = delta;
            }
            have_prev = true;
            prev = s;
            char age[32] = "never";
            if (s.age_known)
                vctl_format_duration_ms(age, sizeof age, s.age_ms);
            if (cli->json) {
                printf("{\"heartbeat\":");
                vj_fprint(stdout, vj_get(full, "result"));
                printf("}\n");
                fflush(stdout);
                lines++;
            } else if (live) {
                int expected = s.period_ms > 0 ? (int)ceil(interval * 1000.0 / (double)s.period_ms) : 0;
                vctl_sparkline(spark, sizeof spark, values, (size_t)count, expected);
                printf("\r\033[Kheartbeat %3" PRIu64 "%% %-11s last beat %-8s |%s| events %" PRIu64, s.percentage,
                       s.state, age, spark, events);
                fflush(stdout);
                lines++;
            } else {
                char when[32];
                timestamp(when, sizeof when);
                printf("%s heartbeat %" PRIu64 "%% %s last-beat %s beats %" PRIu64 " (+%d)\n", when, s.percentage,
                       s.state, age, s.beats, delta);
                fflush(stdout);
                lines++;
            }
            vj_free(full);
            next_sample += (int64_t)(interval * 1000);
            if (next_sample < vctl_now_ms())
                next_sample = vctl_now_ms() + (int64_t)(interval * 1000);
            continue;
        }
        int64_t until = next_sample < end ? next_sample : end;
        struct vj_value *event = NULL;
        int rc = vctl_next_event(x->client, (int)(until - now), &event);
        if (rc == VCTL_E_INTERRUPTED)
            break;
        if (rc == VCTL_E_CLOSED) {
            if (live)
                printf("\n");
            return client_failure(x, rc);
        }
        if (event != NULL) {
            events++;
            if (live)
                printf("\r\033[K");
            print_event_line(x, event);
            lines++;
            vj_free(event);
        }
    }
    if (live)
        printf("\n");
    interrupted = 0; /* Ctrl-C is how watch ends: not an error */
    return VCTL_EXIT_OK;
}

/* ---- console --------------------------------------------------------------------------- */

static struct termios saved_tty;
static bool tty_saved;

static void restore_tty(void)
{
    if (tty_saved) {
        tcsetattr(0, TCSAFLUSH, &saved_tty);
        tty_saved = false;
    }
}

static int cmd_console(struct ctx *x)
{
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    bool ok = call(x, &r, "mode", "\"mode\":\"human\"", &code);
    vctl_request_release(&r);
    if (!ok)
        return code;
    int fd = vctl_client_fd(x->client);
    bool terminal = isatty(0);
    fprintf(stderr, "vigilctl: connected to %s (human console)%s\r\n", x->cli->port,
            terminal ? "; Ctrl-] quits" : "");
    if (terminal && tcgetattr(0, &saved_tty) == 0) {
        struct termios raw = saved_tty;
        cfmakeraw(&raw);
        tty_saved = tcsetattr(0, TCSAFLUSH, &raw) == 0;
        atexit(restore_tty);
    }
    const char *pending;
    size_t n = vctl_client_pending(x->client, &pending);
    write_all(1, pending, n);
    if (vctl_send_raw(x->client, "\r", 1, 2000) != VCTL_OK) /* a fresh prompt */
        code = VCTL_EXIT_CONNECTION;
    bool stdin_open = true;
    char buffer[4096];
    while (code == VCTL_EXIT_OK && !interrupted) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
        int k = poll(p, stdin_open ? 2 : 1, 200);
        if (k < 0 && errno != EINTR)
            break;
        if (k <= 0)
            continue;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(fd, buffer, sizeof buffer);
            if (got > 0)
                write_all(1, buffer, (size_t)got);
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                restore_tty();
                fprintf(stderr, "\nvigilctl: console: the console closed the connection\n");
                code = VCTL_EXIT_CONNECTION;
                break;
            }
        }
        if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t got = read(0, buffer, sizeof buffer);
            if (got <= 0) {
                stdin_open = false; /* not a terminal: EOF ends the input; show output a moment longer */
                int64_t until = vctl_now_ms() + 1000;
                while (vctl_now_ms() < until) {
                    struct pollfd q = {fd, POLLIN, 0};
                    if (poll(&q, 1, 200) > 0) {
                        ssize_t m = read(fd, buffer, sizeof buffer);
                        if (m <= 0)
                            break;
                        write_all(1, buffer, (size_t)m);
                    }
                }
                break;
            }
            char *quit = terminal ? memchr(buffer, 0x1d, (size_t)got) : NULL;
            size_t send = quit != NULL ? (size_t)(quit - buffer) : (size_t)got;
            if (send > 0 && vctl_send_raw(x->client, buffer, send, 5000) != VCTL_OK) {
                code = VCTL_EXIT_CONNECTION;
                break;
            }
            if (quit != NULL)
                break;
        }
    }
    restore_tty();
    if (terminal)
        fprintf(stderr, "\nvigilctl: console: disconnected (the console stays in human mode)\n");
    return code;
}

/* ---- metrics ----------------------------------------------------------------------------- */

static int cmd_metrics(struct ctx *x, int connect_rc)
{
    struct vctl_cli *cli = x->cli;
    struct vctl_request rs, rh, rt;
    vctl_request_init(&rs);
    vctl_request_init(&rh);
    vctl_request_init(&rt);
    int rc = connect_rc;
    if (rc == VCTL_OK)
        rc = vctl_call(x->client, &rs, "status", NULL, x->timeout_ms);
    if (rc == VCTL_OK)
        rc = vctl_call(x->client, &rh, "heartbeat", NULL, x->timeout_ms);
    if (rc == VCTL_OK)
        rc = vctl_call(x->client, &rt, "stats", NULL, x->timeout_ms);
    bool up = rc == VCTL_OK;
    int code = VCTL_EXIT_OK;
    if (!up) {
        const char *message = x->client != NULL ? vctl_client_error(x->client) : "no connection";
        vctl_print_error(stderr, false, "metrics", NULL, message);
        code = exit_for(x, rc);
    }
    const struct vj_value *status = up ? vctl_response_result(&rs) : NULL;
    const struct vj_value *hb = up ? vctl_response_result(&rh) : NULL;
    const struct vj_value *stats = up ? vctl_response_result(&rt) : NULL;
    if (cli->json) {
        struct vj_buf b;
        vj_buf_init(&b);
        vj_begin_object(&b);
        vj_key(&b, "up");
        vj_bool(&b, up);
        vj_key(&b, "status");
        vj_value(&b, status);
        vj_key(&b, "heartbeat");
        vj_value(&b, hb);
        vj_key(&b, "stats");
        vj_value(&b, stats);
        vj_end_object(&b);
        if (b.data != NULL)
            printf("%s\n", b.data);
        vj_buf_free(&b);
    } else if (!vctl_print_metrics(stdout, up, status, hb, stats, cli->labels, cli->label_count)) {
        vctl_print_error(stderr, false, "metrics", NULL, "bad --label (NAME=VALUE, NAME of [a-zA-Z_][a-zA-Z0-9_]*)");
        code = VCTL_EXIT_USAGE;
    }
    vctl_request_release(&rs);
    vctl_request_release(&rh);
    vctl_request_release(&rt);
    return code;
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
        case VCTL_CMD_ADDITIONS:
            code = cmd_no_result(&x, "additions", "\"action\":\"install\"",
                                 "additions: the package was offered to the guest Additions");
            break;
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
