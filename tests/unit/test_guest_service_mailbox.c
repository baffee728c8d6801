/*
 * Unit tests for guest-svc/host/mailbox.c and operations.c: every IVMGuestOS
 * method's request encoding, success and error paths; the queue; timeouts; the
 * doorbell rate limit; hostile replies; streaming; Shutdown in all its endings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest_service_fakes.h"
#include "guest-svc/host/mailbox.h"
#include "guest-svc/host/service_state.h"

static const struct guest_service_result *last_result(void)
{
    assert_true(fake.result_count > 0);
    return &fake.results[fake.result_count - 1];
}

static void request_payload(uint8_t *out, uint32_t *length)
{
    volatile struct vigil_message *slot = fake_request_slot();
    *length = slot->length;
    memcpy(out, (const void *)slot->payload, slot->length);
}

static uint32_t pending(void)
{
    return fake_status()->host_flags & VIGIL_HOST_FLAG_REQUEST_PENDING;
}

/* ---- A round trip -------------------------------------------------------------------------- */

static void test_nop_round_trip(void **state)
{
    (void)state;
    fake_request_slot()->status = 0xDEAD;
    uint32_t id = 0;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_not_equal(id, 0);
    volatile struct vigil_message *slot = fake_request_slot();
    assert_int_equal(slot->operation, VIGIL_OP_NOP);
    assert_int_equal(slot->length, 0);
    assert_int_equal(slot->chunk, 0);
    assert_int_equal(slot->status, 0);
    assert_int_not_equal(slot->sequence, 0);
    assert_true(pending());
    assert_int_equal(fake.result_count, 0);

    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_int_equal(last_result()->request_id, id);
    assert_false(pending());
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    assert_int_equal(stats->requests_sent, 1);
    assert_int_equal(stats->requests_completed, 1);
    assert_int_equal(stats->chunks_received, 1);

    /* the next request gets a larger sequence and a new id */
    uint32_t sequence = slot->sequence, id2;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id2), VIGIL_S_OK);
    assert_true(slot->sequence > sequence);
    assert_true(id2 > id);
    /* a reply without callbacks is fine too */
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_nop(service, NULL, NULL), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
}

static void test_sequence_never_zero(void **state)
{
    (void)state;
    service->next_sequence = UINT32_MAX;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, NULL), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->sequence, UINT32_MAX);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_nop(service, &fake_callbacks, NULL), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->sequence, 1);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 2);
}

