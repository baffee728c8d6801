/* vigilctl exec: run a command in the guest, its output streamed as it arrives (vigilctl.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/vctl_status.h"
#include "vigilctl.h"

/* The guest's bytes as they arrive: to our stdout/stderr as they are, or with
 * --json as {"stream":"stdout","data_b64":"..."} lines, the console's field passed
 * through unchanged (docs/console-protocol.md, Streaming). */
static void exec_stream(void *context, const char *stream, const char *data, size_t length, const json_t *line)
{
    struct ctx *x = context;
    if (x->cli->json) {
        json_t *out = json_pack("{s:s,s:O?}", "stream", stream, "data_b64", vj_get(line, "data_b64"));
        char *text = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
        json_decref(out);
        if (text != NULL) {
            fflush(stdout);
            write_fd_all(1, text, strlen(text));
            write_fd_all(1, "\n", 1);
        }
        free(text);
        return;
    }
    write_fd_all(strcmp(stream, "stderr") == 0 ? 2 : 1, data, length);
}

/* A JSON array of strings; NULL if one is not valid UTF-8. */
static json_t *string_array(char *const *strings, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count && array != NULL; i++)
        if (json_array_append_new(array, json_string(strings[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    return array;
}

int cmd_exec(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    int code = VCTL_EXIT_OK;
    json_t *argv = string_array(cli->argv, (size_t)cli->argc);
    json_t *env = cli->env_count > 0 ? string_array((char *const *)cli->env, cli->env_count) : NULL;
    json_t *members = NULL;
    if (argv == NULL || (cli->env_count > 0 && env == NULL))
        code = usage_failure(x, "an argument is not valid UTF-8 text");
    else
        members = pack_members(x, &code, "{s:O,s:I,s:s*,s:O*}", "argv", argv, "timeout",
                               (json_int_t)cli->exec_timeout_s, "cwd", cli->cwd, "env", env);
    json_decref(argv);
    json_decref(env);
    if (members == NULL)
        return code;
    struct vctl_request r;
    vctl_request_init(&r);
    r.on_stream = exec_stream;
    r.stream_context = x;
    int rc = vctl_send(x->client, &r, "exec", members);
    json_decref(members);
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
        json_t *target = json_pack("{s:I}", "target", (json_int_t)r.id);
        struct vctl_request k;
        vctl_request_init(&k);
        if (vctl_call(x->client, &k, "kill", target, 5000) == VCTL_OK)
            vctl_wait(x->client, &r, 5000);
        json_decref(target);
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

