/*
 * The guest service core (guest_service.h): initialisation of the shared region,
 * registration of the Additions, the IVMGuestOS properties, the timer tick and
 * the guest's end. The mailbox is in mailbox.c, the request encoders in
 * operations.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/guest_service_internal.h"
#include "hv/format.h"

/* ---- Shared region access ------------------------------------------------------ */

void gs_copy_from_guest(void *destination, const volatile void *source, size_t size)
{
    uint8_t *out = destination;
    const volatile uint8_t *in = source;
    size_t i = 0;
    if ((((uintptr_t)out | (uintptr_t)in) & 7u) == 0) {
        for (; i + 8 <= size; i += 8) {
            uint64_t word = *(const volatile uint64_t *)(const volatile void *)(in + i);
            memcpy(out + i, &word, 8);
        }
    }
    for (; i < size; i++)
        out[i] = in[i];
}

void gs_copy_to_guest(volatile void *destination, const void *source, size_t size)
{
    volatile uint8_t *out = destination;
    const uint8_t *in = source;
    size_t i = 0;
    if ((((uintptr_t)out | (uintptr_t)in) & 7u) == 0) {
        for (; i + 8 <= size; i += 8) {
            uint64_t word;
            memcpy(&word, in + i, 8);
            *(volatile uint64_t *)(volatile void *)(out + i) = word;
        }
    }
    for (; i < size; i++)
        out[i] = in[i];
}

static void zero_guest(volatile void *destination, size_t size)
{
    volatile uint8_t *out = destination;
    for (size_t i = 0; i < size; i++)
        out[i] = 0;
}

void gs_write_host_flags(struct guest_service *service)
{
    service->status->host_flags = service->host_flags;
}

/* pvclock-style: sequence odd, the fields, sequence even. The compiler keeps
 * volatile stores in order and x86 does not reorder stores with stores. */
void gs_refresh_time(struct guest_service *service, uint64_t now)
{
    const struct guest_service_platform *p = &service->platform;
    volatile struct vigil_time_record *time = &service->status->time;
    uint64_t tsc = p->guest_tsc ? p->guest_tsc(p->context) : 0;
    uint64_t unix_ns = p->unix_time_ns ? p->unix_time_ns(p->context) : 0;

    time->sequence = service->time_sequence + 1u;
    __asm__ volatile("" ::: "memory");
    time->tsc_timestamp = tsc;
    time->unix_time_ns = unix_ns;
    time->tsc_frequency_hz = p->tsc_frequency_hz;
    time->reserved = 0;
    __asm__ volatile("" ::: "memory");
    service->time_sequence += 2u;
    time->sequence = service->time_sequence;
    service->time_refreshed_ms = now;
}

/* ---- Platform wrappers ------------------------------------------------------------- */

uint64_t gs_now(const struct guest_service *service)
{
    return service->platform.now_ms ? service->platform.now_ms(service->platform.context) : 0;
}

void gs_emit(struct guest_service *service, enum guest_service_event_kind kind, const char *format, ...)
{
    struct guest_service_event event;
    memset(&event, 0, sizeof(event));
    event.kind = kind;
    event.time_ms = gs_now(service);
    va_list arguments;
    va_start(arguments, format);
    format_vstring(event.detail, sizeof(event.detail), format, arguments);
    va_end(arguments);
    if (service->platform.emit_event)
        service->platform.emit_event(service->platform.context, &event);
}

void gs_log(struct guest_service *service, const char *format, ...)
{
    if (!service->platform.log)
        return;
    uint64_t second = gs_now(service) / 1000u;
    if (second != service->log_window_second) {
        service->log_window_second = second;
        service->log_window_count = 0;
        if (service->log_suppressed) {
            format_string(service->line, sizeof(service->line),
                          "guest-svc: %llu log lines about guest input suppressed",
                          (unsigned long long)service->log_suppressed);
            service->log_suppressed = 0;
            service->platform.log(service->platform.context, service->line);
        }
    }
    if (service->log_window_count >= GS_LOG_LINES_PER_SECOND_MAX) {
        service->log_suppressed++;
        return;
    }
    service->log_window_count++;
    static const char prefix[] = "guest-svc: ";
    memcpy(service->line, prefix, sizeof(prefix));
    va_list arguments;
    va_start(arguments, format);
    format_vstring(service->line + sizeof(prefix) - 1, sizeof(service->line) - (sizeof(prefix) - 1), format,
                   arguments);
    va_end(arguments);
    service->platform.log(service->platform.context, service->line);
}