static void test_requests_refused_at_once(void **state)
{
    (void)state;
    uint32_t id = 1234;
    const char *argv[] = {"/bin/true"};
    struct guest_execute_command command = {.argc = 1, .argv = argv};
    struct guest_shutdown_command shutdown = {0};
    /* not registered */
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    assert_int_equal(guest_service_shutdown(service, &shutdown, &fake_callbacks, &id),
                     VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    /* registered with only PARAMETERS */
    guest_write_registration(VIGIL_ABI_VERSION, VIGIL_CAPABILITY_PARAMETERS, "1", "OS", "box");
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id),
                     VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL);
    assert_int_equal(guest_service_shutdown(service, &shutdown, &fake_callbacks, &id),
                     VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL);
    guest_service_offer_additions(service, 0x1000, 4096, "2");
    assert_int_equal(guest_service_install_additions(service, &fake_callbacks, &id),
                     VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL);
    /* guest gone */
    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "off");
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(guest_service_set_parameter(service, "a", "b", &fake_callbacks, &id), VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(guest_service_kill(service, 1), VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(id, 1234);
    assert_int_equal(fake.result_count, 0); /* refusals never call back */
    assert_int_equal(guest_service_get_statistics(service)->requests_sent, 0);
}

/* ---- Parameters ------------------------------------------------------------------------------ */

static void test_parameter_name_validation(void **state)
{
    (void)state;
    char name[300];
    memset(name, 'n', sizeof(name));
    name[255] = '\0';
    assert_true(guest_service_parameter_name_valid(name));
    name[255] = 'n';
    name[256] = '\0';
    assert_false(guest_service_parameter_name_valid(name));
    assert_false(guest_service_parameter_name_valid(""));
    assert_false(guest_service_parameter_name_valid(NULL));
    assert_false(guest_service_parameter_name_valid("a\\b"));
    assert_false(guest_service_parameter_name_valid("a\nb"));
    assert_false(guest_service_parameter_name_valid("a\x7f"));
    assert_true(guest_service_parameter_name_valid("Guest/Name.x"));
    assert_true(guest_service_parameter_name_valid("\xc3\xa9t\xc3\xa9")); /* UTF-8 */

    uint32_t id;
    assert_int_equal(guest_service_set_parameter(service, "a\\b", "v", &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_set_parameter(service, "", "v", &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_set_parameter(service, name, "v", &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_set_parameter(service, "a", NULL, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_get_parameter(service, "tab\there", &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    static char value[VIGIL_PARAMETER_VALUE_MAX + 2];
    memset(value, 'v', VIGIL_PARAMETER_VALUE_MAX + 1);
    assert_int_equal(guest_service_set_parameter(service, "a", value, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_get_statistics(service)->requests_sent, 0);
    value[VIGIL_PARAMETER_VALUE_MAX] = '\0';
    name[255] = '\0';
    assert_int_equal(guest_service_set_parameter(service, name, value, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->length, 255 + 1 + VIGIL_PARAMETER_VALUE_MAX + 1);
}

static void test_set_parameter(void **state)
{
    (void)state;
    uint32_t id, length;
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    assert_int_equal(guest_service_set_parameter(service, "color", "blue", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_SET_PARAMETER);
    request_payload(payload, &length);
    assert_int_equal(length, 11);
    assert_memory_equal(payload, "color\0blue\0", 11);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    /* an error from the guest passes through */
    assert_int_equal(guest_service_set_parameter(service, "x", "", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_E_FAIL, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_E_FAIL);
    assert_int_equal(last_result()->request_id, id);
}

static void test_get_parameter(void **state)
{
    (void)state;
    uint32_t id, length;
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    assert_int_equal(guest_service_get_parameter(service, "color", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_GET_PARAMETER);
    request_payload(payload, &length);
    assert_int_equal(length, 6);
    assert_memory_equal(payload, "color\0", 6);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, "blue", 5), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_string_equal(last_result()->value, "blue");

    assert_int_equal(guest_service_get_parameter(service, "none", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_E_NOT_FOUND, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_E_NOT_FOUND);

    /* the longest value */
    static char value[VIGIL_PARAMETER_VALUE_MAX + 1];
    memset(value, 'x', VIGIL_PARAMETER_VALUE_MAX);
    assert_int_equal(guest_service_get_parameter(service, "big", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, value, sizeof(value)), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(strlen(last_result()->value), VIGIL_PARAMETER_VALUE_MAX);
}

static void test_get_parameter_hostile_values(void **state)
{
    (void)state;
    uint32_t id;
    /* unterminated within length (the slot has a NUL after it: must not matter) */
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_S_OK);
    memset((void *)fake_response_slot()->payload, 0, 16);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, "blue", 4), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(last_result()->request_id, id);
    assert_false(pending());
    /* too long */
    static char value[VIGIL_PARAMETER_VALUE_MAX + 2];
    memset(value, 'x', VIGIL_PARAMETER_VALUE_MAX + 1);
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, value, sizeof(value)), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    /* empty payload */
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    /* streamed */
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE, VIGIL_S_OK, 0, "v", 2), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(fake.result_count, 4);
}

static void test_list_parameters_streamed(void **state)
{
    (void)state;
    uint32_t id;
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_LIST_PARAMETERS);
    assert_int_equal(fake_request_slot()->length, 0);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE, VIGIL_S_OK, 0, "alpha\0beta", 11), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE, VIGIL_S_OK, 1, "gamma", 6), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 0);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 2, "delta", 6), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.data_count, 4);
    const char *expected[] = {"alpha", "beta", "gamma", "delta"};
    for (unsigned i = 0; i < 4; i++) {
        assert_string_equal(fake.data[i].bytes, expected[i]);
        assert_int_equal(fake.data[i].stream, 0);
        assert_int_equal(fake.data[i].request_id, id);
    }
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    /* empty list */
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_int_equal(fake.data_count, 4);
}

static void test_list_parameters_malformed(void **state)
{
    (void)state;
    uint32_t id;
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE, VIGIL_S_OK, 0, "alpha\0be", 8), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(fake.data_count, 0);
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, "a\0\0", 3), VIGIL_DOORBELL_REJECTED); /* empty name */
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, "a\\b", 4), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(fake.data_count, 0);
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_E_FAIL, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_E_FAIL);
}

/* ---- Execute ----------------------------------------------------------------------------------- */

static const char *const ls_argv[] = {"/bin/ls", "-l", "/"};
static const char *const ls_env[] = {"LANG=C", "X="};

static uint32_t start_ls(uint32_t timeout_ms)
{
    struct guest_execute_command command = {
        .argc = 3, .argv = ls_argv, .env_count = 2, .env = ls_env, .cwd = "/tmp", .timeout_ms = timeout_ms};
    uint32_t id = 0;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_S_OK);
    return id;
}

static uint32_t send_result(uint32_t chunk, int32_t exit_code, uint32_t flags)
{
    struct vigil_execute_result end = {exit_code, flags};
    return guest_reply(0, VIGIL_S_OK, chunk, &end, sizeof(end));
}

static void test_execute_encoding(void **state)
{
    (void)state;
    start_ls(7000);
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    uint32_t length;
    request_payload(payload, &length);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_EXECUTE);
    struct vigil_execute_request header;
    memcpy(&header, payload, sizeof(header));
    assert_int_equal(header.argc, 3);
    assert_int_equal(header.env_count, 2);
    assert_int_equal(header.cwd_present, 1);
    assert_int_equal(header.timeout_ms, 7000);
    static const char strings[] = "/bin/ls\0-l\0/\0LANG=C\0X=\0/tmp";
    assert_int_equal(length, sizeof(header) + sizeof(strings));
    assert_memory_equal(payload + sizeof(header), strings, sizeof(strings));
}

