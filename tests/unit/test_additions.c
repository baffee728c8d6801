/*
 * Unit tests for guest-svc/additions/additions.c, the guest Additions library,
 * on the host: a fake platform whose "guest-physical memory" is a host buffer
 * holding a shared region, whose CPUID answers from a table, and whose doorbell
 * records the response slot and answers from a script of doorbell results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest-svc/additions/additions.h"

#define REGION_ADDRESS 0x7F000000ull
#define PACKAGE_ADDRESS 0x7F100000ull
#define MESSAGES_MAX 4096u
#define SCRIPT_MAX 4096u

static uint8_t region[VIGIL_SHARED_REGION_SIZE] __attribute__((aligned(4096)));
static uint8_t package[1000];
static volatile struct vigil_status_page *const status = (volatile struct vigil_status_page *)region;
static volatile struct vigil_message *const request_slot =
    (volatile struct vigil_message *)(region + VIGIL_REQUEST_SLOT_OFFSET);
static volatile struct vigil_message *const response_slot =
    (volatile struct vigil_message *)(region + VIGIL_RESPONSE_SLOT_OFFSET);

/* What the fake hypervisor answers and records. */
static struct {
    uint32_t leaves[3][4];
    bool map_fails;
    struct vigil_message messages[MESSAGES_MAX];
    uint32_t message_count;
    uint32_t script[SCRIPT_MAX]; /* doorbell results, in order; past the end: ACCEPTED */
    uint32_t script_length;
    uint32_t registration_sequence_at_doorbell;
    uint32_t waits;
    uint64_t tsc;
    uint32_t tsc_reads;
    int tear_time_on_tsc_read; /* > 0: bump the time sequence on that many TSC reads */
    void (*on_doorbell)(void);
} fake;

static struct vigil_additions additions;

static void fake_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    (void)context;
    (void)subleaf;
    memset(registers, 0, 4 * sizeof(uint32_t));
    if (leaf >= VIGIL_CPUID_LEAF_SIGNATURE && leaf <= VIGIL_CPUID_LEAF_SHARED_REGION)
        memcpy(registers, fake.leaves[leaf - VIGIL_CPUID_LEAF_SIGNATURE], 4 * sizeof(uint32_t));
}

static volatile void *fake_map(void *context, uint64_t address, size_t size, bool writable)
{
    (void)context;
    if (fake.map_fails)
        return NULL;
    if (address == REGION_ADDRESS && size <= sizeof region && writable)
        return region;
    if (address == PACKAGE_ADDRESS && size <= sizeof package && !writable)
        return package;
    return NULL;
}

static void fake_doorbell(void *context, uint16_t port)
{
    (void)context;
    assert_int_equal(port, VIGIL_DOORBELL_PORT);
    assert_true(fake.message_count < MESSAGES_MAX);
    struct vigil_message *m = &fake.messages[fake.message_count++];
    memcpy(m, (const void *)response_slot, sizeof *m);
    fake.registration_sequence_at_doorbell = status->registration_sequence;
    uint32_t index = fake.message_count - 1;
    status->doorbell_result = index < fake.script_length ? fake.script[index] : VIGIL_DOORBELL_ACCEPTED;
    status->doorbell_count++;
    if (fake.on_doorbell)
        fake.on_doorbell();
}

static uint64_t fake_read_tsc(void *context)
{
    (void)context;
    fake.tsc_reads++;
    if (fake.tear_time_on_tsc_read > 0) {
        fake.tear_time_on_tsc_read--;
        status->time.sequence += 2; /* the host rewrote the record during the read */
    }
    return fake.tsc;
}

static void fake_wait(void *context, uint32_t milliseconds)
{
    (void)context;
    assert_true(milliseconds > 0);
    fake.waits++;
}

static const struct vigil_additions_platform platform = {
    .context = NULL,
    .cpuid = fake_cpuid,
    .map_physical = fake_map,
    .doorbell = fake_doorbell,
    .read_tsc = fake_read_tsc,
    .wait_ms = fake_wait,
};

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof fake);
    memset(region, 0, sizeof region);
    memset(&additions, 0, sizeof additions);
    uint32_t signature[4] = { VIGIL_CPUID_LEAF_MAX, VIGIL_CPUID_SIGNATURE_EBX, VIGIL_CPUID_SIGNATURE_ECX,
                              VIGIL_CPUID_SIGNATURE_EDX };
    uint32_t features[4] = { VIGIL_ABI_VERSION,
                             VIGIL_FEATURE_HYPERCALL | VIGIL_FEATURE_DOORBELL | VIGIL_FEATURE_SHARED_REGION,
                             VIGIL_DOORBELL_PORT, 0 };
    uint32_t shared[4] = { (uint32_t)REGION_ADDRESS, (uint32_t)(REGION_ADDRESS >> 32), VIGIL_SHARED_REGION_SIZE, 0 };
    memcpy(fake.leaves[0], signature, sizeof signature);
    memcpy(fake.leaves[1], features, sizeof features);
    memcpy(fake.leaves[2], shared, sizeof shared);
    status->magic = VIGIL_STATUS_MAGIC;
    status->abi_version = VIGIL_ABI_VERSION;
    status->region_size = VIGIL_SHARED_REGION_SIZE;
    return 0;
}

/* setup, then discovered and registered, with the REGISTER message forgotten. */
static int setup_registered(void **state)
{
    setup(state);
    assert_int_equal(vigil_additions_discover(&additions, &platform), VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_register(&additions, "test 1.0", "unit test", "host", 0, 1000, 0),
                     VIGIL_ADDITIONS_OK);
    fake.message_count = 0;
    return 0;
}

