/*
 * libFuzzer target for the guest service's mailbox (guest-svc/host/mailbox.c and
 * the registration in guest_service.c): arbitrary bytes become response-slot
 * contents, status-page registration fields, heartbeat counters and the timing of
 * ticks, with requests of every kind in flight and queued. Besides ASan/UBSan, it
 * checks the service's promises: every accepted request completes exactly once,
 * refused ones never call back, streamed data only for requests in flight, and
 * the host-written fields of the status page stay consistent.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I. -Iguest-svc/include
 *        tests/fuzz/fuzz_mailbox_message.c guest-svc/host/{guest_service,mailbox,
 *        operations,status_names,heartbeat_monitor}.c lib/format.c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/abi.h>

#include "guest-svc/host/guest_service.h"

static uint8_t region[VIGIL_SHARED_REGION_SIZE] __attribute__((aligned(4096)));
static uint64_t now_ms;

#define TRACKED_MAX 4096
static uint8_t request_state[TRACKED_MAX]; /* 0 unknown, 1 accepted, 2 completed */

static const uint8_t *input;
static size_t input_left;

static uint8_t take8(void)
{
    if (!input_left)
        return 0;
    input_left--;
    return *input++;
}

static uint32_t take32(void)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value |= (uint32_t)take8() << (8 * i);
    return value;
}

static size_t take_bytes(volatile void *destination, size_t max)
{
    size_t n = max < input_left ? max : input_left;
    volatile uint8_t *out = destination;
    for (size_t i = 0; i < n; i++)
        out[i] = input[i];
    input += n;
    input_left -= n;
    return n;
}

static uint64_t p_now(void *c) { (void)c; return now_ms; }
static uint64_t p_unix(void *c) { (void)c; return 1700000000000000000ull + now_ms * 1000000ull; }
static uint64_t p_tsc(void *c) { (void)c; return now_ms * 3000000ull; }
static void p_inject(void *c, uint8_t vector)
{
    (void)c;
    if (vector < 32)
        abort(); /* only vectors the guest registered in 32..255 */
}
static void p_event(void *c, const struct guest_service_event *event)
{
    (void)c;
    if (memchr(event->detail, '\0', sizeof(event->detail)) == NULL)
        abort();
}
static void p_force(void *c, bool reboot, const char *reason)
{
    (void)c;
    (void)reboot;
    if (strlen(reason) > VIGIL_SHUTDOWN_REASON_MAX)
        abort();
}
static void p_log(void *c, const char *message)
{
    (void)c;
    if (strlen(message) > 1024)
        abort();
}

static void on_data(void *c, uint32_t id, uint32_t stream, const uint8_t *data, size_t length)
{
    (void)c;
    (void)data;
    if (id >= TRACKED_MAX || request_state[id] != 1)
        abort(); /* data for a request that is not running */
    if (stream != 0 && stream != VIGIL_MESSAGE_STDOUT && stream != VIGIL_MESSAGE_STDERR)
        abort();
    if (length > VIGIL_MESSAGE_PAYLOAD_MAX)
        abort();
    if (length) {
        volatile uint8_t sink = data[0] ^ data[length - 1]; /* ASan checks the range */
        (void)sink;
    }
}

static void on_complete(void *c, const struct guest_service_result *result)
{
    (void)c;
    if (result->request_id >= TRACKED_MAX || request_state[result->request_id] != 1)
        abort(); /* completed twice, or never accepted */
    request_state[result->request_id] = 2;
    if (memchr(result->value, '\0', sizeof(result->value)) == NULL)
        abort();
}

static const struct guest_service_callbacks callbacks = {NULL, on_data, on_complete};

static void accepted(uint32_t status, uint32_t id)
{
    if (status != VIGIL_S_OK)
        return;
    if (id == 0 || id >= TRACKED_MAX || request_state[id] != 0)
        abort();
    request_state[id] = 1;
}