static void test_execute_streams_three_chunks_in_order(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, VIGIL_S_OK, 0, "total 0\n", 8),
                     VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDERR, VIGIL_S_OK, 1, "ls: warn\n", 9),
                     VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, VIGIL_S_OK, 2, "bin\n", 4),
                     VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 0);
    assert_true(pending());
    assert_int_equal(send_result(3, 3, 0), VIGIL_DOORBELL_ACCEPTED);

    assert_int_equal(fake.data_count, 3);
    assert_string_equal(fake.data[0].bytes, "total 0\n");
    assert_int_equal(fake.data[0].stream, VIGIL_MESSAGE_STDOUT);
    assert_string_equal(fake.data[1].bytes, "ls: warn\n");
    assert_int_equal(fake.data[1].stream, VIGIL_MESSAGE_STDERR);
    assert_string_equal(fake.data[2].bytes, "bin\n");
    assert_int_equal(fake.data[2].stream, VIGIL_MESSAGE_STDOUT);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(fake.data[i].request_id, id);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_int_equal(last_result()->exit_code, 3);
    assert_int_equal(last_result()->execute_flags, 0);
    assert_false(pending());
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    assert_int_equal(stats->bytes_streamed, 21);
    assert_int_equal(stats->chunks_received, 4);
}

static void test_execute_validation(void **state)
{
    (void)state;
    uint32_t id;
    const char *argv[VIGIL_EXECUTE_ARGUMENTS_MAX + 1];
    for (unsigned i = 0; i <= VIGIL_EXECUTE_ARGUMENTS_MAX; i++)
        argv[i] = "a";
    struct guest_execute_command command = {.argc = 0, .argv = argv};
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.argc = VIGIL_EXECUTE_ARGUMENTS_MAX + 1;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_execute(service, NULL, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.argc = 1;
    command.argv = NULL;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    const char *with_null[] = {"/bin/echo", NULL};
    command.argv = with_null;
    command.argc = 2;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    const char *empty[] = {""};
    command.argv = empty;
    command.argc = 1;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    /* strings that do not fit one payload */
    static char big[VIGIL_MESSAGE_PAYLOAD_MAX];
    memset(big, 'b', sizeof(big) - 1);
    const char *too_big[] = {big};
    command.argv = too_big;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    /* exactly fitting: header + string + NUL == PAYLOAD_MAX */
    big[VIGIL_MESSAGE_PAYLOAD_MAX - sizeof(struct vigil_execute_request) - 1] = '\0';
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->length, VIGIL_MESSAGE_PAYLOAD_MAX);
    big[VIGIL_MESSAGE_PAYLOAD_MAX - sizeof(struct vigil_execute_request) - 1] = 'b';
    /* env must be NAME=value; cwd non-empty */
    const char *bad_env[] = {"NOEQUALS"};
    const char *bad_env2[] = {"=value"};
    command.argv = argv;
    command.env_count = 1;
    command.env = bad_env;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.env = bad_env2;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.env = NULL;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.env_count = 0;
    command.cwd = "";
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    command.cwd = NULL;
    command.argc = VIGIL_EXECUTE_ARGUMENTS_MAX;
    assert_int_equal(guest_service_execute(service, &command, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_service_get_statistics(service)->requests_sent, 1);
}

static void test_execute_result_wrong_size_is_protocol_error(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    uint32_t sequence = fake_request_slot()->sequence;
    int32_t four = 0;
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, &four, 4), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(last_result()->request_id, id);
    /* the command may still run in the guest: it is killed */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL);
    assert_true(fake_request_slot()->sequence > sequence);
    assert_true(pending());
    uint8_t twelve[12] = {0};
    start_ls(0); /* queued behind the KILL */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED); /* KILL acknowledged */
    assert_int_equal(fake.result_count, 1);                                            /* no callback for it */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_EXECUTE);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, twelve, sizeof(twelve)), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
}

static void test_execute_failed_to_start(void **state)
{
    (void)state;
    start_ls(0);
    assert_int_equal(guest_reply(0, VIGIL_E_NOT_FOUND, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_E_NOT_FOUND);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_EXECUTE); /* no KILL needed */
    assert_false(pending());
}

static void test_execute_bad_stream_flags(void **state)
{
    (void)state;
    start_ls(0);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT | VIGIL_MESSAGE_STDERR, 0, 0, "x", 1),
                     VIGIL_DOORBELL_REJECTED);
    assert_int_equal(last_result()->status, VIGIL_E_PROTOCOL);
    assert_int_equal(fake.data_count, 0);
}