static void post_request(uint32_t sequence, uint16_t operation, const void *payload, uint32_t length)
{
    for (uint32_t i = 0; i < length && i < VIGIL_MESSAGE_PAYLOAD_MAX; i++)
        request_slot->payload[i] = ((const uint8_t *)payload)[i];
    request_slot->operation = operation;
    request_slot->flags = 0;
    request_slot->length = length;
    request_slot->chunk = 0;
    request_slot->sequence = sequence;
    status->host_flags |= VIGIL_HOST_FLAG_REQUEST_PENDING;
}

/* An EXECUTE payload from argv / env / cwd (NULL-terminated lists). */
static uint32_t build_execute(uint8_t *out, const char *const *argv, const char *const *env, const char *cwd,
                              uint32_t timeout_ms)
{
    struct vigil_execute_request header = { 0, 0, cwd != NULL, timeout_ms };
    uint32_t used = sizeof header;
    for (; argv && argv[header.argc]; header.argc++) {
        size_t n = strlen(argv[header.argc]) + 1;
        memcpy(out + used, argv[header.argc], n);
        used += (uint32_t)n;
    }
    for (; env && env[header.env_count]; header.env_count++) {
        size_t n = strlen(env[header.env_count]) + 1;
        memcpy(out + used, env[header.env_count], n);
        used += (uint32_t)n;
    }
    if (cwd) {
        memcpy(out + used, cwd, strlen(cwd) + 1);
        used += (uint32_t)strlen(cwd) + 1;
    }
    memcpy(out, &header, sizeof header);
    return used;
}

/* ---- handlers that record what they saw ------------------------------------------------- */

static struct {
    int execute_calls, kill_calls, set_calls, get_calls, shutdown_calls, install_calls;
    struct vigil_additions_command command;
    char argv0[64], env0[64], cwd[64];
    char name[300], value[1100];
    struct vigil_additions_shutdown shutdown;
    char reason[300];
    struct vigil_additions_package package;
    bool shutdown_answers;
    uint32_t list_count;
    size_t stream_length;
    void (*execute_body)(struct vigil_additions *, struct vigil_additions_request *);
} seen;

static void copy_string(char *out, size_t size, const char *in)
{
    if (!in) {
        out[0] = '\0';
        return;
    }
    strncpy(out, in, size - 1);
    out[size - 1] = '\0';
}

static void h_execute(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                      const struct vigil_additions_command *command)
{
    (void)context;
    seen.execute_calls++;
    seen.command = *command;
    copy_string(seen.argv0, sizeof seen.argv0, command->argv[0]);
    copy_string(seen.env0, sizeof seen.env0, command->env_count ? command->env[0] : NULL);
    copy_string(seen.cwd, sizeof seen.cwd, command->cwd);
    if (seen.execute_body)
        seen.execute_body(a, request);
    else
        vigil_additions_execute_finish(a, request, 7, 0);
}

static uint32_t h_kill(void *context)
{
    (void)context;
    seen.kill_calls++;
    return VIGIL_S_OK;
}

static uint32_t h_set(void *context, const char *name, const char *value)
{
    (void)context;
    seen.set_calls++;
    copy_string(seen.name, sizeof seen.name, name);
    copy_string(seen.value, sizeof seen.value, value);
    return VIGIL_S_OK;
}

static uint32_t h_get(void *context, const char *name, char *value, size_t size)
{
    (void)context;
    seen.get_calls++;
    assert_int_equal(size, VIGIL_PARAMETER_VALUE_MAX + 1);
    if (strcmp(name, "present") != 0)
        return VIGIL_E_NOT_FOUND;
    copy_string(value, size, "the value");
    return VIGIL_S_OK;
}

static char list_names[40][201];
static bool h_list(void *context, uint32_t index, const char **name)
{
    (void)context;
    if (index >= seen.list_count)
        return false;
    *name = list_names[index];
    return true;
}

static void h_shutdown(void *context, struct vigil_additions *a, struct vigil_additions_request *request,
                       const struct vigil_additions_shutdown *shutdown)
{
    (void)context;
    seen.shutdown_calls++;
    seen.shutdown = *shutdown;
    copy_string(seen.reason, sizeof seen.reason, shutdown->reason);
    if (seen.shutdown_answers)
        vigil_additions_reply(a, request, VIGIL_ERROR_MACHINE_LOCKED, NULL, 0);
}

static uint32_t h_install(void *context, const struct vigil_additions_package *package_info)
{
    (void)context;
    seen.install_calls++;
    seen.package = *package_info;
    return VIGIL_S_OK;
}

static const struct vigil_additions_handlers handlers = {
    .execute = h_execute,
    .kill = h_kill,
    .set_parameter = h_set,
    .get_parameter = h_get,
    .list_parameter = h_list,
    .shutdown = h_shutdown,
    .install_additions = h_install,
};
static const struct vigil_additions_handlers no_handlers = { 0 };

static int setup_handlers(void **state)
{
    memset(&seen, 0, sizeof seen);
    return setup_registered(state);
}

static void assert_reply(uint32_t index, uint32_t sequence, uint16_t operation, uint32_t status_code,
                         uint32_t length)
{
    assert_true(index < fake.message_count);
    const struct vigil_message *m = &fake.messages[index];
    assert_int_equal(m->sequence, sequence);
    assert_int_equal(m->operation, operation);
    assert_int_equal(m->status, status_code);
    assert_int_equal(m->length, length);
}

/* ---- discovery ---------------------------------------------------------------------------- */

static void test_discover_ok(void **state)
{
    (void)state;
    assert_int_equal(vigil_additions_discover(&additions, &platform), VIGIL_ADDITIONS_OK);
    assert_true(additions.discovered);
    assert_false(additions.registered);
    assert_int_equal(additions.doorbell_port, VIGIL_DOORBELL_PORT);
    assert_int_equal(additions.region_address, REGION_ADDRESS);
    assert_int_equal(additions.region_size, VIGIL_SHARED_REGION_SIZE);
    assert_ptr_equal((const void *)additions.status, region);
    assert_ptr_equal((const void *)additions.request_slot, region + VIGIL_PAGE_SIZE);
    assert_ptr_equal((const void *)additions.response_slot, region + 2 * VIGIL_PAGE_SIZE);
    assert_int_equal(fake.message_count, 0); /* discovery rings nothing */
}

