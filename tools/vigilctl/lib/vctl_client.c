/* vctl_client: creating and freeing a client, its errors, and switching the
 * console into and out of JSON mode (vctl_client.h). */
#define _GNU_SOURCE
#include "vctl_client_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *vctl_error_name(int error)
{
    switch (error) {
    case VCTL_OK: return "ok";
    case VCTL_E_USAGE: return "usage";
    case VCTL_E_CONNECT: return "connect";
    case VCTL_E_TIMEOUT: return "timeout";
    case VCTL_E_CLOSED: return "closed";
    case VCTL_E_IO: return "io";
    case VCTL_E_PROTOCOL: return "protocol";
    case VCTL_E_INTERRUPTED: return "interrupted";
    default: return "unknown";
    }
}

int64_t vctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vctl_deadline_after(int timeout_ms) { return timeout_ms < 0 ? INT64_MAX : vctl_now_ms() + timeout_ms; }

/* Printable copy of a line for messages: control bytes and non-ASCII as \xNN, cut. */
void vctl_note_copy(char *note, const char *line, size_t length)
{
    size_t o = 0;
    for (size_t i = 0; i < length && o + 5 < NOTE_MAX; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c >= 0x20 && c < 0x7F)
            note[o++] = (char)c;
        else
            o += (size_t)snprintf(note + o, NOTE_MAX - o, "\\x%02x", c);
    }
    if (o + 5 >= NOTE_MAX && o >= 3)
        memcpy(note + o - 3, "...", 3);
    note[o] = '\0';
}

int vctl_client_set_error(struct vctl_client *client, int error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(client->error, sizeof client->error, format, args);
    va_end(args);
    return error;
}

const char *vctl_client_error(const struct vctl_client *client) { return client->error; }
int vctl_client_fd(const struct vctl_client *client) { return client->fd; }
bool vctl_client_closed(const struct vctl_client *client) { return client->closed; }

size_t vctl_client_pending(const struct vctl_client *client, const char **data)
{
    *data = client->in;
    return client->discarding ? 0 : client->in_length;
}
bool vctl_client_found_human(const struct vctl_client *client) { return client->found_human; }

void vctl_client_counters(const struct vctl_client *client, struct vctl_client_counters *counters)
{
    *counters = client->counters;
}

/* ---- Opening a port ---------------------------------------------------------- */

/* ---- The client ---------------------------------------------------------------- */

