/*
 * vigilctl's console client library (tools/vigilctl/lib/vctl_client.c) against a
 * fake console: the other end of a socketpair, played by a thread running a
 * per-test script. Framing, ids, timeouts, partial lines, garbage, interleaved
 * events, a console that never answers or disconnects mid-stream; input pacing
 * (16-byte chunks, the first-chunk wait, 2 ms gaps) with a fake clock and sleep.
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

#include "vctl_client.h"

/* Checks in the fake console's thread: cmocka's asserts belong to the main thread. */
#define FAKE_ASSERT(x)                                                                        \
    do {                                                                                      \
        if (!(x)) {                                                                           \
            fprintf(stderr, "fake console: check failed at line %d: %s\n", __LINE__, #x);    \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* ---- The fake console ------------------------------------------------------------ */

struct fake {
    int fd;
    void (*script)(struct fake *);
    pthread_t thread;
    char last[2048]; /* the last request line read */
    uint64_t last_id;
};

static void fake_write(struct fake *f, const char *text)
{
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t w = write(f->fd, text, n);
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

static void fake_writef(struct fake *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void fake_writef(struct fake *f, const char *format, ...)
{
    char text[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    fake_write(f, text);
}

/* Reads one line ending in CR (what the client sends); false at EOF. Remembers
 * the id of a JSON request. */
static bool fake_read_line(struct fake *f)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(f->fd, &c, 1);
        if (r <= 0)
            return false;
        if (c == '\r' || c == '\n') {
            if (n == 0)
                continue;
            break;
        }
        if (n + 1 < sizeof f->last)
            f->last[n++] = c;
    }
    f->last[n] = '\0';
    f->last_id = 0;
    json_t *v = vj_parse_object(f->last, n, NULL, 0);
    if (v != NULL)
        vj_get_u64(v, "id", &f->last_id);
    json_decref(v);
    return true;
}

/* Plays JSON mode: reads "mode json" (human) and the client's sync request, acks both. */
static void fake_handshake(struct fake *f, bool human)
{
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(strstr(f->last, "mode json"));
    if (human)
        fake_write(f, "vigil> mode json\r\n{\"id\":null,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"json\"}}\r\n");
    else
        fake_write(f, "{\"id\":null,\"status\":2147942487,\"status_name\":\"E_INVALIDARG\",\"message\":\"malformed "
                      "request: unexpected character at byte 0\"}\r\n");
    FAKE_ASSERT(fake_read_line(f));
    FAKE_ASSERT(strstr(f->last, "\"cmd\":\"mode\""));
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"json\"}}\r\n",
                (unsigned long long)f->last_id);
}

/* Request members for vctl_send/vctl_call, parsed from JSON text; released after
 * all tests (kept reachable until then). */
static json_t *kept_members[64];
static size_t kept_count;

static json_t *members(const char *json_text)
{
    json_t *value = json_loads(json_text, 0, NULL);
    assert_non_null(value);
    assert_true(kept_count < sizeof kept_members / sizeof kept_members[0]);
    kept_members[kept_count++] = value;
    return value;
}

static int release_members(void **state)
{
    (void)state;
    while (kept_count > 0)
        json_decref(kept_members[--kept_count]);
    return 0;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    f->script(f);
    return NULL;
}

struct fixture {
    struct fake fake;
    struct vctl_client *client;
    int events_seen;
    int logs_seen;
};

static void on_event(void *context, const json_t *event)
{
    (void)event;
    ((struct fixture *)context)->events_seen++;
}

static void on_log(void *context, const char *line, size_t length)
{
    (void)line;
    (void)length;
    ((struct fixture *)context)->logs_seen++;
}

static struct fixture *start(void (*script)(struct fake *))
{
    struct fixture *fx = calloc(1, sizeof *fx);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fx->fake.fd = sv[1];
    fx->fake.script = script;
    struct vctl_client_config config;
    memset(&config, 0, sizeof config);
    config.first_id = 100;
    config.on_event = on_event;
    config.on_log = on_log;
    config.context = fx;
    config.resend_ms = 300;
    fx->client = vctl_client_new(sv[0], &config);
    FAKE_ASSERT(fx->client);
    assert_int_equal(pthread_create(&fx->fake.thread, NULL, fake_main, &fx->fake), 0);
    return fx;
}

static void finish(struct fixture *fx)
{
    vctl_client_free(fx->client); /* closes our end: the fake's reads see EOF */
    pthread_join(fx->fake.thread, NULL);
    close(fx->fake.fd);
    free(fx);
}

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

struct collected {
    char out[600];
    size_t out_length;
    int chunks;
};

static void collect(void *context, const char *stream, const char *data, size_t length, const json_t *line)
{
    struct collected *c = context;
    assert_non_null(vj_get(line, "stream"));
    c->chunks++;
    const char *tag = strcmp(stream, "stderr") == 0 ? "E:" : "O:";
    memcpy(c->out + c->out_length, tag, 2);
    memcpy(c->out + c->out_length + 2, data, length);
    c->out_length += 2 + length;
}

static void script_exec_disconnects(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    unsigned long long id = f->last_id;
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stdout\",\"data_b64\":\"b25lCg==\"}\r\n", id);
    fake_write(f, "{\"event\":\"heartbeat-stopped\",\"time_ms\":1,\"detail\":\"x\"}\r\n");
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stderr\",\"data_b64\":\"dHdvCg==\"}\r\n", id);
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stdout\",\"data_b64\":\"dGhyZWU=\"}", id); /* no newline: then EOF */
    shutdown(f->fd, SHUT_WR);
    while (fake_read_line(f)) {
    }
}