static void test_execute_timeout_sends_kill(void **state)
{
    (void)state;
    uint32_t id = start_ls(2000); /* host waits 2000 + grace */
    uint32_t sequence = fake_request_slot()->sequence;
    uint32_t queued;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &queued), VIGIL_S_OK);
    fake_run(2000 + GS_EXECUTE_TIMEOUT_GRACE_MS - 100, 100);
    assert_int_equal(fake.result_count, 0);
    fake_run(100, 100);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(guest_service_get_statistics(service)->requests_timed_out, 1);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL);
    assert_true(fake_request_slot()->sequence > sequence);
    assert_true(pending());
    /* the late final chunk of the expired command is unsolicited */
    struct vigil_execute_result end = {-9, VIGIL_EXECUTE_KILLED};
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, 0, 0, 0, &end, sizeof(end)), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_service_get_statistics(service)->replies_unsolicited, 1);
    /* the guest never acknowledges the KILL: after its own timeout the queue moves on */
    fake_run(GS_KILL_TIMEOUT_MS, 100);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_NOP);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, queued);
    assert_int_equal(fake.result_count, 2);
}

static void test_execute_default_timeout(void **state)
{
    (void)state;
    start_ls(0);
    fake_run(GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS - 1000, 1000);
    assert_int_equal(fake.result_count, 0);
    fake_run(1000, 1000);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
}

static void test_kill_running_command(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    uint32_t sequence = fake_request_slot()->sequence;
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "a", 1), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_kill(service, id + 100), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_kill(service, id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL);
    uint32_t kill_sequence = fake_request_slot()->sequence;
    assert_true(kill_sequence > sequence);
    /* the guest acknowledges the KILL, then ends the command */
    assert_int_equal(guest_send(kill_sequence, VIGIL_OP_KILL, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    struct vigil_execute_result end = {-9, VIGIL_EXECUTE_KILLED | 0x80};
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, 0, 0, 1, &end, sizeof(end)), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_int_equal(last_result()->exit_code, -9);
    assert_int_equal(last_result()->execute_flags, VIGIL_EXECUTE_KILLED); /* unknown bits dropped */
    assert_int_equal(guest_service_get_statistics(service)->replies_unsolicited, 0);
    assert_false(pending());
    assert_int_equal(guest_service_kill(service, id), VIGIL_E_INVALIDARG); /* over */
}

static void test_kill_queued_command(void **state)
{
    (void)state;
    uint32_t nop;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &nop), VIGIL_S_OK);
    uint32_t first = start_ls(0);
    uint32_t second = start_ls(0);
    assert_int_equal(guest_service_kill(service, nop), VIGIL_E_INVALIDARG); /* not a command */
    assert_int_equal(guest_service_kill(service, first), VIGIL_S_OK);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, first);
    assert_int_equal(last_result()->status, VIGIL_E_ABORT);
    assert_int_equal(last_result()->execute_flags, VIGIL_EXECUTE_KILLED);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_NOP); /* nothing sent */
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_EXECUTE); /* the second command */
    assert_int_equal(send_result(0, 0, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, second);
}

/* guest_service_kill before the guest has taken the EXECUTE out of the slot: the
 * KILL replaces it, so it never runs and nothing of it ever comes. Once the guest
 * answers the KILL, the EXECUTE ends as killed GS_KILL_TIMEOUT_MS later, not
 * VM_E_TIMED_OUT at its full deadline; nothing more is sent for it. */
static void test_kill_execute_the_guest_never_took(void **state)
{
    (void)state;
    uint32_t id = start_ls(0); /* host deadline: the default 30 s */
    uint32_t queued;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &queued), VIGIL_S_OK);
    assert_int_equal(guest_service_kill(service, id), VIGIL_S_OK);
    assert_int_equal(fake.result_count, 0); /* not at once: it might be running */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL);
    uint32_t kill_sequence = fake_request_slot()->sequence;
    fake_run(1000, 100);
    /* the guest only ever saw the KILL (nothing runs) and answers it */
    assert_int_equal(guest_send(kill_sequence, VIGIL_OP_KILL, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    fake_run(GS_KILL_TIMEOUT_MS - 100, 100);
    assert_int_equal(fake.result_count, 0);
    assert_int_equal(fake_request_slot()->sequence, kill_sequence); /* nothing else sent meanwhile */
    fake_run(100, 100);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(last_result()->status, VIGIL_E_ABORT);
    assert_int_equal(last_result()->exit_code, -1);
    assert_int_equal(last_result()->execute_flags, VIGIL_EXECUTE_KILLED);
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    assert_int_equal(stats->requests_timed_out, 0);
    assert_int_equal(stats->replies_unsolicited, 0);
    assert_true(fake_log_contains("killed before the guest started it"));
    /* no second KILL: the queue moves on to the NOP */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_NOP);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, queued);
    assert_int_equal(fake.result_count, 2);
}

/* The same KILL, but the guest had taken the EXECUTE and it ran without output:
 * its KILLED end follows the KILL's answer and is what the request reports. */
