/*
 * vigilctl's input pacing (tools/vigilctl/lib/vctl_pacing.c, docs/vigilctl.md "Why
 * vigilctl paces its input"): 16-byte chunks, the first-chunk wait, 2 ms gaps, a new
 * burst after an idle spell; with a fake clock and sleep, and once with the real ones.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vctl_client.h"

static volatile sig_atomic_t interrupt_flag; /* a Ctrl-C that pacing must not cut short */

/* ---- Input pacing ---------------------------------------------------------------------- */

/* A fake clock and sleep for the pacing. Before each sleep (and at the end), the
 * bytes the client wrote since are read from the console's end of the socketpair
 * and logged, so the log is the exact sequence of writes and waits:
 * "16 +60 16 +2 8" = 16 bytes, a 60 ms wait, 16 bytes, 2 ms, 8 bytes. */
struct pace_log {
    int fd;         /* the fake console's end */
    int64_t now;    /* the fake clock, ms */
    char log[4096];
    char bytes[8192]; /* everything received, in order */
    size_t received;
};

static void pace_collect(struct pace_log *p)
{
    char buffer[4096];
    ssize_t n;
    size_t got = 0;
    while ((n = recv(p->fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
        assert_true(p->received + (size_t)n <= sizeof p->bytes);
        memcpy(p->bytes + p->received, buffer, (size_t)n);
        p->received += (size_t)n;
        got += (size_t)n;
    }
    if (got > 0)
        snprintf(p->log + strlen(p->log), sizeof p->log - strlen(p->log), "%s%zu", p->log[0] ? " " : "", got);
}

static int64_t pace_fake_now(void *context) { return ((struct pace_log *)context)->now; }

static void pace_fake_sleep(void *context, int ms)
{
    struct pace_log *p = context;
    assert_true(ms > 0);
    pace_collect(p);
    snprintf(p->log + strlen(p->log), sizeof p->log - strlen(p->log), " +%d", ms);
    p->now += ms;
}

/* A client on a socketpair with the fake clock and sleep; pace_ms/tick_ms as given. */
static struct vctl_client *pace_client(struct pace_log *p, int pace_ms, int tick_ms)
{
    memset(p, 0, sizeof *p);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    p->fd = sv[1];
    p->now = 1000000;
    struct vctl_client_config config;
    memset(&config, 0, sizeof config);
    config.first_id = 100;
    config.pace_ms = pace_ms;
    config.tick_ms = tick_ms;
    config.pace_now = pace_fake_now;
    config.pace_sleep = pace_fake_sleep;
    config.pace_context = p;
    struct vctl_client *c = vctl_client_new(sv[0], &config);
    assert_non_null(c);
    return c;
}

static void pace_done(struct vctl_client *c, struct pace_log *p)
{
    vctl_client_free(c);
    close(p->fd);
}

/* The log a line of n bytes gives from a quiet console: chunks of 16, the first
 * wait pace_ms, the others 2 ms. */
static void expected_line(char *out, size_t size, size_t n, int pace_ms)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t sent = 0; sent < n; sent += 16) {
        size_t chunk = n - sent < 16 ? n - sent : 16;
        if (sent == 16)
            o += (size_t)snprintf(out + o, size - o, " +%d ", pace_ms);
        else if (sent > 16)
            o += (size_t)snprintf(out + o, size - o, " +2 ");
        o += (size_t)snprintf(out + o, size - o, "%zu", chunk);
    }
}

static const char pace_request[] = "{\"id\":100,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"Guest/Name\"}\r";
/* Sends the request pace_request holds. */
static int send_pace_request(struct vctl_client *c, struct vctl_request *r)
{
    json_t *members = json_pack("{s:s,s:s}", "action", "get", "name", "Guest/Name");
    int rc = vctl_send(c, r, "param", members);
    json_decref(members);
    return rc;
}

static void test_pacing_one_request(void **state)
{
    (void)state;
    struct pace_log p;
    struct vctl_client *c = pace_client(&p, 0, 0);
    assert_int_equal(vctl_client_pace_ms(c), VCTL_PACE_MS_DEFAULT);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    pace_collect(&p);
    size_t n = sizeof pace_request - 1; /* 60 bytes: 16 16 16 12 */
    assert_int_equal(p.received, n);
    assert_memory_equal(p.bytes, pace_request, n);
    assert_string_equal(p.log, "16 +60 16 +2 16 +2 12");
    char expected[256];
    expected_line(expected, sizeof expected, n, 60);
    assert_string_equal(p.log, expected);
    vctl_request_release(&r);
    pace_done(c, &p);
}

/* What vctl_enter_json sends: the human-mode switch (11 bytes), then at once the
 * request. One burst: the request's first chunk waits for the tick too, or 27
 * bytes would reach a FIFO of 16 before the console's next poll. */