static void test_disconnect_mid_stream_keeps_output(void **state)
{
    (void)state;
    struct fixture *fx = start(script_exec_disconnects);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct collected got = {0};
    struct vctl_request r;
    vctl_request_init(&r);
    r.on_stream = collect;
    r.stream_context = &got;
    assert_int_equal(vctl_call(fx->client, &r, "exec", members("{\"argv\":[\"x\"]}"), 5000), VCTL_E_CLOSED);
    assert_int_equal(got.chunks, 3);
    assert_int_equal(got.out_length, strlen("O:one\nE:two\nO:three"));
    assert_memory_equal(got.out, "O:one\nE:two\nO:three", got.out_length);
    assert_non_null(strstr(vctl_client_error(fx->client), "closed the connection before answering 'exec'"));
    assert_true(vctl_client_closed(fx->client));
    /* the interleaved event is still there */
    json_t *event = NULL;
    assert_int_equal(vctl_next_event(fx->client, 0, &event), VCTL_OK);
    json_decref(event);
    vctl_request_release(&r);
    finish(fx);
}

/* Every byte value in three lines cut at 100 and 156 bytes (padding "==", "=",
 * "=="), a line that is not base64 in between, then the response. */
static void script_exec_binary(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    unsigned long long id = f->last_id;
    static const char *const pieces[] = {
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJT"
        "VFVWV1hZWltcXV5fYGFiYw==",
        "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmps=",
        "nJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v"
        "8PHy8/T19vf4+fr7/P3+/w==",
    };
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stdout\",\"data_b64\":\"%s\"}\r\n", id, pieces[0]);
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stdout\",\"data_b64\":\"not base64!\"}\r\n", id);
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stdout\",\"data_b64\":\"%s\"}\r\n", id, pieces[1]);
    fake_writef(f, "{\"id\":%llu,\"stream\":\"stderr\",\"data_b64\":\"%s\"}\r\n", id, pieces[2]);
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":0}\r\n", id);
    while (fake_read_line(f)) {
    }
}

static void test_exec_output_decoded_byte_for_byte(void **state)
{
    (void)state;
    struct fixture *fx = start(script_exec_binary);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct collected got = {0};
    struct vctl_request r;
    vctl_request_init(&r);
    r.on_stream = collect;
    r.stream_context = &got;
    assert_int_equal(vctl_call(fx->client, &r, "exec", members("{\"argv\":[\"cat\"]}"), 5000), VCTL_OK);
    assert_int_equal(got.chunks, 3); /* the line that is not base64 is dropped, */
    struct vctl_client_counters counters;
    vctl_client_counters(fx->client, &counters);
    assert_int_equal(counters.malformed_lines, 1); /* and counted as malformed */
    assert_int_equal(r.streamed_bytes, 256);
    assert_int_equal(got.out_length, 256 + 3 * 2);
    for (unsigned i = 0; i < 256; i++) {
        size_t at = i + 2 * (i < 100 ? 1 : i < 156 ? 2 : 3); /* after each piece's tag */
        assert_int_equal((unsigned char)got.out[at], i);
    }
    assert_memory_equal(got.out + 156 + 4, "E:", 2);
    vctl_request_release(&r);
    finish(fx);
}