size_t gs_bounded_length(const char *text, size_t max)
{
    size_t n = 0;
    while (n < max && text[n] != '\0')
        n++;
    return n;
}

/* ---- Init --------------------------------------------------------------------------- */

size_t guest_service_size(void)
{
    return sizeof(struct guest_service);
}

void guest_service_init(struct guest_service *service, const struct guest_service_platform *platform,
                        volatile void *region, uint64_t region_guest_physical)
{
    memset(service, 0, sizeof(*service));
    service->platform = *platform;
    volatile uint8_t *base = region;
    service->status = (volatile struct vigil_status_page *)(volatile void *)(base + VIGIL_STATUS_PAGE_OFFSET);
    service->request_slot = (volatile struct vigil_message *)(volatile void *)(base + VIGIL_REQUEST_SLOT_OFFSET);
    service->response_slot = (const volatile struct vigil_message *)(volatile void *)(base + VIGIL_RESPONSE_SLOT_OFFSET);
    service->region_guest_physical = region_guest_physical;
    service->running = true;
    service->next_request_id = 1;
    service->next_sequence = 1;

    zero_guest(region, VIGIL_SHARED_REGION_SIZE);
    uint64_t now = gs_now(service);
    heartbeat_monitor_init(&service->monitor, now);

    service->status->magic = VIGIL_STATUS_MAGIC;
    service->status->abi_version = VIGIL_ABI_VERSION;
    service->status->region_size = VIGIL_SHARED_REGION_SIZE;
    service->host_flags = VIGIL_HOST_FLAG_TIME_SYNC;
    gs_refresh_time(service, now);
    gs_write_host_flags(service);
}

/* ---- Registration -------------------------------------------------------------------- */

/* Make a copied string field safe: NUL inside the field, no control characters
 * (the strings reach the operator's terminal). Returns true if it had to change it. */
static bool repair_string(char *field, size_t size)
{
    bool repaired = false;
    if (memchr(field, '\0', size) == NULL) {
        field[size - 1] = '\0';
        repaired = true;
    }
    for (size_t i = 0; field[i] != '\0'; i++) {
        unsigned char c = (unsigned char)field[i];
        if (c < 0x20 || c == 0x7F) {
            field[i] = '?';
            repaired = true;
        }
    }
    return repaired;
}

enum gs_registration_result gs_register(struct guest_service *service)
{
    volatile struct vigil_status_page *status = service->status;
    struct gs_registration copy;

    /* A seqlock read: odd = the guest is writing; a changed sequence = torn copy. */
    uint32_t sequence = status->registration_sequence;
    if (sequence & 1u)
        return GS_REGISTRATION_BUSY;
    __asm__ volatile("" ::: "memory");
    copy.sequence = sequence;
    copy.abi_version = status->additions_abi_version;
    copy.capabilities = status->capabilities;
    copy.heartbeat_period_ms = status->heartbeat_period_ms;
    copy.interrupt_vector = status->request_interrupt_vector;
    gs_copy_from_guest(copy.additions_version, status->additions_version, sizeof(copy.additions_version));
    gs_copy_from_guest(copy.os_name, status->os_name, sizeof(copy.os_name));
    gs_copy_from_guest(copy.computer_name, status->computer_name, sizeof(copy.computer_name));
    __asm__ volatile("" ::: "memory");
    if (status->registration_sequence != sequence)
        return GS_REGISTRATION_BUSY;
    /* Already taken at this sequence (the tick saw it before the guest's REGISTER
     * doorbell arrived, or the doorbell came twice): nothing new, no second event. */
    if (service->registered && service->registration_seen && sequence == service->last_registration_sequence)
        return GS_REGISTRATION_OK;

