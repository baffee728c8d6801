/*
 * The vigil guest Additions library: see additions.h for the API and the
 * protocol decisions. Freestanding; the shared region is only ever touched
 * through volatile pointers, and a compiler barrier separates the steps of each
 * protocol (x86 keeps stores in order and loads in order, so on x86 a compiler
 * barrier is all the ordering the sequence protocols need).
 *
 * Three files, so each environment takes what it can build: this one (discovery,
 * registration, heartbeat, messages, time), additions_requests.c (request
 * parsing, dispatch, poll) and additions_bare.c (the bare x86 platform, for
 * guests without an OS; a Linux program brings its own, guest-svc/additions/linux/).
 */
#include "guest-svc/additions/additions.h"
#include "guest-svc/additions/additions_internal.h"

/* ---- small freestanding helpers ----------------------------------------------- */

size_t additions_bounded_length(const char *text, size_t max)
{
    size_t length = 0;
    if (!text)
        return 0;
    while (length < max && text[length])
        length++;
    return length;
}

/* Copies text into a fixed field of `size` bytes: at most size - 1 characters, NUL,
 * the rest zero (no stale bytes from an earlier registration). */
static void put_field(volatile char *field, size_t size, const char *text)
{
    size_t length = additions_bounded_length(text, size - 1);
    for (size_t i = 0; i < size; i++)
        field[i] = i < length ? text[i] : '\0';
}

static void copy_to_shared(volatile uint8_t *destination, const uint8_t *source, size_t length)
{
    for (size_t i = 0; i < length; i++)
        destination[i] = source[i];
}

void additions_copy_from_shared(uint8_t *destination, const volatile uint8_t *source, size_t length)
{
    for (size_t i = 0; i < length; i++)
        destination[i] = source[i];
}

const char *vigil_additions_error_string(enum vigil_additions_error error)
{
    switch (error) {
    case VIGIL_ADDITIONS_OK: return "ok";
    case VIGIL_ADDITIONS_ERROR_NO_HYPERVISOR: return "no vigil signature in CPUID 0x40000000";
    case VIGIL_ADDITIONS_ERROR_MAX_LEAF: return "the hypervisor has no CPUID leaf 0x40000002";
    case VIGIL_ADDITIONS_ERROR_ABI_MAJOR: return "unsupported ABI major version";
    case VIGIL_ADDITIONS_ERROR_NO_DOORBELL: return "no doorbell port advertised";
    case VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION: return "no shared region advertised";
    case VIGIL_ADDITIONS_ERROR_REGION_TOO_SMALL: return "shared region too small";
    case VIGIL_ADDITIONS_ERROR_REGION_UNALIGNED: return "shared region not page aligned";
    case VIGIL_ADDITIONS_ERROR_MAP_FAILED: return "cannot map the shared region";
    case VIGIL_ADDITIONS_ERROR_BAD_STATUS_PAGE: return "bad status page (magic or ABI version)";
    case VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED: return "vigil not discovered";
    case VIGIL_ADDITIONS_ERROR_NOT_REGISTERED: return "Additions not registered";
    case VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case VIGIL_ADDITIONS_ERROR_RATE_LIMITED: return "doorbell rate limited (retries exhausted)";
    case VIGIL_ADDITIONS_ERROR_REJECTED: return "message rejected by the hypervisor";
    case VIGIL_ADDITIONS_ERROR_DOORBELL_RESULT: return "unknown doorbell result";
    case VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED: return "request already answered";
    }
    return "unknown error";
}

/* ---- discovery ------------------------------------------------------------------------ */