static void expect_discover(enum vigil_additions_error wanted)
{
    assert_int_equal(vigil_additions_discover(&additions, &platform), wanted);
    assert_false(additions.discovered);
    assert_string_not_equal(vigil_additions_error_string(wanted), "unknown error");
}

static void test_discover_errors(void **state)
{
    setup(state);
    fake.leaves[0][2] ^= 1; /* signature */
    expect_discover(VIGIL_ADDITIONS_ERROR_NO_HYPERVISOR);
    setup(state);
    fake.leaves[0][0] = VIGIL_CPUID_LEAF_FEATURES; /* max leaf too low */
    expect_discover(VIGIL_ADDITIONS_ERROR_MAX_LEAF);
    setup(state);
    fake.leaves[1][0] = (VIGIL_ABI_VERSION_MAJOR + 1) << 16;
    expect_discover(VIGIL_ADDITIONS_ERROR_ABI_MAJOR);
    setup(state);
    fake.leaves[1][1] &= ~VIGIL_FEATURE_DOORBELL;
    expect_discover(VIGIL_ADDITIONS_ERROR_NO_DOORBELL);
    setup(state);
    fake.leaves[1][2] = 0x10000; /* not a port */
    expect_discover(VIGIL_ADDITIONS_ERROR_NO_DOORBELL);
    setup(state);
    fake.leaves[1][1] &= ~VIGIL_FEATURE_SHARED_REGION;
    expect_discover(VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION);
    setup(state);
    memset(fake.leaves[2], 0, sizeof fake.leaves[2]);
    expect_discover(VIGIL_ADDITIONS_ERROR_NO_SHARED_REGION);
    setup(state);
    fake.leaves[2][2] = VIGIL_SHARED_REGION_SIZE - 1;
    expect_discover(VIGIL_ADDITIONS_ERROR_REGION_TOO_SMALL);
    setup(state);
    fake.leaves[2][0] += 8;
    expect_discover(VIGIL_ADDITIONS_ERROR_REGION_UNALIGNED);
    setup(state);
    fake.map_fails = true;
    expect_discover(VIGIL_ADDITIONS_ERROR_MAP_FAILED);
    setup(state);
    status->magic = 0;
    expect_discover(VIGIL_ADDITIONS_ERROR_BAD_STATUS_PAGE);
    setup(state);
    /* Nothing works before discovery. */
    assert_int_equal(vigil_additions_register(&additions, "v", "o", "c", 0, 0, 0),
                     VIGIL_ADDITIONS_ERROR_NOT_DISCOVERED);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 0);
    vigil_additions_beat(&additions);
    assert_int_equal(status->heartbeat_counter, 0);
}

/* ---- registration ------------------------------------------------------------------------- */

static void test_register_layout_and_parity(void **state)
{
    (void)state;
    assert_int_equal(vigil_additions_discover(&additions, &platform), VIGIL_ADDITIONS_OK);
    memset((void *)status->computer_name, 'X', sizeof status->computer_name); /* stale bytes */
    char long_name[400];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    uint32_t capabilities = VIGIL_CAPABILITY_EXECUTE | VIGIL_CAPABILITY_TIME_SYNC;
    assert_int_equal(vigil_additions_register(&additions, "vigil-agent 1.0.0", "vigil test guest", long_name,
                                              capabilities, 500, VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED),
                     VIGIL_ADDITIONS_OK);
    assert_true(additions.registered);

    /* At the ABI's offsets, read as raw bytes. */
    assert_string_equal((const char *)region + 56, "vigil-agent 1.0.0");
    assert_string_equal((const char *)region + 120, "vigil test guest");
    const char *computer = (const char *)region + 248;
    assert_int_equal(strlen(computer), VIGIL_COMPUTER_NAME_MAX - 1); /* truncated, terminated */
    for (size_t i = strlen("vigil-agent 1.0.0"); i < VIGIL_ADDITIONS_VERSION_MAX; i++)
        assert_int_equal(region[56 + i], 0); /* zero filled */
    uint32_t word;
    memcpy(&word, region + 24, 4);
    assert_int_equal(word, 500); /* heartbeat_period_ms */
    memcpy(&word, region + 28, 4);
    assert_int_equal(word, VIGIL_AGENT_RUNNING);
    memcpy(&word, region + 36, 4);
    assert_int_equal(word, VIGIL_ABI_VERSION);
    memcpy(&word, region + 40, 4);
    assert_int_equal(word, capabilities);
    memcpy(&word, region + 44, 4);
    assert_int_equal(word, VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED);

    /* Even (complete) when the doorbell rang; one write cycle = +2. */
    assert_int_equal(status->registration_sequence, 2);
    assert_int_equal(fake.registration_sequence_at_doorbell, 2);
    assert_int_equal(fake.message_count, 1);
    assert_reply(0, 0, VIGIL_OP_REGISTER, VIGIL_S_OK, 0);
    assert_int_equal(fake.messages[0].flags, 0);

    /* Again (an agent restarting), from an odd sequence a crashed writer left. */
    status->registration_sequence = 7;
    assert_int_equal(vigil_additions_register(&additions, "v2", NULL, "h", 0, 0, 0), VIGIL_ADDITIONS_OK);
    assert_int_equal(status->registration_sequence, 8);
    assert_string_equal((const char *)status->os_name, "");
    assert_string_equal((const char *)status->computer_name, "h");
    for (size_t i = 1; i < VIGIL_COMPUTER_NAME_MAX; i++)
        assert_int_equal(region[248 + i], 0); /* the longer earlier name is gone */
}

