/*
 * vigilctl's console client library (tools/vigilctl/lib/) against a fake console
 * (vigilctl_fake_console.c): the handshake from either mode, framing, ids,
 * timeouts, partial lines, garbage, interleaved events, a console that never
 * answers, requests too long, Ctrl-C. Streams: test_vigilctl_streams.c; ports:
 * test_vigilctl_port.c; input pacing: test_vigilctl_pacing.c.
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
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vigilctl_fake_console.h"

/* ---- Scripts and tests ----------------------------------------------------------------- */

static void script_status(struct fake *f)
{
    /* a backlog from before we connected: old lines, an old event, an old response */
    fake_write(f, "vigil: booting\r\n{\"event\":\"additions-registered\",\"time_ms\":5,\"detail\":\"old\"}\r\n"
                  "{\"id\":99,\"status\":0,\"status_name\":\"S_OK\"}\r\nvigil> ");
    fake_handshake(f, true);
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(strstr(f->last, "\"cmd\":\"status\""));
    /* an event, a log line and a stray response before ours */
    fake_write(f, "{\"event\":\"heartbeat-stopped\",\"time_ms\":61000,\"detail\":\"no beat for 10000 ms\"}\r\n");
    fake_write(f, "vigil: a log line\r\n");
    fake_write(f, "{\"id\":999,\"status\":0,\"status_name\":\"S_OK\"}\r\n");
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"guest_running\":true}}\r\n",
                (unsigned long long)f->last_id);
    /* the restore to human mode */
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(strstr(f->last, "\"mode\":\"human\""));
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"human\"}}\r\nvigil> ",
                (unsigned long long)f->last_id);
    while (fake_read_line(f)) {
    }
}

static void test_handshake_and_request(void **state)
{
    (void)state;
    struct fixture *fx = start(script_status);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    assert_true(vctl_client_found_human(fx->client));
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "status", NULL, 5000), VCTL_OK);
    assert_int_equal(vctl_response_status(&r), 0);
    bool running = false;
    assert_true(vj_get_bool(vctl_response_result(&r), "guest_running", &running));
    assert_true(running);
    vctl_request_release(&r);
    /* the backlog's event was not queued; the live one was */
    json_t *event = NULL;
    assert_int_equal(vctl_next_event(fx->client, 0, &event), VCTL_OK);
    assert_string_equal(vj_get_string(event, "event", NULL), "heartbeat-stopped");
    json_decref(event);
    assert_int_equal(vctl_next_event(fx->client, 0, &event), VCTL_E_TIMEOUT);
    assert_int_equal(fx->events_seen, 1);
    struct vctl_client_counters counters;
    vctl_client_counters(fx->client, &counters);
    assert_true(counters.stray_lines >= 2); /* the old id 99 line and id 999 */
    assert_true(fx->logs_seen >= 2);
    assert_int_equal(vctl_restore_mode(fx->client, 5000), VCTL_OK);
    assert_false(vctl_client_found_human(fx->client));
    finish(fx);
}

static void script_json_already(struct fake *f)
{
    fake_handshake(f, false);
    while (fake_read_line(f)) {
    }
}

static void test_console_already_in_json(void **state)
{
    (void)state;
    struct fixture *fx = start(script_json_already);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    assert_false(vctl_client_found_human(fx->client));
    assert_int_equal(vctl_restore_mode(fx->client, 100), VCTL_OK); /* nothing to restore */
    finish(fx);
}

static void script_late_boot(struct fake *f)
{
    /* the first attempts are lost (the machine is still booting) */
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(fake_read_line(f));
    fake_handshake(f, true);
    while (fake_read_line(f)) {
    }
}

static void test_handshake_resent_while_booting(void **state)
{
    (void)state;
    struct fixture *fx = start(script_late_boot);
    assert_int_equal(vctl_enter_json(fx->client, 10000), VCTL_OK);
    finish(fx);
}

static void script_partial_lines(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    char line[256];
    snprintf(line, sizeof line, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"value\":\"a\\u00ffb\"}}\r\n",
             (unsigned long long)f->last_id);
    for (size_t i = 0; line[i] != '\0'; i++) {
        char one[2] = {line[i], '\0'};
        fake_write(f, one);
        if (i % 7 == 0)
            usleep(2000);
    }
    while (fake_read_line(f)) {
    }
}

static void test_partial_lines(void **state)
{
    (void)state;
    struct fixture *fx = start(script_partial_lines);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "param", members("{\"action\":\"get\",\"name\":\"x\"}"), 5000), VCTL_OK);
    size_t n = 0;
    const char *value = vj_get_string(vctl_response_result(&r), "value", &n);
    assert_int_equal(n, 4); /* \u00ff is the character U+00FF: UTF-8 C3 BF */
    assert_memory_equal(value, "a\xc3\xbf" "b", 4);
    vctl_request_release(&r);
    finish(fx);
}

