/*
 * Unit tests for the console's human mode (hv/console/): every command's parsing,
 * arity and errors, exec argument parsing with "--", asynchronous completions that
 * arrive after more input, the prompt redraw, and events. The guest service and the
 * host are fakes (tests/unit/console_fakes.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/console_fakes.h"

static int setup(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    fake_output_clear();
    return 0;
}

/* Types a line; returns the output it produced. */
static const char *run(const char *line)
{
    fake_output_clear();
    type_text(line);
    type_text("\r");
    return fake_output();
}

#define assert_output_has(text)                                                                                        \
    do {                                                                                                               \
        if (strstr(fake_output(), (text)) == NULL)                                                                     \
            fail_msg("output lacks \"%s\":\n%s", (text), fake_output());                                               \
    } while (0)
#define assert_output_lacks(text)                                                                                      \
    do {                                                                                                               \
        if (strstr(fake_output(), (text)) != NULL)                                                                     \
            fail_msg("output has \"%s\":\n%s", (text), fake_output());                                                 \
    } while (0)

static void test_banner_and_prompt(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    assert_string_equal(fake_output(), "vigil 0.1.0-test console: type help\nvigil> ");
    assert_int_equal(console_mode(), CONSOLE_MODE_HUMAN);
}

static void test_help_lists_every_command(void **state)
{
    (void)state;
    run("help");
    static const char *const names[] = {"help", "status", "guest", "heartbeat", "exec", "kill", "shutdown",
                                        "param", "timesync", "additions", "stats", "log", "mode", "ping",
                                        "poweroff"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[32];
        snprintf(line, sizeof line, "  %-10s ", names[i]);
        assert_output_has(line);
    }
    run("help exec");
    assert_output_has("usage: exec [--timeout S] [--cwd DIR] [--env NAME=VALUE]... [--] PROGRAM [ARG]...");
    run("help poweroff");
    assert_output_has("usage: poweroff [--reboot]\n");
    assert_output_has("a running guest is cut off");
    run("help nothing");
    assert_output_has("error: unknown command 'nothing' (try help)\n");
    run("help a b");
    assert_output_has("usage: help [COMMAND]\n");
}

static void test_unknown_command_and_blank_line(void **state)
{
    (void)state;
    assert_string_equal(run("frobnicate now"), "frobnicate now\nerror: unknown command 'frobnicate' (try help)\nvigil> ");
    assert_string_equal(run("   "), "   \nvigil> ");
    assert_string_equal(run(""), "\nvigil> ");
}