static void test_register_rejections(void **state)
{
    (void)state;
    assert_int_equal(vigil_additions_discover(&additions, &platform), VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_register(&additions, "v", "o", "c", 0, VIGIL_HEARTBEAT_PERIOD_MIN_MS - 1, 0),
                     VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT);
    assert_int_equal(vigil_additions_register(&additions, "v", "o", "c", 0, VIGIL_HEARTBEAT_PERIOD_MAX_MS + 1, 0),
                     VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT);
    assert_int_equal(fake.message_count, 0);
    fake.script[0] = VIGIL_DOORBELL_REJECTED;
    fake.script_length = 1;
    assert_int_equal(vigil_additions_register(&additions, "v", "o", "c", 0, 0, 0), VIGIL_ADDITIONS_ERROR_REJECTED);
    assert_false(additions.registered);
    assert_int_equal(vigil_additions_send_event(&additions, VIGIL_GUEST_EVENT_SHUTTING_DOWN),
                     VIGIL_ADDITIONS_ERROR_NOT_REGISTERED);
}

static void test_beat_continues_from_memory(void **state)
{
    (void)state;
    assert_int_equal(vigil_additions_discover(&additions, &platform), VIGIL_ADDITIONS_OK);
    status->heartbeat_counter = 0xFFFFFFFFull; /* an earlier agent's count, at a 32-bit carry */
    assert_int_equal(vigil_additions_register(&additions, "v", "o", "c", 0, 0, 0), VIGIL_ADDITIONS_OK);
    vigil_additions_beat(&additions);
    assert_int_equal(status->heartbeat_counter, 0x100000000ull);
    status->heartbeat_counter = 41; /* changed behind the library's back: still + 1 */
    vigil_additions_beat(&additions);
    assert_int_equal(status->heartbeat_counter, 42);
    assert_int_equal(fake.message_count, 1); /* beats ring nothing */
}

static void test_flags_and_state(void **state)
{
    (void)state;
    uint32_t sequence = status->registration_sequence;
    assert_int_equal(vigil_additions_set_shutdown_locked(&additions, true), VIGIL_ADDITIONS_OK);
    assert_int_equal(status->guest_flags, VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED);
    assert_int_equal(status->registration_sequence, sequence); /* not a re-registration */
    assert_int_equal(vigil_additions_set_shutdown_locked(&additions, false), VIGIL_ADDITIONS_OK);
    assert_int_equal(status->guest_flags, 0);
    assert_int_equal(vigil_additions_set_state(&additions, VIGIL_AGENT_STOPPING), VIGIL_ADDITIONS_OK);
    assert_int_equal(status->agent_state, VIGIL_AGENT_STOPPING);
    assert_int_equal(vigil_additions_set_state(&additions, 99), VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT);
    assert_int_equal(fake.message_count, 0);

    assert_int_equal(vigil_additions_send_event(&additions, VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_ADDITIONS_OK);
    assert_reply(0, 0, VIGIL_OP_EVENT, VIGIL_S_OK, sizeof(struct vigil_guest_event));
    struct vigil_guest_event event;
    memcpy(&event, fake.messages[0].payload, sizeof event);
    assert_int_equal(event.code, VIGIL_GUEST_EVENT_SHUTTING_DOWN);
    assert_int_equal(event.reserved, 0);
}

/* ---- polling and request copy-out ------------------------------------------------------------- */

static void test_poll_nop_and_sequences(void **state)
{
    (void)state;
    assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 0);
    post_request(5, VIGIL_OP_NOP, NULL, 0);
    status->host_flags &= ~VIGIL_HOST_FLAG_REQUEST_PENDING;
    assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 0); /* not pending */
    status->host_flags |= VIGIL_HOST_FLAG_REQUEST_PENDING;
    assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 1);
    assert_int_equal(fake.message_count, 1);
    assert_reply(0, 5, VIGIL_OP_NOP, VIGIL_S_OK, 0);
    assert_int_equal(fake.messages[0].chunk, 0);
    assert_int_equal(fake.messages[0].flags, 0);
    assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 0); /* same sequence: taken already */
    post_request(0, VIGIL_OP_NOP, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 0); /* 0 is never a request */
    assert_int_equal(fake.message_count, 1);
}