enum vigil_additions_error vigil_additions_discover(struct vigil_additions *a,
                                                    const struct vigil_additions_platform *platform)
{
    if (!a || !platform || !platform->cpuid || !platform->map_physical || !platform->doorbell || !platform->read_tsc)
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    *a = (struct vigil_additions){ .platform = *platform };

    uint32_t r[4];
    a->platform.cpuid(a->platform.context, VIGIL_CPUID_LEAF_SIGNATURE, 0, r);
    if (r[1] != VIGIL_CPUID_SIGNATURE_EBX || r[2] != VIGIL_CPUID_SIGNATURE_ECX || r[3] != VIGIL_CPUID_SIGNATURE_EDX)
        return VIGIL_ADDITIONS_ERROR_NO_HYPERVISOR;
    if (r[0] < VIGIL_CPUID_LEAF_SHARED_REGION || r[0] - VIGIL_CPUID_LEAF_SIGNATURE >= 0x100)
        return VIGIL_ADDITIONS_ERROR_MAX_LEAF;

    a->platform.cpuid(a->platform.context, VIGIL_CPUID_LEAF_FEATURES, 0, r);
    a->hypervisor_abi_version = r[0];
    a->features = r[1];
    if (r[0] >> 16 != VIGIL_ABI_VERSION_MAJOR)
        return VIGIL_ADDITIONS_ERROR_ABI_MAJOR;
    if (!(r[1] & VIGIL_FEATURE_DOORBELL) || r[2] == 0 || r[2] > 0xFFFF)
        return VIGIL_ADDITIONS_ERROR_NO_DOORBELL;
    a->doorbell_port = (uint16_t)r[2];
    if (!(r[1] & VIGIL_FEATURE_SHARED_REGION))
        return VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION;

    a->platform.cpuid(a->platform.context, VIGIL_CPUID_LEAF_SHARED_REGION, 0, r);
    a->region_address = ((uint64_t)r[1] << 32) | r[0];
    a->region_size = r[2];
    if (a->region_address == 0 || a->region_size == 0)
        return VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION;
    if (a->region_size < VIGIL_SHARED_REGION_SIZE)
        return VIGIL_ADDITIONS_ERROR_REGION_TOO_SMALL;
    if (a->region_address % VIGIL_PAGE_SIZE != 0)
        return VIGIL_ADDITIONS_ERROR_REGION_UNALIGNED;

    volatile uint8_t *region = a->platform.map_physical(a->platform.context, a->region_address,
                                                        VIGIL_SHARED_REGION_SIZE, true);
    if (!region)
        return VIGIL_ADDITIONS_ERROR_MAP_FAILED;
    a->status = (volatile struct vigil_status_page *)(region + VIGIL_STATUS_PAGE_OFFSET);
    a->request_slot = (volatile struct vigil_message *)(region + VIGIL_REQUEST_SLOT_OFFSET);
    a->response_slot = (volatile struct vigil_message *)(region + VIGIL_RESPONSE_SLOT_OFFSET);
    if (a->status->magic != VIGIL_STATUS_MAGIC || a->status->abi_version >> 16 != VIGIL_ABI_VERSION_MAJOR)
        return VIGIL_ADDITIONS_ERROR_BAD_STATUS_PAGE;
    a->discovered = true;
    return VIGIL_ADDITIONS_OK;
}

/* ---- sending messages ------------------------------------------------------------------ */

static void back_off(struct vigil_additions *a, uint32_t milliseconds)
{
    if (a->platform.wait_ms) {
        a->platform.wait_ms(a->platform.context, milliseconds);
        return;
    }
    uint64_t frequency = vigil_additions_tsc_frequency(a);
    if (frequency == 0)
        frequency = 1000000000u;
    uint64_t cycles = frequency / 1000u * milliseconds;
    uint64_t start = a->platform.read_tsc(a->platform.context);
    while (a->platform.read_tsc(a->platform.context) - start < cycles) {
    }
}

/* One message in the response slot, one doorbell; the same message again after a
 * wait while the hypervisor answers RATE_LIMITED. */