static void test_pacing_back_to_back_lines(void **state)
{
    (void)state;
    struct pace_log p;
    struct vctl_client *c = pace_client(&p, 0, 0);
    assert_int_equal(vctl_send_raw(c, "\x15mode json\r", 11, 1000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "11 +60 16 +2 16 +2 16 +2 12");
    assert_int_equal(p.received, 11 + sizeof pace_request - 1);
    /* a short line alone is one chunk: no wait at all */
    pace_done(c, &p);
    c = pace_client(&p, 0, 0);
    assert_int_equal(vctl_send_raw(c, "\r", 1, 1000), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "1");
    vctl_request_release(&r);
    pace_done(c, &p);
}

/* Within VCTL_PACE_IDLE_MS of the last write the console still polls every
 * millisecond: the next line goes on at 2 ms. After more, it starts slow again. */
static void test_pacing_idle_restarts_slow(void **state)
{
    (void)state;
    struct pace_log p;
    struct vctl_client *c = pace_client(&p, 0, 0);
    static const char line[] = "0123456789abcdefghijklmnopqrstuv\r"; /* 33 bytes */
    assert_int_equal(vctl_send_raw(c, line, 33, 1000), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "16 +60 16 +2 1");
    p.log[0] = '\0';
    p.now += VCTL_PACE_IDLE_MS; /* just within */
    assert_int_equal(vctl_send_raw(c, line, 33, 1000), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "16 +2 16 +2 1");
    p.log[0] = '\0';
    p.now += VCTL_PACE_IDLE_MS + 1; /* the console may be back on the tick */
    assert_int_equal(vctl_send_raw(c, line, 33, 1000), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "16 +60 16 +2 1");
    /* a second burst soon after the first chunk of a slow start waits only the rest of the tick */
    p.log[0] = '\0';
    p.now += VCTL_PACE_IDLE_MS + 1;
    assert_int_equal(vctl_send_raw(c, "abc", 3, 1000), VCTL_OK);
    p.now += 25;
    assert_int_equal(vctl_send_raw(c, "def", 3, 1000), VCTL_OK);
    pace_collect(&p);
    assert_string_equal(p.log, "3 +35 3");
    assert_memory_equal(p.bytes + p.received - 6, "abcdef", 6);
    pace_done(c, &p);
}

/* --pace-ms, --tick-ms and --pace-ms 0 (VCTL_PACE_OFF). */
static void test_pacing_settings(void **state)
{
    (void)state;
    struct pace_log p;
    size_t n = sizeof pace_request - 1;
    char expected[256];
    struct vctl_request r;

    struct vctl_client *c = pace_client(&p, 0, 100); /* a 100 ms tick: wait 110 */
    assert_int_equal(vctl_client_pace_ms(c), 110);
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    pace_collect(&p);
    expected_line(expected, sizeof expected, n, 110);
    assert_string_equal(p.log, expected);
    vctl_request_release(&r);
    pace_done(c, &p);

    c = pace_client(&p, 75, 100); /* pace_ms wins over the tick */
    assert_int_equal(vctl_client_pace_ms(c), 75);
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    pace_collect(&p);
    expected_line(expected, sizeof expected, n, 75);
    assert_string_equal(p.log, expected);
    vctl_request_release(&r);
    pace_done(c, &p);

    c = pace_client(&p, VCTL_PACE_OFF, 0); /* all at once, no sleep */
    assert_int_equal(vctl_client_pace_ms(c), 0);
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    pace_collect(&p);
    snprintf(expected, sizeof expected, "%zu", n);
    assert_string_equal(p.log, expected);
    assert_memory_equal(p.bytes, pace_request, n);
    vctl_request_release(&r);
    pace_done(c, &p);
}

/* Pacing with the real clock and sleep: only lower bounds (a sleep never ends
 * early; a loaded machine only makes it longer), and a Ctrl-C does not cut a line. */
static void test_pacing_real_clock(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct vctl_client_config config;
    memset(&config, 0, sizeof config);
    config.first_id = 100;
    config.interrupted = &interrupt_flag;
    struct vctl_client *c = vctl_client_new(sv[0], &config);
    int64_t start = vctl_now_ms();
    interrupt_flag = 1;
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(send_pace_request(c, &r), VCTL_OK);
    interrupt_flag = 0;
    int64_t took = vctl_now_ms() - start;
    assert_true(took >= VCTL_PACE_MS_DEFAULT - 1 + 2 * VCTL_PACE_GAP_MS); /* 16 +60 16 +2 16 +2 12 */
    char buffer[256];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof pace_request - 1 && (n = recv(sv[1], buffer + got, sizeof buffer - got, MSG_DONTWAIT)) > 0)
        got += (size_t)n;
    assert_int_equal(got, sizeof pace_request - 1);
    assert_memory_equal(buffer, pace_request, got);
    vctl_request_release(&r);
    vctl_client_free(c);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacing_one_request),
        cmocka_unit_test(test_pacing_back_to_back_lines),
        cmocka_unit_test(test_pacing_idle_restarts_slow),
        cmocka_unit_test(test_pacing_settings),
        cmocka_unit_test(test_pacing_real_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