static void script_final_response_unterminated(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":3}", (unsigned long long)f->last_id);
    shutdown(f->fd, SHUT_WR);
    while (fake_read_line(f)) {
    }
}

static void test_final_line_without_newline(void **state)
{
    (void)state;
    struct fixture *fx = start(script_final_response_unterminated);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_call(fx->client, &r, "exec", members("{\"argv\":[\"x\"]}"), 5000), VCTL_OK);
    int64_t code;
    assert_true(vj_get_i64(r.response, "exit_code", &code));
    assert_int_equal(code, 3);
    vctl_request_release(&r);
    finish(fx);
}

static void script_two_in_flight(struct fake *f)
{
    fake_handshake(f, false);
    FAKE_ASSERT(fake_read_line(f));
    unsigned long long first = f->last_id;
    FAKE_ASSERT(fake_read_line(f));
    unsigned long long second = f->last_id;
    FAKE_ASSERT(second == first + 1);
    fake_writef(f, "{\"id\":%llu,\"stream\":\"name\",\"data\":\"motd\"}\r\n", second);
    fake_writef(f, "{\"id\":%llu,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"count\":1}}\r\n", second);
    fake_writef(f, "{\"id\":%llu,\"status\":2684617988,\"status_name\":\"VM_E_ADDITIONS_NOT_AVAIL\","
                   "\"message\":\"the guest Additions are not running\"}\r\n",
                first);
    while (fake_read_line(f)) {
    }
}