    service->registration_seen = true;
    service->last_registration_sequence = sequence;

    uint32_t major = copy.abi_version >> 16, minor = copy.abi_version & 0xFFFFu;
    if (major != VIGIL_ABI_VERSION_MAJOR) {
        service->registered = false;
        gs_log(service, "refusing guest Additions with ABI version %u.%u: this hypervisor speaks %u.%u",
               (unsigned)major, (unsigned)minor, (unsigned)VIGIL_ABI_VERSION_MAJOR,
               (unsigned)VIGIL_ABI_VERSION_MINOR);
        return GS_REGISTRATION_REFUSED;
    }

    unsigned repaired = 0;
    repaired += repair_string(copy.additions_version, sizeof(copy.additions_version));
    repaired += repair_string(copy.os_name, sizeof(copy.os_name));
    repaired += repair_string(copy.computer_name, sizeof(copy.computer_name));
    if (repaired) {
        service->registration_strings_repaired += repaired;
        gs_log(service, "registration: %u string field(s) unterminated or with control characters: truncated/replaced",
               repaired);
    }
    if (!(copy.capabilities & VIGIL_CAPABILITY_REQUEST_INTERRUPT) || copy.interrupt_vector < 32u ||
        copy.interrupt_vector > 255u) {
        if (copy.capabilities & VIGIL_CAPABILITY_REQUEST_INTERRUPT)
            gs_log(service, "registration: interrupt vector %u out of 32..255: not used",
                   (unsigned)copy.interrupt_vector);
        copy.interrupt_vector = 0;
    }

    service->registration = copy;
    service->registered = true;
    service->ever_registered = true;
    service->sampled_period_ms = copy.heartbeat_period_ms;
    heartbeat_monitor_set_period(&service->monitor, copy.heartbeat_period_ms);
    gs_emit(service, GUEST_EVENT_ADDITIONS_REGISTERED, "Additions %s (ABI %u.%u) on %s, computer %s",
            copy.additions_version, (unsigned)major, (unsigned)minor, copy.os_name, copy.computer_name);
    return GS_REGISTRATION_OK;
}

/* ---- Tick ------------------------------------------------------------------------------ */

static void sample_heartbeat(struct guest_service *service, uint64_t now)
{
    uint32_t period = service->status->heartbeat_period_ms;
    if (period != service->sampled_period_ms) {
        service->sampled_period_ms = period;
        heartbeat_monitor_set_period(&service->monitor, period);
    }
    uint64_t counter = service->status->heartbeat_counter; /* one 64-bit load */
    struct heartbeat_sample_outcome outcome = heartbeat_monitor_sample(&service->monitor, counter, now);
    if (outcome.anomaly == HEARTBEAT_ANOMALY_BACKWARDS)
        gs_emit(service, GUEST_EVENT_HEARTBEAT_ANOMALY, "heartbeat counter went backwards to %llu",
                (unsigned long long)counter);
    else if (outcome.anomaly == HEARTBEAT_ANOMALY_JUMP)
        gs_emit(service, GUEST_EVENT_HEARTBEAT_ANOMALY, "heartbeat counter jumped to %llu",
                (unsigned long long)counter);
    if (outcome.transition == HEARTBEAT_STOPPED)
        gs_emit(service, GUEST_EVENT_HEARTBEAT_STOPPED, "no heartbeat for %u ms (guest TSC %llu)",
                (unsigned)service->monitor.failure_interval_ms,
                (unsigned long long)(service->platform.guest_tsc ? service->platform.guest_tsc(service->platform.context)
                                                                 : 0)); /* detection latency: tools/bench */
    else if (outcome.transition == HEARTBEAT_RESUMED)
        gs_emit(service, GUEST_EVENT_HEARTBEAT_RESUMED, "heartbeat resumed after %llu ms",
                (unsigned long long)outcome.gap_ms);
}