static void test_unknown_and_unhandled_ops(void **state)
{
    (void)state;
    post_request(1, 0x7777, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(0, 1, 0x7777, VIGIL_E_NOTIMPL, 0);
    post_request(2, VIGIL_OP_REGISTER, NULL, 0); /* a guest-side op sent to the guest */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(1, 2, VIGIL_OP_REGISTER, VIGIL_E_NOTIMPL, 0);
    const uint16_t ops[] = { VIGIL_OP_EXECUTE, VIGIL_OP_KILL, VIGIL_OP_SET_PARAMETER, VIGIL_OP_GET_PARAMETER,
                             VIGIL_OP_LIST_PARAMETERS, VIGIL_OP_SHUTDOWN, VIGIL_OP_INSTALL_ADDITIONS };
    for (uint32_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        post_request(10 + i, ops[i], "x\0y\0", 4);
        assert_int_equal(vigil_additions_poll(&additions, &no_handlers), 1);
        assert_reply(2 + i, 10 + i, ops[i], VIGIL_E_NOTIMPL, 0);
    }
}

static void test_hostile_lengths(void **state)
{
    (void)state;
    const uint32_t lengths[] = { VIGIL_MESSAGE_PAYLOAD_MAX + 1, 0x80000000u, 0xFFFFFFFFu };
    for (uint32_t i = 0; i < 3; i++) {
        post_request(100 + i, VIGIL_OP_EXECUTE, NULL, 0);
        request_slot->length = lengths[i];
        assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
        assert_reply(i, 100 + i, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    }
    assert_int_equal(seen.execute_calls, 0);
    assert_int_equal(additions.statistics.requests_malformed, 3);

    /* The full payload is fine, and the copy is NUL-terminated past its end. */
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    memset(payload, 'a', sizeof payload);
    post_request(200, VIGIL_OP_SET_PARAMETER, payload, sizeof payload);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(3, 200, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0); /* no NUL inside: malformed */
    assert_int_equal(additions.requests[0].payload[VIGIL_MESSAGE_PAYLOAD_MAX], 0);
    assert_int_equal(seen.set_calls, 0);
}

static void test_execute_parse(void **state)
{
    (void)state;
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    const char *argv[] = { "echo", "hello", "world", NULL };
    const char *env[] = { "A=1", "B=2", NULL };
    uint32_t length = build_execute(payload, argv, env, "/tmp", 1500);
    post_request(1, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_int_equal(seen.execute_calls, 1);
    assert_int_equal(seen.command.argc, 3);
    assert_int_equal(seen.command.env_count, 2);
    assert_int_equal(seen.command.timeout_ms, 1500);
    assert_string_equal(seen.argv0, "echo");
    assert_string_equal(seen.env0, "A=1");
    assert_string_equal(seen.cwd, "/tmp");
    assert_reply(0, 1, VIGIL_OP_EXECUTE, VIGIL_S_OK, sizeof(struct vigil_execute_result));
    struct vigil_execute_result result;
    memcpy(&result, fake.messages[0].payload, sizeof result);
    assert_int_equal(result.exit_code, 7);
    assert_int_equal(result.flags, 0);
    assert_int_equal(fake.messages[0].flags, 0);

    /* Malformed: each answered E_INVALIDARG without reaching the handler. */
    uint32_t sequence = 2, index = 1;
    struct vigil_execute_request *header = (struct vigil_execute_request *)payload;
    /* the cwd's NUL cut off */
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length - 1);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    /* more strings declared than present */
    header->env_count = 3;
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    header->env_count = 2;
    header->argc = 0;
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    header->argc = VIGIL_EXECUTE_ARGUMENTS_MAX + 1;
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    header->argc = 3;
    header->cwd_present = 2;
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    post_request(sequence, VIGIL_OP_EXECUTE, payload, sizeof *header - 1); /* shorter than the header */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    const char *empty_program[] = { "", NULL };
    length = build_execute(payload, empty_program, NULL, NULL, 0);
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(index++, sequence++, VIGIL_OP_EXECUTE, VIGIL_E_INVALIDARG, 0);
    assert_int_equal(seen.execute_calls, 1);

    /* No cwd, no env. */
    const char *plain[] = { "pwd", NULL };
    length = build_execute(payload, plain, NULL, NULL, 0);
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_int_equal(seen.execute_calls, 2);
    assert_string_equal(seen.cwd, "");
    assert_null(seen.command.cwd);
}

static void test_parameters(void **state)
{
    (void)state;
    post_request(1, VIGIL_OP_SET_PARAMETER, "name\0value\0", 11);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(0, 1, VIGIL_OP_SET_PARAMETER, VIGIL_S_OK, 0);
    assert_string_equal(seen.name, "name");
    assert_string_equal(seen.value, "value");

    post_request(2, VIGIL_OP_SET_PARAMETER, "a\\b\0v\0", 6); /* backslash */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(1, 2, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0);
    post_request(3, VIGIL_OP_SET_PARAMETER, "\0v\0", 3); /* empty name */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(2, 3, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0);
    post_request(4, VIGIL_OP_SET_PARAMETER, "name\0value", 10); /* value unterminated */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(3, 4, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0);

    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    memset(payload, 'n', 256); /* a 256-character name */
    payload[256] = 0;
    payload[257] = 'v';
    payload[258] = 0;
    post_request(5, VIGIL_OP_SET_PARAMETER, payload, 259);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(4, 5, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0);
    payload[255] = 0; /* 255 characters: fine; value of 1025 bytes: not */
    memset(payload + 256, 'v', 1025);
    payload[256 + 1025] = 0;
    post_request(6, VIGIL_OP_SET_PARAMETER, payload, 256 + 1026);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(5, 6, VIGIL_OP_SET_PARAMETER, VIGIL_E_INVALIDARG, 0);
    payload[256 + 1024] = 0; /* 1024: fine */
    post_request(7, VIGIL_OP_SET_PARAMETER, payload, 256 + 1025);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(6, 7, VIGIL_OP_SET_PARAMETER, VIGIL_S_OK, 0);
    assert_int_equal(strlen(seen.name), 255);
    assert_int_equal(strlen(seen.value), 1024);
    assert_int_equal(seen.set_calls, 2);

    post_request(8, VIGIL_OP_GET_PARAMETER, "present\0", 8);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(7, 8, VIGIL_OP_GET_PARAMETER, VIGIL_S_OK, 10);
    assert_memory_equal(fake.messages[7].payload, "the value", 10);
    post_request(9, VIGIL_OP_GET_PARAMETER, "absent\0", 7);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(8, 9, VIGIL_OP_GET_PARAMETER, VIGIL_E_NOT_FOUND, 0);
    post_request(10, VIGIL_OP_GET_PARAMETER, "unterminated", 12);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(9, 10, VIGIL_OP_GET_PARAMETER, VIGIL_E_INVALIDARG, 0);
    assert_int_equal(seen.get_calls, 2);
}

static void test_list_parameters_chunks(void **state)
{
    (void)state;
    /* None: one empty final message. */
    post_request(1, VIGIL_OP_LIST_PARAMETERS, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_int_equal(fake.message_count, 1);
    assert_reply(0, 1, VIGIL_OP_LIST_PARAMETERS, VIGIL_S_OK, 0);
    assert_int_equal(fake.messages[0].flags, 0);

    /* 40 names of 200 characters (201 bytes each): 20 fit a chunk (4020 <= 4072). */
    seen.list_count = 40;
    for (uint32_t i = 0; i < 40; i++) {
        memset(list_names[i], 'a' + (char)(i % 26), 200);
        list_names[i][0] = (char)('0' + i / 10);
        list_names[i][1] = (char)('0' + i % 10);
        list_names[i][200] = '\0';
    }
    fake.message_count = 0;
    post_request(2, VIGIL_OP_LIST_PARAMETERS, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_int_equal(fake.message_count, 2);
    assert_int_equal(fake.messages[0].flags, VIGIL_MESSAGE_MORE);
    assert_int_equal(fake.messages[0].chunk, 0);
    assert_int_equal(fake.messages[0].length, 20 * 201);
    assert_int_equal(fake.messages[1].flags, 0);
    assert_int_equal(fake.messages[1].chunk, 1);
    assert_int_equal(fake.messages[1].length, 20 * 201);
    uint32_t name = 0;
    for (uint32_t m = 0; m < 2; m++) {
        for (uint32_t at = 0; at < fake.messages[m].length; name++) {
            assert_string_equal((const char *)fake.messages[m].payload + at, list_names[name]);
            at += 201;
        }
    }
    assert_int_equal(name, 40);
}

/* ---- streaming ------------------------------------------------------------------------------- */

static uint8_t stream_data[10000];

static void body_stream(struct vigil_additions *a, struct vigil_additions_request *request)
{
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_STDOUT, stream_data, sizeof stream_data),
                     VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_STDERR, "err", 3), VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_STDOUT, NULL, 0), VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_MORE, "x", 1),
                     VIGIL_ADDITIONS_ERROR_INVALID_ARGUMENT);
    assert_int_equal(vigil_additions_execute_finish(a, request, -3, VIGIL_EXECUTE_TIMED_OUT), VIGIL_ADDITIONS_OK);
    assert_int_equal(vigil_additions_execute_finish(a, request, 0, 0), VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED);
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_STDOUT, "x", 1),
                     VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED);
}

