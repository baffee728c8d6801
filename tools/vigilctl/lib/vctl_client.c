/* vctl_client: see vctl_client.h. */
#define _GNU_SOURCE
#include "vctl_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vctl_status.h"

#define EVENT_QUEUE_MAX 1024u
#define SYNC_ATTEMPTS_MAX 64
#define POLL_SLICE_MS 100
#define NOTE_MAX 160

struct vctl_client {
    int fd;
    struct vctl_client_config config;
    uint64_t next_id;
    char *in;          /* received bytes not yet a complete line */
    size_t in_length, in_capacity;
    bool discarding;   /* inside an overlong line */
    bool closed;
    bool synced;       /* vctl_enter_json succeeded: events count from here */
    bool found_human;
    struct vctl_request *inflight;
    struct vj_value *events[EVENT_QUEUE_MAX];
    size_t event_head, event_count;
    struct vctl_client_counters counters;
    uint64_t malformed_mark; /* counters.malformed_lines when the current wait started */
    char last_line[NOTE_MAX];      /* the last non-protocol line, for error messages */
    char last_malformed[NOTE_MAX]; /* the last malformed JSON line */
    char last_rejection[NOTE_MAX]; /* the last {"id":null} message */
    char error[1024];
    /* input pacing (vctl_send_raw) */
    bool pace_active;       /* a chunk was written (pace_last_ms is valid) */
    int64_t pace_burst_ms;  /* when the first chunk of the current burst was written */
    int64_t pace_last_ms;   /* when the last chunk was written */
};

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

static int64_t deadline_after(int timeout_ms) { return timeout_ms < 0 ? INT64_MAX : vctl_now_ms() + timeout_ms; }

/* Printable copy of a line for messages: control bytes and non-ASCII as \xNN, cut. */
static void note_copy(char *note, const char *line, size_t length)
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

static speed_t baud_constant(unsigned baud)
{
    switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return 0;
    }
}

static int wait_connected(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLOUT, 0};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return ETIMEDOUT;
    int error = 0;
    socklen_t len = sizeof error;
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        return errno;
    return error;
}

static int open_tcp(const char *spec, const char *rest, int timeout_ms, int *fd_out, char *error, size_t size)
{
    char host[256], port[16];
    const char *colon = strrchr(rest, ':');
    if (colon == NULL) { /* tcp:PORT */
        snprintf(host, sizeof host, "127.0.0.1");
        snprintf(port, sizeof port, "%s", rest);
    } else {
        size_t n = (size_t)(colon - rest);
        if (n >= sizeof host || strlen(colon + 1) >= sizeof port) {
            snprintf(error, size, "bad port '%s' (tcp:HOST:PORT)", spec);
            return VCTL_E_USAGE;
        }
        memcpy(host, rest, n);
        host[n] = '\0';
        snprintf(port, sizeof port, "%s", colon + 1);
        if (host[0] == '[' && n >= 2 && host[n - 1] == ']') { /* [::1] */
            memmove(host, host + 1, n - 2);
            host[n - 2] = '\0';
        }
        if (host[0] == '\0')
            snprintf(host, sizeof host, "127.0.0.1");
    }
    char *end;
    long number = strtol(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || number <= 0 || number > 65535) {
        snprintf(error, size, "bad port '%s' (tcp:HOST:PORT with PORT 1..65535)", spec);
        return VCTL_E_USAGE;
    }
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(error, size, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return VCTL_E_CONNECT;
    }
    int last = ECONNREFUSED;
    for (struct addrinfo *a = list; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int result = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
        if (result == EINPROGRESS)
            result = wait_connected(fd, timeout_ms < 0 ? -1 : timeout_ms);
        if (result == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            freeaddrinfo(list);
            *fd_out = fd;
            return VCTL_OK;
        }
        last = result;
        close(fd);
    }
    freeaddrinfo(list);
    snprintf(error, size, "cannot connect to %s: %s", spec, strerror(last));
    return last == ETIMEDOUT ? VCTL_E_TIMEOUT : VCTL_E_CONNECT;
}