struct vctl_client *vctl_client_new(int fd, const struct vctl_client_config *config)
{
    struct vctl_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->fd = fd;
    if (config != NULL)
        c->config = *config;
    if (c->config.line_max == 0)
        c->config.line_max = VCTL_LINE_MAX_DEFAULT;
    if (c->config.resend_ms <= 0)
        c->config.resend_ms = 2000;
    if (c->config.tick_ms <= 0)
        c->config.tick_ms = VCTL_TICK_MS_DEFAULT;
    if (c->config.pace_ms == 0)
        c->config.pace_ms = c->config.tick_ms + VCTL_PACE_MARGIN_MS;
    c->next_id = c->config.first_id;
    if (c->next_id == 0) {
        /* Random-ish, far from 0, so lines meant for an earlier client never match. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 8);
        seed ^= seed >> 33;
        seed *= 0xff51afd7ed558ccdull;
        seed ^= seed >> 33;
        c->next_id = 1000 + seed % (1ull << 40);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    return c;
}

int vctl_connect(const char *spec, unsigned baud, int timeout_ms, const struct vctl_client_config *config,
                 struct vctl_client **client, char *error, size_t error_size)
{
    int fd = -1;
    int rc = vctl_open_port(spec, baud, timeout_ms, &fd, error, error_size);
    if (rc != VCTL_OK)
        return rc;
    *client = vctl_client_new(fd, config);
    if (*client == NULL) {
        close(fd);
        snprintf(error, error_size, "out of memory");
        return VCTL_E_IO;
    }
    return VCTL_OK;
}

void vctl_client_free(struct vctl_client *c)
{
    if (c == NULL)
        return;
    for (struct vctl_request *r = c->inflight; r != NULL;) {
        struct vctl_request *next = r->next;
        r->next = NULL;
        r = next;
    }
    while (c->event_count > 0) {
        json_decref(c->events[c->event_head]);
        c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
        c->event_count--;
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    free(c);
}

int vctl_enter_json(struct vctl_client *c, int timeout_ms)
{
    static const char human_switch[] = "\x15mode json\r"; /* Ctrl-U: erase a half-typed human line */
    struct vctl_request attempts[SYNC_ATTEMPTS_MAX];
    int count = 0;
    int64_t start = vctl_now_ms();
    int64_t deadline = vctl_deadline_after(timeout_ms);
    int rc = VCTL_OK;
    c->synced = false;
    for (;;) {
        if (count < SYNC_ATTEMPTS_MAX) {
            rc = vctl_send_raw(c, human_switch, sizeof human_switch - 1, 5000);
            if (rc == VCTL_OK) {
                vctl_request_init(&attempts[count]);
                json_t *members = json_pack("{s:s}", "mode", "json");
                rc = vctl_send(c, &attempts[count], "mode", members);
                json_decref(members);
                count++;
            }
            if (rc != VCTL_OK)
                break;
        }
        int64_t resend = vctl_now_ms() + c->config.resend_ms;
        bool answered = false;
        while (!answered && vctl_now_ms() < resend && vctl_now_ms() < deadline) {
            int64_t left = (resend < deadline ? resend : deadline) - vctl_now_ms();
            rc = vctl_read_some(c, left <= 0 ? 0 : (int)left);
            for (int i = 0; i < count; i++)
                answered = answered || attempts[i].done;
            if (rc != VCTL_OK)
                break;
        }
        if (answered) {
            rc = VCTL_OK;
            for (int i = 0; i < count; i++)
                if (attempts[i].done && vctl_response_status(&attempts[i]) != 0) {
                    char name[16];
                    rc = vctl_client_set_error(c, VCTL_E_PROTOCOL, "the console refused JSON mode: %s: %s",
                                               vctl_response_status_name(&attempts[i], name, sizeof name),
                                               vctl_response_message(&attempts[i]));
                }
            break;
        }
        if (rc != VCTL_OK)
            break;
        if (vctl_now_ms() >= deadline) {
            char more[600];
            vctl_describe_wait(c, more, sizeof more);
            rc = vctl_client_set_error(c, VCTL_E_TIMEOUT,
                                       "the console did not answer 'mode json' within %.1f s (sent %d time(s))%s",
                                       (double)(vctl_now_ms() - start) / 1000.0, count, more);
            break;
        }
    }
    for (int i = 0; i < count; i++) {
        vctl_unlink_request(c, &attempts[i]);
        vctl_request_release(&attempts[i]);
    }
    if (rc == VCTL_E_CLOSED) {
        char more[600];
        vctl_describe_wait(c, more, sizeof more);
        vctl_client_set_error(c, rc, "the console closed the connection before answering 'mode json'%s", more);
    }
    if (rc == VCTL_OK) {
        c->synced = true;
        /* from here, malformed lines and rejections are about us */
        c->last_rejection[0] = '\0';
        c->last_malformed[0] = '\0';
    }
    return rc;
}

int vctl_restore_mode(struct vctl_client *c, int timeout_ms)
{
    if (!c->found_human || c->closed)
        return VCTL_OK;
    struct vctl_request r;
    vctl_request_init(&r);
    json_t *members = json_pack("{s:s}", "mode", "human");
    int rc = vctl_call(c, &r, "mode", members, timeout_ms);
    json_decref(members);
    vctl_request_release(&r);
    if (rc == VCTL_OK)
        c->found_human = false;
    return rc;
}