static void test_wrong_arity_gives_usage(void **state)
{
    (void)state;
    static const struct {
        const char *line, *usage;
    } cases[] = {
        {"status now", "usage: status\n"},
        {"guest x", "usage: guest\n"},
        {"stats x", "usage: stats\n"},
        {"ping x", "usage: ping\n"},
        {"heartbeat interval", "usage: heartbeat [interval MS]\n"},
        {"heartbeat x 5", "usage: heartbeat [interval MS]\n"},
        {"exec", "usage: exec [--timeout S]"},
        {"exec --timeout 5", "usage: exec [--timeout S]"},
        {"exec --cwd / --", "usage: exec [--timeout S]"},
        {"kill 1 2", "usage: kill [ID]\n"},
        {"shutdown now", "usage: shutdown [--force] [--reboot] [--timeout S] [--reason TEXT]\n"},
        {"shutdown --reason", "usage: shutdown"},
        {"param", "usage: param get NAME | param set NAME VALUE | param list\n"},
        {"param get", "usage: param get NAME"},
        {"param get a b", "usage: param get NAME"},
        {"param set a", "usage: param get NAME"},
        {"param set a b c", "usage: param get NAME"},
        {"param list x", "usage: param get NAME"},
        {"param delete a", "usage: param get NAME"},
        {"timesync maybe", "usage: timesync [on|off|status]\n"},
        {"timesync on off", "usage: timesync [on|off|status]\n"},
        {"additions", "usage: additions install\n"},
        {"additions remove", "usage: additions install\n"},
        {"log level", "usage: log [level 0..4]\n"},
        {"log 3", "usage: log [level 0..4]\n"},
        {"mode", "usage: mode json|human\n"},
        {"mode xml", "usage: mode json|human\n"},
        {"poweroff now", "usage: poweroff [--reboot]\n"},
        {"poweroff --force", "usage: poweroff [--reboot]\n"},
        {"poweroff --reboot --reboot", "usage: poweroff [--reboot]\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(cases[i].line);
        if (strstr(fake_output(), cases[i].usage) == NULL)
            fail_msg("'%s': expected '%s' in:\n%s", cases[i].line, cases[i].usage, fake_output());
    }
    assert_int_equal(fake_service.request_count, 0);
    assert_int_equal(console_mode(), CONSOLE_MODE_HUMAN);
    assert_int_equal(fake_power_off_calls, 0);
}

static void test_status_and_guest(void **state)
{
    (void)state;
    run("status");
    assert_output_has("hypervisor: 0.1.0-test\n");
    assert_output_has("uptime ms: 12345 ms\n");
    assert_output_has("guest running: yes\n");
    assert_output_has("additions registered: yes\n");
    assert_output_has("additions version: 1.2.3\n");
    assert_output_has("os name: Linux 6.1\n");
    assert_output_has("computer name: guest-1\n");
    assert_output_has("heartbeat percentage: 98%\n");
    assert_output_has("is heartbeating: yes\n");
    assert_output_has("time sync: no\n");
    run("guest");
    assert_output_has("can shutdown: yes\n");
    assert_output_lacks("hypervisor:");
    /* no Additions: the properties say why */
    fake_service.registered = false;
    run("guest");
    assert_output_has("additions version: unavailable (VM_E_ADDITIONS_NOT_AVAIL)\n");
    assert_output_has("can shutdown: unavailable (VM_E_ADDITIONS_NOT_AVAIL)\n");
    /* guest-provided strings cannot drive the terminal */
    fake_service.registered = true;
    strcpy(fake_service.os_name, "evil\x1b[2J\x07os");
    run("status");
    assert_output_has("os name: evil\\x1b[2J\\x07os\n");
}

static void test_heartbeat_report_and_interval(void **state)
{
    (void)state;
    run("heartbeat");
    assert_output_has("state: beating\n");
    assert_output_has("percentage: 98% (last 60 s)\n");
    assert_output_has("percentage 5 minutes: 99%\n");
    assert_output_has("percentage 15 minutes: 97%\n");
    assert_output_has("last beat age ms: 250 ms\n");
    assert_output_has("longest gap ms: 3000 ms\n");
    assert_output_has("anomalies jumps: 1\n");
    fake_service.report.last_beat_age_ms = UINT64_MAX;
    fake_service.report.started = false;
    run("heartbeat");
    assert_output_has("state: not started\n");
    assert_output_has("last beat age ms: never\n");
    run("heartbeat interval 5000");
    assert_output_has("heartbeat: failure interval set\n");
    assert_int_equal(fake_service.last_interval_ms, 5000);
    run("heartbeat interval 5");
    assert_output_has("error: E_INVALIDARG (0x80070057): an argument is invalid\n");
    run("heartbeat interval 5s");
    assert_output_has("error: heartbeat: bad interval '5s' (milliseconds)\n");
    run("heartbeat interval 99999999999");
    assert_output_has("error: heartbeat: bad interval");
}

static void test_exec_argument_parsing(void **state)
{
    (void)state;
    run("exec --timeout 5 --cwd /tmp --env A=1 --env B=x=y -- ls -l --color \"my file\" 'a b' \"q\\\"x\"");
    assert_output_has("exec 1 started\n");
    struct fake_request *request = fake_last_request();
    assert_non_null(request);
    assert_int_equal(request->kind, FAKE_EXECUTE);
    assert_int_equal(request->timeout_ms, 5000);
    assert_true(request->has_cwd);
    assert_string_equal(request->cwd, "/tmp");
    assert_int_equal(request->env_count, 2);
    assert_string_equal(request->env[0], "A=1");
    assert_string_equal(request->env[1], "B=x=y");
    assert_int_equal(request->argc, 6);
    assert_string_equal(request->argv[0], "ls");
    assert_string_equal(request->argv[1], "-l");
    assert_string_equal(request->argv[2], "--color"); /* after "--": an argument */
    assert_string_equal(request->argv[3], "my file");
    assert_string_equal(request->argv[4], "a b");
    assert_string_equal(request->argv[5], "q\"x");
    /* without "--": the first word that is not an option starts argv */
    run("exec uname -a");
    request = fake_last_request();
    assert_int_equal(request->argc, 2);
    assert_string_equal(request->argv[1], "-a");
    assert_false(request->has_cwd);
    assert_int_equal(request->timeout_ms, 0);
    assert_int_equal(request->env_count, 0);
    /* "--" as the program after the separator */
    run("exec -- -- x");
    request = fake_last_request();
    assert_int_equal(request->argc, 2);
    assert_string_equal(request->argv[0], "--");
}

static void test_exec_argument_errors(void **state)
{
    (void)state;
    run("exec --timeout soon -- ls");
    assert_output_has("error: exec: bad timeout 'soon' (seconds, 0..4294967)\n");
    run("exec --timeout 4294968 -- ls");
    assert_output_has("error: exec: bad timeout '4294968'");
    run("exec --env NOEQUALS -- ls");
    assert_output_has("error: exec: bad --env 'NOEQUALS' (NAME=value)\n");
    run("exec --env =x -- ls");
    assert_output_has("error: exec: bad --env '=x'");
    run("exec --verbose -- ls");
    assert_output_has("error: exec: unknown option '--verbose'\n");
    run("exec --cwd \"\" -- ls");
    assert_output_has("error: exec: empty --cwd\n");
    run("exec \"unterminated");
    assert_output_has("error: unterminated quote\n");
    char line[1024] = "exec --";
    for (int i = 0; i < 65; i++)
        strcat(line, " a");
    run(line);
    assert_output_has("error: exec: too many arguments (max 64)\n");
    strcpy(line, "exec");
    for (int i = 0; i < 65; i++)
        strcat(line, " --env A=1");
    strcat(line, " ls");
    run(line);
    assert_output_has("error: exec: too many --env (max 64)\n");
    assert_int_equal(fake_service.request_count, 0);
}

static void test_exec_streams_lines_and_exit_code(void **state)
{
    (void)state;
    run("exec -- sh -c 'echo hi'");
    struct fake_request *request = fake_last_request();
    fake_output_clear();
    fake_stream_text(request, VIGIL_MESSAGE_STDOUT, "hello ");
    assert_string_equal(fake_output(), ""); /* a partial line waits */
    fake_stream_text(request, VIGIL_MESSAGE_STDOUT, "world\r\nsecond\n");
    fake_stream_text(request, VIGIL_MESSAGE_STDERR, "warn\x1b\n");
    fake_stream_text(request, VIGIL_MESSAGE_STDOUT, "tail");
    fake_complete(request, VIGIL_S_OK, 3, 0, NULL);
    assert_string_equal(fake_output(),
                        "\nstdout: hello world\nstdout: second\nstderr: warn\\x1b\nstdout: tail\nexec 1: exit code 3\n");
    assert_int_equal(console_requests_in_flight(), 0);
    /* the prompt comes back on the tick */
    fake_output_clear();
    console_tick();
    assert_string_equal(fake_output(), "vigil> ");
    console_tick();
    assert_string_equal(fake_output(), "vigil> ");
}

static void test_exec_refused_and_failed(void **state)
{
    (void)state;
    fake_service.registered = false;
    assert_string_equal(run("exec ls"), "exec ls\nerror: VM_E_ADDITIONS_NOT_AVAIL (0xA0040504): the guest Additions are "
                                        "not running\nvigil> ");
    assert_int_equal(console_requests_in_flight(), 0);
    fake_service.registered = true;
    run("exec ls");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_VM_E_VM_NOT_RUNNING, 0, 0, NULL);
    assert_output_has("exec 2: error: VM_E_VM_NOT_RUNNING (0xA0040206): the virtual machine is not running\n");
    run("exec sleep 100");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_S_OK, 124, VIGIL_EXECUTE_TIMED_OUT, NULL);
    assert_output_has("exec 3: exit code 124 (timed out)\n");
}

