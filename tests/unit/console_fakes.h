/*
 * Fakes for the console tests (tests/unit/test_console_*.c) and the console
 * fuzzer: a fake guest service (every guest_service_* function the console
 * calls, with controllable results and captured calls; accepted requests are
 * kept so a test can stream data and complete them later through the console's
 * callbacks) and a fake console_host capturing everything written to the UART.
 */
#ifndef VIGIL_TESTS_UNIT_CONSOLE_FAKES_H
#define VIGIL_TESTS_UNIT_CONSOLE_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"
#include "hv/console/console.h"

enum fake_request_kind {
    FAKE_EXECUTE = 1,
    FAKE_SET_PARAMETER,
    FAKE_GET_PARAMETER,
    FAKE_LIST_PARAMETERS,
    FAKE_SHUTDOWN,
    FAKE_INSTALL_ADDITIONS,
    FAKE_NOP,
};

#define FAKE_REQUESTS_MAX 64
#define FAKE_STRINGS_MAX 64

struct fake_request {
    bool open;
    uint32_t id;
    enum fake_request_kind kind;
    struct guest_service_callbacks callbacks; /* copied */
    /* EXECUTE: deep copies of what the console passed */
    unsigned argc, env_count;
    char argv[FAKE_STRINGS_MAX][128];
    char env[FAKE_STRINGS_MAX][128];
    bool has_cwd;
    char cwd[128];
    uint32_t timeout_ms;
    /* SHUTDOWN */
    bool force, reboot;
    bool has_reason;
    char reason[300];
    /* parameters */
    char name[300];
    char value[1100];
};

struct fake_service_state {
    bool running, registered;
    uint32_t property_status;       /* returned by the string/bool properties when not S_OK */
    char additions_version[64], os_name[128], computer_name[256];
    bool can_shutdown, heartbeating, time_sync;
    uint32_t percentage;
    uint32_t submit_status;         /* returned by the next asynchronous submission(s) */
    uint32_t kill_status, set_time_sync_status, interval_status;
    uint32_t last_interval_ms;
    uint32_t kill_calls, last_killed_id;
    struct heartbeat_report report;
    struct guest_service_statistics statistics;
    uint32_t next_id;
    unsigned request_count;
    struct fake_request requests[FAKE_REQUESTS_MAX];
};

extern struct fake_service_state fake_service;
extern struct guest_service *const fake_service_handle;

/* Resets the fake: guest running, Additions registered, everything S_OK. */
void fake_service_reset(void);
/* The index-th accepted request (0 = first since the reset), or NULL. */
struct fake_request *fake_request(unsigned index);
struct fake_request *fake_last_request(void);
/* Streams data / completes an accepted request through the console's callbacks. */
void fake_stream(struct fake_request *request, uint32_t stream, const void *data, size_t length);
void fake_stream_text(struct fake_request *request, uint32_t stream, const char *text);
void fake_complete(struct fake_request *request, uint32_t status, int32_t exit_code, uint32_t flags,
                   const char *value);

/* ---- the host: output capture */
void fake_host_reset(void);
void fake_host_init_console(enum console_mode mode); /* fake_host_reset + console_init */
const struct console_host *fake_host(void);
const char *fake_output(void);         /* everything written since the last clear, NUL-terminated */
size_t fake_output_length(void);
void fake_output_clear(void);
extern unsigned fake_log_level;
extern uint64_t fake_uptime_ms;
/* power_off calls (poweroff): how many, the last one's reboot flag, and the
 * output length when it came (what the console had written before). */
extern unsigned fake_power_off_calls;
extern bool fake_power_off_reboot;
extern size_t fake_power_off_output_length;

/* Types text into the console byte by byte. */
void type_text(const char *text);
void type_bytes(const void *data, size_t length);

/* JSON-mode checks: every line of text must be one valid JSON object by itself.
 * Returns the number of lines, or -1 (and reports the bad line on stderr). */
int json_lines_valid(const char *text, size_t length);

#endif