static void issue(struct guest_service *service, uint32_t *last_id)
{
    uint32_t id = 0, status;
    uint8_t kind = take8();
    static const char *const argv[] = {"/bin/sh", "-c", "echo hi", "x"};
    static const char *const env[] = {"A=1", "B=2"};
    switch (kind % 9) {
    case 0: status = guest_service_nop(service, &callbacks, &id); break;
    case 1: {
        struct guest_execute_command command = {.argc = 1u + take8() % 4u, .argv = argv, .env_count = take8() % 3u,
                                                .env = env, .cwd = (kind & 0x10) ? "/" : NULL,
                                                .timeout_ms = take8() * 100u};
        status = guest_service_execute(service, &command, &callbacks, &id);
        break;
    }
    case 2: status = guest_service_set_parameter(service, "name", "value", &callbacks, &id); break;
    case 3: status = guest_service_get_parameter(service, "name", &callbacks, &id); break;
    case 4: status = guest_service_list_parameters(service, &callbacks, &id); break;
    case 5: {
        struct guest_shutdown_command command = {.force = kind & 0x10, .reboot = kind & 0x20,
                                                 .timeout_ms = take8() * 100u, .reason = "fuzz"};
        status = guest_service_shutdown(service, &command, &callbacks, &id);
        break;
    }
    case 6: status = guest_service_install_additions(service, &callbacks, &id); break;
    case 7: {
        uint32_t target = (kind & 0x10) ? *last_id : take8();
        status = guest_service_kill(service, target);
        return; /* a kill is not a request of its own */
    }
    default: status = guest_service_nop(service, NULL, NULL); return;
    }
    accepted(status, id);
    if (status == VIGIL_S_OK)
        *last_id = id;
}

