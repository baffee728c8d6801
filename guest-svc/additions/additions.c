/*
 * The vigil guest Additions library: see additions.h for the API and the
 * protocol decisions. Freestanding; the shared region is only ever touched
 * through volatile pointers, and a compiler barrier separates the steps of each
 * protocol (x86 keeps stores in order and loads in order, so on x86 a compiler
 * barrier is all the ordering the sequence protocols need).
 */
#include "guest-svc/additions/additions.h"

#define BARRIER() __asm__ volatile("" ::: "memory")

/* ---- small freestanding helpers ----------------------------------------------- */

static size_t bounded_length(const char *text, size_t max)
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
    size_t length = bounded_length(text, size - 1);
    for (size_t i = 0; i < size; i++)
        field[i] = i < length ? text[i] : '\0';
}

static void copy_to_shared(volatile uint8_t *destination, const uint8_t *source, size_t length)
{
    for (size_t i = 0; i < length; i++)
        destination[i] = source[i];
}

static void copy_from_shared(uint8_t *destination, const volatile uint8_t *source, size_t length)
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

/* ---- the bare x86 platform --------------------------------------------------------- */

#if defined(__i386__) || defined(__x86_64__)
static void bare_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    (void)context;
    __asm__ volatile("cpuid"
                     : "=a"(registers[0]), "=b"(registers[1]), "=c"(registers[2]), "=d"(registers[3])
                     : "a"(leaf), "c"(subleaf));
}

static volatile void *bare_map_physical(void *context, uint64_t address, size_t size, bool writable)
{
    (void)context;
    (void)writable;
    if (address == 0 || size == 0 || address > (uint64_t)UINTPTR_MAX || size - 1 > (uint64_t)UINTPTR_MAX - address)
        return NULL;
    uintptr_t pointer = (uintptr_t)address;
    __asm__("" : "+r"(pointer)); /* hide the constant address from gcc's object-bounds analysis */
    return (volatile void *)pointer;
}

static void bare_doorbell(void *context, uint16_t port)
{
    (void)context;
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)VIGIL_DOORBELL_RING), "Nd"(port) : "memory");
}