static void run_execute(uint32_t sequence)
{
    uint8_t payload[64];
    const char *argv[] = { "spew", NULL };
    uint32_t length = build_execute(payload, argv, NULL, NULL, 0);
    post_request(sequence, VIGIL_OP_EXECUTE, payload, length);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
}

static void test_stream_10000_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stream_data; i++)
        stream_data[i] = (uint8_t)(i * 7 + 3);
    seen.execute_body = body_stream;
    run_execute(9);
    /* 10000 = 4072 + 4072 + 1856; then stderr; then the result. */
    assert_int_equal(fake.message_count, 5);
    const uint32_t lengths[] = { 4072, 4072, 1856, 3, 8 };
    const uint16_t flags[] = { VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_MORE, VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_MORE,
                               VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_MORE, VIGIL_MESSAGE_STDERR | VIGIL_MESSAGE_MORE,
                               0 };
    uint8_t joined[sizeof stream_data];
    size_t at = 0;
    for (uint32_t i = 0; i < 5; i++) {
        assert_reply(i, 9, VIGIL_OP_EXECUTE, VIGIL_S_OK, lengths[i]);
        assert_int_equal(fake.messages[i].chunk, i);
        assert_int_equal(fake.messages[i].flags, flags[i]);
        if (i < 3) {
            memcpy(joined + at, fake.messages[i].payload, lengths[i]);
            at += lengths[i];
        }
    }
    assert_memory_equal(joined, stream_data, sizeof stream_data);
    assert_memory_equal(fake.messages[3].payload, "err", 3);
    struct vigil_execute_result result;
    memcpy(&result, fake.messages[4].payload, sizeof result);
    assert_int_equal(result.exit_code, -3);
    assert_int_equal(result.flags, VIGIL_EXECUTE_TIMED_OUT);
}

static void test_stream_rate_limited_retries_same_chunk(void **state)
{
    (void)state;
    seen.execute_body = body_stream;
    /* message 1 (chunk 1) rate limited twice, then accepted */
    fake.script[1] = VIGIL_DOORBELL_RATE_LIMITED;
    fake.script[2] = VIGIL_DOORBELL_RATE_LIMITED;
    fake.script_length = 3;
    run_execute(3);
    assert_int_equal(fake.message_count, 7);
    const uint32_t chunks[] = { 0, 1, 1, 1, 2, 3, 4 };
    for (uint32_t i = 0; i < 7; i++)
        assert_int_equal(fake.messages[i].chunk, chunks[i]);
    assert_memory_equal(fake.messages[1].payload, fake.messages[3].payload, 4072);
    assert_int_equal(fake.waits, 2);
    assert_int_equal(additions.statistics.rate_limited_retries, 2);
    assert_int_equal(fake.messages[6].flags, 0);
}

static void test_rate_limited_forever_gives_up(void **state)
{
    (void)state;
    fake.script_length = VIGIL_ADDITIONS_RATE_LIMIT_RETRIES + 1;
    for (uint32_t i = 0; i < fake.script_length; i++)
        fake.script[i] = VIGIL_DOORBELL_RATE_LIMITED;
    assert_int_equal(vigil_additions_send_event(&additions, VIGIL_GUEST_EVENT_SHUTTING_DOWN),
                     VIGIL_ADDITIONS_ERROR_RATE_LIMITED);
    assert_int_equal(fake.message_count, VIGIL_ADDITIONS_RATE_LIMIT_RETRIES + 1);
    assert_int_equal(fake.waits, VIGIL_ADDITIONS_RATE_LIMIT_RETRIES);
    /* an unknown doorbell result is an error, not a retry */
    fake.message_count = 0;
    fake.script_length = 1;
    fake.script[0] = 77;
    assert_int_equal(vigil_additions_send_event(&additions, 1), VIGIL_ADDITIONS_ERROR_DOORBELL_RESULT);
    assert_int_equal(fake.message_count, 1);
}