static void read_properties(struct guest_service *service)
{
    char text[300];
    size_t size = 1 + take8();
    bool flag;
    uint32_t value;
    guest_service_additions_version(service, text, size);
    guest_service_os_name(service, text, size);
    guest_service_computer_name(service, text, size);
    if (memchr(text, '\0', size) == NULL)
        abort();
    guest_service_can_shutdown(service, &flag);
    guest_service_heartbeat_percentage(service, &value);
    if (value > 100)
        abort();
    guest_service_is_heartbeating(service, &flag);
    guest_service_is_time_sync_enabled(service, &flag);
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct guest_service *service;
    if (!service)
        service = malloc(guest_service_size());
    input = data;
    input_left = size;
    memset(request_state, 0, sizeof(request_state));
    now_ms = 1000000;

    struct guest_service_platform platform = {
        .now_ms = p_now, .unix_time_ns = p_unix, .guest_tsc = p_tsc, .tsc_frequency_hz = 3000000000ull,
        .inject_interrupt = (take8() & 1) ? p_inject : NULL, .emit_event = p_event, .force_guest_off = p_force,
        .log = p_log,
    };
    guest_service_init(service, &platform, region, 0x10000000ull);

    volatile struct vigil_status_page *status = (volatile struct vigil_status_page *)(void *)region;
    volatile struct vigil_message *request = (volatile struct vigil_message *)(void *)(region + VIGIL_REQUEST_SLOT_OFFSET);
    volatile struct vigil_message *response =
        (volatile struct vigil_message *)(void *)(region + VIGIL_RESPONSE_SLOT_OFFSET);
    uint32_t last_id = 0;

    /* Usually start from a plausible registration so the requests get through. */
    if (take8() & 1) {
        status->registration_sequence = 2;
        status->additions_abi_version = VIGIL_ABI_VERSION;
        status->capabilities = take32();
        status->agent_state = VIGIL_AGENT_RUNNING;
        status->request_interrupt_vector = take8();
        guest_service_tick(service);
    }

    unsigned steps = 0;
    while (input_left && steps++ < 1024) {
        uint8_t action = take8();
        switch (action % 10) {
        case 0: { /* a well-formed header aimed at the request in flight, fuzzed fields and payload */
            response->sequence = (action & 0x10) ? take32() : request->sequence;
            if (action & 0x20) { /* host ops 0..15, or the guest-initiated REGISTER / EVENT */
                uint8_t op = take8();
                response->operation = (op & 0x80) ? (uint16_t)(VIGIL_OP_REGISTER | (op & 1u)) : (uint16_t)(op & 0x0Fu);
            } else {
                response->operation = request->operation;
            }
            response->flags = take8() & 0x0F;
            response->status = (action & 0x40) ? take32() : VIGIL_S_OK;
            response->chunk = take8() & 3u;
            uint32_t length = take8();
            if (action & 0x80)
                length |= (uint32_t)take8() << 8;
            length %= VIGIL_MESSAGE_PAYLOAD_MAX + 1;
            response->length = length;
            for (uint32_t i = 0; i < length; i++)
                response->payload[i] = input_left ? take8() : (uint8_t)(i % 3 ? 'a' : 0);
            uint32_t result = guest_service_doorbell(service);
            if (result > VIGIL_DOORBELL_REJECTED || status->doorbell_result != result)
                abort();
            break;
        }
        case 1: { /* raw bytes in the response slot, then the doorbell */
            uint16_t length = (uint16_t)(take8() | (take8() << 8));
            size_t n = take_bytes(response, length % (VIGIL_PAGE_SIZE + 1));
            (void)n;
            if (action & 0x10) { /* aim at the request in flight to get past the sequence check */
                response->sequence = request->sequence;
                response->operation = request->operation;
            }
            if (action & 0x20)
                response->length %= VIGIL_MESSAGE_PAYLOAD_MAX + 1;
            uint32_t result = guest_service_doorbell(service);
            if (result > VIGIL_DOORBELL_REJECTED || status->doorbell_result != result)
                abort();
            break;
        }
        case 2: /* time passes */
            now_ms += (uint64_t)take8() * ((action & 0x10) ? 1000u : 10u);
            guest_service_tick(service);
            break;
        case 3:
        case 4: issue(service, &last_id); break;
        case 5: /* arbitrary registration fields (heartbeat counter .. computer name) */
            take_bytes((volatile uint8_t *)region + offsetof(struct vigil_status_page, heartbeat_counter),
                       offsetof(struct vigil_status_page, host_flags) -
                           offsetof(struct vigil_status_page, heartbeat_counter));
            if (action & 0x10)
                guest_service_tick(service);
            break;
        case 6: status->heartbeat_counter = status->heartbeat_counter + take8(); break;
        case 7: read_properties(service); break;
        case 8:
            if (action & 0x10)
                guest_service_set_time_sync(service, action & 0x20);
            else if (action & 0x20)
                guest_service_set_heartbeat_failure_interval(service, take32());
            else
                guest_service_offer_additions(service, take32(), take8() * 4096u, "fuzz-1.0");
            break;
        default:
            if (action == 249) /* a doorbell storm: the rate limit */
                for (unsigned i = 0; i < GUEST_SERVICE_DOORBELLS_PER_SECOND_MAX + 10; i++)
                    guest_service_doorbell(service);
            else if (action == 239)
                guest_service_guest_stopped(service, (take8() & 1) ? GUEST_EVENT_TRIPLE_FAULT : GUEST_EVENT_GUEST_SHUTDOWN,
                                            "fuzz");
            else
                guest_service_tick(service);
            break;
        }
        /* host-written fields the service owns */
        if (status->magic != VIGIL_STATUS_MAGIC)
            abort();
        if (status->time.sequence & 1u)
            abort();
        const struct guest_service_statistics *stats = guest_service_get_statistics(service);
        if (stats->messages_rejected > stats->doorbells || stats->replies_unsolicited > stats->messages_rejected)
            abort();
    }

    /* The end: every accepted request completes exactly once. */
    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "end");
    for (uint32_t id = 0; id < TRACKED_MAX; id++)
        if (request_state[id] == 1)
            abort();
    read_properties(service);
    return 0;
}
