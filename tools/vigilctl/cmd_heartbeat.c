/* vigilctl heartbeat --graph and watch: sampling the heartbeat over time (vigilctl.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/vctl_status.h"
#include "vigilctl.h"

/* ---- heartbeat --graph and watch ---------------------------------------------------- */

struct beat_sample {
    bool ok, heartbeating;
    uint64_t beats, percentage, age_ms, period_ms;
    bool age_known;
    char state[24];
};

static int sample_heartbeat(struct ctx *x, struct beat_sample *s, json_t **keep)
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
        const json_t *h = vctl_response_result(&r);
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

int cmd_heartbeat_graph(struct ctx *x)
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
    json_t *first = NULL;
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
    json_decref(first);
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

static void print_event_line(struct ctx *x, const json_t *event)
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

int cmd_watch(struct ctx *x)
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
            json_t *full = NULL;
            int rc = sample_heartbeat(x, &s, &full);
            if (rc == VCTL_E_INTERRUPTED) {
                json_decref(full);
                break;
            }
            if (rc != VCTL_OK) {
                json_decref(full);
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
            json_decref(full);
            next_sample += (int64_t)(interval * 1000);
            if (next_sample < vctl_now_ms())
                next_sample = vctl_now_ms() + (int64_t)(interval * 1000);
            continue;
        }
        int64_t until = next_sample < end ? next_sample : end;
        json_t *event = NULL;
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
            json_decref(event);
        }
    }
    if (live)
        printf("\n");
    interrupted = 0; /* Ctrl-C is how watch ends: not an error */
    return VCTL_EXIT_OK;
}