static void test_async_completion_after_more_input(void **state)
{
    (void)state;
    run("exec -- long");
    struct fake_request *exec = fake_last_request();
    run("param get color");
    struct fake_request *param = fake_last_request();
    assert_int_equal(console_requests_in_flight(), 2);
    /* the user is typing when output arrives: newline, output, then prompt + typed text redrawn */
    fake_output_clear();
    type_text("stat");
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "line\n");
    fake_complete(param, VIGIL_S_OK, 0, 0, "blue");
    console_tick();
    assert_string_equal(fake_output(), "stat\nstdout: line\ncolor = blue\nvigil> stat");
    type_text("us\r");
    assert_output_has("guest running: yes\n"); /* "status" ran with what was typed before */
    fake_output_clear();
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    assert_output_has("exec 1: exit code 0\n");
    assert_int_equal(console_requests_in_flight(), 0);
    /* a late or duplicate completion is ignored */
    fake_output_clear();
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    fake_stream_text(exec, VIGIL_MESSAGE_STDOUT, "late\n");
    assert_string_equal(fake_output(), "");
}

static void test_kill(void **state)
{
    (void)state;
    run("kill");
    assert_output_has("error: kill: no exec is running\n");
    run("exec a");
    run("exec b");
    run("kill");
    assert_int_equal(fake_service.kill_calls, 1);
    assert_int_equal(fake_service.last_killed_id, fake_request(1)->id); /* the latest */
    assert_output_has("kill: exec 2 is being killed\n");
    run("kill 1");
    assert_int_equal(fake_service.last_killed_id, fake_request(0)->id);
    run("kill 7");
    assert_output_has("error: kill: no running exec with that id\n");
    run("kill x");
    assert_output_has("error: kill: bad id 'x'\n");
    fake_service.kill_status = VIGIL_VM_E_VM_NOT_RUNNING;
    run("kill 1");
    assert_output_has("error: VM_E_VM_NOT_RUNNING (0xA0040206)");
    fake_output_clear();
    fake_complete(fake_request(0), VIGIL_S_OK, -9, VIGIL_EXECUTE_KILLED, NULL);
    assert_output_has("exec 1: exit code -9 (killed)\n");
}

