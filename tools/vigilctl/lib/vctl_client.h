/*
 * vctl_client: a client of vigil's console in its JSON-lines mode
 * (docs/console-protocol.md), for vigilctl and the tests.
 *
 *   struct vctl_client *c;
 *   if (vctl_connect("unix:/tmp/vigil.sock", 115200, 5000, NULL, &c, err, sizeof err) != VCTL_OK) ...
 *   if (vctl_enter_json(c, 30000) != VCTL_OK) ... vctl_client_error(c) ...
 *   struct vctl_request r;
 *   vctl_request_init(&r);
 *   json_t *members = json_pack("{s:s,s:s}", "action", "get", "name", "x");  // or NULL
 *   vctl_call(c, &r, "param", members, 30000);
 *   json_decref(members);
 *   ... vctl_response_status(&r), vj_get(r.response, "result") ...
 *   vctl_request_release(&r);
 *   vctl_client_free(c);
 *
 * Lines are split at LF (a CR before it is dropped). Each complete line is one of:
 *  - a JSON object with an "id" of a request in flight: a streamed chunk ("stream")
 *    handed to the request's callback at once (or kept), or its response; exec
 *    output arrives base64-encoded ("data_b64") and is decoded for the callback;
 *  - an event ({"event":...} without "id"): queued for vctl_next_event and passed to
 *    config.on_event;
 *  - {"id":null,...}: the console rejected a line; kept as a note for error messages;
 *  - anything else: a log line ("vigil: ..."), noise or malformed JSON: passed to
 *    config.on_log and counted; never fatal by itself.
 * Waits never pass their deadline; a disconnect delivers every complete line that
 * arrived first (and a final unterminated line if it is a complete JSON object).
 *
 * Input pacing (docs/vigilctl.md, "Why vigilctl paces its input"). vigil polls its
 * console UART, a 16550 whose receive FIFO holds 16 bytes: on the tick (50 ms by
 * default) while the console is quiet, every millisecond for 500 ms once it has
 * seen input. Bytes that arrive faster than they are polled overrun the FIFO and
 * are lost. So every write of the client (vctl_send, vctl_send_raw) goes out in
 * chunks of at most VCTL_PACE_CHUNK bytes:
 *  - the first chunk of a burst at once: the FIFO is empty;
 *  - the next chunk not before pace_ms after it (one tick plus a margin: by then
 *    the console has polled, seen the input and polls every millisecond);
 *  - every further chunk VCTL_PACE_GAP_MS after the one before;
 *  - a burst ends after more than VCTL_PACE_IDLE_MS without a write (the console
 *    may be back to polling on the tick): the next write starts a new one.
 * Lines sent back to back are one burst (the second line's first chunk waits for
 * the first line's tick too). A 40-byte request costs about 62 ms; a console
 * without a FIFO to overrun (an emulator's socket) may turn pacing off
 * (pace_ms = VCTL_PACE_OFF), but the default is on everywhere.
 */
#ifndef VCTL_CLIENT_H
#define VCTL_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vctl_json.h"

enum vctl_error {
    VCTL_OK = 0,
    VCTL_E_USAGE,       /* a bad port spec or baud rate, a request too long for the console */
    VCTL_E_CONNECT,     /* the port cannot be opened or connected */
    VCTL_E_TIMEOUT,     /* no answer within the timeout */
    VCTL_E_CLOSED,      /* the console closed the connection (or the device hung up) */
    VCTL_E_IO,          /* a read or write error */
    VCTL_E_PROTOCOL,    /* the console answered with something that is not the protocol */
    VCTL_E_INTERRUPTED, /* config.interrupted was set (Ctrl-C) */
};

/* A short name for an error ("timeout", "protocol"...). */
const char *vctl_error_name(int error);

#define VCTL_LINE_MAX_DEFAULT (1u << 20) /* longer lines are discarded as garbage */
#define VCTL_REQUEST_LINE_MAX 1024u      /* the console's input line limit */
#define VCTL_ID_MAX 9007199254740991ull  /* 2^53 - 1 */

/* Input pacing (see above). */
#define VCTL_PACE_CHUNK 16u        /* bytes per write: a 16550's receive FIFO */
#define VCTL_TICK_MS_DEFAULT 50    /* vigil's default tick (its slow console poll) */
#define VCTL_PACE_MARGIN_MS 10     /* pace_ms default: tick_ms + this */
#define VCTL_PACE_MS_DEFAULT (VCTL_TICK_MS_DEFAULT + VCTL_PACE_MARGIN_MS) /* 60 */
#define VCTL_PACE_GAP_MS 2         /* between chunks while the console polls every 1 ms */
#define VCTL_PACE_IDLE_MS 400      /* < the console's 500 ms of fast polling after input */
#define VCTL_PACE_OFF (-1)         /* config.pace_ms: no pacing at all */

struct vctl_client_config {
    uint64_t first_id;                   /* first request id; 0 = random (stale lines of an earlier client never match) */
    volatile sig_atomic_t *interrupted;  /* waits return VCTL_E_INTERRUPTED once *interrupted != 0 */
    void (*on_log)(void *context, const char *line, size_t length); /* non-protocol lines */
    void (*on_event)(void *context, const json_t *event);      /* as events arrive */
    void *context;
    size_t line_max;                     /* 0 = VCTL_LINE_MAX_DEFAULT */
    int resend_ms;                       /* vctl_enter_json: resend period, 0 = 2000 */
    /* Input pacing: pace_ms is the wait after the first chunk of a burst
     * (0 = tick_ms + VCTL_PACE_MARGIN_MS; VCTL_PACE_OFF = write everything at once);
     * tick_ms the hypervisor's tick, a hint for that default (0 = VCTL_TICK_MS_DEFAULT). */
    int pace_ms;
    int tick_ms;
    /* For tests (NULL = the real ones): the pacing's clock (ms) and sleep. A fake
     * sleep is called once per wait with the whole wait (> 0), and should advance
     * the fake clock by it. */
    int64_t (*pace_now)(void *pace_context);
    void (*pace_sleep)(void *pace_context, int ms);
    void *pace_context;
};