static void test_responses_out_of_order(void **state)
{
    (void)state;
    struct fixture *fx = start(script_two_in_flight);
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    struct vctl_request a, b;
    vctl_request_init(&a);
    vctl_request_init(&b);
    assert_int_equal(vctl_send(fx->client, &a, "exec", members("{\"argv\":[\"sleep\",\"1\"]}")), VCTL_OK);
    assert_int_equal(vctl_send(fx->client, &b, "param", members("{\"action\":\"list\"}")), VCTL_OK);
    assert_int_equal(vctl_wait(fx->client, &a, 5000), VCTL_OK);
    assert_true(b.done); /* answered first, kept */
    assert_int_equal(b.streamed_count, 1);
    assert_string_equal(vj_get_string(b.streamed[0], "data", NULL), "motd");
    assert_int_equal(vctl_response_status(&a), 0xA0040504u);
    char buffer[16];
    assert_string_equal(vctl_response_status_name(&a, buffer, sizeof buffer), "VM_E_ADDITIONS_NOT_AVAIL");
    assert_string_equal(vctl_response_message(&a), "the guest Additions are not running");
    assert_int_equal(vctl_wait(fx->client, &b, 100), VCTL_OK);
    vctl_request_release(&a);
    vctl_request_release(&b);
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

static void test_open_port_errors(void **state)
{
    (void)state;
    int fd;
    char error[256];
    assert_int_equal(vctl_open_port("", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("tcp:host:notaport", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("tcp:127.0.0.1:0", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("unix:/nonexistent/vigil.sock", 0, 100, &fd, error, sizeof error), VCTL_E_CONNECT);
    assert_non_null(strstr(error, "cannot connect to unix:/nonexistent/vigil.sock"));
    assert_int_equal(vctl_open_port("/dev/does-not-exist", 115200, 100, &fd, error, sizeof error), VCTL_E_CONNECT);
    assert_int_equal(vctl_open_port("/dev/null", 12345, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_non_null(strstr(error, "baud"));
}

static void test_open_tcp_and_unix(void **state)
{
    (void)state;
    char error[256];
    int fd;
    /* TCP on loopback */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7F000001);
    assert_int_equal(bind(listener, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(listener, 1), 0);
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    char spec[160];
    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", ntohs(a.sin_port));
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    snprintf(spec, sizeof spec, "tcp:%u", ntohs(a.sin_port)); /* tcp:PORT = loopback */
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    close(listener);
    /* unix socket */
    char path[] = "/tmp/vctl-test-XXXXXX";
    assert_non_null(mkdtemp(path));
    char sock[64];
    snprintf(sock, sizeof sock, "%s/c.sock", path);
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un u;
    memset(&u, 0, sizeof u);
    u.sun_family = AF_UNIX;
    snprintf(u.sun_path, sizeof u.sun_path, "%s", sock);
    assert_int_equal(bind(ul, (struct sockaddr *)&u, sizeof u), 0);
    assert_int_equal(listen(ul, 1), 0);
    snprintf(spec, sizeof spec, "unix:%s", sock);
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    close(ul);
    unlink(sock);
    rmdir(path);
}

static void *pty_console(void *arg)
{
    struct fake f = {.fd = *(int *)arg};
    fake_handshake(&f, true);
    return NULL;
}

static void test_pty_port(void **state)
{
    (void)state;
    int master, slave;
    char name[128];
    assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
    /* the console side reads bytes as they are: raw */
    struct termios tio;
    tcgetattr(master, &tio);
    cfmakeraw(&tio);
    tcsetattr(master, TCSANOW, &tio);
    struct vctl_client *c = NULL;
    char error[256];
    assert_int_equal(vctl_connect(name, 115200, 1000, NULL, &c, error, sizeof error), VCTL_OK);
    pthread_t t;
    pthread_create(&t, NULL, pty_console, &master);
    assert_int_equal(vctl_enter_json(c, 5000), VCTL_OK);
    pthread_join(t, NULL);
    vctl_client_free(c);
    close(slave);
    close(master);
}

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
        FAKE_ASSERT(p->received + (size_t)n <= sizeof p->bytes);
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
    FAKE_ASSERT(ms > 0);
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
#define PACE_MEMBERS members("{\"action\":\"get\",\"name\":\"Guest/Name\"}")

static void test_pacing_one_request(void **state)
{
    (void)state;
    struct pace_log p;
    struct vctl_client *c = pace_client(&p, 0, 0);
    assert_int_equal(vctl_client_pace_ms(c), VCTL_PACE_MS_DEFAULT);
    struct vctl_request r;
    vctl_request_init(&r);
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
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
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
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
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
    pace_collect(&p);
    expected_line(expected, sizeof expected, n, 110);
    assert_string_equal(p.log, expected);
    vctl_request_release(&r);
    pace_done(c, &p);

    c = pace_client(&p, 75, 100); /* pace_ms wins over the tick */
    assert_int_equal(vctl_client_pace_ms(c), 75);
    vctl_request_init(&r);
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
    pace_collect(&p);
    expected_line(expected, sizeof expected, n, 75);
    assert_string_equal(p.log, expected);
    vctl_request_release(&r);
    pace_done(c, &p);

    c = pace_client(&p, VCTL_PACE_OFF, 0); /* all at once, no sleep */
    assert_int_equal(vctl_client_pace_ms(c), 0);
    vctl_request_init(&r);
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
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
    assert_int_equal(vctl_send(c, &r, "param", PACE_MEMBERS), VCTL_OK);
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
        cmocka_unit_test(test_handshake_and_request),
        cmocka_unit_test(test_console_already_in_json),
        cmocka_unit_test(test_handshake_resent_while_booting),
        cmocka_unit_test(test_partial_lines),
        cmocka_unit_test(test_garbage_on_the_line),
        cmocka_unit_test(test_never_answers),
        cmocka_unit_test(test_handshake_times_out),
        cmocka_unit_test(test_malformed_answer_is_protocol_error),
        cmocka_unit_test(test_response_without_status),
        cmocka_unit_test(test_disconnect_mid_stream_keeps_output),
        cmocka_unit_test(test_exec_output_decoded_byte_for_byte),
        cmocka_unit_test(test_final_line_without_newline),
        cmocka_unit_test(test_responses_out_of_order),
        cmocka_unit_test(test_request_too_long),
        cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_open_port_errors),
        cmocka_unit_test(test_open_tcp_and_unix),
        cmocka_unit_test(test_pty_port),
        cmocka_unit_test(test_pacing_one_request),
        cmocka_unit_test(test_pacing_back_to_back_lines),
        cmocka_unit_test(test_pacing_idle_restarts_slow),
        cmocka_unit_test(test_pacing_settings),
        cmocka_unit_test(test_pacing_real_clock),
    };
    return cmocka_run_group_tests(tests, NULL, release_members);
}