static int open_unix(const char *spec, const char *path, int *fd_out, char *error, size_t size)
{
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof address.sun_path) {
        snprintf(error, size, "bad port '%s' (unix:PATH, PATH shorter than %zu bytes)", spec,
                 sizeof address.sun_path);
        return VCTL_E_USAGE;
    }
    memcpy(address.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        snprintf(error, size, "cannot connect to %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        return VCTL_E_CONNECT;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *fd_out = fd;
    return VCTL_OK;
}

static int open_device(const char *spec, const char *path, unsigned baud, int *fd_out, char *error, size_t size)
{
    speed_t speed = 0;
    if (baud != 0 && (speed = baud_constant(baud)) == 0) {
        snprintf(error, size, "unsupported baud rate %u (1200..921600, e.g. 115200)", baud);
        return VCTL_E_USAGE;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, size, "cannot open %s: %s", spec, strerror(errno));
        return VCTL_E_CONNECT;
    }
    if (isatty(fd)) {
        if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
            snprintf(error, size, "%s is in use by another program (locked)", spec);
            close(fd);
            return VCTL_E_CONNECT;
        }
        struct termios tio;
        if (tcgetattr(fd, &tio) == 0) {
            cfmakeraw(&tio);
            tio.c_cflag |= CLOCAL | CREAD;
            tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
            tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
            tio.c_cc[VMIN] = 0;
            tio.c_cc[VTIME] = 0;
            if (speed != 0) {
                cfsetispeed(&tio, speed);
                cfsetospeed(&tio, speed);
            }
            if (tcsetattr(fd, TCSANOW, &tio) < 0) {
                snprintf(error, size, "cannot configure %s: %s", spec, strerror(errno));
                close(fd);
                return VCTL_E_CONNECT;
            }
        }
    }
    *fd_out = fd;
    return VCTL_OK;
}

int vctl_open_port(const char *spec, unsigned baud, int timeout_ms, int *fd, char *error, size_t error_size)
{
    if (spec == NULL || spec[0] == '\0') {
        snprintf(error, error_size, "no port: give --port DEV|tcp:HOST:PORT|unix:PATH or set VIGILCTL_PORT");
        return VCTL_E_USAGE;
    }
    if (strncmp(spec, "tcp:", 4) == 0)
        return open_tcp(spec, spec + 4, timeout_ms, fd, error, error_size);
    if (strncmp(spec, "unix:", 5) == 0)
        return open_unix(spec, spec + 5, fd, error, error_size);
    if (strncmp(spec, "serial:", 7) == 0)
        return open_device(spec, spec + 7, baud, fd, error, error_size);
    return open_device(spec, spec, baud, fd, error, error_size);
}

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
        vj_free(c->events[c->event_head]);
        c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
        c->event_count--;
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    free(c);
}

static void unlink_request(struct vctl_client *c, struct vctl_request *request)
{
    for (struct vctl_request **p = &c->inflight; *p != NULL; p = &(*p)->next)
        if (*p == request) {
            *p = request->next;
            request->next = NULL;
            return;
        }
}

