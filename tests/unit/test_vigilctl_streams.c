/*
 * Streamed responses in vigilctl's client library against a fake console: exec
 * output decoded from base64 byte for byte, a line that is not base64, output kept
 * when the console disconnects mid-stream, a final line without newline, responses
 * out of order with their streamed lines kept.
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

/* After the handshake, runs an exec whose chunks collect() gathers in got. */
static int exec_collecting(struct fixture *fx, struct vctl_request *r, struct collected *got)
{
    assert_int_equal(vctl_enter_json(fx->client, 5000), VCTL_OK);
    vctl_request_init(r);
    r->on_stream = collect;
    r->stream_context = got;
    return vctl_call(fx->client, r, "exec", members("{\"argv\":[\"x\"]}"), 5000);
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
    struct collected got = {0};
    struct vctl_request r;
    assert_int_equal(exec_collecting(fx, &r, &got), VCTL_E_CLOSED);
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
    struct collected got = {0};
    struct vctl_request r;
    assert_int_equal(exec_collecting(fx, &r, &got), VCTL_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disconnect_mid_stream_keeps_output),
        cmocka_unit_test(test_exec_output_decoded_byte_for_byte),
        cmocka_unit_test(test_final_line_without_newline),
        cmocka_unit_test(test_responses_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, release_members);
}