static void script_garbage(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    fake_write(f, "\x00\xff\xfe\x01 binary noise\r\n");
    fake_write(f, "{\"id\":12, \"status\": broken json\r\n");
    fake_write(f, "[1,2,3]\r\n");
    fake_write(f, "vigil: warning: something\r\n");
    /* a line of 2 MiB: discarded */
    char *big = malloc(2u << 20);
    memset(big, 'x', (2u << 20) - 1);
    big[(2u << 20) - 1] = '\0';
    fake_write(f, "{\"a\":\"");
    fake_write(f, big);
    fake_write(f, "\"}\r\n");
    free(big);
    /* noise glued in front of the response still lets it through */
    FAKE_ASSERT(write(f->fd, "\xff\x00", 2) == 2);
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\"}\r\n", (unsigned long long)f->last_id);
    while (fake_read_line(f)) {
    }
}

static void test_garbage_on_the_line(void **state)
{
    (void)state;
    struct fixture *fx = start(script_garbage);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "ping", NULL, 10000), VCTL_OK);
    vctl_request_release(&r);
    struct vctl_client_counters c;
    vctl_client_counters(fx->client, &c);
    assert_int_equal(c.malformed_lines, 2); /* the broken object, the overlong line (the array is a log line) */
    assert_int_equal(c.overlong_lines, 1);
    finish(fx);
}

static void script_silent(struct fake *f)
{
    fake_handshake(f, false);
    while (fake_read_line(f)) {
    } /* never answers */
}

static void test_never_answers(void **state)
{
    (void)state;
    struct fixture *fx = start(script_silent);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    int64_t t0 = vctl_now_ms();
    assert_int_equal(vctl_call(fx->client, &r, "status", NULL, 300), VCTL_E_TIMEOUT);
    int64_t elapsed = vctl_now_ms() - t0;
    assert_true(elapsed >= 290 && elapsed < 1000);
    assert_non_null(strstr(vctl_client_error(fx->client), "no response to 'status'"));
    vctl_request_release(&r);
    finish(fx);
}

static void script_silent_from_start(struct fake *f)
{
    while (fake_read_line(f)) {
    }
}

static void test_handshake_times_out(void **state)
{
    (void)state;
    struct fixture *fx = start(script_silent_from_start);
    int64_t t0 = vctl_now_ms();
    assert_int_equal(vctl_enter_json(fx->client, 700), VCTL_E_TIMEOUT);
    assert_true(vctl_now_ms() - t0 < 1500);
    assert_non_null(strstr(vctl_client_error(fx->client), "did not answer 'mode json'"));
    finish(fx);
}

static void script_malformed_answer(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\"\r\n", (unsigned long long)f->last_id);
    while (fake_read_line(f)) {
    }
}

static void test_malformed_answer_is_protocol_error(void **state)
{
    (void)state;
    struct fixture *fx = start(script_malformed_answer);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "status", NULL, 300), VCTL_E_PROTOCOL);
    assert_non_null(strstr(vctl_client_error(fx->client), "malformed line"));
    vctl_request_release(&r);
    finish(fx);
}

static void script_no_status(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    fake_writef(f, "{\"id\":%llu,\"result\":{}}\r\n", (unsigned long long)f->last_id);
    while (fake_read_line(f)) {
    }
}

static void test_response_without_status(void **state)
{
    (void)state;
    struct fixture *fx = start(script_no_status);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "status", NULL, 2000), VCTL_E_PROTOCOL);
    vctl_request_release(&r);
    finish(fx);
}

static void test_request_too_long(void **state)
{
    (void)state;
    struct fixture *fx = start(script_json_already);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    char text[1200];
    snprintf(text, sizeof text, "{\"reason\":\"%01100d\"}", 0);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_send(fx->client, &r, "shutdown", members(text)), VCTL_E_USAGE);
    assert_non_null(strstr(vctl_client_error(fx->client), "at most 1024 bytes"));
    vctl_request_release(&r);
    finish(fx);
}

static volatile sig_atomic_t interrupt_flag;

static void test_interrupted(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct vctl_client_config config;
    memset(&config, 0, sizeof config);
    config.interrupted = &interrupt_flag;
    struct vctl_client *c = vctl_client_new(sv[0], &config);
    interrupt_flag = 1;
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_send(c, &r, "status", NULL), VCTL_OK);
    assert_int_equal(vctl_wait(c, &r, 5000), VCTL_E_INTERRUPTED);
    interrupt_flag = 0;
    vctl_request_release(&r);
    vctl_client_free(c);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_request),
        cmocka_unit_test(test_console_already_in_json),
        cmocka_unit_test(test_handshake_resent_while_booting),
        cmocka_unit_test(test_partial_lines),
        cmocka_unit_test(test_garbage_on_the_line),
        cmocka_unit_test(test_never_answers),
        cmocka_unit_test(test_handshake_times_out),
        cmocka_unit_test(test_malformed_answer_is_protocol_error),
        cmocka_unit_test(test_response_without_status),
        cmocka_unit_test(test_request_too_long),
        cmocka_unit_test(test_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, release_members);
}
