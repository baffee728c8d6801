/*
 * ExecuteCommand on Linux: the command runs in its own process group (so a
 * timeout or a KILL ends everything it started), with the request's argv,
 * environment (a minimal PATH if none) and working directory; its stdout and
 * stderr are streamed as they come, each read one chunk; the final message
 * carries the exit code (128 + signal for a signal, as shells report it) and
 * the KILLED / TIMED_OUT flags. A command that cannot start answers 127 with the
 * reason on stderr, as a shell does.
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_CANNOT_RUN 127
#define POLL_MS 10

static volatile bool kill_requested;
static bool running;

uint32_t execute_kill(void)
{
    daemon_log("kill (%s)", running ? "stopping the running command" : "nothing running");
    if (running)
        kill_requested = true;
    return VIGIL_S_OK;
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static __attribute__((noreturn)) void child(const struct vigil_additions_command *command, int out, int err)
{
    setpgid(0, 0);
    iopl(0); /* the daemon's port access for the doorbell is not the command's to inherit */
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, STDIN_FILENO);
    signal(SIGPIPE, SIG_DFL);
    char *argv[VIGIL_EXECUTE_ARGUMENTS_MAX + 1];
    char *envp[VIGIL_EXECUTE_ARGUMENTS_MAX + 2];
    for (uint32_t i = 0; i < command->argc; i++)
        argv[i] = (char *)command->argv[i];
    argv[command->argc] = NULL;
    uint32_t n = 0;
    for (; n < command->env_count; n++)
        envp[n] = (char *)command->env[n];
    if (n == 0)
        envp[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    envp[n] = NULL;
    if (command->cwd && chdir(command->cwd) != 0) {
        dprintf(err, "%s: cannot change to '%s': %s\n", DAEMON_NAME, command->cwd, strerror(errno));
    } else {
        execvpe(argv[0], argv, envp);
        dprintf(err, "%s: cannot run '%s': %s\n", DAEMON_NAME, argv[0], strerror(errno));
    }
    _exit(EXIT_CANNOT_RUN);
}

/* Streams what one pipe has; false once it is at its end (or failed). */
static bool drain(struct vigil_additions *additions, struct vigil_additions_request *request, int fd,
                  uint32_t stream, bool *answer_lost)
{
    static uint8_t buffer[VIGIL_MESSAGE_PAYLOAD_MAX];
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (got <= 0)
        return false;
    if (!*answer_lost && vigil_additions_stream(additions, request, stream, buffer, (size_t)got) != VIGIL_ADDITIONS_OK)
        *answer_lost = true; /* keep draining so the command never blocks on a full pipe */
    return true;
}

void execute_command(struct vigil_additions *additions, struct vigil_additions_request *request,
                     const struct vigil_additions_command *command, void (*service)(void))
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        daemon_log("exec %s: pipe: %s", command->argv[0], strerror(errno));
        vigil_additions_reply(additions, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        daemon_log("exec %s: fork: %s", command->argv[0], strerror(errno));
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        vigil_additions_reply(additions, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    if (pid == 0)
        child(command, out[1], err[1]);
    setpgid(pid, pid); /* also in the parent: no window where a kill misses the group */
    close(out[1]);
    close(err[1]);
    daemon_log("exec %s (pid %d%s%s)", command->argv[0], (int)pid, command->timeout_ms ? ", timeout" : "",
               command->cwd ? ", cwd" : "");

    running = true;
    kill_requested = false;
    uint64_t deadline = command->timeout_ms ? now_ms() + command->timeout_ms : 0;
    uint32_t flags = 0;
    bool out_open = true, err_open = true, answer_lost = false, exited = false;
    int status = 0;
    while (out_open || err_open || !exited) {
        struct pollfd fds[2] = { { out_open ? out[0] : -1, POLLIN, 0 }, { err_open ? err[0] : -1, POLLIN, 0 } };
        poll(fds, 2, POLL_MS);
        if (out_open && fds[0].revents)
            out_open = drain(additions, request, out[0], VIGIL_MESSAGE_STDOUT, &answer_lost);
        if (err_open && fds[1].revents)
            err_open = drain(additions, request, err[0], VIGIL_MESSAGE_STDERR, &answer_lost);
        if (!exited && waitpid(pid, &status, WNOHANG) == pid)
            exited = true;
        service(); /* a KILL arrives as a nested request */
        uint32_t why = kill_requested ? VIGIL_EXECUTE_KILLED
                       : deadline && now_ms() >= deadline ? VIGIL_EXECUTE_TIMED_OUT : 0;
        if (why && !(flags & (VIGIL_EXECUTE_KILLED | VIGIL_EXECUTE_TIMED_OUT))) {
            flags |= why;
            kill(-pid, SIGKILL); /* the whole group: what the command started dies with it */
            if (!exited)
                kill(pid, SIGKILL);
        }
        /* A child that left background processes holding the pipes: stop waiting
         * for their end once the command itself is gone and we were told to stop. */
        if (exited && (flags & (VIGIL_EXECUTE_KILLED | VIGIL_EXECUTE_TIMED_OUT)))
            break;
    }
    close(out[0]);
    close(err[0]);
    running = false;
    int32_t exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    daemon_log("exec %s: exit %d%s%s", command->argv[0], (int)exit_code,
               flags & VIGIL_EXECUTE_KILLED ? ", killed" : "", flags & VIGIL_EXECUTE_TIMED_OUT ? ", timed out" : "");
    if (!answer_lost)
        vigil_additions_execute_finish(additions, request, exit_code, flags);
}