static enum vigil_additions_error send_message(struct vigil_additions *a, uint32_t sequence, uint16_t operation,
                                               uint16_t flags, uint32_t status, uint32_t chunk, const void *payload,
                                               size_t length)
{
    if (!a->discovered)
        return VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED;
    if (length > VIGIL_MESSAGE_PAYLOAD_MAX || (length && !payload))
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    volatile struct vigil_message *m = a->response_slot;
    for (uint32_t attempt = 0;; attempt++) {
        m->sequence = sequence;
        m->operation = operation;
        m->flags = flags;
        m->status = status;
        m->length = (uint32_t)length;
        m->chunk = chunk;
        m->reserved = 0;
        copy_to_shared(m->payload, payload, length);
        BARRIER();
        a->platform.doorbell(a->platform.context, a->doorbell_port);
        a->statistics.doorbells++;
        BARRIER();
        uint32_t result = a->status->doorbell_result;
        switch (result) {
        case VIGIL_DOORBELL_ACCEPTED:
            return VIGIL_ADDITIONS_OK;
        case VIGIL_DOORBELL_REJECTED:
            a->statistics.rejected++;
            return VIGIL_ADDITIONS_ERROR_REJECTED;
        case VIGIL_DOORBELL_RATE_LIMITED:
            if (attempt >= VIGIL_ADDITIONS_RATE_LIMIT_RETRIES)
                return VIGIL_ADDITIONS_ERROR_RATE_LIMITED;
            a->statistics.rate_limited_retries++;
            back_off(a, VIGIL_ADDITIONS_RATE_LIMIT_WAIT_MS);
            break;
        default:
            return VIGIL_ADDITIONS_ERROR_DOORBELL_RESULT;
        }
    }
}

/* ---- registration, heartbeat, flags --------------------------------------------------- */

static void registration_begin(struct vigil_additions *a)
{
    uint32_t sequence = a->status->registration_sequence;
    a->status->registration_sequence = sequence | 1u; /* odd: being written */
    BARRIER();
}

static void registration_end(struct vigil_additions *a)
{
    BARRIER();
    a->status->registration_sequence = (a->status->registration_sequence | 1u) + 1u; /* next even */
    BARRIER();
}

enum vigil_additions_error vigil_additions_register(struct vigil_additions *a, const char *version,
                                                    const char *os_name, const char *computer_name,
                                                    uint32_t capabilities, uint32_t period_ms, uint32_t guest_flags)
{
    if (!a || !a->discovered)
        return VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED;
    if (period_ms != 0 && (period_ms < VIGIL_HEARTBEAT_PERIOD_MIN_MS || period_ms > VIGIL_HEARTBEAT_PERIOD_MAX_MS))
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    volatile struct vigil_status_page *s = a->status;
    s->agent_state = VIGIL_AGENT_STARTING;
    registration_begin(a);
    s->heartbeat_period_ms = period_ms;
    s->additions_abi_version = VIGIL_ABI_VERSION;
    s->capabilities = capabilities;
    s->guest_flags = guest_flags;
    s->request_interrupt_vector = 0;
    s->reserved1 = 0;
    put_field(s->additions_version, sizeof s->additions_version, version);
    put_field(s->os_name, sizeof s->os_name, os_name);
    put_field(s->computer_name, sizeof s->computer_name, computer_name);
    registration_end(a);
    s->agent_state = VIGIL_AGENT_RUNNING;
    a->heartbeat = s->heartbeat_counter; /* continue from an earlier agent's count: never backwards */
    enum vigil_additions_error error = send_message(a, 0, VIGIL_OP_REGISTER, 0, VIGIL_S_OK, 0, NULL, 0);
    if (error == VIGIL_ADDITIONS_OK)
        a->registered = true;
    return error;
}

