/*
 * Unit tests for the console's machine mode (docs/console-protocol.md): every
 * request and its response, every malformed request and its error response,
 * streamed exec output interleaved with events (each output line must be valid
 * JSON by itself), and asynchronous completion. Exec output's base64 encoding in
 * detail: test_console_json_exec.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/json_reader.h"
#include "tests/unit/console_fakes.h"

static int setup(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    fake_output_clear();
    return 0;
}

static void assert_valid_lines(int expected)
{
    int lines = json_lines_valid(fake_output(), fake_output_length());
    if (lines != expected)
        fail_msg("expected %d valid JSON lines, got %d:\n%s", expected, lines, fake_output());
}

/* Sends one request line; checks the output is exactly `expected` (if not NULL)
 * and consists of valid JSON lines. */
static void request(const char *line, const char *expected)
{
    fake_output_clear();
    type_text(line);
    type_text("\n");
    if (expected != NULL && strcmp(fake_output(), expected) != 0)
        fail_msg("request: %s\nexpected: %sgot:      %s", line, expected, fake_output());
    if (json_lines_valid(fake_output(), fake_output_length()) < 0)
        fail_msg("invalid JSON output for %s", line);
}

#define INVALID(id, message)                                                                                           \
    "{\"id\":" id ",\"status\":2147942487,\"status_name\":\"E_INVALIDARG\",\"message\":\"" message "\"}\n"

static void test_ready_event(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    assert_string_equal(fake_output(), "{\"event\":\"console-ready\",\"time_ms\":12345,\"detail\":\"0.1.0-test\"}\n");
}

static void test_status_guest_heartbeat(void **state)
{
    (void)state;
    request("{\"id\":2,\"cmd\":\"status\"}",
            "{\"id\":2,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"hypervisor\":\"0.1.0-test\",\"uptime_ms\":12345,"
            "\"guest_running\":true,\"additions_registered\":true,\"additions_version\":\"1.2.3\",\"os_name\":\"Linux "
            "6.1\",\"computer_name\":\"guest-1\",\"heartbeat_percentage\":98,\"is_heartbeating\":true,\"time_sync\":"
            "false}}\n");
    fake_service.registered = false;
    request("{\"cmd\":\"guest\",\"id\":3}",
            "{\"id\":3,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"additions_version\":null,\"os_name\":null,"
            "\"computer_name\":null,\"heartbeat_percentage\":null,\"is_heartbeating\":null,\"time_sync\":false,"
            "\"can_shutdown\":null}}\n");
    fake_service.report.last_beat_age_ms = UINT64_MAX;
    request("{\"id\":4,\"cmd\":\"heartbeat\"}",
            "{\"id\":4,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"state\":\"beating\",\"heartbeating\":true,"
            "\"period_ms\":1000,\"failure_interval_ms\":10000,\"percentage\":98,\"percentage_1_minute\":98,"
            "\"percentage_5_minutes\":99,\"percentage_15_minutes\":97,\"last_beat_age_ms\":null,\"longest_gap_ms\":3000,"
            "\"beats_total\":1234,\"anomalies_backwards\":0,\"anomalies_jumps\":1}}\n");
    request("{\"id\":5,\"cmd\":\"heartbeat\",\"interval\":2000}", "{\"id\":5,\"status\":0,\"status_name\":\"S_OK\"}\n");
    assert_int_equal(fake_service.last_interval_ms, 2000);
    request("{\"id\":6,\"cmd\":\"heartbeat\",\"interval\":1}",
            "{\"id\":6,\"status\":2147942487,\"status_name\":\"E_INVALIDARG\",\"message\":\"an argument is "
            "invalid\"}\n");
}

