/* vctl_receive: reading from the console, splitting lines, and handing each line
 * to its request, the event queue or the log (vctl_client.h). */
#define _GNU_SOURCE
#include "vctl_client_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vctl_base64.h"

void vctl_unlink_request(struct vctl_client *c, struct vctl_request *request)
{
    for (struct vctl_request **p = &c->inflight; *p != NULL; p = &(*p)->next)
        if (*p == request) {
            *p = request->next;
            request->next = NULL;
            return;
        }
}

struct vctl_request *vctl_find_request(struct vctl_client *c, uint64_t id)
{
    for (struct vctl_request *r = c->inflight; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static void log_line(struct vctl_client *c, const char *line, size_t length)
{
    c->counters.log_lines++;
    vctl_note_copy(c->last_line, line, length);
    if (c->config.on_log != NULL)
        c->config.on_log(c->config.context, line, length);
}

static void queue_event(struct vctl_client *c, json_t *event)
{
    c->counters.events++;
    if (c->config.on_event != NULL)
        c->config.on_event(c->config.context, event);
    if (c->event_count == EVENT_QUEUE_MAX) {
        json_decref(c->events[c->event_head]);
        c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
        c->event_count--;
        c->counters.events_dropped++;
    }
    c->events[(c->event_head + c->event_count) % EVENT_QUEUE_MAX] = event;
    c->event_count++;
}

/* A streamed line of a request: exec output carries the guest's bytes base64-encoded
 * ("data_b64"), a param list name is text ("data"). Takes object. */
static void take_chunk(struct vctl_client *c, struct vctl_request *request, json_t *object, const char *stream,
                       const char *line, size_t length)
{
    size_t encoded_length = 0, size = 0;
    const char *encoded = vj_get_string(object, "data_b64", &encoded_length);
    uint8_t *bytes = NULL;
    const char *data;
    if (encoded != NULL) {
        bytes = malloc(VCTL_BASE64_DECODED_MAX(encoded_length) + 1);
        if (bytes == NULL || !vctl_base64_decode(encoded, encoded_length, bytes, &size)) {
            free(bytes); /* not base64: as malformed as a broken JSON line */
            c->counters.malformed_lines++;
            vctl_note_copy(c->last_malformed, line, length);
            json_decref(object);
            return;
        }
        data = (const char *)bytes;
    } else {
        data = vj_get_string(object, "data", &size);
        if (data == NULL)
            data = "";
    }
    request->streamed_bytes += size;
    if (request->on_stream != NULL) {
        request->on_stream(request->stream_context, stream, data, size, object);
        json_decref(object);
    } else {
        json_t **grown = realloc(request->streamed, (request->streamed_count + 1) * sizeof *request->streamed);
        if (grown == NULL)
            json_decref(object);
        else {
            request->streamed = grown;
            request->streamed[request->streamed_count++] = object;
        }
    }
    free(bytes);
}

/* One complete line (without its LF; a trailing CR is removed here). */
static void dispatch(struct vctl_client *c, const char *line, size_t length)
{
    if (length > 0 && line[length - 1] == '\r')
        length--;
    c->counters.lines++;
    /* Skip leading whitespace and noise bytes (not printable ASCII): a JSON object
     * glued to binary noise on the same line still counts. */
    size_t start = 0;
    while (start < length && ((unsigned char)line[start] <= ' ' || (unsigned char)line[start] >= 0x7F))
        start++;
    if (start == length)
        return; /* blank */
    if (line[start] != '{') {
        if (!c->synced)
            c->counters.backlog_lines++;
        log_line(c, line, length);
        return;
    }
    char reason[96];
    json_t *object = vj_parse_object(line + start, length - start, reason, sizeof reason);
    if (object == NULL) {
        c->counters.malformed_lines++;
        vctl_note_copy(c->last_malformed, line, length);
        log_line(c, line, length);
        return;
    }
    const json_t *id = vj_get(object, "id");
    const json_t *event = vj_get(object, "event");
    if (id == NULL && json_is_string(event)) {
        if (c->synced)
            queue_event(c, object);
        else {
            c->counters.backlog_lines++;
            json_decref(object);
        }
        return;
    }
    uint64_t number;
    if (json_is_null(id)) {
        /* The console rejected a line (noise, a line too long), or answered "mode json". */
        const char *mode = vj_get_string(vj_get(object, "result"), "mode", NULL);
        if (mode != NULL && strcmp(mode, "json") == 0)
            c->found_human = true;
        else {
            size_t n = 0;
            const char *message = vj_get_string(object, "message", &n);
            if (message != NULL) {
                vctl_note_copy(c->last_rejection, message, n);
                if (c->synced)
                    c->counters.rejected_lines++;
            }
        }
        json_decref(object);
        return;
    }
    struct vctl_request *request = vj_as_u64(id, &number) ? vctl_find_request(c, number) : NULL;
    if (request == NULL) {
        c->counters.stray_lines++;
        json_decref(object);
        return;
    }
    const char *stream = vj_get_string(object, "stream", NULL);
    if (stream != NULL) {
        take_chunk(c, request, object, stream, line, length);
        return;
    }
    request->response = object;
    request->done = true;
    vctl_unlink_request(c, request);
}

static void take_lines(struct vctl_client *c, const char *data, size_t length)
{
    size_t i = 0;
    while (i < length) {
        const char *newline = memchr(data + i, '\n', length - i);
        size_t end = newline != NULL ? (size_t)(newline - data) : length;
        size_t piece = end - i;
        if (c->discarding) {
            if (newline != NULL)
                c->discarding = false;
        } else if (c->in_length + piece > c->config.line_max) {
            c->counters.overlong_lines++;
            c->counters.malformed_lines++;
            snprintf(c->last_malformed, sizeof c->last_malformed, "(a line longer than %zu bytes)",
                     c->config.line_max);
            c->in_length = 0;
            c->discarding = newline == NULL;
        } else {
            if (c->in_length + piece + 1 > c->in_capacity) {
                size_t capacity = c->in_capacity ? c->in_capacity : 4096;
                while (capacity < c->in_length + piece + 1)
                    capacity *= 2;
                char *grown = realloc(c->in, capacity);
                if (grown == NULL) {
                    c->in_length = 0;
                    c->discarding = newline == NULL;
                    i = end + (newline != NULL);
                    continue;
                }
                c->in = grown;
                c->in_capacity = capacity;
            }
            memcpy(c->in + c->in_length, data + i, piece);
            c->in_length += piece;
            if (newline != NULL) {
                size_t n = c->in_length;
                c->in_length = 0;
                dispatch(c, c->in, n);
            }
        }
        i = end + (newline != NULL);
    }
}

/* At EOF: an unterminated final line still counts if it is a whole JSON object. */
static void take_final_partial(struct vctl_client *c)
{
    if (c->in_length == 0 || c->discarding)
        return;
    size_t n = c->in_length;
    c->in_length = 0;
    size_t start = 0;
    while (start < n && ((unsigned char)c->in[start] <= ' ' || (unsigned char)c->in[start] >= 0x7F))
        start++;
    json_t *probe = start < n ? vj_parse_object(c->in + start, n - start, NULL, 0) : NULL;
    bool whole = probe != NULL;
    json_decref(probe);
    if (whole)
        dispatch(c, c->in, n);
    else if (n > 0)
        log_line(c, c->in, n);
}

int vctl_closed_error(struct vctl_client *c, const char *while_doing)
{
    if (c->last_line[0] != '\0')
        return vctl_client_set_error(c, VCTL_E_CLOSED, "the console closed the connection%s (last line: '%s')",
                                     while_doing, c->last_line);
    return vctl_client_set_error(c, VCTL_E_CLOSED, "the console closed the connection%s", while_doing);
}

/* Reads once if something is readable within timeout_ms. */
int vctl_read_some(struct vctl_client *c, int timeout_ms)
{
    if (c->closed)
        return vctl_closed_error(c, "");
    if (c->config.interrupted != NULL && *c->config.interrupted)
        return vctl_client_set_error(c, VCTL_E_INTERRUPTED, "interrupted");
    if (timeout_ms > POLL_SLICE_MS && c->config.interrupted != NULL)
        timeout_ms = POLL_SLICE_MS;
    struct pollfd p = {c->fd, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return VCTL_OK;
        return vctl_client_set_error(c, VCTL_E_IO, "poll: %s", strerror(errno));
    }
    if (n == 0)
        return VCTL_OK;
    char buffer[65536];
    ssize_t got = read(c->fd, buffer, sizeof buffer);
    if (got > 0) {
        take_lines(c, buffer, (size_t)got);
        return VCTL_OK;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return VCTL_OK;
    /* EOF, or EIO from a pty whose other side went away */
    c->closed = true;
    take_final_partial(c);
    if (got < 0 && errno != EIO && errno != ECONNRESET)
        return vctl_client_set_error(c, VCTL_E_IO, "read: %s", strerror(errno));
    return vctl_closed_error(c, "");
}

int vctl_pump(struct vctl_client *c, int timeout_ms)
{
    int64_t deadline = vctl_deadline_after(timeout_ms);
    for (;;) {
        int64_t left = deadline - vctl_now_ms();
        int rc = vctl_read_some(c, left < 0 ? 0 : (int)(left > 60000 ? 60000 : left));
        if (rc != VCTL_OK)
            return rc;
        if (vctl_now_ms() >= deadline)
            return VCTL_OK;
    }
}
