/* vigilctl: the commands that are one request and its answer (vigilctl.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/vctl_status.h"
#include "vigilctl.h"

int cmd_result(struct ctx *x, const char *cmd, void (*print)(FILE *, const json_t *))
{
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, cmd, NULL, &code)) {
        const json_t *result = vctl_response_result(&r);
        if (!json_is_object(result)) {
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

int cmd_no_result(struct ctx *x, const char *cmd, const json_t *members, const char *done_text)
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

static void print_names(struct ctx *x, const struct vctl_request *r)
{
    json_t *names = x->cli->json ? json_array() : NULL;
    for (size_t i = 0; i < r->streamed_count; i++) {
        size_t n = 0;
        const char *name = vj_get_string(r->streamed[i], "data", &n);
        if (name == NULL)
            continue;
        if (names != NULL)
            json_array_append_new(names, json_stringn(name, n));
        else {
            vctl_print_sanitized(stdout, name, n);
            fputc('\n', stdout);
        }
    }
    if (names != NULL) {
        json_t *all = json_pack("{s:o,s:I}", "names", names, "count", (json_int_t)r->streamed_count);
        print_json_line(all);
        json_decref(all);
    }
}

int cmd_param(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    static const char *const actions[] = {[VCTL_PARAM_GET] = "get", [VCTL_PARAM_SET] = "set", [VCTL_PARAM_LIST] = "list"};
    int code = VCTL_EXIT_OK;
    json_t *members = pack_members(x, &code, "{s:s,s:s*,s:s*}", "action", actions[cli->param_action], "name",
                                   cli->param_name, "value", cli->param_value);
    if (members == NULL)
        return code;
    struct vctl_request r;
    vctl_request_init(&r);
    if (call(x, &r, "param", members, &code)) {
        const json_t *result = vctl_response_result(&r);
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
        } else
            print_names(x, &r);
    }
    vctl_request_release(&r);
    json_decref(members);
    return code;
}

int cmd_timesync(struct ctx *x)
{
    json_t *members = json_pack("{s:s}", "action", x->cli->timesync_action);
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    if (call(x, &r, "timesync", members, &code)) {
        const json_t *result = vctl_response_result(&r);
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
    json_decref(members);
    return code;
}

int cmd_heartbeat_set(struct ctx *x)
{
    json_t *members = json_pack("{s:I}", "interval", (json_int_t)x->cli->failure_interval_ms);
    char text[80];
    snprintf(text, sizeof text, "heartbeat failure interval: %u ms", x->cli->failure_interval_ms);
    int code = cmd_no_result(x, "heartbeat", members, text);
    json_decref(members);
    return code;
}

int cmd_ping(struct ctx *x)
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

int cmd_kill(struct ctx *x)
{
    json_t *members = x->cli->has_target ? json_pack("{s:I}", "target", (json_int_t)x->cli->target) : NULL;
    int code = cmd_no_result(x, "kill", members, "the command is being killed");
    json_decref(members);
    return code;
}

int cmd_additions(struct ctx *x)
{
    json_t *members = json_pack("{s:s}", "action", "install");
    int code = cmd_no_result(x, "additions", members, "additions: the package was offered to the guest Additions");
    json_decref(members);
    return code;
}

int cmd_poweroff(struct ctx *x)
{
    json_t *members = x->cli->reboot ? json_pack("{s:b}", "reboot", 1) : NULL;
    struct vctl_request r;
    vctl_request_init(&r);
    int rc = vctl_call(x->client, &r, "poweroff", members, x->timeout_ms);
    json_decref(members);
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

int cmd_metrics(struct ctx *x, int connect_rc)
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
    const json_t *status = up ? vctl_response_result(&rs) : NULL;
    const json_t *hb = up ? vctl_response_result(&rh) : NULL;
    const json_t *stats = up ? vctl_response_result(&rt) : NULL;
    if (cli->json) {
        /* json_pack's "O?" takes a reference, null for NULL */
        json_t *all = json_pack("{s:b,s:O?,s:O?,s:O?}", "up", up, "status", status, "heartbeat", hb, "stats", stats);
        print_json_line(all);
        json_decref(all);
    } else if (!vctl_print_metrics(stdout, up, status, hb, stats, cli->labels, cli->label_count)) {
        vctl_print_error(stderr, false, "metrics", NULL, "bad --label (NAME=VALUE, NAME of [a-zA-Z_][a-zA-Z0-9_]*)");
        code = VCTL_EXIT_USAGE;
    }
    vctl_request_release(&rs);
    vctl_request_release(&rh);
    vctl_request_release(&rt);
    return code;
}