static void test_exec_streams_and_completes(void **state)
{
    (void)state;
    request("{\"id\":7,\"cmd\":\"exec\",\"argv\":[\"echo\",\"hi\"],\"timeout\":5,\"cwd\":\"/\",\"env\":[\"A=1\"]}", "");
    struct fake_request *exec = fake_last_request();
    assert_int_equal(exec->argc, 2);
    assert_string_equal(exec->argv[1], "hi");
    assert_int_equal(exec->timeout_ms, 5000);
    assert_string_equal(exec->cwd, "/");
    assert_int_equal(exec->env_count, 1);
    assert_string_equal(exec->env[0], "A=1");
    fake_output_clear();
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "hi\n");
    fake_stream_text(exec, VIGIL_MESSAGE_STDERR, "e\"r\\r\t\n");
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    assert_string_equal(fake_output(), "{\"id\":7,\"stream\":\"stdout\",\"data_b64\":\"aGkK\"}\n"
                                       "{\"id\":7,\"stream\":\"stderr\",\"data_b64\":\"ZSJyXHIJCg==\"}\n"
                                       "{\"id\":7,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":0}\n");
    assert_valid_lines(3);
}

static void test_exec_failures_and_kill(void **state)
{
    (void)state;
    fake_service.registered = false;
    request("{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"]}",
            "{\"id\":1,\"status\":2684617988,\"status_name\":\"VM_E_ADDITIONS_NOT_AVAIL\",\"message\":\"the guest "
            "Additions are not running\"}\n");
    fake_service.registered = true;
    request("{\"id\":2,\"cmd\":\"exec\",\"argv\":[\"sleep\",\"100\"]}", "");
    request("{\"id\":3,\"cmd\":\"kill\",\"target\":9}", INVALID("3", "kill: no running exec with that id"));
    request("{\"id\":4,\"cmd\":\"kill\",\"target\":2}", "{\"id\":4,\"status\":0,\"status_name\":\"S_OK\"}\n");
    assert_int_equal(fake_service.last_killed_id, fake_last_request()->id);
    request("{\"id\":5,\"cmd\":\"kill\"}", "{\"id\":5,\"status\":0,\"status_name\":\"S_OK\"}\n");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_E_ABORT, -9, VIGIL_EXECUTE_KILLED, NULL);
    assert_string_equal(fake_output(), "{\"id\":2,\"status\":2147500036,\"status_name\":\"E_ABORT\",\"exit_code\":-9,"
                                       "\"message\":\"the command was killed\",\"killed\":true}\n");
    request("{\"id\":6,\"cmd\":\"exec\",\"argv\":[\"x\"]}", "");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_S_OK, 124, VIGIL_EXECUTE_TIMED_OUT, NULL);
    assert_string_equal(fake_output(),
                        "{\"id\":6,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":124,\"timed_out\":true}\n");
}

static void test_event_interleaved_with_stream(void **state)
{
    (void)state;
    request("{\"id\":10,\"cmd\":\"exec\",\"argv\":[\"cat\",\"big\"]}", "");
    struct fake_request *exec = fake_last_request();
    fake_output_clear();
    uint8_t chunk[4000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)(i * 37 + 11); /* every byte value, binary */
    struct guest_service_event stopped = {GUEST_EVENT_HEARTBEAT_STOPPED, 70000, "no beat for 10000 ms \"quoted\"\n", 0};
    struct guest_service_event resumed = {GUEST_EVENT_HEARTBEAT_RESUMED, 71000, "after 11000 ms", 7};
    fake_stream(exec, VIGIL_MESSAGE_STDOUT, chunk, 1500);
    console_event(&stopped);
    fake_stream(exec, VIGIL_MESSAGE_STDERR, chunk + 1500, 1000);
    type_text("{\"id\":11,\"cmd\":\"status\"}\n"); /* a request answered mid-stream */
    console_event(&resumed);
    fake_stream(exec, VIGIL_MESSAGE_STDOUT, chunk + 2500, 1500);
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    int lines = json_lines_valid(fake_output(), fake_output_length());
    assert_true(lines >= 8);
    assert_non_null(strstr(fake_output(), "{\"event\":\"heartbeat-stopped\",\"time_ms\":70000,\"detail\":\"no beat for "
                                          "10000 ms \\\"quoted\\\"\\n\"}\n"));
    assert_non_null(strstr(fake_output(), "{\"event\":\"heartbeat-resumed\",\"time_ms\":71000,\"detail\":\"after 11000 ms\",\"dropped\":7}\n"));
    assert_non_null(strstr(fake_output(), "{\"id\":11,\"status\":0"));
    /* the last line is the exec's response */
    const char *last = fake_output() + fake_output_length() - 1;
    while (last > fake_output() && last[-1] != '\n')
        last--;
    assert_string_equal(last, "{\"id\":10,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":0}\n");
}

