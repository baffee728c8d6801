/* vctl_pacing: writing to the console, paced for its 16-byte receive FIFO
 * (vctl_client.h "Input pacing", docs/vigilctl.md). */
#define _GNU_SOURCE
#include "vctl_client_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Writes all of data (however the descriptor takes it), waiting up to timeout_ms
 * while it refuses input. */
static int write_all(struct vctl_client *c, const void *data, size_t length, int timeout_ms)
{
    const char *p = data;
    int64_t deadline = vctl_deadline_after(timeout_ms);
    while (length > 0) {
        ssize_t n = send(c->fd, p, length, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(c->fd, p, length);
        if (n > 0) {
            p += n;
            length -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int64_t left = deadline - vctl_now_ms();
            if (left <= 0)
                return vctl_client_set_error(c, VCTL_E_TIMEOUT, "the console does not take input (write timed out)");
            struct pollfd pf = {c->fd, POLLOUT, 0};
            poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
            if (c->config.interrupted != NULL && *c->config.interrupted)
                return vctl_client_set_error(c, VCTL_E_INTERRUPTED, "interrupted");
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == EIO)) {
            c->closed = true;
            return vctl_closed_error(c, " (write failed)");
        }
        return vctl_client_set_error(c, VCTL_E_IO, "write: %s", n < 0 ? strerror(errno) : "nothing written");
    }
    return VCTL_OK;
}

/* ---- Input pacing (vctl_client.h, docs/vigilctl.md) ---------------------------- */

int vctl_client_pace_ms(const struct vctl_client *c) { return c->config.pace_ms < 0 ? 0 : c->config.pace_ms; }

static int64_t pace_now(const struct vctl_client *c)
{
    return c->config.pace_now != NULL ? c->config.pace_now(c->config.pace_context) : vctl_now_ms();
}

/* Not cut short by Ctrl-C (config.interrupted): a line half sent would be glued
 * to the next one (vigilctl restores the console's mode after Ctrl-C). The longest
 * line, 1024 bytes, takes pace_ms + 63 * 2 ms. */
static void pace_sleep(struct vctl_client *c, int64_t ms)
{
    if (c->config.pace_sleep != NULL) {
        c->config.pace_sleep(c->config.pace_context, (int)ms);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int vctl_send_raw(struct vctl_client *c, const void *data, size_t length, int timeout_ms)
{
    if (c->config.pace_ms < 0)
        return write_all(c, data, length, timeout_ms);
    const char *p = data;
    while (length > 0) {
        size_t n = length < VCTL_PACE_CHUNK ? length : VCTL_PACE_CHUNK;
        int64_t now = pace_now(c);
        bool first = !c->pace_active || now - c->pace_last_ms > VCTL_PACE_IDLE_MS;
        if (!first) {
            /* Within a burst: the console may still be polling on the tick until
             * pace_ms after the burst's first chunk; every 1 ms after that. */
            int64_t ready = c->pace_burst_ms + c->config.pace_ms;
            if (ready < c->pace_last_ms + VCTL_PACE_GAP_MS)
                ready = c->pace_last_ms + VCTL_PACE_GAP_MS;
            if (ready > now)
                pace_sleep(c, ready - now);
        }
        int rc = write_all(c, p, n, timeout_ms);
        if (rc != VCTL_OK)
            return rc;
        c->pace_active = true;
        c->pace_last_ms = pace_now(c);
        if (first)
            c->pace_burst_ms = c->pace_last_ms; /* the FIFO was empty: this chunk wakes the console up */
        p += n;
        length -= n;
    }
    return VCTL_OK;
}