static enum vigil_additions_error rejected_stream_result;
static void body_rejected(struct vigil_additions *a, struct vigil_additions_request *request)
{
    rejected_stream_result = vigil_additions_stream(a, request, VIGIL_MESSAGE_STDOUT, stream_data, sizeof stream_data);
    assert_true(request->answered); /* abandoned */
    assert_int_equal(vigil_additions_execute_finish(a, request, 0, 0), VIGIL_ADDITIONS_ERROR_ALREADY_ANSWERED);
}

static void test_stream_rejected_stops(void **state)
{
    (void)state;
    seen.execute_body = body_rejected;
    fake.script[1] = VIGIL_DOORBELL_REJECTED;
    fake.script_length = 2;
    run_execute(4);
    assert_int_equal(rejected_stream_result, VIGIL_ADDITIONS_ERROR_REJECTED);
    assert_int_equal(fake.message_count, 2); /* chunk 0, rejected chunk 1, nothing after */
    assert_int_equal(additions.statistics.rejected, 1);
}

/* ---- nesting: a KILL taken while an EXECUTE runs ---------------------------------------------- */

static void body_nested(struct vigil_additions *a, struct vigil_additions_request *request)
{
    assert_int_equal(vigil_additions_stream(a, request, VIGIL_MESSAGE_STDOUT, "tick\n", 5), VIGIL_ADDITIONS_OK);
    post_request(request->sequence + 1, VIGIL_OP_KILL, NULL, 0);
    assert_int_equal(vigil_additions_poll(a, &handlers), 1); /* the KILL, answered at once */
    /* a second EXECUTE while this one runs: busy */
    uint8_t payload[64];
    const char *argv[] = { "other", NULL };
    post_request(request->sequence + 2, VIGIL_OP_EXECUTE, payload, build_execute(payload, argv, NULL, NULL, 0));
    assert_int_equal(vigil_additions_poll(a, &handlers), 1);
    assert_int_equal(vigil_additions_execute_finish(a, request, 137, VIGIL_EXECUTE_KILLED), VIGIL_ADDITIONS_OK);
}

static void test_nested_kill_during_execute(void **state)
{
    (void)state;
    seen.execute_body = body_nested;
    run_execute(20);
    assert_int_equal(seen.kill_calls, 1);
    assert_int_equal(seen.execute_calls, 1);
    assert_int_equal(fake.message_count, 4);
    assert_reply(0, 20, VIGIL_OP_EXECUTE, VIGIL_S_OK, 5);
    assert_reply(1, 21, VIGIL_OP_KILL, VIGIL_S_OK, 0);
    assert_int_equal(fake.messages[1].chunk, 0);
    assert_reply(2, 22, VIGIL_OP_EXECUTE, VIGIL_E_BUSY, 0);
    assert_reply(3, 20, VIGIL_OP_EXECUTE, VIGIL_S_OK, 8);
    assert_int_equal(fake.messages[3].chunk, 1);
    struct vigil_execute_result result;
    memcpy(&result, fake.messages[3].payload, sizeof result);
    assert_int_equal(result.exit_code, 137);
    assert_int_equal(result.flags, VIGIL_EXECUTE_KILLED);
    assert_int_equal(additions.depth, 0);
    assert_false(additions.executing);
}

/* A handler that forgets to answer: the library answers E_FAIL. */
static void body_silent(struct vigil_additions *a, struct vigil_additions_request *request)
{
    (void)a;
    (void)request;
}

static void test_unanswered_execute_gets_e_fail(void **state)
{
    (void)state;
    seen.execute_body = body_silent;
    run_execute(30);
    assert_int_equal(fake.message_count, 1);
    assert_reply(0, 30, VIGIL_OP_EXECUTE, VIGIL_E_FAIL, 0);
}

/* ---- shutdown, install --------------------------------------------------------------------------- */

static void test_shutdown_parse(void **state)
{
    (void)state;
    uint8_t payload[512];
    struct vigil_shutdown_request header = { VIGIL_SHUTDOWN_REBOOT | VIGIL_SHUTDOWN_FORCE, 5000 };
    memcpy(payload, &header, sizeof header);
    memcpy(payload + sizeof header, "maintenance", 12);
    seen.shutdown_answers = true;
    post_request(1, VIGIL_OP_SHUTDOWN, payload, sizeof header + 12);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_int_equal(seen.shutdown_calls, 1);
    assert_int_equal(seen.shutdown.flags, VIGIL_SHUTDOWN_REBOOT | VIGIL_SHUTDOWN_FORCE);
    assert_int_equal(seen.shutdown.timeout_ms, 5000);
    assert_string_equal(seen.reason, "maintenance");
    assert_reply(0, 1, VIGIL_OP_SHUTDOWN, VIGIL_ERROR_MACHINE_LOCKED, 0);

    post_request(2, VIGIL_OP_SHUTDOWN, payload, sizeof header); /* no reason */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_string_equal(seen.reason, "");
    post_request(3, VIGIL_OP_SHUTDOWN, payload, sizeof header + 11); /* reason unterminated */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(2, 3, VIGIL_OP_SHUTDOWN, VIGIL_E_INVALIDARG, 0);
    memset(payload + sizeof header, 'r', 256); /* 256 characters: too long */
    payload[sizeof header + 256] = 0;
    post_request(4, VIGIL_OP_SHUTDOWN, payload, sizeof header + 257);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(3, 4, VIGIL_OP_SHUTDOWN, VIGIL_E_INVALIDARG, 0);
    post_request(5, VIGIL_OP_SHUTDOWN, payload, 4); /* shorter than the header */
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(4, 5, VIGIL_OP_SHUTDOWN, VIGIL_E_INVALIDARG, 0);
    assert_int_equal(seen.shutdown_calls, 2);

    seen.shutdown_answers = false; /* a handler that returns without answering */
    post_request(6, VIGIL_OP_SHUTDOWN, payload, sizeof header);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_reply(5, 6, VIGIL_OP_SHUTDOWN, VIGIL_E_FAIL, 0);
}