static void test_param_shutdown_additions_ping(void **state)
{
    (void)state;
    request("{\"id\":1,\"cmd\":\"param\",\"action\":\"set\",\"name\":\"k\\u00e9\",\"value\":\"v w\"}", "");
    struct fake_request *set = fake_last_request();
    assert_string_equal(set->name, "k\xc3\xa9");
    assert_string_equal(set->value, "v w");
    request("{\"id\":2,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"k\"}", "");
    struct fake_request *get = fake_last_request();
    request("{\"id\":3,\"cmd\":\"param\",\"action\":\"list\"}", "");
    struct fake_request *list = fake_last_request();
    fake_output_clear();
    fake_complete(get, VIGIL_S_OK, 0, 0, "va\"lue\x01");
    fake_complete(set, VIGIL_S_OK, 0, 0, NULL);
    fake_stream(list, 0, "a", 1);
    fake_stream(list, 0, "b\xff", 2);
    fake_complete(list, VIGIL_S_OK, 0, 0, NULL);
    assert_string_equal(fake_output(),
                        "{\"id\":2,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"name\":\"k\",\"value\":\"va\\\"lue\\u0001\"}}\n"
                        "{\"id\":1,\"status\":0,\"status_name\":\"S_OK\"}\n"
                        "{\"id\":3,\"stream\":\"name\",\"data\":\"a\"}\n"
                        "{\"id\":3,\"stream\":\"name\",\"data\":\"b\\u00ff\"}\n"
                        "{\"id\":3,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"count\":2}}\n");
    request("{\"id\":4,\"cmd\":\"shutdown\",\"force\":true,\"reboot\":false,\"timeout\":30,\"reason\":\"r\"}", "");
    struct fake_request *shutdown = fake_last_request();
    assert_true(shutdown->force);
    assert_false(shutdown->reboot);
    assert_int_equal(shutdown->timeout_ms, 30000);
    assert_string_equal(shutdown->reason, "r");
    fake_output_clear();
    fake_complete(shutdown, VIGIL_ERROR_MACHINE_LOCKED, 0, 0, NULL);
    assert_string_equal(fake_output(), "{\"id\":4,\"status\":2147943671,\"status_name\":\"ERROR_MACHINE_LOCKED\","
                                       "\"message\":\"the guest refused to shut down\"}\n");
    request("{\"id\":5,\"cmd\":\"additions\",\"action\":\"install\"}", "");
    assert_int_equal(fake_last_request()->kind, FAKE_INSTALL_ADDITIONS);
    request("{\"id\":6,\"cmd\":\"ping\"}", "");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_S_OK, 0, 0, NULL);
    assert_string_equal(fake_output(), "{\"id\":6,\"status\":0,\"status_name\":\"S_OK\"}\n");
}

static void test_timesync_stats_log_help_mode(void **state)
{
    (void)state;
    request("{\"id\":1,\"cmd\":\"timesync\",\"action\":\"on\"}",
            "{\"id\":1,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"time_sync\":true}}\n");
    request("{\"id\":2,\"cmd\":\"timesync\"}",
            "{\"id\":2,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"time_sync\":true}}\n");
    request("{\"id\":3,\"cmd\":\"stats\"}",
            "{\"id\":3,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"exits\":{\"CPUID\":12,\"IO_INSTRUCTION\":345,"
            "\"PREEMPTION_TIMER\":6789},\"service\":{\"doorbells\":42,\"doorbells_rate_limited\":0,\"messages_"
            "rejected\":0,\"replies_unsolicited\":0,\"requests_sent\":7,\"requests_completed\":0,\"requests_timed_"
            "out\":0,\"requests_refused_busy\":0,\"chunks_received\":0,\"bytes_streamed\":0,\"ticks\":0,\"events_emitted\":0,\"events_dropped\":0}}}\n");
    request("{\"id\":4,\"cmd\":\"log\",\"level\":3}",
            "{\"id\":4,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"level\":3,\"level_name\":\"debug\"}}\n");
    request("{\"id\":5,\"cmd\":\"help\"}",
            "{\"id\":5,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"commands\":[\"help\",\"status\",\"guest\","
            "\"heartbeat\",\"exec\",\"kill\",\"shutdown\",\"param\",\"timesync\",\"additions\",\"stats\",\"log\","
            "\"mode\",\"ping\",\"poweroff\",\"policy\",\"audit\",\"allowlist\"]}}\n");
    request("{\"id\":6,\"cmd\":\"mode\",\"mode\":\"json\"}",
            "{\"id\":6,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"json\"}}\n");
    request("   ", ""); /* blank lines are ignored */
    request("", "");
}