static void test_kill_silent_running_execute(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    uint32_t sequence = fake_request_slot()->sequence;
    assert_int_equal(guest_service_kill(service, id), VIGIL_S_OK);
    uint32_t kill_sequence = fake_request_slot()->sequence;
    assert_int_equal(guest_send(kill_sequence, VIGIL_OP_KILL, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    fake_run(GS_KILL_TIMEOUT_MS - 100, 100);
    struct vigil_execute_result end = {137, VIGIL_EXECUTE_KILLED};
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, 0, 0, 0, &end, sizeof(end)), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_int_equal(last_result()->exit_code, 137);
    assert_int_equal(last_result()->execute_flags, VIGIL_EXECUTE_KILLED);
    fake_run(60000, 1000); /* nothing expires later */
    assert_int_equal(fake.result_count, 1);
    assert_false(pending());
}

/* A command that had started (a chunk came) keeps waiting for its end after the
 * KILL's answer, and if the guest never answers the KILL the EXECUTE times out at
 * its own deadline as before. */
static void test_kill_execute_unanswered_kill_times_out(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    assert_int_equal(guest_service_kill(service, id), VIGIL_S_OK);
    fake_run(GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS - 1000, 1000);
    assert_int_equal(fake.result_count, 0);
    fake_run(1000, 1000);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_KILL); /* killed again, as any expired EXECUTE */

    fake.result_count = 0;
    fake_run(GS_KILL_TIMEOUT_MS, 100); /* that KILL is never answered either */
    id = start_ls(0);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "a", 1), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_kill(service, id), VIGIL_S_OK);
    assert_int_equal(guest_send(fake_request_slot()->sequence, VIGIL_OP_KILL, 0, 0, 0, NULL, 0),
                     VIGIL_DOORBELL_ACCEPTED);
    fake_run(GS_KILL_TIMEOUT_MS * 2, 100);
    assert_int_equal(fake.result_count, 0); /* it runs: its end will come */
}

/* ---- Queue ------------------------------------------------------------------------------------- */

static void test_queue_full_and_order(void **state)
{
    (void)state;
    uint32_t ids[GUEST_SERVICE_QUEUE_MAX + 1];
    for (unsigned i = 0; i <= GUEST_SERVICE_QUEUE_MAX; i++)
        assert_int_equal(guest_service_nop(service, &fake_callbacks, &ids[i]), VIGIL_S_OK);
    uint32_t id = 999;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_E_BUSY);
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &id), VIGIL_E_BUSY);
    assert_int_equal(id, 999);
    assert_int_equal(guest_service_get_statistics(service)->requests_refused_busy, 2);
    assert_int_equal(guest_service_get_statistics(service)->requests_sent, 1);
    uint32_t last_sequence = 0;
    for (unsigned i = 0; i <= GUEST_SERVICE_QUEUE_MAX; i++) {
        assert_true(fake_request_slot()->sequence > last_sequence);
        last_sequence = fake_request_slot()->sequence;
        assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
        assert_int_equal(last_result()->request_id, ids[i]);
    }
    assert_int_equal(fake.result_count, GUEST_SERVICE_QUEUE_MAX + 1);
    assert_false(pending());
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_S_OK);
}

static void queue_from_callback(void *context, const struct guest_service_result *result)
{
    (void)context;
    fake.results[fake.result_count++] = *result;
    if (fake.result_count == 1)
        assert_int_equal(guest_service_get_parameter(service, "next", &fake_callbacks, NULL), VIGIL_S_OK);
}

static void test_request_from_completion_callback(void **state)
{
    (void)state;
    struct guest_service_callbacks callbacks = {NULL, NULL, queue_from_callback};
    assert_int_equal(guest_service_nop(service, &callbacks, NULL), VIGIL_S_OK);
    assert_int_equal(guest_service_nop(service, &fake_callbacks, NULL), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    /* the queued NOP goes first, the request made in the callback after it */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_NOP);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_GET_PARAMETER);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, "v", 2), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 3);
}

static void test_request_timeout_moves_queue(void **state)
{
    (void)state;
    uint32_t first, second;
    assert_int_equal(guest_service_get_parameter(service, "a", &fake_callbacks, &first), VIGIL_S_OK);
    assert_int_equal(guest_service_set_parameter(service, "b", "c", &fake_callbacks, &second), VIGIL_S_OK);
    fake_run(GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS, 500);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, first);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_SET_PARAMETER); /* no KILL for those */
    assert_true(pending());
    assert_true(fake_log_contains("timed out"));
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, second);
}

/* ---- Hostile replies --------------------------------------------------------------------------- */

