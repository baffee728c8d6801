/* Fakes for the console tests and fuzzer: see console_fakes.h. */
#include "tests/unit/console_fakes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/console/json_reader.h"

struct fake_service_state fake_service;
struct guest_service {
    int unused;
};
static struct guest_service fake_service_object;
struct guest_service *const fake_service_handle = &fake_service_object;

void fake_service_reset(void)
{
    memset(&fake_service, 0, sizeof fake_service);
    fake_service.running = true;
    fake_service.registered = true;
    strcpy(fake_service.additions_version, "1.2.3");
    strcpy(fake_service.os_name, "Linux 6.1");
    strcpy(fake_service.computer_name, "guest-1");
    fake_service.can_shutdown = true;
    fake_service.heartbeating = true;
    fake_service.percentage = 98;
    fake_service.property_status = VIGIL_VM_E_ADDITIONS_NOT_AVAIL;
    fake_service.next_id = 100;
    fake_service.report.period_ms = 1000;
    fake_service.report.failure_interval_ms = 10000;
    fake_service.report.started = true;
    fake_service.report.heartbeating = true;
    fake_service.report.percentage = 98;
    fake_service.report.percentage_1_minute = 98;
    fake_service.report.percentage_5_minutes = 99;
    fake_service.report.percentage_15_minutes = 97;
    fake_service.report.last_beat_age_ms = 250;
    fake_service.report.longest_gap_ms = 3000;
    fake_service.report.beats_total = 1234;
    fake_service.report.anomalies_jumps = 1;
    fake_service.statistics.doorbells = 42;
    fake_service.statistics.requests_sent = 7;
}

struct fake_request *fake_request(unsigned index)
{
    return index < fake_service.request_count ? &fake_service.requests[index] : NULL;
}

struct fake_request *fake_last_request(void)
{
    return fake_service.request_count > 0 ? &fake_service.requests[fake_service.request_count - 1] : NULL;
}

static void copy(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text);
}

/* A new request, or NULL with *status set when the fake refuses it. */
static struct fake_request *accept(enum fake_request_kind kind, const struct guest_service_callbacks *callbacks,
                                   uint32_t *request_id, uint32_t *status)
{
    *status = fake_service.submit_status;
    if (*status != VIGIL_S_OK)
        return NULL;
    if (!fake_service.registered) {
        *status = VIGIL_VM_E_ADDITIONS_NOT_AVAIL;
        return NULL;
    }
    if (fake_service.request_count >= FAKE_REQUESTS_MAX) {
        *status = VIGIL_E_BUSY;
        return NULL;
    }
    struct fake_request *request = &fake_service.requests[fake_service.request_count++];
    memset(request, 0, sizeof *request);
    request->open = true;
    request->id = fake_service.next_id++;
    request->kind = kind;
    request->callbacks = *callbacks;
    *request_id = request->id;
    return request;
}

void fake_stream(struct fake_request *request, uint32_t stream, const void *data, size_t length)
{
    request->callbacks.on_data(request->callbacks.context, request->id, stream, data, length);
}

void fake_stream_text(struct fake_request *request, uint32_t stream, const char *text)
{
    fake_stream(request, stream, text, strlen(text));
}

void fake_complete(struct fake_request *request, uint32_t status, int32_t exit_code, uint32_t flags,
                   const char *value)
{
    struct guest_service_result result;
    memset(&result, 0, sizeof result);
    result.status = status;
    result.request_id = request->id;
    result.exit_code = exit_code;
    result.execute_flags = flags;
    if (value != NULL)
        copy(result.value, sizeof result.value, value);
    request->open = false;
    request->callbacks.on_complete(request->callbacks.context, &result);
}

/* ---- the guest_service_* functions the console calls */
static uint32_t string_property(const char *value, char *out, size_t size)
{
    if (!fake_service.registered)
        return fake_service.property_status;
    copy(out, size, value);
    return VIGIL_S_OK;
}

uint32_t guest_service_additions_version(const struct guest_service *service, char *out, size_t size)
{
    (void)service;
    return string_property(fake_service.additions_version, out, size);
}
uint32_t guest_service_os_name(const struct guest_service *service, char *out, size_t size)
{
    (void)service;
    return string_property(fake_service.os_name, out, size);
}
uint32_t guest_service_computer_name(const struct guest_service *service, char *out, size_t size)
{
    (void)service;
    return string_property(fake_service.computer_name, out, size);
}

static uint32_t bool_property(bool value, bool *out)
{
    if (!fake_service.registered)
        return fake_service.property_status;
    *out = value;
    return VIGIL_S_OK;
}