/* poweroff: the answer is written before the host's power_off runs. */
static void test_poweroff(void **state)
{
    (void)state;
    request("{\"id\":7,\"cmd\":\"poweroff\"}",
            "{\"id\":7,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"reboot\":false,"
            "\"guest_cut_off\":true}}\n");
    assert_int_equal(fake_power_off_calls, 1);
    assert_false(fake_power_off_reboot);
    assert_int_equal(fake_power_off_output_length, fake_output_length());
    fake_service.running = false; /* guest_exit=console: the guest stopped earlier */
    request("{\"id\":8,\"cmd\":\"poweroff\",\"reboot\":true}",
            "{\"id\":8,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"reboot\":true,"
            "\"guest_cut_off\":false}}\n");
    assert_int_equal(fake_power_off_calls, 2);
    assert_true(fake_power_off_reboot);
    request("{\"id\":9,\"cmd\":\"poweroff\",\"reboot\":false}", NULL);
    assert_int_equal(fake_power_off_calls, 3);
    assert_false(fake_power_off_reboot);
    /* bad members: refused, nothing powered off */
    request("{\"id\":10,\"cmd\":\"poweroff\",\"reboot\":1}", INVALID("10", "'reboot' must be true or false"));
    request("{\"id\":11,\"cmd\":\"poweroff\",\"force\":true}", INVALID("11", "unknown key 'force' for 'poweroff'"));
    assert_int_equal(fake_power_off_calls, 3);
    /* no power_off in the host: E_NOTIMPL, in JSON */
    struct console_host host = *fake_host();
    host.power_off = NULL;
    console_init(&host, CONSOLE_MODE_JSON);
    request("{\"id\":12,\"cmd\":\"poweroff\"}",
            "{\"id\":12,\"status\":2147500033,\"status_name\":\"E_NOTIMPL\",\"message\":\"the guest Additions do not implement this operation\"}\n");
    assert_int_equal(fake_power_off_calls, 3);
    /* no guest service at all: poweroff still works (it needs none) */
    host = *fake_host();
    host.service = NULL;
    console_init(&host, CONSOLE_MODE_JSON);
    request("{\"id\":13,\"cmd\":\"poweroff\"}",
            "{\"id\":13,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"reboot\":false,"
            "\"guest_cut_off\":false}}\n");
    assert_int_equal(fake_power_off_calls, 4);
}

