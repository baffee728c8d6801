/*
 * vigilctl's ports (tools/vigilctl/lib/vctl_port.c): bad specs, TCP and unix
 * sockets, and a pty with the fake console behind it.
 */
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

static void test_open_port_errors(void **state)
{
    (void)state;
    int fd;
    char error[256];
    assert_int_equal(vctl_open_port("", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("tcp:host:notaport", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("tcp:127.0.0.1:0", 0, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_int_equal(vctl_open_port("unix:/nonexistent/vigil.sock", 0, 100, &fd, error, sizeof error), VCTL_E_CONNECT);
    assert_non_null(strstr(error, "cannot connect to unix:/nonexistent/vigil.sock"));
    assert_int_equal(vctl_open_port("/dev/does-not-exist", 115200, 100, &fd, error, sizeof error), VCTL_E_CONNECT);
    assert_int_equal(vctl_open_port("/dev/null", 12345, 100, &fd, error, sizeof error), VCTL_E_USAGE);
    assert_non_null(strstr(error, "baud"));
}

static void test_open_tcp_and_unix(void **state)
{
    (void)state;
    char error[256];
    int fd;
    /* TCP on loopback */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7F000001);
    assert_int_equal(bind(listener, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(listener, 1), 0);
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    char spec[160];
    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", ntohs(a.sin_port));
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    snprintf(spec, sizeof spec, "tcp:%u", ntohs(a.sin_port)); /* tcp:PORT = loopback */
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    close(listener);
    /* unix socket */
    char path[] = "/tmp/vctl-test-XXXXXX";
    assert_non_null(mkdtemp(path));
    char sock[64];
    snprintf(sock, sizeof sock, "%s/c.sock", path);
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un u;
    memset(&u, 0, sizeof u);
    u.sun_family = AF_UNIX;
    snprintf(u.sun_path, sizeof u.sun_path, "%s", sock);
    assert_int_equal(bind(ul, (struct sockaddr *)&u, sizeof u), 0);
    assert_int_equal(listen(ul, 1), 0);
    snprintf(spec, sizeof spec, "unix:%s", sock);
    assert_int_equal(vctl_open_port(spec, 0, 1000, &fd, error, sizeof error), VCTL_OK);
    close(fd);
    close(ul);
    unlink(sock);
    rmdir(path);
}

static void *pty_console(void *arg)
{
    struct fake f = {.fd = *(int *)arg};
    fake_handshake(&f, true);
    return NULL;
}

static void test_pty_port(void **state)
{
    (void)state;
    int master, slave;
    char name[128];
    assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
    /* the console side reads bytes as they are: raw */
    struct termios tio;
    tcgetattr(master, &tio);
    cfmakeraw(&tio);
    tcsetattr(master, TCSANOW, &tio);
    struct vctl_client *c = NULL;
    char error[256];
    assert_int_equal(vctl_connect(name, 115200, 1000, NULL, &c, error, sizeof error), VCTL_OK);
    pthread_t t;
    pthread_create(&t, NULL, pty_console, &master);
    assert_int_equal(vctl_enter_json(c, 5000), VCTL_OK);
    pthread_join(t, NULL);
    vctl_client_free(c);
    close(slave);
    close(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_port_errors),
        cmocka_unit_test(test_open_tcp_and_unix),
        cmocka_unit_test(test_pty_port),
    };
    return cmocka_run_group_tests(tests, NULL, release_members);
}
