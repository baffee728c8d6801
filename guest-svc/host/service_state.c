/* The shared-region and platform helpers and the common checks of guest-svc/host (service_state.h). */
#include "guest-svc/host/service_state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/format.h"

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

/* ---- Checks every operation shares --------------------------------------------- */

bool gs_parameter_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t length = 0;
    for (; name[length] != '\0'; length++) {
        unsigned char c = (unsigned char)name[length];
        if (length >= VIGIL_PARAMETER_NAME_MAX || c == '\\' || c < 0x20 || c == 0x7F)
            return false;
    }
    return length >= 1;
}

uint32_t gs_check_available(const struct guest_service *service, uint32_t capability)
{
    if (!service->running)
        return VIGIL_VM_E_VM_NOT_RUNNING;
    if (!service->registered)
        return VIGIL_VM_E_ADDITIONS_NOT_AVAIL;
    if (capability && !(service->registration.capabilities & capability))
        return VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL;
    return VIGIL_S_OK;
}
