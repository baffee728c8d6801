/*
 * The guest service core (guest_service.h): initialisation of the shared region,
 * registration of the Additions, the IVMGuestOS properties, the timer tick, the
 * guest's end, and the doorbell: the mailbox (mailbox.c, mailbox_receive.c) moves
 * the messages, this file decides what a guest-initiated one means. The request
 * encoders are in operations.c; the order of the parts: service_state.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/guest_service.h"
#include "guest-svc/host/mailbox.h"
#include "guest-svc/host/mailbox_receive.h"
#include "guest-svc/host/service_state.h"
#include "lib/format.h"

static void zero_guest(volatile void *destination, size_t size)
{
    volatile uint8_t *out = destination;
    for (size_t i = 0; i < size; i++)
        out[i] = 0;
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

enum gs_registration_result { GS_REGISTRATION_OK, GS_REGISTRATION_BUSY, GS_REGISTRATION_REFUSED };

static enum gs_registration_result gs_register(struct guest_service *service)
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

/* ---- The doorbell: the mailbox takes the message, the service decides ---------- */

/* Sequence 0: the guest speaks first (registration, an event). */
static uint32_t guest_initiated(struct guest_service *service, const struct vigil_message *message)
{
    switch (message->operation) {
    case VIGIL_OP_REGISTER:
        switch (gs_register(service)) {
        case GS_REGISTRATION_OK: return VIGIL_DOORBELL_ACCEPTED;
        case GS_REGISTRATION_BUSY:
            gs_log(service, "REGISTER while the registration is being written (sequence odd or changing)");
            return gs_mailbox_rejected(service);
        default: return gs_mailbox_rejected(service);
        }
    case VIGIL_OP_EVENT: {
        struct vigil_guest_event event;
        if (message->length < sizeof(event)) {
            gs_log(service, "EVENT message of %u bytes", (unsigned)message->length);
            return gs_mailbox_rejected(service);
        }
        memcpy(&event, message->payload, sizeof(event));
        if (event.code == VIGIL_GUEST_EVENT_SHUTTING_DOWN) {
            gs_emit(service, GUEST_EVENT_GUEST_SHUTDOWN, "the guest is shutting down");
            return VIGIL_DOORBELL_ACCEPTED;
        }
        gs_log(service, "unknown guest event %u", (unsigned)event.code);
        return gs_mailbox_rejected(service);
    }
    default:
        gs_log(service, "unknown guest-initiated operation 0x%x", (unsigned)message->operation);
        return gs_mailbox_rejected(service);
    }
}

static uint32_t handle_doorbell(struct guest_service *service)
{
    uint32_t taken = gs_mailbox_take(service);
    if (taken != VIGIL_DOORBELL_ACCEPTED)
        return taken;
    const struct vigil_message *message = &service->response;
    if (message->sequence == 0)
        return guest_initiated(service, message);
    return gs_mailbox_reply(service, message);
}

uint32_t guest_service_doorbell(struct guest_service *service)
{
    service->statistics.doorbells++;
    uint32_t result = handle_doorbell(service);
    service->status->doorbell_result = result;
    service->status->doorbell_count = service->statistics.doorbells;
    return result;
}
