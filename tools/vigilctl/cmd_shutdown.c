/* vigilctl shutdown: ask the guest to shut down and, with --wait, follow it (vigilctl.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/vctl_status.h"
#include "vigilctl.h"

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

int cmd_shutdown(struct ctx *x)
{
    struct vctl_cli *cli = x->cli;
    int code = VCTL_EXIT_OK;
    json_t *members = pack_members(x, &code, "{s:b,s:b,s:o*,s:s*}", "force", cli->force, "reboot", cli->reboot,
                                   "timeout", cli->shutdown_timeout_set ? json_integer(cli->shutdown_timeout_s) : NULL,
                                   "reason", cli->reason);
    if (members == NULL)
        return code;
    struct vctl_request r;
    vctl_request_init(&r);
    bool ok = call(x, &r, "shutdown", members, &code);
    json_decref(members);
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
        json_t *event = NULL;
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
        json_decref(event);
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