static void test_shutdown(void **state)
{
    (void)state;
    run("shutdown");
    struct fake_request *request = fake_last_request();
    assert_int_equal(request->kind, FAKE_SHUTDOWN);
    assert_false(request->force);
    assert_false(request->reboot);
    assert_false(request->has_reason);
    assert_int_equal(request->timeout_ms, 0);
    run("shutdown --force --reboot --timeout 60 --reason \"kernel update\"");
    request = fake_last_request();
    assert_true(request->force);
    assert_true(request->reboot);
    assert_int_equal(request->timeout_ms, 60000);
    assert_string_equal(request->reason, "kernel update");
    fake_output_clear();
    fake_complete(request, VIGIL_ERROR_MACHINE_LOCKED, 0, 0, NULL);
    assert_string_equal(fake_output(),
                        "\nshutdown: error: ERROR_MACHINE_LOCKED (0x800704F7): the guest refused to shut down\n");
    fake_output_clear();
    fake_complete(fake_request(0), VIGIL_S_OK, 0, 0, NULL);
    assert_output_has("shutdown: the guest is shutting down\n");
    run("shutdown --timeout -1");
    assert_output_has("error: shutdown: bad timeout '-1'");
    char line[400] = "shutdown --reason ";
    memset(line + strlen(line), 'r', 256);
    run(line);
    assert_output_has("error: shutdown: reason too long (max 255)\n");
    assert_int_equal(fake_service.request_count, 2);
}