struct vctl_client;

/* A streamed chunk: stream is "stdout", "stderr" or "name"; data[0..length) the
 * bytes (exec: decoded from "data_b64"; a name: the "data" text); line the whole
 * line as received (valid during the call). */
typedef void (*vctl_stream_fn)(void *context, const char *stream, const char *data, size_t length,
                               const json_t *line);

struct vctl_request {
    uint64_t id;                 /* set by vctl_send */
    char cmd[24];
    bool sent, done;
    json_t *response;            /* the response object once done (owned) */
    vctl_stream_fn on_stream;    /* streamed chunks as they arrive; NULL: kept in streamed[] */
    void *stream_context;
    json_t **streamed;           /* streamed lines in order (owned), without on_stream */
    size_t streamed_count;
    uint64_t streamed_bytes;     /* bytes of data streamed (exec: decoded) */
    struct vctl_request *next;   /* in-flight list (internal) */
};

/* Parses SPEC (DEV | tcp:HOST:PORT | tcp:PORT | unix:PATH) and opens it: a terminal
 * device is set raw, 8N1, no flow control, at BAUD (0 = leave as is). */
int vctl_open_port(const char *spec, unsigned baud, int timeout_ms, int *fd, char *error, size_t error_size);
/* vctl_open_port + vctl_client_new. */
int vctl_connect(const char *spec, unsigned baud, int timeout_ms, const struct vctl_client_config *config,
                 struct vctl_client **client, char *error, size_t error_size);
/* Wraps a connected descriptor (owned from here: closed by vctl_client_free). */
struct vctl_client *vctl_client_new(int fd, const struct vctl_client_config *config);
void vctl_client_free(struct vctl_client *client);
int vctl_client_fd(const struct vctl_client *client);
/* The message of the last error ("no response to 'status' (id 5) within 3 s ..."). */
const char *vctl_client_error(const struct vctl_client *client);
/* Sets the last error; returns error. */
int vctl_client_set_error(struct vctl_client *client, int error, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Switches the console to JSON mode, whatever mode it is in ("mode json" then a
 * request with a fresh id; resent every resend_ms while nothing answers, e.g. while
 * the machine boots). Lines that arrived before (a backlog) are not reported as
 * events. */
int vctl_enter_json(struct vctl_client *client, int timeout_ms);
/* True when the console answered 'mode json' from human mode (vctl_restore_mode
 * then switches it back). */
bool vctl_client_found_human(const struct vctl_client *client);
int vctl_restore_mode(struct vctl_client *client, int timeout_ms);

void vctl_request_init(struct vctl_request *request);
void vctl_request_release(struct vctl_request *request); /* frees what it holds; forgets it if in flight */
/* Sends {"id":N,"cmd":CMD<,MEMBERS...>} + CR. MEMBERS: an object whose members are
 * added (borrowed), or NULL. */
int vctl_send(struct vctl_client *client, struct vctl_request *request, const char *cmd, const json_t *members);
/* Waits for the response (timeout_ms < 0: no limit). Streamed chunks are delivered meanwhile. */
int vctl_wait(struct vctl_client *client, struct vctl_request *request, int timeout_ms);
int vctl_call(struct vctl_client *client, struct vctl_request *request, const char *cmd, const json_t *members,
              int timeout_ms);
/* The response's status (an HRESULT; VIGIL_E_PROTOCOL-like 0xFFFFFFFF if it has none). */
uint32_t vctl_response_status(const struct vctl_request *request);
const json_t *vctl_response_result(const struct vctl_request *request);
/* The response's "message", or the status' sentence. */
const char *vctl_response_message(const struct vctl_request *request);
const char *vctl_response_status_name(const struct vctl_request *request, char *buffer, size_t size);

/* The oldest queued event (caller releases it with json_decref), waiting up to timeout_ms
 * (0: only what is queued or readable now; < 0: no limit). */
int vctl_next_event(struct vctl_client *client, int timeout_ms, json_t **event);
/* Reads and dispatches what arrives within timeout_ms (returns VCTL_OK when nothing did). */
int vctl_pump(struct vctl_client *client, int timeout_ms);
/* Writes bytes as they are (paced like every write: see "Input pacing" above;
 * timeout_ms bounds the time the descriptor refuses input, not the pacing). */
int vctl_send_raw(struct vctl_client *client, const void *data, size_t length, int timeout_ms);
/* The effective wait after a burst's first chunk (ms; 0 = pacing is off). */
int vctl_client_pace_ms(const struct vctl_client *client);

struct vctl_client_counters {
    uint64_t lines, log_lines, malformed_lines, overlong_lines, stray_lines, rejected_lines;
    uint64_t events, events_dropped, backlog_lines;
};
void vctl_client_counters(const struct vctl_client *client, struct vctl_client_counters *counters);
/* Bytes received after the last complete line (e.g. a prompt); valid until the next read. */
size_t vctl_client_pending(const struct vctl_client *client, const char **data);
/* True once the console closed the connection. */
bool vctl_client_closed(const struct vctl_client *client);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t vctl_now_ms(void);

#endif
