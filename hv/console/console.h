/*
 * The hypervisor's console on its UART (DESIGN.md §5; protocol in
 * docs/console-protocol.md): a line editor, a command table shared by the human
 * mode (`vigil> ` prompt) and the machine mode (`mode json`: one JSON object per
 * line), asynchronous requests to the guest service and its events.
 *
 * Threading: none. The hypervisor calls everything from one CPU: console_input_byte
 * for each byte its timer tick polls from the UART, console_tick once per tick
 * (after guest_service_tick), console_event from the guest service platform's
 * emit_event. Nothing here blocks, allocates or uses floating point.
 */
#ifndef VIGIL_HV_CONSOLE_CONSOLE_H
#define VIGIL_HV_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"
#include "hv/guest_life.h"

enum console_mode {
    CONSOLE_MODE_HUMAN = 0,
    CONSOLE_MODE_JSON,
};

/* What the console needs from the hypervisor. Optional members may be NULL. */
struct console_host {
    void *context;
    /* Required: send bytes to the console UART (lines end in "\n"; the UART
     * driver turns it into CRLF). Must not block for long; may drop. */
    void (*write)(void *context, const char *data, size_t length);
    /* Milliseconds since boot (status, events). NULL: 0. */
    uint64_t (*uptime_ms)(void *context);
    /* The hypervisor's version string. NULL: "unknown". */
    const char *(*version)(void *context);
    /* VM-exit statistics for `stats`: the index-th counter (0, 1, 2, ...) as a
     * name and a count; false past the last one. NULL: no exit statistics. */
    bool (*exit_counter)(void *context, unsigned index, const char **name, uint64_t *count);
    /* The hypervisor log level (0 error .. 4 trace). NULL: `log` is unsupported. */
    unsigned (*get_log_level)(void *context);
    bool (*set_log_level)(void *context, unsigned level); /* false: refused */
    /* `poweroff [--reboot]`: ends vigil — powers the machine off (or resets it),
     * cutting off a guest that still runs. Called after the answer was written;
     * the hypervisor's does not return. NULL: `poweroff` is unsupported (E_NOTIMPL). */
    void (*power_off)(void *context, bool reboot);
    /* The guest service the commands drive. NULL: no guest (VM_E_VM_NOT_RUNNING). */
    struct guest_service *service;
    /* Audit trail, exec allow-list, recovery policies, request limit, boot record
     * (docs/lifecycle.md). NULL: no audit, no limit, every program allowed, and
     * policy/audit/allowlist answer E_NOTIMPL. */
    struct guest_life *life;
};

/* Starts (or restarts: in-flight requests are forgotten) the console and prints
 * the banner and prompt (human) or a console-ready event line (JSON). host is copied. */
void console_init(const struct console_host *host, enum console_mode mode);
/* One byte received from the UART. */
void console_input_byte(uint8_t byte);
/* Once per hypervisor tick: redraws the prompt after asynchronous output. */
void console_tick(void);
/* A guest service event: printed as an event line. */
void console_event(const struct guest_service_event *event);
/* Adapter with the signature of guest_service_platform.emit_event. */
void console_emit_event(void *context, const struct guest_service_event *event);
enum console_mode console_mode(void);
/* Requests accepted by the guest service whose completion has not arrived yet. */
unsigned console_requests_in_flight(void);

#endif