void guest_service_tick(struct guest_service *service)
{
    service->statistics.ticks++;
    if (!service->running)
        return;
    uint64_t now = gs_now(service);

    uint32_t sequence = service->status->registration_sequence;
    if (sequence != 0 && !(sequence & 1u) &&
        (!service->registration_seen || sequence != service->last_registration_sequence))
        gs_register(service);

    sample_heartbeat(service, now);
    if (now - service->time_refreshed_ms >= GS_TIME_REFRESH_MS)
        gs_refresh_time(service, now);
    gs_expire(service, now);
    if (service->running)
        gs_pump(service);
}

/* ---- The guest's end ---------------------------------------------------------------- */

void gs_mark_stopped(struct guest_service *service)
{
    service->running = false;
    service->registered = false;
    gs_fail_all(service, VIGIL_VM_E_VM_NOT_RUNNING);
    service->host_flags &= ~(VIGIL_HOST_FLAG_REQUEST_PENDING | VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED);
    gs_write_host_flags(service);
}

void guest_service_guest_stopped(struct guest_service *service, enum guest_service_event_kind why, const char *detail)
{
    if (!service->running)
        return; /* already stopped (e.g. a forced shutdown): one event is enough */
    char text[96];
    size_t length = detail ? gs_bounded_length(detail, sizeof(text) - 1) : 0;
    if (length)
        memcpy(text, detail, length);
    text[length] = '\0';
    gs_emit(service, why, "%s", length ? text : (why == GUEST_EVENT_TRIPLE_FAULT ? "triple fault" : "guest stopped"));
    gs_mark_stopped(service);
}

void guest_service_guest_restarted(struct guest_service *service)
{
    if (service->running)
        gs_mark_stopped(service);
    char package_version[VIGIL_ADDITIONS_VERSION_MAX];
    gs_copy_from_guest(package_version, service->status->additions_package_version, sizeof(package_version));
    package_version[sizeof(package_version) - 1] = '\0';
    uint32_t failure_interval = service->monitor.failure_interval_ms;
    /* The shared region starts over as at the first launch; what the operator knew
     * stays: the cached registration, the statistics, time sync, the package offer. */
    zero_guest((volatile uint8_t *)service->status - VIGIL_STATUS_PAGE_OFFSET, VIGIL_SHARED_REGION_SIZE);
    service->running = true;
    service->registered = false;
    service->registration_seen = false;
    service->sampled_period_ms = 0;
    service->time_sequence = 0;
    service->kill_sequence = 0;
    uint64_t now = gs_now(service);
    heartbeat_monitor_init(&service->monitor, now);
    heartbeat_monitor_set_failure_interval(&service->monitor, failure_interval);
    service->status->magic = VIGIL_STATUS_MAGIC;
    service->status->abi_version = VIGIL_ABI_VERSION;
    service->status->region_size = VIGIL_SHARED_REGION_SIZE;
    service->host_flags &= VIGIL_HOST_FLAG_TIME_SYNC;
    gs_refresh_time(service, now);
    gs_write_host_flags(service);
    if (service->package_offered)
        guest_service_offer_additions(service, service->package_address, service->package_size, package_version);
}

/* ---- Additions package ------------------------------------------------------------- */

void guest_service_offer_additions(struct guest_service *service, uint64_t guest_physical, uint32_t size,
                                   const char *version)
{
    volatile struct vigil_status_page *status = service->status;
    char copy[VIGIL_ADDITIONS_VERSION_MAX];
    memset(copy, 0, sizeof(copy));
    if (size != 0 && version)
        memcpy(copy, version, gs_bounded_length(version, sizeof(copy) - 1));

    /* Withdraw first so a polling guest never sees a half-written offer. */
    service->host_flags &= ~VIGIL_HOST_FLAG_ADDITIONS_OFFERED;
    gs_write_host_flags(service);
    __asm__ volatile("" ::: "memory");
    service->package_offered = size != 0;
    service->package_address = size ? guest_physical : 0;
    service->package_size = size;
    status->additions_package_address = service->package_address;
    status->additions_package_size = size;
    gs_copy_to_guest(status->additions_package_version, copy, sizeof(copy));
    __asm__ volatile("" ::: "memory");
    if (service->package_offered) {
        service->host_flags |= VIGIL_HOST_FLAG_ADDITIONS_OFFERED;
        gs_write_host_flags(service);
    }
}

