/* vctl_request: sending a request, waiting for its response, and reading the
 * response (vctl_client.h). */
#define _GNU_SOURCE
#include "vctl_client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vctl_status.h"

void vctl_request_init(struct vctl_request *r) { memset(r, 0, sizeof *r); }

void vctl_request_release(struct vctl_request *r)
{
    /* The caller must not still have it in flight with a live client; vctl_wait
     * unlinks on every return path that leaves it pending (see forget()). */
    json_decref(r->response);
    for (size_t i = 0; i < r->streamed_count; i++)
        json_decref(r->streamed[i]);
    free(r->streamed);
    vctl_stream_fn fn = r->on_stream;
    void *ctx = r->stream_context;
    memset(r, 0, sizeof *r);
    r->on_stream = fn;
    r->stream_context = ctx;
}

int vctl_send(struct vctl_client *c, struct vctl_request *r, const char *cmd, const json_t *members)
{
    if (r->sent && !r->done)
        vctl_unlink_request(c, r);
    json_decref(r->response);
    r->response = NULL;
    r->done = false;
    r->id = c->next_id++;
    if (c->next_id > VCTL_ID_MAX)
        c->next_id = 1;
    snprintf(r->cmd, sizeof r->cmd, "%s", cmd);
    json_t *request = json_pack("{s:I,s:s}", "id", (json_int_t)r->id, "cmd", cmd);
    if (request != NULL && members != NULL && json_object_update(request, (json_t *)members) != 0) {
        json_decref(request);
        request = NULL;
    }
    char *line = request != NULL ? json_dumps(request, JSON_COMPACT) : NULL;
    json_decref(request);
    if (line == NULL)
        return vctl_client_set_error(c, VCTL_E_USAGE, "cannot write the request '%s' (a string that is not UTF-8?)", cmd);
    size_t length = strlen(line);
    if (length > VCTL_REQUEST_LINE_MAX) {
        free(line);
        return vctl_client_set_error(c, VCTL_E_USAGE,
                                     "the request is %zu bytes: the console takes lines of at most %u bytes", length,
                                     VCTL_REQUEST_LINE_MAX);
    }
    char *framed = realloc(line, length + 2);
    if (framed == NULL) {
        free(line);
        return vctl_client_set_error(c, VCTL_E_IO, "out of memory");
    }
    memcpy(framed + length, "\r", 2); /* the console ends a line at CR or LF */
    r->next = c->inflight;
    c->inflight = r;
    r->sent = true;
    int rc = vctl_send_raw(c, framed, length + 1, 5000); /* paced */
    free(framed);
    if (rc != VCTL_OK)
        vctl_unlink_request(c, r);
    return rc;
}

void vctl_describe_wait(struct vctl_client *c, char *text, size_t size)
{
    size_t o = 0;
    text[0] = '\0';
    if (c->counters.malformed_lines > c->malformed_mark && c->last_malformed[0] != '\0')
        o += (size_t)snprintf(text + o, size - o, "; %llu malformed line(s) received, the last: '%s'",
                              (unsigned long long)(c->counters.malformed_lines - c->malformed_mark),
                              c->last_malformed);
    if (o < size && c->last_rejection[0] != '\0')
        o += (size_t)snprintf(text + o, size - o, "; the console rejected a line: '%s'", c->last_rejection);
    if (o < size && c->last_line[0] != '\0' && strcmp(c->last_line, c->last_malformed) != 0)
        snprintf(text + o, size - o, "; last line from the console: '%s'", c->last_line);
}

int vctl_wait(struct vctl_client *c, struct vctl_request *r, int timeout_ms)
{
    int64_t start = vctl_now_ms();
    int64_t deadline = vctl_deadline_after(timeout_ms);
    c->malformed_mark = c->counters.malformed_lines;
    c->last_rejection[0] = '\0';
    if (!r->sent)
        return vctl_client_set_error(c, VCTL_E_USAGE, "vctl_wait: the request was not sent");
    if (!r->done && vctl_find_request(c, r->id) != r) { /* waiting again after a timeout or Ctrl-C */
        r->next = c->inflight;
        c->inflight = r;
    }
    while (!r->done) {
        int64_t left = deadline - vctl_now_ms();
        if (left <= 0) {
            char more[600];
            vctl_describe_wait(c, more, sizeof more);
            bool garbage = c->counters.malformed_lines > c->malformed_mark;
            vctl_unlink_request(c, r);
            return vctl_client_set_error(c, garbage ? VCTL_E_PROTOCOL : VCTL_E_TIMEOUT,
                                         "no %sresponse to '%s' (id %llu) within %.1f s%s", garbage ? "valid " : "",
                                         r->cmd, (unsigned long long)r->id, (double)(vctl_now_ms() - start) / 1000.0,
                                         more);
        }
        int rc = vctl_read_some(c, (int)(left > 60000 ? 60000 : left));
        if (r->done)
            break;
        if (rc != VCTL_OK) {
            vctl_unlink_request(c, r);
            if (rc == VCTL_E_CLOSED) {
                char more[600];
                vctl_describe_wait(c, more, sizeof more);
                return vctl_client_set_error(c, rc, "the console closed the connection before answering '%s' (id %llu)%s",
                                             r->cmd, (unsigned long long)r->id, more);
            }
            return rc;
        }
    }
    uint64_t status;
    if (!vj_get_u64(r->response, "status", &status) || status > 0xFFFFFFFFull)
        return vctl_client_set_error(c, VCTL_E_PROTOCOL, "the response to '%s' (id %llu) has no valid 'status'",
                                     r->cmd, (unsigned long long)r->id);
    return VCTL_OK;
}

int vctl_call(struct vctl_client *c, struct vctl_request *r, const char *cmd, const json_t *members, int timeout_ms)
{
    int rc = vctl_send(c, r, cmd, members);
    return rc != VCTL_OK ? rc : vctl_wait(c, r, timeout_ms);
}

uint32_t vctl_response_status(const struct vctl_request *r)
{
    uint64_t status;
    if (r->response == NULL || !vj_get_u64(r->response, "status", &status) || status > 0xFFFFFFFFull)
        return 0xFFFFFFFFu;
    return (uint32_t)status;
}

const json_t *vctl_response_result(const struct vctl_request *r) { return vj_get(r->response, "result"); }

const char *vctl_response_message(const struct vctl_request *r)
{
    const char *message = vj_get_string(r->response, "message", NULL);
    return message != NULL ? message : vctl_status_message(vctl_response_status(r));
}

const char *vctl_response_status_name(const struct vctl_request *r, char *buffer, size_t size)
{
    const char *name = vj_get_string(r->response, "status_name", NULL);
    if (name == NULL)
        name = vctl_status_name(vctl_response_status(r));
    if (name == NULL) {
        snprintf(buffer, size, "HRESULT");
        return buffer;
    }
    return name;
}

int vctl_next_event(struct vctl_client *c, int timeout_ms, json_t **event)
{
    int64_t deadline = vctl_deadline_after(timeout_ms);
    *event = NULL;
    for (;;) {
        if (c->event_count > 0) {
            *event = c->events[c->event_head];
            c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
            c->event_count--;
            return VCTL_OK;
        }
        int64_t left = deadline - vctl_now_ms();
        int rc = vctl_read_some(c, left <= 0 ? 0 : (int)(left > 60000 ? 60000 : left));
        if (rc != VCTL_OK && c->event_count == 0)
            return rc;
        if (c->event_count == 0 && vctl_now_ms() >= deadline)
            return vctl_client_set_error(c, VCTL_E_TIMEOUT, "no event within %d ms", timeout_ms);
    }
}