static void test_install_additions(void **state)
{
    (void)state;
    post_request(1, VIGIL_OP_INSTALL_ADDITIONS, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_false(seen.package.offered);
    assert_null(seen.package.data);

    for (size_t i = 0; i < sizeof package; i++)
        package[i] = (uint8_t)i;
    status->additions_package_address = PACKAGE_ADDRESS;
    status->additions_package_size = sizeof package;
    memset((void *)status->additions_package_version, 'v', VIGIL_ADDITIONS_VERSION_MAX); /* unterminated */
    status->host_flags |= VIGIL_HOST_FLAG_ADDITIONS_OFFERED;
    post_request(2, VIGIL_OP_INSTALL_ADDITIONS, NULL, 0);
    assert_int_equal(vigil_additions_poll(&additions, &handlers), 1);
    assert_true(seen.package.offered);
    assert_ptr_equal((const void *)seen.package.data, package);
    assert_int_equal(seen.package.size, sizeof package);
    assert_int_equal(strlen(seen.package.version), VIGIL_ADDITIONS_VERSION_MAX - 1);
    assert_reply(1, 2, VIGIL_OP_INSTALL_ADDITIONS, VIGIL_S_OK, 0);
}

/* ---- time ------------------------------------------------------------------------------------------- */

static void set_time_record(uint32_t sequence, uint64_t tsc, uint64_t unix_ns, uint64_t frequency)
{
    status->time.sequence = sequence;
    status->time.tsc_timestamp = tsc;
    status->time.unix_time_ns = unix_ns;
    status->time.tsc_frequency_hz = frequency;
}

static void test_host_time(void **state)
{
    (void)state;
    uint64_t now = 0;
    set_time_record(2, 1000, 1700000000000000000ull, 1000000000ull);
    fake.tsc = 1000 + 2500000000ull; /* 2.5 s later */
    assert_false(vigil_additions_host_time(&additions, &now)); /* TIME_SYNC off */
    assert_int_equal(vigil_additions_tsc_frequency(&additions), 1000000000ull); /* known anyway */

    status->host_flags |= VIGIL_HOST_FLAG_TIME_SYNC;
    assert_true(vigil_additions_host_time(&additions, &now));
    assert_int_equal(now, 1700000002500000000ull);

    /* Torn twice (the sequence moved during the read): retried, then consistent. */
    fake.tsc_reads = 0;
    fake.tear_time_on_tsc_read = 2;
    assert_true(vigil_additions_host_time(&additions, &now));
    assert_int_equal(fake.tsc_reads, 3);
    assert_int_equal(now, 1700000002500000000ull);

    /* Odd forever (a writer that never finishes): false, not a hang. */
    status->time.sequence = 9;
    assert_false(vigil_additions_host_time(&additions, &now));
    status->time.sequence = 10;

    /* Frequency 0: not valid. A TSC behind the timestamp: no negative delta. */
    set_time_record(12, 1000, 5000, 0);
    assert_false(vigil_additions_host_time(&additions, &now));
    set_time_record(14, 1000, 5000, 3000000000ull);
    fake.tsc = 10;
    assert_true(vigil_additions_host_time(&additions, &now));
    assert_int_equal(now, 5000);

    /* A long delta (a day at 3 GHz) does not overflow. */
    fake.tsc = 1000 + 86400ull * 3000000000ull + 1500000000ull;
    assert_true(vigil_additions_host_time(&additions, &now));
    assert_int_equal(now, 5000 + 86400ull * 1000000000ull + 500000000ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_discover_ok, setup),
        cmocka_unit_test_setup(test_discover_errors, setup),
        cmocka_unit_test_setup(test_register_layout_and_parity, setup),
        cmocka_unit_test_setup(test_register_rejections, setup),
        cmocka_unit_test_setup(test_beat_continues_from_memory, setup),
        cmocka_unit_test_setup(test_flags_and_state, setup_registered),
        cmocka_unit_test_setup(test_poll_nop_and_sequences, setup_handlers),
        cmocka_unit_test_setup(test_unknown_and_unhandled_ops, setup_handlers),
        cmocka_unit_test_setup(test_hostile_lengths, setup_handlers),
        cmocka_unit_test_setup(test_execute_parse, setup_handlers),
        cmocka_unit_test_setup(test_parameters, setup_handlers),
        cmocka_unit_test_setup(test_list_parameters_chunks, setup_handlers),
        cmocka_unit_test_setup(test_stream_10000_bytes, setup_handlers),
        cmocka_unit_test_setup(test_stream_rate_limited_retries_same_chunk, setup_handlers),
        cmocka_unit_test_setup(test_rate_limited_forever_gives_up, setup_handlers),
        cmocka_unit_test_setup(test_stream_rejected_stops, setup_handlers),
        cmocka_unit_test_setup(test_nested_kill_during_execute, setup_handlers),
        cmocka_unit_test_setup(test_unanswered_execute_gets_e_fail, setup_handlers),
        cmocka_unit_test_setup(test_shutdown_parse, setup_handlers),
        cmocka_unit_test_setup(test_install_additions, setup_handlers),
        cmocka_unit_test_setup(test_host_time, setup_registered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