static void test_hostile_replies_rejected(void **state)
{
    (void)state;
    uint32_t id = start_ls(0);
    uint32_t sequence = fake_request_slot()->sequence;
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);

    /* length beyond the slot */
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, 0, 0, 0, NULL, VIGIL_MESSAGE_PAYLOAD_MAX + 1),
                     VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, 0, 0, 0, NULL, 0xFFFFFFFFu), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(fake_status()->doorbell_result, VIGIL_DOORBELL_REJECTED);
    /* a sequence that is not in flight */
    assert_int_equal(guest_send(sequence + 1, VIGIL_OP_EXECUTE, VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "x", 1),
                     VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_send(sequence + 1000, VIGIL_OP_EXECUTE, VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "x", 1),
                     VIGIL_DOORBELL_REJECTED);
    /* the right sequence, the wrong operation */
    assert_int_equal(guest_send(sequence, VIGIL_OP_GET_PARAMETER, 0, 0, 0, "x", 2), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(stats->replies_unsolicited, 3);
    /* chunks out of order */
    assert_int_equal(guest_send(sequence, VIGIL_OP_EXECUTE, VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 1, "x", 1),
                     VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "a", 1), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 0, "a", 1), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_reply(VIGIL_MESSAGE_MORE | VIGIL_MESSAGE_STDOUT, 0, 5, "a", 1), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(stats->messages_rejected, 8);
    assert_int_equal(fake.data_count, 1);
    assert_int_equal(fake.result_count, 0); /* none of that ended the request */
    assert_true(fake_log_contains("unsolicited"));
    assert_true(fake_log_contains("chunk"));
    assert_true(fake_log_contains("exceeds"));
    /* the real end still works */
    assert_int_equal(send_result(1, 0, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, id);
    /* nothing in flight: any reply is unsolicited */
    assert_int_equal(send_result(2, 0, 0), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(stats->replies_unsolicited, 4);
    assert_int_equal(fake.result_count, 1);
}

static void test_doorbell_rate_limit(void **state)
{
    (void)state;
    fake.now_ms = 200000; /* the start of a second */
    for (unsigned i = 0; i < GUEST_SERVICE_DOORBELLS_PER_SECOND_MAX; i++)
        assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_ACCEPTED);
    fake_advance(999);
    unsigned events = fake.event_count;
    assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_RATE_LIMITED);
    assert_int_equal(fake.event_count, events); /* not read */
    assert_int_equal(fake_status()->doorbell_result, VIGIL_DOORBELL_RATE_LIMITED);
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    assert_int_equal(stats->doorbells_rate_limited, 1);
    assert_int_equal(fake_status()->doorbell_count, stats->doorbells);
    fake_advance(1);
    assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_status()->doorbell_result, VIGIL_DOORBELL_ACCEPTED);
}

static void test_log_lines_limited(void **state)
{
    (void)state;
    fake.log_count = 0;
    for (unsigned i = 0; i < 100; i++)
        guest_send(77, VIGIL_OP_NOP, 0, 0, 0, NULL, 0);
    assert_int_equal(fake.log_count, GS_LOG_LINES_PER_SECOND_MAX);
    fake_advance(1000);
    guest_send(77, VIGIL_OP_NOP, 0, 0, 0, NULL, 0);
    assert_true(fake_log_contains("suppressed"));
    assert_int_equal(guest_service_get_statistics(service)->replies_unsolicited, 101);
}

/* ---- Shutdown ---------------------------------------------------------------------------------- */

static uint32_t start_shutdown(bool force, bool reboot, uint32_t timeout_ms, const char *reason)
{
    struct guest_shutdown_command command = {.force = force, .reboot = reboot, .timeout_ms = timeout_ms,
                                             .reason = reason};
    uint32_t id = 0;
    assert_int_equal(guest_service_shutdown(service, &command, &fake_callbacks, &id), VIGIL_S_OK);
    return id;
}

static void test_shutdown_encoding(void **state)
{
    (void)state;
    start_shutdown(true, true, 0, "maintenance");
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    uint32_t length;
    request_payload(payload, &length);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_SHUTDOWN);
    struct vigil_shutdown_request header;
    memcpy(&header, payload, sizeof(header));
    assert_int_equal(header.flags, VIGIL_SHUTDOWN_FORCE | VIGIL_SHUTDOWN_REBOOT);
    assert_int_equal(header.timeout_ms, GUEST_SERVICE_SHUTDOWN_TIMEOUT_DEFAULT_MS);
    assert_int_equal(length, sizeof(header) + 12);
    assert_memory_equal(payload + sizeof(header), "maintenance", 12);
    assert_true(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED);

    char reason[300];
    memset(reason, 'r', sizeof(reason));
    reason[VIGIL_SHUTDOWN_REASON_MAX + 1] = '\0';
    struct guest_shutdown_command command = {.reason = reason};
    uint32_t id;
    assert_int_equal(guest_service_shutdown(service, &command, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
    reason[VIGIL_SHUTDOWN_REASON_MAX] = '\0';
    assert_int_equal(guest_service_shutdown(service, &command, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(guest_service_shutdown(service, NULL, &fake_callbacks, &id), VIGIL_E_INVALIDARG);
}

static void test_shutdown_accepted_completes_when_guest_stops(void **state)
{
    (void)state;
    uint32_t id = start_shutdown(false, false, 60000, NULL);
    uint32_t queued;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &queued), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 0); /* not until the guest is gone */
    assert_false(pending());
    assert_true(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_SHUTDOWN); /* the NOP waits */
    /* a second answer to the same request is unsolicited */
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_REJECTED);
    fake_run(10000, 1000);
    assert_int_equal(fake.result_count, 0);

    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "ACPI S5");
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_string_equal(fake_last_event()->detail, "ACPI S5");
    assert_int_equal(fake.result_count, 2);
    assert_int_equal(fake.results[0].request_id, id);
    assert_int_equal(fake.results[0].status, VIGIL_S_OK);
    assert_int_equal(fake.results[1].request_id, queued);
    assert_int_equal(fake.results[1].status, VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0);
    assert_int_equal(fake.forced_off, 0);
}

