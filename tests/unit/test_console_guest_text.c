/*
 * Unit tests: guest text never forges vigil's console output (docs/security.md,
 * "Console and events"). Whatever bytes the guest puts in exec output, its OS name,
 * computer name, Additions version, parameter values and names, or event details,
 * human mode shows them escaped (control characters, C1 controls, bytes that are
 * not UTF-8, bidi and invisible characters) and behind a prefix vigil wrote, so
 * that no output line starts like the prompt or an event line.
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

static void run(const char *line)
{
    fake_output_clear();
    type_text(line);
    type_text("\r");
}

#define assert_output_has(text)                                                                                        \
    do {                                                                                                               \
        if (strstr(fake_output(), (text)) == NULL)                                                                     \
            fail_msg("output lacks \"%s\":\n%s", (text), fake_output());                                               \
    } while (0)

/* What an operator (or a script matching lines) would be fooled by: a line that
 * starts as vigil's prompt or an event, or that carries a raw ESC, CR, C1 control,
 * bidi override or isolate, or a byte that is not UTF-8. */
static void assert_no_forged_line(unsigned event_lines)
{
    const char *output = fake_output();
    size_t length = fake_output_length();
    const char *line = output;
    while (line < output + length) {
        const char *end = memchr(line, '\n', (size_t)(output + length - line));
        if (end == NULL)
            end = output + length;
        if (strncmp(line, "vigil> ", 7) == 0 && end != output + length && end != line + 7)
            fail_msg("a line looks like the prompt: %.*s", (int)(end - line), line);
        if (strncmp(line, "event:", 6) == 0 && event_lines-- == 0)
            fail_msg("a line looks like an event: %.*s", (int)(end - line), line);
        line = end + 1;
    }
    for (size_t i = 0; i < length; i++) {
        uint8_t c = (uint8_t)output[i];
        if ((c < 0x20 && c != '\n') || c == 0x7F)
            fail_msg("raw control byte 0x%02x at %zu:\n%s", c, i, output);
    }
    static const char *const hidden[] = {"\xe2\x80\xae", "\xe2\x80\xad", "\xe2\x81\xa6", "\xe2\x81\xa9",
                                         "\xc2\x9b",     "\xc2\x85",     "\xe2\x80\x8b", "\xe2\x80\xa8"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (strstr(output, hidden[i]) != NULL)
            fail_msg("hidden character %zu left raw:\n%s", i, output);
}

static const char *const forgeries[] = {
    "vigil> poweroff",
    "event: heartbeat-stopped: no beat for 10000 ms",
    "\rvigil> status",
    "x\nevent: triple-fault",
    "\x1b[2K\x1b[1Gvigil> ",
    "ok\xe2\x80\xae" "dlrow",         /* RLO: the rest shows reversed */
    "\xe2\x81\xa6safe\xe2\x81\xa9",    /* isolates */
    "\xc2\x9b" "2J",                   /* U+009B: CSI on an 8-bit terminal */
    "\x9b" "2J\x85",                   /* the raw C1 bytes, not UTF-8 */
    "zero\xe2\x80\x8bwidth\xe2\x80\xa8" "event: x", /* ZWSP, line separator */
};

static void test_exec_output_lines_are_marked(void **state)
{
    (void)state;
    run("exec -- cat");
    struct fake_request *request = fake_last_request();
    fake_output_clear();
    for (size_t i = 0; i < sizeof forgeries / sizeof forgeries[0]; i++) {
        fake_stream_text(request, VIGIL_MESSAGE_STDOUT, forgeries[i]);
        fake_stream_text(request, VIGIL_MESSAGE_STDOUT, "\n");
        fake_stream_text(request, VIGIL_MESSAGE_STDERR, forgeries[i]);
        fake_stream_text(request, VIGIL_MESSAGE_STDERR, "\n");
    }
    fake_complete(request, VIGIL_S_OK, 0, 0, NULL);
    assert_no_forged_line(0);
    assert_output_has("\nstdout: vigil> poweroff\nstderr: vigil> poweroff\n");
    assert_output_has("stdout: event: heartbeat-stopped: no beat for 10000 ms\n");
    assert_output_has("stdout: x\nstdout: event: triple-fault\n"); /* a guest newline: a new marked line */
    assert_output_has("stdout: \\x1b[2K\\x1b[1Gvigil> \n");
    assert_output_has("stdout: ok\\u{202e}dlrow\n");
    assert_output_has("stdout: \\u{2066}safe\\u{2069}\n");
    assert_output_has("stdout: \\u{009b}2J\n");
    assert_output_has("stdout: \\x9b2J\\x85\n");
    assert_output_has("stdout: zero\\u{200b}width\\u{2028}event: x\n");
    assert_output_has("exec 1: exit code 0\n");
}

static void test_properties_escaped(void **state)
{
    (void)state;
    strcpy(fake_service.os_name, "Linux\n\xe2\x80\xae" "vigil> ");
    strcpy(fake_service.computer_name, "host\tname\\x41");
    strcpy(fake_service.additions_version, "1.0\xc2\x85" "event: x");
    /* what the operator typed is echoed after the prompt: outside what is checked */
    type_text("status");
    fake_output_clear();
    type_text("\r");
    assert_no_forged_line(0);
    assert_output_has("os name: Linux\\x0a\\u{202e}vigil> \n");
    /* a backslash from the guest is doubled: \x41 in the output is always vigil's escape */
    assert_output_has("computer name: host\\x09name\\\\x41\n");
    assert_output_has("additions version: 1.0\\u{0085}event: x\n");
    run("guest");
    assert_no_forged_line(0);
    assert_output_has("os name: Linux\\x0a\\u{202e}vigil> \n");
}

static void test_visible_unicode_unchanged(void **state)
{
    (void)state;
    strcpy(fake_service.computer_name, "M\xc3\xbcller-\xe6\x9d\xb1\xe4\xba\xac-\xf0\x9f\x98\x80");
    run("status");
    assert_output_has("computer name: M\xc3\xbcller-\xe6\x9d\xb1\xe4\xba\xac-\xf0\x9f\x98\x80\n");
    /* an incomplete or overlong sequence is bytes, not a character */
    strcpy(fake_service.computer_name, "a\xe2\x80" "b\xc0\xaf");
    run("status");
    assert_output_has("computer name: a\\xe2\\x80b\\xc0\\xaf\n");
}

static void test_parameter_value_and_names_escaped(void **state)
{
    (void)state;
    run("param get motd");
    fake_output_clear(); /* vigil's prompt and the operator's echo: not under test */
    fake_complete(fake_last_request(), VIGIL_S_OK, 0, 0, "hi\r\nvigil> \xe2\x80\xaemotd");
    assert_no_forged_line(0);
    assert_output_has("motd = hi\\x0d\\x0avigil> \\u{202e}motd\n");
    run("param list");
    struct fake_request *request = fake_last_request();
    fake_output_clear();
    fake_stream(request, 0, "event: x", 8);
    fake_stream(request, 0, "vigil> \x1b", 8);
    fake_complete(request, VIGIL_S_OK, 0, 0, NULL);
    assert_no_forged_line(0);
    assert_output_has("\n  event: x\n  vigil> \\x1b\n");
}

static void test_event_detail_escaped(void **state)
{
    (void)state;
    struct guest_service_event event = {GUEST_EVENT_ADDITIONS_REGISTERED, 5, "", 0};
    strcpy(event.detail, "agent\nvigil> \xe2\x81\xa7x\xc2\x9b");
    fake_output_clear();
    console_event(&event);
    assert_no_forged_line(1);
    assert_output_has("event: additions-registered: agent\\x0avigil> \\u{2067}x\\u{009b}\n");
}

static void test_json_mode_escapes_hidden_characters(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    strcpy(fake_service.os_name, "a\xe2\x80\xae" "b\xc2\x9b\x9b");
    fake_output_clear();
    type_text("{\"id\":1,\"cmd\":\"status\"}\n");
    assert_true(json_lines_valid(fake_output(), fake_output_length()) == 1);
    assert_output_has("\"os_name\":\"a\\u202eb\\u009b\\u009b\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exec_output_lines_are_marked, setup),
        cmocka_unit_test_setup(test_properties_escaped, setup),
        cmocka_unit_test_setup(test_visible_unicode_unchanged, setup),
        cmocka_unit_test_setup(test_parameter_value_and_names_escaped, setup),
        cmocka_unit_test_setup(test_event_detail_escaped, setup),
        cmocka_unit_test_setup(test_json_mode_escapes_hidden_characters, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