/*
 * The heartbeat counter is 64 bits and the hypervisor samples it with one 64-bit
 * load at any moment, so the guest's update must be one 64-bit store: two 32-bit
 * stores (low, then high) could be sampled between them, and at a carry out of
 * the low half the host would see the counter jump back by 2^32 (or ahead by
 * 2^32 with high-then-low) — a false "backwards"/"jump" anomaly.
 *
 * x86-64: a naturally aligned 8-byte MOV is atomic; __atomic_store_n makes sure
 * the compiler emits exactly one.
 * i386 with -mgeneral-regs-only (no SSE MOVQ, no x87 FILD/FISTP): LOCK
 * CMPXCHG8B, the only 8-byte atomic write among the general-purpose
 * instructions (Pentium and later). The guest is the only writer, so the first
 * compare normally succeeds; when it fails (our hint is stale, e.g. an earlier
 * agent left a count), CMPXCHG8B loads the current value into EDX:EAX and the
 * loop stores that + 1. A locked access to ordinary RAM causes no VM exit.
 * Either way the counter increments from the value in memory, never resets.
 */
#if defined(__i386__)
static uint64_t heartbeat_increment(volatile uint64_t *counter, uint64_t expected)
{
    for (;;) {
        uint64_t desired = expected + 1;
        uint8_t stored;
        __asm__ volatile("lock cmpxchg8b %1\n\tsete %0"
                         : "=q"(stored), "+m"(*counter), "+A"(expected)
                         : "b"((uint32_t)desired), "c"((uint32_t)(desired >> 32))
                         : "memory", "cc");
        if (stored)
            return desired;
        /* expected now holds the counter's current value */
    }
}
#else
static uint64_t heartbeat_increment(volatile uint64_t *counter, uint64_t expected)
{
    (void)expected;
    uint64_t value = __atomic_load_n(counter, __ATOMIC_RELAXED) + 1;
    __atomic_store_n(counter, value, __ATOMIC_RELEASE);
    return value;
}
#endif

void vigil_additions_beat(struct vigil_additions *a)
{
    if (!a || !a->discovered)
        return;
    a->heartbeat = heartbeat_increment(&a->status->heartbeat_counter, a->heartbeat);
}

enum vigil_additions_error vigil_additions_set_shutdown_locked(struct vigil_additions *a, bool locked)
{
    if (!a || !a->discovered)
        return VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED;
    /* One aligned 32-bit store, which the host reads live (CanShutdown). Not under
     * registration_sequence: the host treats a new even sequence as a new
     * registration (and reports "additions-registered" again). */
    uint32_t flags = a->status->guest_flags;
    a->status->guest_flags =
        locked ? flags | VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED : flags & ~VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED;
    BARRIER();
    return VIGIL_ADDITIONS_OK;
}

enum vigil_additions_error vigil_additions_set_state(struct vigil_additions *a, uint32_t state)
{
    if (!a || !a->discovered)
        return VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED;
    if (state > VIGIL_AGENT_STOPPING)
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    a->status->agent_state = state;
    return VIGIL_ADDITIONS_OK;
}

uint32_t vigil_additions_host_flags(const struct vigil_additions *a)
{
    return a && a->discovered ? a->status->host_flags : 0;
}

/* ---- time ------------------------------------------------------------------------------------ */

#define TIME_READ_ATTEMPTS 10000u

/* One consistent snapshot of the time record, and the TSC read inside it. */
static bool read_time_record(struct vigil_additions *a, struct vigil_time_record *out, uint64_t *tsc_now)
{
    volatile struct vigil_time_record *t = &a->status->time;
    for (uint32_t attempt = 0; attempt < TIME_READ_ATTEMPTS; attempt++) {
        uint32_t before = t->sequence;
        if (before & 1u)
            continue;
        BARRIER();
        out->tsc_timestamp = t->tsc_timestamp;
        out->unix_time_ns = t->unix_time_ns;
        out->tsc_frequency_hz = t->tsc_frequency_hz;
        if (tsc_now)
            *tsc_now = a->platform.read_tsc(a->platform.context);
        BARRIER();
        if (t->sequence == before) {
            out->sequence = before;
            return true;
        }
    }
    return false;
}

