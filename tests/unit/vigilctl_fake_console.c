/* The fake console for the vigilctl client tests (see vigilctl_fake_console.h). */
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

/* ---- The fake console ------------------------------------------------------------ */


void fake_write(struct fake *f, const char *text)
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

void fake_writef(struct fake *f, const char *format, ...)
{
    char text[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    fake_write(f, text);
}

bool fake_read_line(struct fake *f)
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

void fake_handshake(struct fake *f, bool human)
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

static json_t *kept_members[64];
static size_t kept_count;

json_t *members(const char *json_text)
{
    json_t *value = json_loads(json_text, 0, NULL);
    assert_non_null(value);
    assert_true(kept_count < sizeof kept_members / sizeof kept_members[0]);
    kept_members[kept_count++] = value;
    return value;
}

int release_members(void **state)
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

struct fixture *start(void (*script)(struct fake *))
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

void finish(struct fixture *fx)
{
    vctl_client_free(fx->client); /* closes our end: the fake's reads see EOF */
    pthread_join(fx->fake.thread, NULL);
    close(fx->fake.fd);
    free(fx);
}
