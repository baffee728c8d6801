/*
 * The inside of a vctl_client, shared by the library's files (not for callers):
 *   vctl_client.c   creating and freeing a client, errors, switching the console's mode
 *   vctl_port.c     opening a serial device, a TCP or a unix socket
 *   vctl_receive.c  reading, splitting lines, handing each to its request or the events
 *   vctl_pacing.c   writing, paced for the console's 16-byte FIFO
 *   vctl_request.c  requests: sending, waiting, reading the response
 */
#ifndef VCTL_CLIENT_INTERNAL_H
#define VCTL_CLIENT_INTERNAL_H

#include "vctl_client.h"

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
    json_t *events[EVENT_QUEUE_MAX];
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

/* CLOCK_MONOTONIC ms timeout_ms from now (INT64_MAX if timeout_ms < 0). */
int64_t vctl_deadline_after(int timeout_ms);
/* A printable copy of a line for messages (control bytes and non-ASCII as \xNN, cut). */
void vctl_note_copy(char *note, const char *line, size_t length);
/* Reads once if something is readable within timeout_ms, and dispatches the lines. */
int vctl_read_some(struct vctl_client *client, int timeout_ms);
/* VCTL_E_CLOSED with the last line seen; while_doing is appended to the message. */
int vctl_closed_error(struct vctl_client *client, const char *while_doing);
/* The in-flight list. */
void vctl_unlink_request(struct vctl_client *client, struct vctl_request *request);
struct vctl_request *vctl_find_request(struct vctl_client *client, uint64_t id);
/* "; 2 malformed line(s) received, the last: ..." for a message about a wait. */
void vctl_describe_wait(struct vctl_client *client, char *text, size_t size);

#endif