uint32_t guest_service_can_shutdown(const struct guest_service *service, bool *out)
{
    (void)service;
    return bool_property(fake_service.can_shutdown, out);
}
uint32_t guest_service_is_heartbeating(const struct guest_service *service, bool *out)
{
    (void)service;
    return bool_property(fake_service.heartbeating, out);
}
uint32_t guest_service_is_time_sync_enabled(const struct guest_service *service, bool *out)
{
    (void)service;
    *out = fake_service.time_sync; /* readable without the Additions */
    return VIGIL_S_OK;
}
uint32_t guest_service_heartbeat_percentage(const struct guest_service *service, uint32_t *out)
{
    (void)service;
    if (!fake_service.registered)
        return fake_service.property_status;
    *out = fake_service.percentage;
    return VIGIL_S_OK;
}
uint32_t guest_service_set_time_sync(struct guest_service *service, bool enabled)
{
    (void)service;
    if (fake_service.set_time_sync_status == VIGIL_S_OK)
        fake_service.time_sync = enabled;
    return fake_service.set_time_sync_status;
}
void guest_service_heartbeat_report(const struct guest_service *service, struct heartbeat_report *out)
{
    (void)service;
    *out = fake_service.report;
}
uint32_t guest_service_set_heartbeat_failure_interval(struct guest_service *service, uint32_t milliseconds)
{
    (void)service;
    fake_service.last_interval_ms = milliseconds;
    if (milliseconds < HEARTBEAT_FAILURE_INTERVAL_MIN_MS || milliseconds > HEARTBEAT_FAILURE_INTERVAL_MAX_MS)
        return VIGIL_E_INVALIDARG;
    return fake_service.interval_status;
}
bool guest_service_guest_running(const struct guest_service *service)
{
    (void)service;
    return fake_service.running;
}
bool guest_service_additions_registered(const struct guest_service *service)
{
    (void)service;
    return fake_service.registered;
}

uint32_t guest_service_execute(struct guest_service *service, const struct guest_execute_command *command,
                               const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    struct fake_request *request = accept(FAKE_EXECUTE, callbacks, request_id, &status);
    if (request == NULL)
        return status;
    request->argc = command->argc;
    for (unsigned i = 0; i < command->argc && i < FAKE_STRINGS_MAX; i++)
        copy(request->argv[i], sizeof request->argv[i], command->argv[i]);
    request->env_count = command->env_count;
    for (unsigned i = 0; i < command->env_count && i < FAKE_STRINGS_MAX; i++)
        copy(request->env[i], sizeof request->env[i], command->env[i]);
    request->has_cwd = command->cwd != NULL;
    if (command->cwd != NULL)
        copy(request->cwd, sizeof request->cwd, command->cwd);
    request->timeout_ms = command->timeout_ms;
    return VIGIL_S_OK;
}

uint32_t guest_service_kill(struct guest_service *service, uint32_t request_id)
{
    (void)service;
    fake_service.kill_calls++;
    fake_service.last_killed_id = request_id;
    return fake_service.kill_status;
}

uint32_t guest_service_set_parameter(struct guest_service *service, const char *name, const char *value,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    struct fake_request *request = accept(FAKE_SET_PARAMETER, callbacks, request_id, &status);
    if (request == NULL)
        return status;
    copy(request->name, sizeof request->name, name);
    copy(request->value, sizeof request->value, value);
    return VIGIL_S_OK;
}

uint32_t guest_service_get_parameter(struct guest_service *service, const char *name,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    struct fake_request *request = accept(FAKE_GET_PARAMETER, callbacks, request_id, &status);
    if (request == NULL)
        return status;
    copy(request->name, sizeof request->name, name);
    return VIGIL_S_OK;
}

uint32_t guest_service_list_parameters(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                                       uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    return accept(FAKE_LIST_PARAMETERS, callbacks, request_id, &status) != NULL ? VIGIL_S_OK : status;
}

uint32_t guest_service_shutdown(struct guest_service *service, const struct guest_shutdown_command *command,
                                const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    struct fake_request *request = accept(FAKE_SHUTDOWN, callbacks, request_id, &status);
    if (request == NULL)
        return status;
    request->force = command->force;
    request->reboot = command->reboot;
    request->timeout_ms = command->timeout_ms;
    request->has_reason = command->reason != NULL;
    if (command->reason != NULL)
        copy(request->reason, sizeof request->reason, command->reason);
    return VIGIL_S_OK;
}

uint32_t guest_service_install_additions(struct guest_service *service,
                                         const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    return accept(FAKE_INSTALL_ADDITIONS, callbacks, request_id, &status) != NULL ? VIGIL_S_OK : status;
}

uint32_t guest_service_nop(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                           uint32_t *request_id)
{
    (void)service;
    uint32_t status;
    return accept(FAKE_NOP, callbacks, request_id, &status) != NULL ? VIGIL_S_OK : status;
}

bool guest_service_parameter_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length < 1 || length > VIGIL_PARAMETER_NAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++)
        if (name[i] == '\\' || (unsigned char)name[i] < 0x20 || name[i] == 0x7F)
            return false;
    return true;
}

