/* vigilctl console: the human console, raw bytes both ways (vigilctl.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vigilctl.h"

/* ---- console --------------------------------------------------------------------------- */

static struct termios saved_tty;
static bool tty_saved;

static void restore_tty(void)
{
    if (tty_saved) {
        tcsetattr(0, TCSAFLUSH, &saved_tty);
        tty_saved = false;
    }
}

int cmd_console(struct ctx *x)
{
    struct vctl_request r;
    vctl_request_init(&r);
    int code = VCTL_EXIT_OK;
    json_t *members = json_pack("{s:s}", "mode", "human");
    bool ok = call(x, &r, "mode", members, &code);
    json_decref(members);
    vctl_request_release(&r);
    if (!ok)
        return code;
    int fd = vctl_client_fd(x->client);
    bool terminal = isatty(0);
    fprintf(stderr, "vigilctl: connected to %s (human console)%s\r\n", x->cli->port,
            terminal ? "; Ctrl-] quits" : "");
    if (terminal && tcgetattr(0, &saved_tty) == 0) {
        struct termios raw = saved_tty;
        cfmakeraw(&raw);
        tty_saved = tcsetattr(0, TCSAFLUSH, &raw) == 0;
        atexit(restore_tty);
    }
    const char *pending;
    size_t n = vctl_client_pending(x->client, &pending);
    write_fd_all(1, pending, n);
    if (vctl_send_raw(x->client, "\r", 1, 2000) != VCTL_OK) /* a fresh prompt */
        code = VCTL_EXIT_CONNECTION;
    bool stdin_open = true;
    char buffer[4096];
    while (code == VCTL_EXIT_OK && !interrupted) {
        struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
        int k = poll(p, stdin_open ? 2 : 1, 200);
        if (k < 0 && errno != EINTR)
            break;
        if (k <= 0)
            continue;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(fd, buffer, sizeof buffer);
            if (got > 0)
                write_fd_all(1, buffer, (size_t)got);
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                restore_tty();
                fprintf(stderr, "\nvigilctl: console: the console closed the connection\n");
                code = VCTL_EXIT_CONNECTION;
                break;
            }
        }
        if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t got = read(0, buffer, sizeof buffer);
            if (got <= 0) {
                stdin_open = false; /* not a terminal: EOF ends the input; show output a moment longer */
                int64_t until = vctl_now_ms() + 1000;
                while (vctl_now_ms() < until) {
                    struct pollfd q = {fd, POLLIN, 0};
                    if (poll(&q, 1, 200) > 0) {
                        ssize_t m = read(fd, buffer, sizeof buffer);
                        if (m <= 0)
                            break;
                        write_fd_all(1, buffer, (size_t)m);
                    }
                }
                break;
            }
            char *quit = terminal ? memchr(buffer, 0x1d, (size_t)got) : NULL;
            size_t send = quit != NULL ? (size_t)(quit - buffer) : (size_t)got;
            if (send > 0 && vctl_send_raw(x->client, buffer, send, 5000) != VCTL_OK) {
                code = VCTL_EXIT_CONNECTION;
                break;
            }
            if (quit != NULL)
                break;
        }
    }
    restore_tty();
    if (terminal)
        fprintf(stderr, "\nvigilctl: console: disconnected (the console stays in human mode)\n");
    return code;
}