static void test_param(void **state)
{
    (void)state;
    run("param set motd \"hello world\"");
    struct fake_request *request = fake_last_request();
    assert_int_equal(request->kind, FAKE_SET_PARAMETER);
    assert_string_equal(request->name, "motd");
    assert_string_equal(request->value, "hello world");
    fake_output_clear();
    fake_complete(request, VIGIL_S_OK, 0, 0, NULL);
    assert_output_has("param set: done\n");
    run("param get motd");
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_E_NOT_FOUND, 0, 0, NULL);
    assert_output_has("param: error: E_NOT_FOUND (0x80070490): no such parameter\n");
    run("param list");
    request = fake_last_request();
    assert_int_equal(request->kind, FAKE_LIST_PARAMETERS);
    fake_output_clear();
    fake_stream(request, 0, "alpha", 5);
    fake_stream(request, 0, "beta\0", 5);
    fake_complete(request, VIGIL_S_OK, 0, 0, NULL);
    assert_string_equal(fake_output(), "\n  alpha\n  beta\nparam list: 2 parameter(s)\n");
    run("param get bad\\name");
    assert_output_has("error: param: invalid name 'bad\\name' (1-255 characters, no '\\')\n");
    char line[400] = "param get ";
    memset(line + strlen(line), 'n', 256);
    run(line);
    assert_output_has("error: param: invalid name");
    assert_int_equal(fake_service.request_count, 3);
}

static void test_timesync_additions_ping(void **state)
{
    (void)state;
    run("timesync");
    assert_output_has("time sync: no\n");
    run("timesync on");
    assert_output_has("time sync: yes\n");
    assert_true(fake_service.time_sync);
    run("timesync off");
    assert_false(fake_service.time_sync);
    run("timesync status");
    assert_output_has("time sync: no\n");
    fake_service.set_time_sync_status = VIGIL_VM_E_ADDITIONS_NOT_AVAIL;
    run("timesync on");
    assert_output_has("error: VM_E_ADDITIONS_NOT_AVAIL (0xA0040504): the guest Additions are not running\n");
    run("additions install");
    assert_int_equal(fake_last_request()->kind, FAKE_INSTALL_ADDITIONS);
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_S_OK, 0, 0, NULL);
    assert_output_has("additions install: done\n");
    run("ping");
    assert_int_equal(fake_last_request()->kind, FAKE_NOP);
    fake_output_clear();
    fake_complete(fake_last_request(), VIGIL_S_OK, 0, 0, NULL);
    assert_output_has("ping: the Additions answered\n");
}

static void test_stats_and_log(void **state)
{
    (void)state;
    run("stats");
    assert_output_has("exits:\n  CPUID: 12\n  IO_INSTRUCTION: 345\n  PREEMPTION_TIMER: 6789\n");
    assert_output_has("guest service:\n  doorbells: 42\n");
    assert_output_has("  requests sent: 7\n");
    run("log");
    assert_output_has("level: 2\nlevel name: info\n");
    run("log level 4");
    assert_int_equal(fake_log_level, 4);
    assert_output_has("level name: trace\n");
    run("log level 5");
    assert_output_has("error: log: bad level '5' (0..4)\n");
    assert_int_equal(fake_log_level, 4);
}

static void test_too_many_requests_in_flight(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++)
        run("ping");
    assert_int_equal(console_requests_in_flight(), 10);
    run("ping");
    assert_output_has("error: E_BUSY (0x800700AA)");
    run("status"); /* synchronous commands still work */
    assert_output_has("guest running: yes\n");
    fake_complete(fake_request(3), VIGIL_S_OK, 0, 0, NULL);
    run("ping");
    assert_int_equal(fake_service.request_count, 11);
}

static void test_no_service(void **state)
{
    (void)state;
    struct console_host host = *fake_host();
    host.service = NULL;
    host.exit_counter = NULL;
    host.get_log_level = NULL;
    console_init(&host, CONSOLE_MODE_HUMAN);
    run("status");
    assert_output_has("error: VM_E_VM_NOT_RUNNING (0xA0040206): the virtual machine is not running\n");
    run("stats");
    assert_output_has("exits:\nguest service:\n");
    run("log");
    assert_output_has("error: E_NOTIMPL (0x80004001)");
    run("help");
    assert_output_has("  ping ");
}

/* poweroff prints its answer, then the host powers off (the fake returns). */
static void test_poweroff(void **state)
{
    (void)state;
    assert_string_equal(run("poweroff"), "poweroff\npoweroff: powering off (the running guest is cut off)\nvigil> ");
    assert_int_equal(fake_power_off_calls, 1);
    assert_false(fake_power_off_reboot);
    assert_int_equal(fake_power_off_output_length, strlen("poweroff\npoweroff: powering off (the running guest is cut off)\n"));
    fake_service.running = false; /* guest_exit=console: the guest stopped earlier */
    assert_string_equal(run("poweroff --reboot"), "poweroff --reboot\npoweroff: resetting the machine\nvigil> ");
    assert_int_equal(fake_power_off_calls, 2);
    assert_true(fake_power_off_reboot);
    assert_int_equal(fake_service.request_count, 0); /* nothing asked of the guest */
    struct console_host host = *fake_host();
    host.power_off = NULL;
    console_init(&host, CONSOLE_MODE_HUMAN);
    run("poweroff");
    assert_output_has("error: E_NOTIMPL (0x80004001)");
    assert_int_equal(fake_power_off_calls, 2);
}