static void test_malformed_requests(void **state)
{
    (void)state;
    static const struct {
        const char *line, *expected;
    } cases[] = {
        {"{\"id\":1,\"cmd\":\"sta", INVALID("null", "malformed request: unterminated string at byte 14")},
        {"{\"id\":1,", INVALID("null", "malformed request: unexpected end at byte 8")},
        {"{\"id\":1,\"cmd\":\"\\q\"}", INVALID("null", "malformed request: bad escape at byte 15")},
        {"[[[[[[[[[[]]]]]]]]]]", INVALID("null", "malformed request: nested too deep at byte 8")},
        {"{\"id\":99999999999999999999,\"cmd\":\"status\"}",
         INVALID("null", "malformed request: number out of range at byte 6")},
        {"{\"id\":1.5,\"cmd\":\"status\"}", INVALID("null", "malformed request: numbers must be integers at byte 6")},
        {"{\"id\":1,\"cmd\":\"status\"} x", INVALID("null", "malformed request: trailing characters at byte 24")},
        {"{\"id\":1,\"id\":2,\"cmd\":\"status\"}", INVALID("null", "malformed request: duplicate key at byte 8")},
        {"[1,2]", INVALID("null", "malformed request: not an object")},
        {"\"status\"", INVALID("null", "malformed request: not an object")},
        {"status", INVALID("null", "malformed request: unexpected character at byte 0")},
        {"{\"cmd\":\"status\"}", INVALID("null", "missing 'id'")},
        {"{\"id\":\"1\",\"cmd\":\"status\"}", INVALID("null", "'id' must be an integer 0..9007199254740991")},
        {"{\"id\":-1,\"cmd\":\"status\"}", INVALID("null", "'id' must be an integer 0..9007199254740991")},
        {"{\"id\":9007199254740992,\"cmd\":\"status\"}", INVALID("null", "'id' must be an integer 0..9007199254740991")},
        {"{\"id\":null,\"cmd\":\"status\"}", INVALID("null", "'id' must be an integer 0..9007199254740991")},
        {"{\"id\":1}", INVALID("1", "missing 'cmd'")},
        {"{\"id\":1,\"cmd\":5}", INVALID("1", "'cmd' must be a string")},
        {"{\"id\":1,\"cmd\":\"reboot\"}", INVALID("1", "unknown command 'reboot'")},
        {"{\"id\":1,\"cmd\":\"statusstatusstatusstatusstatus\"}", INVALID("1", "unknown command 'statusstatusstatusst...'")},
        {"{\"id\":1,\"cmd\":\"status\",\"verbose\":true}", INVALID("1", "unknown key 'verbose' for 'status'")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"a\"],\"timout\":1}", INVALID("1", "unknown key 'timout' for 'exec'")},
        {"{\"id\":1,\"cmd\":\"exec\"}", INVALID("1", "missing 'argv'")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":\"ls\"}", INVALID("1", "'argv' must be an array of strings")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\",1]}", INVALID("1", "'argv' must be an array of strings")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[]}", INVALID("1", "'argv' must not be empty")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"a\\u0000b\"]}", INVALID("1", "'argv' must not contain \\\\u0000")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"timeout\":\"5\"}", INVALID("1", "'timeout' must be an integer 0..4294967")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"timeout\":-5}", INVALID("1", "'timeout' must be an integer 0..4294967")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"env\":[\"A\"]}", INVALID("1", "'env' entries must be NAME=value")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"env\":\"A=1\"}", INVALID("1", "'env' must be an array of strings")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"cwd\":7}", INVALID("1", "'cwd' must be a string")},
        {"{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"ls\"],\"cwd\":\"\"}", INVALID("1", "'cwd' must not be empty")},
        {"{\"id\":1,\"cmd\":\"shutdown\",\"force\":\"yes\"}", INVALID("1", "'force' must be true or false")},
        {"{\"id\":1,\"cmd\":\"kill\",\"target\":true}", INVALID("1", "'target' must be an integer 0..9007199254740991")},
        {"{\"id\":1,\"cmd\":\"param\"}", INVALID("1", "missing 'action'")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"delete\"}",
         INVALID("1", "'action' must be one of: \\\"get\\\" \\\"set\\\" \\\"list\\\"")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"get\"}", INVALID("1", "missing 'name'")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"a\\\\b\"}",
         INVALID("1", "invalid parameter name (1-255 characters, no '\\\\')")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"\"}",
         INVALID("1", "invalid parameter name (1-255 characters, no '\\\\')")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"a\",\"value\":\"b\"}", INVALID("1", "'get' takes no value")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"set\",\"name\":\"a\"}", INVALID("1", "missing 'value'")},
        {"{\"id\":1,\"cmd\":\"param\",\"action\":\"list\",\"name\":\"a\"}", INVALID("1", "'list' takes no name or value")},
        {"{\"id\":1,\"cmd\":\"timesync\",\"action\":true}",
         INVALID("1", "'action' must be one of: \\\"on\\\" \\\"off\\\" \\\"status\\\"")},
        {"{\"id\":1,\"cmd\":\"additions\"}", INVALID("1", "missing 'action'")},
        {"{\"id\":1,\"cmd\":\"log\",\"level\":5}", INVALID("1", "'level' must be an integer 0..4")},
        {"{\"id\":1,\"cmd\":\"mode\"}", INVALID("1", "missing 'mode'")},
        {"{\"id\":1,\"cmd\":\"mode\",\"mode\":\"xml\"}", INVALID("1", "'mode' must be \\\"json\\\" or \\\"human\\\"")},
        {"{\"id\":1,\"cmd\":\"heartbeat\",\"interval\":4294967296}", INVALID("1", "'interval' must be an integer 0..4294967295")},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        request(cases[i].line, cases[i].expected);
    assert_int_equal(fake_service.request_count, 0);
    assert_int_equal(console_mode(), CONSOLE_MODE_JSON);
}

