/*
 * vigil-additionsd: finds vigil by CPUID, maps the shared region through
 * /dev/mem, registers (OSName from /etc/os-release and the kernel release,
 * ComputerName from the host name), beats from a timer thread, and serves the
 * mailbox every 10 ms:
 *   ExecuteCommand  execute.c;  SetParameter/GetParameter  parameters.c
 *   Shutdown        through init (SIGUSR2 poweroff, SIGTERM reboot: busybox
 *                   init's signals), vetoed while /run/vigil/shutdown.lock exists
 *                   (CanShutdown follows the lock file every second)
 *   time sync       while the host enables it: clock_settime for steps above
 *                   one second, adjtimex slewing below
 *   InstallAdditions the offered package, if it is a static ELF, replaces
 *                   /sbin/vigil-additionsd and the daemon exits: init respawns it
 * Every request was validated by the library; what this file reads from the
 * guest's own files is bounded too.
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_MS 1000u
#define POLL_MS 10u
#define SHUTDOWN_LOCK "/run/vigil/shutdown.lock"
#define PARAMETERS_DIRECTORY "/var/lib/vigil/parameters"
#define INSTALL_PATH "/sbin/vigil-additionsd"
#define STEP_THRESHOLD_NS 1000000000ll

static struct vigil_additions additions;
static bool restart_requested;

void daemon_log(const char *format, ...)
{
    char line[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    fprintf(stderr, "%s: %s\n", DAEMON_NAME, line);
}

static void *beat_thread(void *unused)
{
    (void)unused;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        vigil_additions_beat(&additions); /* one store to the status page: no VM exit */
        next.tv_sec += PERIOD_MS / 1000;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

/* "PRETTY_NAME" of /etc/os-release (unquoted, at most 56 characters) +
 * " (Linux <release>)": fits VIGIL_OS_NAME_MAX whatever the files say. */
static void os_name(char out[VIGIL_OS_NAME_MAX], size_t size)
{
    char pretty[96] = "Linux", line[256];
    FILE *f = fopen("/etc/os-release", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *value = line + 12;
        value[strcspn(value, "\n")] = 0;
        size_t length = strlen(value);
        if (length >= 2 && value[0] == '"' && value[length - 1] == '"') {
            value[length - 1] = 0;
            value++;
        }
        snprintf(pretty, sizeof pretty, "%.*s", (int)sizeof pretty - 1, value);
    }
    if (f)
        fclose(f);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(out, size, "%.56s (%.16s %.48s)", pretty, u.sysname, u.release);
    else
        snprintf(out, size, "%s", pretty);
}

static void handle_execute(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                           const struct vigil_additions_command *command);
static const struct vigil_additions_handlers handlers;
static void service(void) { vigil_additions_poll(&additions, &handlers); }

static uint32_t handle_kill(void *context) { (void)context; return execute_kill(); }
static uint32_t handle_set(void *context, const char *name, const char *value)
{
    (void)context;
    return parameters_set(name, value);
}
static uint32_t handle_get(void *context, const char *name, char *value, size_t size)
{
    (void)context;
    return parameters_get(name, value, size);
}
static bool handle_list(void *context, uint32_t index, const char **name)
{
    (void)context;
    return parameters_list(index, name);
}

static bool shutdown_locked(void) { return access(SHUTDOWN_LOCK, F_OK) == 0; }

static void handle_shutdown(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                            const struct vigil_additions_shutdown *shutdown)
{
    (void)context;
    bool reboot = (shutdown->flags & VIGIL_SHUTDOWN_REBOOT) != 0;
    if (shutdown_locked() && !(shutdown->flags & VIGIL_SHUTDOWN_FORCE)) {
        daemon_log("shutdown vetoed: %s exists (reason '%s')", SHUTDOWN_LOCK, shutdown->reason);
        vigil_additions_reply(a, request, VIGIL_ERROR_MACHINE_LOCKED, NULL, 0);
        return;
    }
    daemon_log("%s (reason '%s')", reboot ? "rebooting" : "shutting down", shutdown->reason);
    vigil_additions_reply(a, request, VIGIL_S_OK, NULL, 0);
    vigil_additions_set_state(a, VIGIL_AGENT_STOPPING);
    vigil_additions_send_event(a, VIGIL_GUEST_EVENT_SHUTTING_DOWN);
    /* busybox init: SIGUSR2 = poweroff, SIGTERM = reboot (it runs the inittab's shutdown actions first). */
    if (kill(1, reboot ? SIGTERM : SIGUSR2) != 0)
        daemon_log("signalling init failed: %s", strerror(errno));
}

