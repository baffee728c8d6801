/* vctl_port: opening the console's port (vctl_open_port in vctl_client.h). */
#define _GNU_SOURCE
#include "vctl_client_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

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