uint64_t vigil_additions_tsc_frequency(struct vigil_additions *a)
{
    struct vigil_time_record record;
    if (!a || !a->discovered || !read_time_record(a, &record, NULL))
        return 0;
    return record.tsc_frequency_hz;
}

bool vigil_additions_host_time(struct vigil_additions *a, uint64_t *unix_ns)
{
    if (!a || !a->discovered || !unix_ns || !(a->status->host_flags & VIGIL_HOST_FLAG_TIME_SYNC))
        return false;
    struct vigil_time_record record;
    uint64_t now;
    if (!read_time_record(a, &record, &now) || record.tsc_frequency_hz == 0)
        return false;
    /* delta * 1e9 / frequency without overflow for deltas of years: whole
     * seconds, then the remainder (< frequency; fine below ~18 GHz). */
    uint64_t delta = now > record.tsc_timestamp ? now - record.tsc_timestamp : 0;
    uint64_t frequency = record.tsc_frequency_hz;
    uint64_t seconds = delta / frequency, remainder = delta % frequency;
    *unix_ns = record.unix_time_ns + seconds * 1000000000u + remainder * 1000000000u / frequency;
    return true;
}

/* ---- answers ------------------------------------------------------------------------------- */

enum vigil_additions_error vigil_additions_reply(struct vigil_additions *a, struct vigil_additions_request *request,
                                                 uint32_t status, const void *payload, size_t length)
{
    if (!a || !request)
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    if (request->answered)
        return VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED;
    if (length > VIGIL_MESSAGE_PAYLOAD_MAX)
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    enum vigil_additions_error error = send_message(a, request->sequence, request->operation, 0, status,
                                                    request->next_chunk, payload, length);
    if (error != VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED && error != VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT) {
        request->answered = true; /* sent, or given up on: never a second final message */
        request->next_chunk++;
    }
    return error;
}

enum vigil_additions_error vigil_additions_stream(struct vigil_additions *a, struct vigil_additions_request *request,
                                                  uint32_t stream_flags, const void *data, size_t length)
{
    if (!a || !request || (length && !data) || (stream_flags & ~(VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_STDERR)))
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    if (request->answered)
        return VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED;
    const uint8_t *bytes = data;
    while (length > 0) {
        size_t chunk_length = length < VIGIL_MESSAGE_PAYLOAD_MAX ? length : VIGIL_MESSAGE_PAYLOAD_MAX;
        enum vigil_additions_error error =
            send_message(a, request->sequence, request->operation, (uint16_t)(stream_flags | VIGIL_MESSAGE_MORE),
                         VIGIL_S_OK, request->next_chunk, bytes, chunk_length);
        if (error != VIGIL_ADDITIONS_OK) {
            if (error != VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED)
                request->answered = true; /* abandoned: the host has dropped (or will time out) this request */
            return error;
        }
        request->next_chunk++;
        bytes += chunk_length;
        length -= chunk_length;
    }
    return VIGIL_ADDITIONS_OK;
}

enum vigil_additions_error vigil_additions_execute_finish(struct vigil_additions *a,
                                                          struct vigil_additions_request *request, int32_t exit_code,
                                                          uint32_t execute_flags)
{
    struct vigil_execute_result result = { .exit_code = exit_code, .flags = execute_flags };
    return vigil_additions_reply(a, request, VIGIL_S_OK, &result, sizeof result);
}

enum vigil_additions_error vigil_additions_send_event(struct vigil_additions *a, uint32_t code)
{
    if (!a)
        return VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT;
    if (!a->registered)
        return VIGIL_ADDITIONS_ERROR_NOT_REGISTERED;
    struct vigil_guest_event event = { .code = code, .reserved = 0 };
    return send_message(a, 0, VIGIL_OP_EVENT, 0, VIGIL_S_OK, 0, &event, sizeof event);
}

