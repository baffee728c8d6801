/* Test fakes for the guest service: see guest_service_fakes.h. */
#include "guest_service_fakes.h"

#include <stdlib.h>
#include <string.h>

struct fake_platform fake;
struct guest_service *service;
uint8_t fake_region[VIGIL_SHARED_REGION_SIZE] __attribute__((aligned(4096)));

static uint64_t fake_now_ms(void *context)
{
    (void)context;
    return fake.now_ms;
}

static uint64_t fake_unix_time_ns(void *context)
{
    (void)context;
    return fake.unix_time_ns + fake.now_ms * 1000000ull;
}

static uint64_t fake_guest_tsc(void *context)
{
    (void)context;
    return fake.guest_tsc + fake.now_ms * (FAKE_TSC_HZ / 1000u);
}

static void fake_inject(void *context, uint8_t vector)
{
    (void)context;
    fake.injections++;
    fake.last_vector = vector;
}

static void fake_emit(void *context, const struct guest_service_event *event)
{
    (void)context;
    if (fake.event_count < FAKE_MAX_EVENTS)
        fake.events[fake.event_count] = *event;
    fake.event_count++;
}

static void fake_force_off(void *context, bool reboot, const char *reason)
{
    (void)context;
    fake.forced_off++;
    fake.forced_reboot = reboot;
    strncpy(fake.forced_reason, reason ? reason : "(null)", sizeof(fake.forced_reason) - 1);
}

static void fake_log(void *context, const char *message)
{
    (void)context;
    if (fake.log_count < FAKE_MAX_LOGS)
        strncpy(fake.logs[fake.log_count], message, sizeof(fake.logs[0]) - 1);
    fake.log_count++;
}

static void fake_on_data(void *context, uint32_t request_id, uint32_t stream, const uint8_t *data, size_t length)
{
    (void)context;
    if (fake.data_count < FAKE_MAX_DATA) {
        struct fake_data *d = &fake.data[fake.data_count];
        d->request_id = request_id;
        d->stream = stream;
        d->length = length;
        memcpy(d->bytes, data, length < sizeof(d->bytes) - 1 ? length : sizeof(d->bytes) - 1);
        d->bytes[length < sizeof(d->bytes) - 1 ? length : sizeof(d->bytes) - 1] = '\0';
    }
    fake.data_count++;
}

static void fake_on_complete(void *context, const struct guest_service_result *result)
{
    (void)context;
    if (fake.result_count < FAKE_MAX_RESULTS)
        fake.results[fake.result_count] = *result;
    fake.result_count++;
}

const struct guest_service_callbacks fake_callbacks = {NULL, fake_on_data, fake_on_complete};

int fake_setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.now_ms = 100000;
    fake.unix_time_ns = 1700000000ull * 1000000000ull;
    fake.guest_tsc = 5000000;
    memset(fake_region, 0xA5, sizeof(fake_region)); /* dirty: init must zero it */
    service = calloc(1, guest_service_size());
    if (!service)
        return -1;
    struct guest_service_platform platform = {
        .context = NULL,
        .now_ms = fake_now_ms,
        .unix_time_ns = fake_unix_time_ns,
        .guest_tsc = fake_guest_tsc,
        .tsc_frequency_hz = FAKE_TSC_HZ,
        .inject_interrupt = fake_inject,
        .emit_event = fake_emit,
        .force_guest_off = fake_force_off,
        .log = fake_log,
    };
    guest_service_init(service, &platform, fake_region, FAKE_REGION_GPA);
    return 0;
}

int fake_setup_registered(void **state)
{
    if (fake_setup(state))
        return -1;
    if (guest_register_default() != VIGIL_DOORBELL_ACCEPTED)
        return -1;
    fake.event_count = 0;
    return 0;
}

int fake_teardown(void **state)
{
    (void)state;
    free(service);
    service = NULL;
    return 0;
}

void fake_advance(uint64_t ms)
{
    fake.now_ms += ms;
}

void fake_run(uint64_t ms, uint64_t step_ms)
{
    for (uint64_t t = 0; t < ms; t += step_ms) {
        fake.now_ms += step_ms;
        guest_service_tick(service);
    }
}

volatile struct vigil_status_page *fake_status(void)
{
    return (volatile struct vigil_status_page *)(void *)(fake_region + VIGIL_STATUS_PAGE_OFFSET);
}

volatile struct vigil_message *fake_request_slot(void)
{
    return (volatile struct vigil_message *)(void *)(fake_region + VIGIL_REQUEST_SLOT_OFFSET);
}

volatile struct vigil_message *fake_response_slot(void)
{
    return (volatile struct vigil_message *)(void *)(fake_region + VIGIL_RESPONSE_SLOT_OFFSET);
}

static void write_field(volatile char *field, size_t size, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < size; i++)
        field[i] = i < n ? text[i] : '\0';
}

void guest_write_registration(uint32_t abi_version, uint32_t capabilities, const char *version, const char *os_name,
                              const char *computer_name)
{
    volatile struct vigil_status_page *status = fake_status();
    status->registration_sequence++; /* odd: writing */
    if (!(status->registration_sequence & 1u))
        status->registration_sequence++;
    status->additions_abi_version = abi_version;
    status->capabilities = capabilities;
    status->agent_state = VIGIL_AGENT_RUNNING;
    status->heartbeat_period_ms = 1000;
    write_field(status->additions_version, VIGIL_ADDITIONS_VERSION_MAX, version);
    write_field(status->os_name, VIGIL_OS_NAME_MAX, os_name);
    write_field(status->computer_name, VIGIL_COMPUTER_NAME_MAX, computer_name);
    status->registration_sequence++; /* even: done */
}

uint32_t guest_register_default(void)
{
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES, "1.2.3", "Debian 12", "guest01");
    return guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0);
}

uint32_t guest_send(uint32_t sequence, uint16_t operation, uint16_t flags, uint32_t status, uint32_t chunk,
                    const void *payload, uint32_t length)
{
    volatile struct vigil_message *slot = fake_response_slot();
    slot->sequence = sequence;
    slot->operation = operation;
    slot->flags = flags;
    slot->status = status;
    slot->length = length;
    slot->chunk = chunk;
    slot->reserved = 0;
    if (payload && length <= VIGIL_MESSAGE_PAYLOAD_MAX)
        memcpy((void *)slot->payload, payload, length);
    return guest_service_doorbell(service);
}

uint32_t guest_reply(uint16_t flags, uint32_t status, uint32_t chunk, const void *payload, uint32_t length)
{
    volatile struct vigil_message *request = fake_request_slot();
    return guest_send(request->sequence, request->operation, flags, status, chunk, payload, length);
}

uint32_t guest_send_event(uint32_t code)
{
    struct vigil_guest_event event = {code, 0};
    return guest_send(0, VIGIL_OP_EVENT, 0, 0, 0, &event, sizeof(event));
}

const struct guest_service_event *fake_last_event(void)
{
    return fake.event_count ? &fake.events[(fake.event_count - 1) % FAKE_MAX_EVENTS] : NULL;
}

unsigned fake_count_events(enum guest_service_event_kind kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fake.event_count && i < FAKE_MAX_EVENTS; i++)
        if (fake.events[i].kind == kind)
            n++;
    return n;
}

bool fake_log_contains(const char *text)
{
    for (unsigned i = 0; i < fake.log_count && i < FAKE_MAX_LOGS; i++)
        if (strstr(fake.logs[i], text))
            return true;
    return false;
}