static void test_events(void **state)
{
    (void)state;
    struct guest_service_event event = {GUEST_EVENT_HEARTBEAT_STOPPED, 61000, "no beat for 10000 ms", 0};
    fake_output_clear();
    console_event(&event);
    assert_string_equal(fake_output(), "\nevent: heartbeat-stopped: no beat for 10000 ms\n");
    memset(event.detail, 'x', sizeof event.detail); /* not NUL-terminated: bounded */
    event.kind = GUEST_EVENT_TRIPLE_FAULT;
    event.detail[3] = '\n';
    fake_output_clear();
    console_emit_event(NULL, &event);
    assert_output_has("event: triple-fault: xxx\\x0axxxx");
    assert_int_equal(strlen(fake_output()), strlen("event: triple-fault: ") + 128 + 3 + 1);
    event.detail[0] = '\0';
    event.kind = GUEST_EVENT_ADDITIONS_REGISTERED;
    fake_output_clear();
    console_event(&event);
    assert_string_equal(fake_output(), "event: additions-registered\n");
    /* the rate limit's count of dropped events of the kind */
    event.dropped = 2990;
    strcpy(event.detail, "x");
    fake_output_clear();
    console_event(&event);
    assert_string_equal(fake_output(), "event: additions-registered: x (2990 earlier additions-registered event(s) "
                                       "dropped: rate limit)\n");
}

static void test_mode_switch(void **state)
{
    (void)state;
    run("mode json");
    assert_string_equal(fake_output(),
                        "mode json\n{\"id\":null,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"json\"}}\n");
    assert_int_equal(console_mode(), CONSOLE_MODE_JSON);
    fake_output_clear();
    type_text("help\n");
    assert_output_has("malformed request: unexpected character at byte 0");
    fake_output_clear();
    type_text("{\"id\":5,\"cmd\":\"mode\",\"mode\":\"human\"}\n");
    assert_string_equal(fake_output(),
                        "{\"id\":5,\"status\":0,\"status_name\":\"S_OK\",\"result\":{\"mode\":\"human\"}}\nvigil> ");
    assert_int_equal(console_mode(), CONSOLE_MODE_HUMAN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_banner_and_prompt, setup),
        cmocka_unit_test_setup(test_help_lists_every_command, setup),
        cmocka_unit_test_setup(test_unknown_command_and_blank_line, setup),
        cmocka_unit_test_setup(test_wrong_arity_gives_usage, setup),
        cmocka_unit_test_setup(test_status_and_guest, setup),
        cmocka_unit_test_setup(test_heartbeat_report_and_interval, setup),
        cmocka_unit_test_setup(test_exec_argument_parsing, setup),
        cmocka_unit_test_setup(test_exec_argument_errors, setup),
        cmocka_unit_test_setup(test_exec_streams_lines_and_exit_code, setup),
        cmocka_unit_test_setup(test_exec_refused_and_failed, setup),
        cmocka_unit_test_setup(test_async_completion_after_more_input, setup),
        cmocka_unit_test_setup(test_kill, setup),
        cmocka_unit_test_setup(test_shutdown, setup),
        cmocka_unit_test_setup(test_param, setup),
        cmocka_unit_test_setup(test_timesync_additions_ping, setup),
        cmocka_unit_test_setup(test_stats_and_log, setup),
        cmocka_unit_test_setup(test_too_many_requests_in_flight, setup),
        cmocka_unit_test_setup(test_no_service, setup),
        cmocka_unit_test_setup(test_poweroff, setup),
        cmocka_unit_test_setup(test_events, setup),
        cmocka_unit_test_setup(test_mode_switch, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
