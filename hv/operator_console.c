#include "hv/operator_console.h"

#include "hv/clock.h"
#include "hv/console/console.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "hv/version.h"
#include "hv/vmexit_statistics.h"

/* Bytes taken from the UART per poll: bounded so a UART that always reports
 * data (noise, a stuck line) cannot hold the hypervisor. hv/timer.c polls every
 * millisecond while input flows. */
#define POLL_BYTES_PER_CALL 256

static struct uart16550 *console_uart;
static bool started;

static void host_write(void *context, const char *data, size_t length)
{
    (void)context;
    (void)console_uart; /* the log's UART: one ring keeps log and console lines in order */
    log_write(data, length);
}

static uint64_t host_uptime_ms(void *context)
{
    (void)context;
    return clock_now_ms();
}

static const char *host_version(void *context)
{
    (void)context;
    return VIGIL_VERSION;
}

/* The index-th VM-exit counter that is non-zero, "total" first. */
static bool host_exit_counter(void *context, unsigned index, const char **name, uint64_t *count)
{
    (void)context;
    const struct vmexit_statistics *statistics = vmexit_get_statistics();
    if (index == 0) {
        *name = "total";
        *count = statistics->total;
        return true;
    }
    unsigned seen = 0;
    for (uint32_t reason = 0; reason <= VMX_EXIT_REASON_LIMIT; reason++) {
        if (!statistics->by_reason[reason])
            continue;
        if (++seen == index) {
            *name = vmx_exit_reason_slug(reason);
            *count = statistics->by_reason[reason];
            return true;
        }
    }
    return false;
}

static unsigned host_get_log_level(void *context)
{
    (void)context;
    return (unsigned)log_get_level();
}

static bool host_set_log_level(void *context, unsigned level)
{
    (void)context;
    if (level > LOG_TRACE)
        return false;
    log_set_level((enum log_level)level);
    return true;
}

/* `poweroff [--reboot]`: the end of the session (also while a guest runs: it is
 * simply cut off). A reset that does nothing falls back to powering off. */
static void host_power_off(void *context, bool reboot)
{
    (void)context;
    if (reboot) {
        log_set_buffered(false);
        log_raw_printf("vigil: rebooting: operator requested reset\n");
        hv_reset();
        log_raw_printf("vigil: reset failed\n");
    }
    hv_power_off("operator requested power off");
}

void operator_console_start(struct uart16550 *uart, struct guest_service *service)
{
    console_uart = uart;
    struct console_host host = {
        .write = host_write,
        .uptime_ms = host_uptime_ms,
        .version = host_version,
        .exit_counter = host_exit_counter,
        .get_log_level = host_get_log_level,
        .set_log_level = host_set_log_level,
        .power_off = host_power_off,
        .service = service,
    };
    console_init(&host, CONSOLE_MODE_HUMAN);
    started = true;
}

unsigned operator_console_receive(void)
{
    if (!started)
        return 0;
    unsigned received = 0;
    while (received < POLL_BYTES_PER_CALL) {
        int byte = uart16550_getc(console_uart);
        if (byte < 0)
            break;
        console_input_byte((uint8_t)byte);
        received++;
    }
    return received;
}

void operator_console_tick(void)
{
    if (started)
        console_tick();
}

void operator_console_event(const struct guest_service_event *event)
{
    if (started)
        console_event(event);
    else
        log_raw_printf("vigil: event: %s%s%s\n", guest_service_event_name(event->kind), event->detail[0] ? ": " : "",
                       event->detail);
}
