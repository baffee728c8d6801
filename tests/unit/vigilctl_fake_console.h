/*
 * A fake vigil console for the vigilctl client tests: the other end of a
 * socketpair, played by a thread running a per-test script (test_vigilctl_client.c,
 * test_vigilctl_streams.c, test_vigilctl_port.c).
 */
#ifndef VIGILCTL_FAKE_CONSOLE_H
#define VIGILCTL_FAKE_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vctl_client.h"

/* Checks in the fake console's thread: cmocka's asserts belong to the main thread. */
#define FAKE_ASSERT(x)                                                                        \
    do {                                                                                      \
        if (!(x)) {                                                                           \
            fprintf(stderr, "fake console: check failed at line %d: %s\n", __LINE__, #x);    \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

struct fake {
    int fd;
    void (*script)(struct fake *);
    pthread_t thread;
    char last[2048]; /* the last request line read */
    uint64_t last_id;
};

struct fixture {
    struct fake fake;
    struct vctl_client *client;
    int events_seen;
    int logs_seen;
};

void fake_write(struct fake *f, const char *text);
void fake_writef(struct fake *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Reads one line ending in CR (what the client sends); false at EOF. Remembers
 * the id of a JSON request. */
bool fake_read_line(struct fake *f);
/* Plays JSON mode: reads "mode json" (human) and the client's sync request, acks both. */
void fake_handshake(struct fake *f, bool human);
/* Request members for vctl_send/vctl_call, parsed from JSON text; kept until
 * release_members (a cmocka group teardown). */
json_t *members(const char *json_text);
int release_members(void **state);
/* A client on one end of a socketpair, the script in a thread on the other
 * (first id 100, resend every 300 ms; counts events and log lines). */
struct fixture *start(void (*script)(struct fake *));
/* Frees the client (the fake's reads see EOF) and joins the thread. */
void finish(struct fixture *fx);

#endif