static void test_too_many_arguments(void **state)
{
    (void)state;
    char line[1024] = "{\"id\":1,\"cmd\":\"exec\",\"argv\":[";
    for (int i = 0; i < 65; i++)
        strcat(line, i ? ",\"a\"" : "\"a\"");
    strcat(line, "]}");
    request(line, INVALID("1", "'argv' has more than 64 elements"));
    /* more values than the reader holds */
    strcpy(line, "{\"id\":1,\"cmd\":\"exec\",\"argv\":[");
    for (int i = 0; i < 200; i++)
        strcat(line, i ? ",1" : "1");
    strcat(line, "]}");
    fake_output_clear();
    type_text(line);
    type_text("\n");
    assert_non_null(strstr(fake_output(), "malformed request: too many values at byte"));
}

static void test_async_completion_after_more_input(void **state)
{
    (void)state;
    request("{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"slow\"]}", "");
    struct fake_request *exec = fake_last_request();
    /* half a request line is typed when output arrives: the line is not disturbed */
    fake_output_clear();
    type_text("{\"id\":2,\"cmd\":");
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "out\n");
    type_text("\"status\"}\n");
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    assert_valid_lines(3);
    const char *out = fake_output();
    assert_true(strncmp(out, "{\"id\":1,\"stream\":\"stdout\",\"data_b64\":\"b3V0Cg==\"}\n{\"id\":2,\"status\":0,", 68) == 0);
    assert_non_null(strstr(out, "{\"id\":1,\"status\":0,\"status_name\":\"S_OK\",\"exit_code\":0}\n"));
    assert_int_equal(console_requests_in_flight(), 0);
    console_tick(); /* no prompt in JSON mode */
    assert_null(strstr(fake_output(), "vigil>"));
}

static void test_switch_mode_mid_stream(void **state)
{
    (void)state;
    request("{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"x\"]}", "");
    struct fake_request *exec = fake_last_request();
    fake_stream(exec, VIGIL_MESSAGE_STDOUT, "\xe2\x82", 2); /* half a character: sent as is */
    type_text("{\"id\":2,\"cmd\":\"mode\",\"mode\":\"human\"}\n");
    fake_output_clear();
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "partial");
    type_text("mode json\r");
    fake_output_clear();
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "\n");
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    assert_valid_lines(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ready_event, setup),
        cmocka_unit_test_setup(test_status_guest_heartbeat, setup),
        cmocka_unit_test_setup(test_exec_streams_and_completes, setup),
        cmocka_unit_test_setup(test_exec_failures_and_kill, setup),
        cmocka_unit_test_setup(test_event_interleaved_with_stream, setup),
        cmocka_unit_test_setup(test_param_shutdown_additions_ping, setup),
        cmocka_unit_test_setup(test_poweroff, setup),
        cmocka_unit_test_setup(test_timesync_stats_log_help_mode, setup),
        cmocka_unit_test_setup(test_malformed_requests, setup),
        cmocka_unit_test_setup(test_too_many_arguments, setup),
        cmocka_unit_test_setup(test_async_completion_after_more_input, setup),
        cmocka_unit_test_setup(test_switch_mode_mid_stream, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