/* ---- Properties ----------------------------------------------------------------------- */

static uint32_t copy_property(const struct guest_service *service, const char *value, char *out, size_t size)
{
    if (!out || size == 0)
        return VIGIL_E_INVALIDARG;
    if (!service->ever_registered) {
        out[0] = '\0';
        return VIGIL_VM_E_ADDITIONS_NOT_AVAIL;
    }
    size_t length = strlen(value); /* the cache is NUL-terminated */
    if (length >= size)
        length = size - 1;
    memcpy(out, value, length);
    out[length] = '\0';
    return VIGIL_S_OK;
}

uint32_t guest_service_additions_version(const struct guest_service *service, char *out, size_t size)
{
    return copy_property(service, service->registration.additions_version, out, size);
}

uint32_t guest_service_os_name(const struct guest_service *service, char *out, size_t size)
{
    return copy_property(service, service->registration.os_name, out, size);
}

uint32_t guest_service_computer_name(const struct guest_service *service, char *out, size_t size)
{
    return copy_property(service, service->registration.computer_name, out, size);
}

uint32_t guest_service_can_shutdown(const struct guest_service *service, bool *out)
{
    if (!out)
        return VIGIL_E_INVALIDARG;
    bool can = false;
    if (service->running && service->registered &&
        (service->registration.capabilities & VIGIL_CAPABILITY_SHUTDOWN)) {
        uint32_t agent_state = service->status->agent_state; /* each read once */
        uint32_t guest_flags = service->status->guest_flags;
        can = agent_state == VIGIL_AGENT_RUNNING && !(guest_flags & VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED);
    }
    *out = can;
    return VIGIL_S_OK;
}

uint32_t guest_service_heartbeat_percentage(const struct guest_service *service, uint32_t *out)
{
    if (!out)
        return VIGIL_E_INVALIDARG;
    struct heartbeat_report report;
    heartbeat_monitor_report(&service->monitor, gs_now(service), &report);
    *out = report.percentage;
    return VIGIL_S_OK;
}

uint32_t guest_service_is_heartbeating(const struct guest_service *service, bool *out)
{
    if (!out)
        return VIGIL_E_INVALIDARG;
    struct heartbeat_report report;
    heartbeat_monitor_report(&service->monitor, gs_now(service), &report);
    *out = service->running && service->registered && report.heartbeating;
    return VIGIL_S_OK;
}

uint32_t guest_service_is_time_sync_enabled(const struct guest_service *service, bool *out)
{
    if (!out)
        return VIGIL_E_INVALIDARG;
    *out = (service->host_flags & VIGIL_HOST_FLAG_TIME_SYNC) != 0;
    return VIGIL_S_OK;
}

uint32_t guest_service_set_time_sync(struct guest_service *service, bool enabled)
{
    if (!service->running)
        return VIGIL_VM_E_VM_NOT_RUNNING;
    gs_refresh_time(service, gs_now(service)); /* a fresh record before the guest applies it */
    if (enabled)
        service->host_flags |= VIGIL_HOST_FLAG_TIME_SYNC;
    else
        service->host_flags &= ~VIGIL_HOST_FLAG_TIME_SYNC;
    gs_write_host_flags(service);
    return VIGIL_S_OK;
}

void guest_service_heartbeat_report(const struct guest_service *service, struct heartbeat_report *out)
{
    heartbeat_monitor_report(&service->monitor, gs_now(service), out);
    if (!service->running)
        out->heartbeating = false;
}

uint32_t guest_service_set_heartbeat_failure_interval(struct guest_service *service, uint32_t milliseconds)
{
    return heartbeat_monitor_set_failure_interval(&service->monitor, milliseconds) ? VIGIL_S_OK
                                                                                  : VIGIL_E_INVALIDARG;
}

bool guest_service_guest_running(const struct guest_service *service)
{
    return service->running;
}

bool guest_service_additions_registered(const struct guest_service *service)
{
    return service->registered;
}

const struct guest_service_statistics *guest_service_get_statistics(const struct guest_service *service)
{
    return &service->statistics;
}