const struct guest_service_statistics *guest_service_get_statistics(const struct guest_service *service)
{
    (void)service;
    return &fake_service.statistics;
}


const char *guest_service_event_name(enum guest_service_event_kind kind)
{
    switch (kind) {
    case GUEST_EVENT_ADDITIONS_REGISTERED: return "additions-registered";
    case GUEST_EVENT_HEARTBEAT_STOPPED: return "heartbeat-stopped";
    case GUEST_EVENT_HEARTBEAT_RESUMED: return "heartbeat-resumed";
    case GUEST_EVENT_GUEST_SHUTDOWN: return "guest-shutdown";
    case GUEST_EVENT_TRIPLE_FAULT: return "triple-fault";
    case GUEST_EVENT_HEARTBEAT_ANOMALY: return "heartbeat-anomaly";
    case GUEST_EVENT_POLICY_ACTION: return "policy-action";
    case GUEST_EVENT_KIND_COUNT: break;
    }
    return NULL;
}

/* ---- the host */
static char *output;
static size_t output_length, output_capacity;
unsigned fake_log_level = 2;
uint64_t fake_uptime_ms = 12345;
unsigned fake_power_off_calls;
bool fake_power_off_reboot;
size_t fake_power_off_output_length;

static void host_write(void *context, const char *data, size_t length)
{
    (void)context;
    if (output_length + length + 1 > output_capacity) {
        size_t capacity = output_capacity == 0 ? 4096 : output_capacity;
        while (output_length + length + 1 > capacity)
            capacity *= 2;
        char *grown = realloc(output, capacity);
        if (grown == NULL)
            abort();
        output = grown;
        output_capacity = capacity;
    }
    memcpy(output + output_length, data, length);
    output_length += length;
    output[output_length] = '\0';
}

static uint64_t host_uptime(void *context)
{
    (void)context;
    return fake_uptime_ms;
}

static const char *host_version(void *context)
{
    (void)context;
    return "0.1.0-test";
}

static bool host_exit_counter(void *context, unsigned index, const char **name, uint64_t *count)
{
    static const char *const names[] = {"CPUID", "IO_INSTRUCTION", "PREEMPTION_TIMER"};
    static const uint64_t counts[] = {12, 345, 6789};
    (void)context;
    if (index >= 3)
        return false;
    *name = names[index];
    *count = counts[index];
    return true;
}

static unsigned host_get_log_level(void *context)
{
    (void)context;
    return fake_log_level;
}

static bool host_set_log_level(void *context, unsigned level)
{
    (void)context;
    if (level > 4)
        return false;
    fake_log_level = level;
    return true;
}

static void host_power_off(void *context, bool reboot)
{
    (void)context;
    fake_power_off_calls++;
    fake_power_off_reboot = reboot;
    fake_power_off_output_length = output_length;
}

static const struct console_host the_host = {
    .context = NULL,
    .write = host_write,
    .uptime_ms = host_uptime,
    .version = host_version,
    .exit_counter = host_exit_counter,
    .get_log_level = host_get_log_level,
    .set_log_level = host_set_log_level,
    .power_off = host_power_off,
    .service = &fake_service_object,
};

const struct console_host *fake_host(void)
{
    return &the_host;
}

void fake_output_clear(void)
{
    output_length = 0;
    if (output != NULL)
        output[0] = '\0';
}

const char *fake_output(void)
{
    return output != NULL ? output : "";
}

size_t fake_output_length(void)
{
    return output_length;
}

void fake_host_reset(void)
{
    fake_service_reset();
    fake_output_clear();
    fake_log_level = 2;
    fake_uptime_ms = 12345;
    fake_power_off_calls = 0;
    fake_power_off_reboot = false;
    fake_power_off_output_length = 0;
}

void fake_host_init_console(enum console_mode mode)
{
    fake_host_reset();
    console_init(&the_host, mode);
}

void type_bytes(const void *data, size_t length)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < length; i++)
        console_input_byte(bytes[i]);
}

void type_text(const char *text)
{
    type_bytes(text, strlen(text));
}

int json_lines_valid(const char *text, size_t length)
{
    static struct json_document document;
    int lines = 0;
    size_t start = 0;
    while (start < length) {
        const char *newline = memchr(text + start, '\n', length - start);
        if (newline == NULL) {
            fprintf(stderr, "output does not end with a newline: %.*s\n", (int)(length - start), text + start);
            return -1;
        }
        size_t line_length = (size_t)(newline - (text + start));
        struct json_error error = {"not an object", 0};
        if (!json_parse(&document, text + start, line_length, &error) || document.tokens[0].type != JSON_OBJECT) {
            fprintf(stderr, "not a JSON object (%s at %zu): %.*s\n", error.reason, error.offset, (int)line_length,
                    text + start);
            return -1;
        }
        lines++;
        start += line_length + 1;
    }
    return lines;
}