static uint64_t bare_read_tsc(void *context)
{
    (void)context;
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

void vigil_additions_bare_platform(struct vigil_additions_platform *platform)
{
    *platform = (struct vigil_additions_platform){
        .context = NULL,
        .cpuid = bare_cpuid,
        .map_physical = bare_map_physical,
        .doorbell = bare_doorbell,
        .read_tsc = bare_read_tsc,
        .wait_ms = NULL,
    };
}
#endif

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

/* ---- request parsing (hostile input) --------------------------------------------------------- */

/* The NUL-terminated string at *offset inside payload[0..length): its pointer, and
 * *offset moved past its NUL; NULL if no NUL before the end. */
static const char *take_string(const struct vigil_additions_request *request, uint32_t *offset)
{
    if (*offset >= request->length)
        return NULL;
    const char *start = (const char *)request->payload + *offset;
    for (uint32_t i = *offset; i < request->length; i++) {
        if (request->payload[i] == '\0') {
            *offset = i + 1;
            return start;
        }
    }
    return NULL;
}

bool vigil_additions_parse_execute(const struct vigil_additions_request *request, struct vigil_additions_command *c)
{
    struct vigil_execute_request header;
    if (request->length < sizeof header)
        return false;
    copy_from_shared((uint8_t *)&header, request->payload, sizeof header);
    if (header.argc < 1 || header.argc > VIGIL_EXECUTE_ARGUMENTS_MAX ||
        header.env_count > VIGIL_EXECUTE_ARGUMENTS_MAX || header.cwd_present > 1)
        return false;
    uint32_t offset = sizeof header;
    c->argc = header.argc;
    c->env_count = header.env_count;
    c->timeout_ms = header.timeout_ms;
    c->cwd = NULL;
    for (uint32_t i = 0; i < header.argc; i++) {
        if (!(c->argv[i] = take_string(request, &offset)))
            return false;
    }
    if (c->argv[0][0] == '\0')
        return false; /* no program */
    for (uint32_t i = 0; i < header.env_count; i++) {
        if (!(c->env[i] = take_string(request, &offset)))
            return false;
    }
    if (header.cwd_present && !(c->cwd = take_string(request, &offset)))
        return false;
    return true;
}

static bool parameter_name_valid(const char *name)
{
    size_t length = 0;
    for (; name[length]; length++) {
        unsigned char ch = (unsigned char)name[length];
        if (ch == '\\' || ch < 0x20 || ch == 0x7F || length >= VIGIL_PARAMETER_NAME_MAX)
            return false;
    }
    return length >= 1;
}

bool vigil_additions_parse_parameter(const struct vigil_additions_request *request, bool with_value,
                                     const char **name, const char **value)
{
    uint32_t offset = 0;
    *name = take_string(request, &offset);
    if (!*name || !parameter_name_valid(*name))
        return false;
    if (!with_value)
        return true;
    *value = take_string(request, &offset);
    return *value && bounded_length(*value, VIGIL_PARAMETER_VALUE_MAX + 1) <= VIGIL_PARAMETER_VALUE_MAX;
}

bool vigil_additions_parse_shutdown(const struct vigil_additions_request *request, struct vigil_additions_shutdown *s)
{
    struct vigil_shutdown_request header;
    if (request->length < sizeof header)
        return false;
    copy_from_shared((uint8_t *)&header, request->payload, sizeof header);
    s->flags = header.flags;
    s->timeout_ms = header.timeout_ms;
    s->reason = "";
    if (request->length == sizeof header)
        return true;
    uint32_t offset = sizeof header;
    const char *reason = take_string(request, &offset);
    if (!reason || bounded_length(reason, VIGIL_SHUTDOWN_REASON_MAX + 1) > VIGIL_SHUTDOWN_REASON_MAX)
        return false;
    s->reason = reason;
    return true;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static void answer_list(struct vigil_additions *a, struct vigil_additions_request *request,
                        const struct vigil_additions_handlers *h)
{
    /* Whole names per chunk; the last chunk (no MORE) may be empty. */
    uint8_t *buffer = a->scratch;
    size_t used = 0;
    for (uint32_t index = 0; index < 1000000u; index++) {
        const char *name = NULL;
        if (!h->list_parameter(h->context, index, &name))
            break;
        size_t length = bounded_length(name, VIGIL_PARAMETER_NAME_MAX + 1);
        if (length == 0 || length > VIGIL_PARAMETER_NAME_MAX)
            continue; /* not a valid name: the host would reject it */
        if (used + length + 1 > VIGIL_MESSAGE_PAYLOAD_MAX) {
            if (vigil_additions_stream(a, request, 0, buffer, used) != VIGIL_ADDITIONS_OK)
                return;
            used = 0;
        }
        for (size_t i = 0; i < length; i++)
            buffer[used++] = (uint8_t)name[i];
        buffer[used++] = 0;
    }
    vigil_additions_reply(a, request, VIGIL_S_OK, buffer, used);
}

static void answer_install(struct vigil_additions *a, struct vigil_additions_request *request,
                           const struct vigil_additions_handlers *h)
{
    struct vigil_additions_package package = { 0 };
    volatile struct vigil_status_page *s = a->status;
    if (s->host_flags & VIGIL_HOST_FLAG_ADDITIONS_OFFERED) {
        package.address = s->additions_package_address;
        package.size = s->additions_package_size;
        for (size_t i = 0; i + 1 < sizeof package.version; i++)
            package.version[i] = s->additions_package_version[i];
        package.version[sizeof package.version - 1] = '\0';
        if (package.address != 0 && package.size != 0 && package.size <= VIGIL_ADDITIONS_PACKAGE_SIZE_MAX) {
            package.offered = true;
            package.data = a->platform.map_physical(a->platform.context, package.address, package.size, false);
        }
    }
    vigil_additions_reply(a, request, h->install_additions(h->context, &package), NULL, 0);
}

static void dispatch(struct vigil_additions *a, struct vigil_additions_request *request,
                     const struct vigil_additions_handlers *h)
{
    const char *name, *value;
    switch (request->operation) {
    case VIGIL_OP_NOP:
        vigil_additions_reply(a, request, VIGIL_S_OK, NULL, 0);
        return;
    case VIGIL_OP_EXECUTE: {
        if (!h->execute)
            break;
        struct vigil_additions_command command;
        if (!vigil_additions_parse_execute(request, &command)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        if (a->executing) {
            vigil_additions_reply(a, request, VIGIL_E_BUSY, NULL, 0);
            return;
        }
        a->executing = true;
        h->execute(h->context, a, request, &command);
        a->executing = false;
        if (!request->answered)
            vigil_additions_reply(a, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    case VIGIL_OP_KILL:
        if (!h->kill)
            break;
        vigil_additions_reply(a, request, h->kill(h->context), NULL, 0);
        return;
    case VIGIL_OP_SET_PARAMETER:
    case VIGIL_OP_GET_PARAMETER: {
        bool set = request->operation == VIGIL_OP_SET_PARAMETER;
        if (set ? !h->set_parameter : !h->get_parameter)
            break;
        if (!vigil_additions_parse_parameter(request, set, &name, &value)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        if (set) {
            vigil_additions_reply(a, request, h->set_parameter(h->context, name, value), NULL, 0);
            return;
        }
        char *buffer = (char *)a->scratch;
        buffer[0] = '\0';
        uint32_t status = h->get_parameter(h->context, name, buffer, VIGIL_PARAMETER_VALUE_MAX + 1);
        buffer[VIGIL_PARAMETER_VALUE_MAX] = '\0';
        if (status == VIGIL_S_OK)
            vigil_additions_reply(a, request, status, buffer, bounded_length(buffer, VIGIL_PARAMETER_VALUE_MAX) + 1);
        else
            vigil_additions_reply(a, request, status, NULL, 0);
        return;
    }
    case VIGIL_OP_LIST_PARAMETERS:
        if (!h->list_parameter)
            break;
        answer_list(a, request, h);
        return;
    case VIGIL_OP_SHUTDOWN: {
        if (!h->shutdown)
            break;
        struct vigil_additions_shutdown shutdown;
        if (!vigil_additions_parse_shutdown(request, &shutdown)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        h->shutdown(h->context, a, request, &shutdown);
        if (!request->answered)
            vigil_additions_reply(a, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    case VIGIL_OP_INSTALL_ADDITIONS:
        if (!h->install_additions)
            break;
        answer_install(a, request, h);
        return;
    default:
        break;
    }
    vigil_additions_reply(a, request, VIGIL_E_NOTIMPL, NULL, 0);
}

int vigil_additions_poll(struct vigil_additions *a, const struct vigil_additions_handlers *handlers)
{
    if (!a || !handlers || !a->registered)
        return 0;
    volatile struct vigil_message *slot = a->request_slot;
    if (!(a->status->host_flags & VIGIL_HOST_FLAG_REQUEST_PENDING))
        return 0;
    BARRIER();
    uint32_t sequence = slot->sequence;
    if (sequence == 0 || sequence == a->last_request_sequence)
        return 0;
    BARRIER();
    if (a->depth >= VIGIL_ADDITIONS_NESTING_MAX) {
        /* No buffer to copy it into: answer from the header alone. */
        struct vigil_additions_request busy = { .sequence = sequence, .operation = slot->operation };
        BARRIER();
        if (slot->sequence != sequence)
            return 0;
        a->last_request_sequence = sequence;
        a->statistics.requests++;
        vigil_additions_reply(a, &busy, VIGIL_E_BUSY, NULL, 0);
        return 1;
    }

    /* Copy it out once; if the host rewrote the slot meanwhile, take it next time. */
    struct vigil_additions_request *request = &a->requests[a->depth];
    request->sequence = sequence;
    request->operation = slot->operation;
    request->flags = slot->flags;
    request->length = slot->length;
    request->next_chunk = 0;
    request->answered = false;
    bool oversized = request->length > VIGIL_MESSAGE_PAYLOAD_MAX;
    if (oversized)
        request->length = 0;
    copy_from_shared(request->payload, slot->payload, request->length);
    request->payload[request->length] = 0;
    BARRIER();
    if (slot->sequence != sequence) {
        a->statistics.requests_torn++;
        return 0;
    }
    a->last_request_sequence = sequence;
    a->statistics.requests++;
    if (oversized) {
        a->statistics.requests_malformed++;
        vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
        return 1;
    }
    a->depth++;
    dispatch(a, request, handlers);
    a->depth--;
    return 1;
}