static uint32_t handle_install(void *context, const struct vigil_additions_package *package)
{
    (void)context;
    if (!package->offered || !package->data)
        return VIGIL_E_FAIL;
    static const uint8_t elf[4] = { 0x7F, 'E', 'L', 'F' };
    if (package->size < 64 || memcmp((const void *)package->data, elf, 4) != 0) {
        daemon_log("install additions: version '%s' is not an ELF program: refused", package->version);
        return VIGIL_E_INVALIDARG;
    }
    int fd = open(INSTALL_PATH ".new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    ssize_t written = fd >= 0 ? write(fd, (const void *)package->data, package->size) : -1;
    if (fd < 0 || written != (ssize_t)package->size || close(fd) != 0 || rename(INSTALL_PATH ".new", INSTALL_PATH) != 0) {
        daemon_log("install additions: writing %s: %s", INSTALL_PATH, strerror(errno));
        unlink(INSTALL_PATH ".new");
        return VIGIL_E_FAIL;
    }
    daemon_log("install additions: version '%s' (%u bytes) installed: restarting", package->version,
               (unsigned)package->size);
    restart_requested = true;
    return VIGIL_S_OK;
}

static const struct vigil_additions_handlers handlers = {
    .execute = handle_execute,
    .kill = handle_kill,
    .set_parameter = handle_set,
    .get_parameter = handle_get,
    .list_parameter = handle_list,
    .shutdown = handle_shutdown,
    .install_additions = handle_install,
};

static void handle_execute(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                           const struct vigil_additions_command *command)
{
    (void)context;
    execute_command(a, request, command, service);
}

/* Time sync while the host enables it: step when far off, slew when near. */
static void follow_host_time(void)
{
    uint64_t host_ns;
    if (!vigil_additions_host_time(&additions, &host_ns))
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t difference = (int64_t)host_ns - ((int64_t)now.tv_sec * 1000000000ll + now.tv_nsec);
    if (difference > STEP_THRESHOLD_NS || difference < -STEP_THRESHOLD_NS) {
        struct timespec set = { (time_t)(host_ns / 1000000000u), (long)(host_ns % 1000000000u) };
        if (clock_settime(CLOCK_REALTIME, &set) == 0)
            daemon_log("time sync: clock stepped by %lld ms", (long long)(difference / 1000000));
        else
            daemon_log("time sync: clock_settime: %s", strerror(errno));
    } else {
        struct timex slew = { .modes = ADJ_OFFSET_SINGLESHOT, .offset = (long)(difference / 1000) };
        adjtimex(&slew);
    }
}

int main(void)
{
    setvbuf(stderr, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    struct vigil_additions_platform platform;
    if (!linux_platform_init(&platform))
        return 1;
    enum vigil_additions_error error = vigil_additions_discover(&additions, &platform);
    if (error != VIGIL_ADDITIONS_OK) {
        daemon_log("no vigil: %s", vigil_additions_error_string(error));
        pause(); /* not under vigil: stay quiet instead of being respawned in a loop */
        return 1;
    }
    parameters_init(PARAMETERS_DIRECTORY);
    char name[VIGIL_OS_NAME_MAX], host[VIGIL_COMPUTER_NAME_MAX] = "";
    os_name(name, sizeof name);
    gethostname(host, sizeof host - 1);
    uint32_t capabilities = VIGIL_CAPABILITY_EXECUTE | VIGIL_CAPABILITY_SHUTDOWN | VIGIL_CAPABILITY_PARAMETERS |
                            VIGIL_CAPABILITY_TIME_SYNC | VIGIL_CAPABILITY_INSTALL_ADDITIONS;
    bool locked = shutdown_locked();
    error = vigil_additions_register(&additions, DAEMON_VERSION, name, host, capabilities, PERIOD_MS,
                                     locked ? VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED : 0);
    if (error != VIGIL_ADDITIONS_OK) {
        daemon_log("registration failed: %s", vigil_additions_error_string(error));
        return 1;
    }
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    daemon_log("registered: '%s', OS '%s', computer '%s' (TSC %llu)", DAEMON_VERSION, name, host,
               (unsigned long long)high << 32 | low);
    int marker = open("/run/vigil/registered", O_WRONLY | O_CREAT | O_CLOEXEC, 0644); /* "the Additions are up" */
    if (marker >= 0)
        close(marker);
    pthread_t beater;
    if (pthread_create(&beater, NULL, beat_thread, NULL) != 0) {
        daemon_log("cannot start the heartbeat thread");
        return 1;
    }
    struct timespec tick = { 0, POLL_MS * 1000000l };
    unsigned ticks = 0;
    while (!restart_requested) {
        vigil_additions_poll(&additions, &handlers);
        if (++ticks % (1000 / POLL_MS) == 0) { /* once a second */
            bool now_locked = shutdown_locked();
            if (now_locked != locked) {
                locked = now_locked;
                vigil_additions_set_shutdown_locked(&additions, locked);
            }
            follow_host_time();
        }
        nanosleep(&tick, NULL);
    }
    vigil_additions_set_state(&additions, VIGIL_AGENT_STOPPING);
    return 0;
}