static void test_shutdown_vetoed(void **state)
{
    (void)state;
    start_shutdown(true, false, 5000, "patch");
    assert_int_equal(guest_reply(0, VIGIL_ERROR_MACHINE_LOCKED, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->status, VIGIL_ERROR_MACHINE_LOCKED);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0);
    fake_run(10000, 1000);
    assert_int_equal(fake.forced_off, 0);
    assert_true(guest_service_guest_running(service));
}

static void test_shutdown_forced_after_timeout(void **state)
{
    (void)state;
    uint32_t id = start_shutdown(true, true, 5000, "hung update");
    uint32_t queued;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &queued), VIGIL_S_OK);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    fake_run(4900, 100);
    assert_int_equal(fake.forced_off, 0);
    fake_run(100, 100);
    assert_int_equal(fake.forced_off, 1);
    assert_true(fake.forced_reboot);
    assert_string_equal(fake.forced_reason, "hung update");
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_non_null(strstr(fake_last_event()->detail, "hung update"));
    assert_int_equal(fake.result_count, 2);
    assert_int_equal(fake.results[0].request_id, id);
    assert_int_equal(fake.results[0].status, VIGIL_S_OK);
    assert_int_equal(fake.results[1].request_id, queued);
    assert_int_equal(fake.results[1].status, VIGIL_VM_E_VM_NOT_RUNNING);
    assert_false(guest_service_guest_running(service));
    /* the hypervisor reporting the stop afterwards adds nothing */
    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "off");
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_int_equal(fake.result_count, 2);
}

static void test_shutdown_forced_without_answer(void **state)
{
    (void)state;
    start_shutdown(true, false, 3000, NULL); /* the agent never answers */
    fake_run(3000, 100);
    assert_int_equal(fake.forced_off, 1);
    assert_false(fake.forced_reboot);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
}

static void test_shutdown_not_forced_times_out(void **state)
{
    (void)state;
    uint32_t id = start_shutdown(false, false, 5000, NULL);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    fake_run(5000, 100);
    assert_int_equal(fake.forced_off, 0);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
    assert_true(guest_service_guest_running(service));
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0);
    assert_int_equal(guest_service_get_statistics(service)->requests_timed_out, 1);
}

/* A forced SHUTDOWN queued behind a hung EXECUTE: its timeout runs from the
 * request, not from when it reaches the slot. */
static void test_shutdown_forced_while_queued_behind_hung_execute(void **state)
{
    (void)state;
    uint32_t exec = start_ls(0); /* hangs: the host would wait 30 s */
    uint32_t id = start_shutdown(true, false, 3000, "stuck");
    uint32_t after;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &after), VIGIL_S_OK);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0); /* not sent */
    fake_run(2900, 100);
    assert_int_equal(fake.forced_off, 0);
    assert_int_equal(fake.result_count, 0);
    fake_run(100, 100);
    assert_int_equal(fake.forced_off, 1);
    assert_false(fake.forced_reboot);
    assert_string_equal(fake.forced_reason, "stuck");
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_non_null(strstr(fake_last_event()->detail, "stuck"));
    assert_non_null(strstr(fake_last_event()->detail, "queued"));
    assert_int_equal(fake.result_count, 3);
    assert_int_equal(fake.results[0].request_id, id);
    assert_int_equal(fake.results[0].status, VIGIL_S_OK);
    assert_int_equal(fake.results[1].request_id, exec);
    assert_int_equal(fake.results[1].status, VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(fake.results[2].request_id, after);
    assert_int_equal(fake.results[2].status, VIGIL_VM_E_VM_NOT_RUNNING);
    assert_false(guest_service_guest_running(service));
    assert_false(pending());
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0);
    fake_run(60000, 1000);
    assert_int_equal(fake.result_count, 3);
}

/* Without force it ends VM_E_TIMED_OUT and never reaches the guest; the rest of
 * the queue is untouched. */