static struct vctl_request *find_request(struct vctl_client *c, uint64_t id)
{
    for (struct vctl_request *r = c->inflight; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static void log_line(struct vctl_client *c, const char *line, size_t length)
{
    c->counters.log_lines++;
    note_copy(c->last_line, line, length);
    if (c->config.on_log != NULL)
        c->config.on_log(c->config.context, line, length);
}

static void queue_event(struct vctl_client *c, struct vj_value *event)
{
    c->counters.events++;
    if (c->config.on_event != NULL)
        c->config.on_event(c->config.context, event);
    if (c->event_count == EVENT_QUEUE_MAX) {
        vj_free(c->events[c->event_head]);
        c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
        c->event_count--;
        c->counters.events_dropped++;
    }
    c->events[(c->event_head + c->event_count) % EVENT_QUEUE_MAX] = event;
    c->event_count++;
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
    struct vj_value *object = vj_parse(line + start, length - start, reason, sizeof reason);
    if (object == NULL || object->type != VJ_OBJECT) {
        c->counters.malformed_lines++;
        note_copy(c->last_malformed, line, length);
        vj_free(object);
        log_line(c, line, length);
        return;
    }
    const struct vj_value *id = vj_get(object, "id");
    const struct vj_value *event = vj_get(object, "event");
    if (id == NULL && event != NULL && event->type == VJ_STRING) {
        if (c->synced)
            queue_event(c, object);
        else {
            c->counters.backlog_lines++;
            vj_free(object);
        }
        return;
    }
    uint64_t number;
    if (id != NULL && id->type == VJ_NULL) {
        /* The console rejected a line (noise, a line too long), or answered "mode json". */
        const struct vj_value *mode = vj_get(vj_get(object, "result"), "mode");
        if (mode != NULL && mode->type == VJ_STRING && strcmp(mode->string, "json") == 0)
            c->found_human = true;
        else {
            size_t n = 0;
            const char *message = vj_get_string(object, "message", &n);
            if (message != NULL) {
                note_copy(c->last_rejection, message, n);
                if (c->synced)
                    c->counters.rejected_lines++;
            }
        }
        vj_free(object);
        return;
    }
    struct vctl_request *request = vj_as_u64(id, &number) ? find_request(c, number) : NULL;
    if (request == NULL) {
        c->counters.stray_lines++;
        vj_free(object);
        return;
    }
    const char *stream = vj_get_string(object, "stream", NULL);
    if (stream != NULL) {
        size_t n = 0;
        const char *data = vj_get_string(object, "data", &n);
        if (data == NULL)
            data = "";
        request->streamed_bytes += n;
        if (request->on_stream != NULL) {
            request->on_stream(request->stream_context, stream, data, n);
            vj_free(object);
        } else {
            struct vj_value **grown =
                realloc(request->streamed, (request->streamed_count + 1) * sizeof *request->streamed);
            if (grown == NULL) {
                vj_free(object);
                return;
            }
            request->streamed = grown;
            request->streamed[request->streamed_count++] = object;
        }
        return;
    }
    request->response = object;
    request->done = true;
    unlink_request(c, request);
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
    struct vj_value *probe = start < n ? vj_parse(c->in + start, n - start, NULL, 0) : NULL;
    bool whole = probe != NULL && probe->type == VJ_OBJECT;
    vj_free(probe);
    if (whole)
        dispatch(c, c->in, n);
    else if (n > 0)
        log_line(c, c->in, n);
}

static int closed_error(struct vctl_client *c, const char *while_doing)
{
    if (c->last_line[0] != '\0')
        return vctl_client_set_error(c, VCTL_E_CLOSED, "the console closed the connection%s (last line: '%s')",
                                     while_doing, c->last_line);
    return vctl_client_set_error(c, VCTL_E_CLOSED, "the console closed the connection%s", while_doing);
}

/* Reads once if something is readable within timeout_ms. */
static int read_some(struct vctl_client *c, int timeout_ms)
{
    if (c->closed)
        return closed_error(c, "");
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
    return closed_error(c, "");
}

int vctl_pump(struct vctl_client *c, int timeout_ms)
{
    int64_t deadline = deadline_after(timeout_ms);
    for (;;) {
        int64_t left = deadline - vctl_now_ms();
        int rc = read_some(c, left < 0 ? 0 : (int)(left > 60000 ? 60000 : left));
        if (rc != VCTL_OK)
            return rc;
        if (vctl_now_ms() >= deadline)
            return VCTL_OK;
    }
}

/* Writes all of data (however the descriptor takes it), waiting up to timeout_ms
 * while it refuses input. */
static int write_all(struct vctl_client *c, const void *data, size_t length, int timeout_ms)
{
    const char *p = data;
    int64_t deadline = deadline_after(timeout_ms);
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
            return closed_error(c, " (write failed)");
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

void vctl_request_init(struct vctl_request *r) { memset(r, 0, sizeof *r); }

void vctl_request_release(struct vctl_request *r)
{
    /* The caller must not still have it in flight with a live client; vctl_wait
     * unlinks on every return path that leaves it pending (see forget()). */
    vj_free(r->response);
    for (size_t i = 0; i < r->streamed_count; i++)
        vj_free(r->streamed[i]);
    free(r->streamed);
    vctl_stream_fn fn = r->on_stream;
    void *ctx = r->stream_context;
    memset(r, 0, sizeof *r);
    r->on_stream = fn;
    r->stream_context = ctx;
}

int vctl_send(struct vctl_client *c, struct vctl_request *r, const char *cmd, const char *members)
{
    if (r->sent && !r->done)
        unlink_request(c, r);
    vj_free(r->response);
    r->response = NULL;
    r->done = false;
    r->id = c->next_id++;
    if (c->next_id > VCTL_ID_MAX)
        c->next_id = 1;
    snprintf(r->cmd, sizeof r->cmd, "%s", cmd);
    struct vj_buf line;
    vj_buf_init(&line);
    vj_buf_printf(&line, "{\"id\":%llu,\"cmd\":", (unsigned long long)r->id);
    line.need_comma = false;
    vj_string(&line, cmd);
    if (members != NULL && members[0] != '\0') {
        vj_buf_raw(&line, ",", 1);
        vj_buf_raw(&line, members, strlen(members));
    }
    vj_buf_raw(&line, "}", 1);
    if (line.failed) {
        vj_buf_free(&line);
        return vctl_client_set_error(c, VCTL_E_IO, "out of memory");
    }
    if (line.length > VCTL_REQUEST_LINE_MAX) {
        size_t n = line.length;
        vj_buf_free(&line);
        return vctl_client_set_error(c, VCTL_E_USAGE,
                                     "the request is %zu bytes: the console takes lines of at most %u bytes", n,
                                     VCTL_REQUEST_LINE_MAX);
    }
    vj_buf_raw(&line, "\r", 1);
    r->next = c->inflight;
    c->inflight = r;
    r->sent = true;
    int rc = vctl_send_raw(c, line.data, line.length, 5000); /* paced */
    vj_buf_free(&line);
    if (rc != VCTL_OK)
        unlink_request(c, r);
    return rc;
}

static void describe_wait(struct vctl_client *c, char *text, size_t size)
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
    int64_t deadline = deadline_after(timeout_ms);
    c->malformed_mark = c->counters.malformed_lines;
    c->last_rejection[0] = '\0';
    if (!r->sent)
        return vctl_client_set_error(c, VCTL_E_USAGE, "vctl_wait: the request was not sent");
    if (!r->done && find_request(c, r->id) != r) { /* waiting again after a timeout or Ctrl-C */
        r->next = c->inflight;
        c->inflight = r;
    }
    while (!r->done) {
        int64_t left = deadline - vctl_now_ms();
        if (left <= 0) {
            char more[600];
            describe_wait(c, more, sizeof more);
            bool garbage = c->counters.malformed_lines > c->malformed_mark;
            unlink_request(c, r);
            return vctl_client_set_error(c, garbage ? VCTL_E_PROTOCOL : VCTL_E_TIMEOUT,
                                         "no %sresponse to '%s' (id %llu) within %.1f s%s", garbage ? "valid " : "",
                                         r->cmd, (unsigned long long)r->id, (double)(vctl_now_ms() - start) / 1000.0,
                                         more);
        }
        int rc = read_some(c, (int)(left > 60000 ? 60000 : left));
        if (r->done)
            break;
        if (rc != VCTL_OK) {
            unlink_request(c, r);
            if (rc == VCTL_E_CLOSED) {
                char more[600];
                describe_wait(c, more, sizeof more);
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

int vctl_call(struct vctl_client *c, struct vctl_request *r, const char *cmd, const char *members, int timeout_ms)
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

const struct vj_value *vctl_response_result(const struct vctl_request *r) { return vj_get(r->response, "result"); }

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

int vctl_next_event(struct vctl_client *c, int timeout_ms, struct vj_value **event)
{
    int64_t deadline = deadline_after(timeout_ms);
    *event = NULL;
    for (;;) {
        if (c->event_count > 0) {
            *event = c->events[c->event_head];
            c->event_head = (c->event_head + 1) % EVENT_QUEUE_MAX;
            c->event_count--;
            return VCTL_OK;
        }
        int64_t left = deadline - vctl_now_ms();
        int rc = read_some(c, left <= 0 ? 0 : (int)(left > 60000 ? 60000 : left));
        if (rc != VCTL_OK && c->event_count == 0)
            return rc;
        if (c->event_count == 0 && vctl_now_ms() >= deadline)
            return vctl_client_set_error(c, VCTL_E_TIMEOUT, "no event within %d ms", timeout_ms);
    }
}

int vctl_enter_json(struct vctl_client *c, int timeout_ms)
{
    static const char human_switch[] = "\x15mode json\r"; /* Ctrl-U: erase a half-typed human line */
    struct vctl_request attempts[SYNC_ATTEMPTS_MAX];
    int count = 0;
    int64_t start = vctl_now_ms();
    int64_t deadline = deadline_after(timeout_ms);
    int rc = VCTL_OK;
    c->synced = false;
    for (;;) {
        if (count < SYNC_ATTEMPTS_MAX) {
            rc = vctl_send_raw(c, human_switch, sizeof human_switch - 1, 5000);
            if (rc == VCTL_OK) {
                vctl_request_init(&attempts[count]);
                rc = vctl_send(c, &attempts[count], "mode", "\"mode\":\"json\"");
                count++;
            }
            if (rc != VCTL_OK)
                break;
        }
        int64_t resend = vctl_now_ms() + c->config.resend_ms;
        bool answered = false;
        while (!answered && vctl_now_ms() < resend && vctl_now_ms() < deadline) {
            int64_t left = (resend < deadline ? resend : deadline) - vctl_now_ms();
            rc = read_some(c, left <= 0 ? 0 : (int)left);
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
            describe_wait(c, more, sizeof more);
            rc = vctl_client_set_error(c, VCTL_E_TIMEOUT,
                                       "the console did not answer 'mode json' within %.1f s (sent %d time(s))%s",
                                       (double)(vctl_now_ms() - start) / 1000.0, count, more);
            break;
        }
    }
    for (int i = 0; i < count; i++) {
        unlink_request(c, &attempts[i]);
        vctl_request_release(&attempts[i]);
    }
    if (rc == VCTL_E_CLOSED) {
        char more[600];
        describe_wait(c, more, sizeof more);
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
    int rc = vctl_call(c, &r, "mode", "\"mode\":\"human\"", timeout_ms);
    vctl_request_release(&r);
    if (rc == VCTL_OK)
        c->found_human = false;
    return rc;
}