static void test_shutdown_not_forced_times_out_while_queued(void **state)
{
    (void)state;
    uint32_t exec = start_ls(0);
    uint32_t id = start_shutdown(false, false, 3000, NULL);
    uint32_t after;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &after), VIGIL_S_OK);
    fake_run(2900, 100);
    assert_int_equal(fake.result_count, 0);
    fake_run(100, 100);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(last_result()->status, VIGIL_VM_E_TIMED_OUT);
    assert_int_equal(fake.forced_off, 0);
    assert_true(guest_service_guest_running(service));
    assert_int_equal(guest_service_get_statistics(service)->requests_timed_out, 1);
    assert_true(fake_log_contains("still queued"));
    /* the EXECUTE still runs; after it, the NOP (not the SHUTDOWN) */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_EXECUTE);
    assert_int_equal(send_result(0, 0, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, exec);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_NOP);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED, 0);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(last_result()->request_id, after);
    assert_int_equal(fake.result_count, 3);
}

/* A SHUTDOWN that reaches the slot after waiting keeps its deadline, and the
 * guest is told the time that is left. */
static void test_shutdown_sent_after_queue_keeps_deadline(void **state)
{
    (void)state;
    start_ls(0);
    uint32_t id = start_shutdown(true, true, 5000, "later");
    fake_run(2000, 100);
    assert_int_equal(send_result(0, 0, 0), VIGIL_DOORBELL_ACCEPTED); /* the EXECUTE ends */
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_SHUTDOWN);
    assert_true(fake_status()->host_flags & VIGIL_HOST_FLAG_SHUTDOWN_REQUESTED);
    uint8_t payload[VIGIL_MESSAGE_PAYLOAD_MAX];
    uint32_t length;
    request_payload(payload, &length);
    struct vigil_shutdown_request header;
    memcpy(&header, payload, sizeof(header));
    assert_int_equal(header.timeout_ms, 3000);
    assert_int_equal(header.flags, VIGIL_SHUTDOWN_FORCE | VIGIL_SHUTDOWN_REBOOT);
    assert_memory_equal(payload + sizeof(header), "later", 6);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED); /* accepted, then hangs */
    fake_run(2900, 100);
    assert_int_equal(fake.forced_off, 0);
    fake_run(100, 100);
    assert_int_equal(fake.forced_off, 1);
    assert_true(fake.forced_reboot);
    assert_int_equal(last_result()->request_id, id);
    assert_int_equal(last_result()->status, VIGIL_S_OK);
    assert_null(strstr(fake_last_event()->detail, "queued"));
}

static void test_guest_stopped_fails_requests(void **state)
{
    (void)state;
    uint32_t a = start_ls(0), b, c;
    assert_int_equal(guest_service_get_parameter(service, "x", &fake_callbacks, &b), VIGIL_S_OK);
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &c), VIGIL_S_OK);
    guest_service_guest_stopped(service, GUEST_EVENT_TRIPLE_FAULT, NULL);
    assert_int_equal(fake_count_events(GUEST_EVENT_TRIPLE_FAULT), 1);
    assert_string_equal(fake_last_event()->detail, "triple fault");
    assert_int_equal(fake.result_count, 3);
    assert_int_equal(fake.results[0].request_id, a);
    assert_int_equal(fake.results[1].request_id, b);
    assert_int_equal(fake.results[2].request_id, c);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(fake.results[i].status, VIGIL_VM_E_VM_NOT_RUNNING);
    assert_false(pending());
    fake_run(60000, 1000); /* no timeouts fire afterwards */
    assert_int_equal(fake.result_count, 3);
    assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_REJECTED);
}

#define R(name) cmocka_unit_test_setup_teardown(name, fake_setup_registered, fake_teardown)
#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        R(test_nop_round_trip),
        R(test_sequence_never_zero),
        T(test_requests_refused_at_once),
        R(test_parameter_name_validation),
        R(test_set_parameter),
        R(test_get_parameter),
        R(test_get_parameter_hostile_values),
        R(test_list_parameters_streamed),
        R(test_list_parameters_malformed),
        R(test_execute_encoding),
        R(test_execute_streams_three_chunks_in_order),
        R(test_execute_validation),
        R(test_execute_result_wrong_size_is_protocol_error),
        R(test_execute_failed_to_start),
        R(test_execute_bad_stream_flags),
        R(test_execute_timeout_sends_kill),
        R(test_execute_default_timeout),
        R(test_kill_running_command),
        R(test_kill_queued_command),
        R(test_kill_execute_the_guest_never_took),
        R(test_kill_silent_running_execute),
        R(test_kill_execute_unanswered_kill_times_out),
        R(test_queue_full_and_order),
        R(test_request_from_completion_callback),
        R(test_request_timeout_moves_queue),
        R(test_hostile_replies_rejected),
        R(test_doorbell_rate_limit),
        R(test_log_lines_limited),
        R(test_shutdown_encoding),
        R(test_shutdown_accepted_completes_when_guest_stops),
        R(test_shutdown_vetoed),
        R(test_shutdown_forced_after_timeout),
        R(test_shutdown_forced_without_answer),
        R(test_shutdown_not_forced_times_out),
        R(test_shutdown_forced_while_queued_behind_hung_execute),
        R(test_shutdown_not_forced_times_out_while_queued),
        R(test_shutdown_sent_after_queue_keeps_deadline),
        R(test_guest_stopped_fails_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
