/*
 * Unit tests for hv/console/line_editor.c: echo, BS/DEL, Ctrl-U, Ctrl-C, CR/LF/CRLF,
 * the 1024-byte bound, binary noise, escape sequences, raw (JSON) mode; and the
 * console's error lines for overlong lines and noise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/line_editor.h"
#include "tests/unit/console_fakes.h"

static struct line_editor editor;
static char echoed[8192];
static size_t echoed_length;

static void capture(void *context, const char *data, size_t length)
{
    (void)context;
    assert_true(echoed_length + length < sizeof echoed);
    memcpy(echoed + echoed_length, data, length);
    echoed_length += length;
    echoed[echoed_length] = '\0';
}

static int setup(void **state)
{
    (void)state;
    echoed_length = 0;
    echoed[0] = '\0';
    line_editor_init(&editor, false, capture, NULL);
    return 0;
}

/* Feeds bytes; returns the last result that was not NONE (NONE if none). */
static enum line_editor_result feed(const char *bytes, size_t length)
{
    enum line_editor_result last = LINE_EDITOR_NONE;
    for (size_t i = 0; i < length; i++) {
        enum line_editor_result result = line_editor_feed(&editor, (uint8_t)bytes[i]);
        if (result != LINE_EDITOR_NONE)
            last = result;
    }
    return last;
}

#define FEED(text) feed(text, sizeof(text) - 1)

static void assert_line(const char *expected)
{
    size_t length;
    const char *line = line_editor_line(&editor, &length);
    assert_int_equal(length, strlen(expected));
    assert_memory_equal(line, expected, length);
}

static void test_plain_line_echoed(void **state)
{
    (void)state;
    assert_int_equal(FEED("status"), LINE_EDITOR_NONE);
    assert_string_equal(echoed, "status");
    assert_int_equal(FEED("\r"), LINE_EDITOR_LINE);
    assert_line("status");
    assert_string_equal(echoed, "status\n");
}

static void test_cr_lf_crlf_each_end_one_line(void **state)
{
    (void)state;
    assert_int_equal(FEED("a\r"), LINE_EDITOR_LINE);
    assert_line("a");
    assert_int_equal(FEED("\nb\n"), LINE_EDITOR_LINE); /* the LF of CRLF is swallowed */
    assert_line("b");
    assert_int_equal(FEED("\n"), LINE_EDITOR_EMPTY); /* LF after LF is an empty line */
    assert_int_equal(FEED("c\r\r"), LINE_EDITOR_EMPTY); /* CR CR: the second is an empty line */
    assert_int_equal(FEED("d\r\n"), LINE_EDITOR_LINE);
    assert_line("d");
}

static void test_backspace_and_delete(void **state)
{
    (void)state;
    assert_int_equal(FEED("stattus\b\b\x7fus\r"), LINE_EDITOR_LINE);
    assert_line("status");
    assert_non_null(strstr(echoed, "\b \b\b \b\b \b"));
    /* backspace at the start of a line does nothing and echoes nothing */
    echoed_length = 0;
    echoed[0] = '\0';
    assert_int_equal(FEED("\b\x7f"), LINE_EDITOR_NONE);
    assert_string_equal(echoed, "");
}

static void test_ctrl_u_kills_line(void **state)
{
    (void)state;
    assert_int_equal(FEED("shutdown --force\x15help\r"), LINE_EDITOR_LINE);
    assert_line("help");
    /* 16 characters erased */
    size_t erasures = 0;
    for (const char *p = echoed; (p = strstr(p, "\b \b")) != NULL; p += 3)
        erasures++;
    assert_int_equal(erasures, 16);
}

static void test_ctrl_c_cancels_line(void **state)
{
    (void)state;
    assert_int_equal(FEED("shutdown\x03"), LINE_EDITOR_CANCELLED);
    assert_non_null(strstr(echoed, "^C\n"));
    assert_int_equal(FEED("help\n"), LINE_EDITOR_LINE);
    assert_line("help");
}

static void test_tab_is_space_and_escape_sequences_swallowed(void **state)
{
    (void)state;
    /* arrow keys (CSI A, SS3 B) and a CSI with parameters vanish without noise */
    assert_int_equal(FEED("param\tget\x1b[A\x1bOB\x1b[1;5C x\r"), LINE_EDITOR_LINE);
    assert_line("param get x");
    assert_int_equal(line_editor_noise(&editor), 0);
}

static void test_binary_noise_counted_and_dropped(void **state)
{
    (void)state;
    assert_int_equal(FEED("he\x01l\x80l\xffo\x00\r"), LINE_EDITOR_LINE);
    assert_line("hello");
    assert_int_equal(line_editor_noise(&editor), 4);
    assert_int_equal(FEED("x\r"), LINE_EDITOR_LINE);
    assert_int_equal(line_editor_noise(&editor), 0); /* per line */
}

static void test_line_of_exactly_max_is_accepted(void **state)
{
    (void)state;
    char line[LINE_EDITOR_MAX];
    memset(line, 'a', sizeof line);
    assert_int_equal(feed(line, sizeof line), LINE_EDITOR_NONE);
    assert_int_equal(FEED("\r"), LINE_EDITOR_LINE);
    size_t length;
    line_editor_line(&editor, &length);
    assert_int_equal(length, LINE_EDITOR_MAX);
}

static void test_overlong_line_discarded_to_its_end(void **state)
{
    (void)state;
    char line[LINE_EDITOR_MAX + 500];
    memset(line, 'b', sizeof line);
    assert_int_equal(feed(line, sizeof line), LINE_EDITOR_NONE);
    assert_int_equal(FEED("\n"), LINE_EDITOR_TOO_LONG);
    /* only what fitted was echoed */
    assert_int_equal(echoed_length, LINE_EDITOR_MAX + 1);
    assert_int_equal(FEED("ok\n"), LINE_EDITOR_LINE);
    assert_line("ok");
}

static void test_raw_mode_keeps_every_byte_without_echo(void **state)
{
    (void)state;
    line_editor_set_raw(&editor, true);
    assert_int_equal(FEED("{\"a\x08\x03\x15\x00\xff\"}\r\n"), LINE_EDITOR_LINE);
    static const char expected[] = "{\"a\x08\x03\x15\x00\xff\"}";
    size_t length;
    const char *line = line_editor_line(&editor, &length);
    assert_int_equal(length, sizeof expected - 1);
    assert_memory_equal(line, expected, length);
    assert_int_equal(echoed_length, 0);
    assert_int_equal(FEED("\r\n"), LINE_EDITOR_EMPTY);
}

/* ---- through the console: the error lines */
static void test_console_overlong_line_error(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    for (int i = 0; i < 3000; i++)
        console_input_byte('x');
    fake_output_clear();
    type_text("\r\n");
    assert_non_null(strstr(fake_output(), "error: line too long (max 1024)\n"));
    fake_output_clear();
    type_text("ping\r\n");
    assert_int_equal(fake_service.request_count, 1); /* the next line works */
}

static void test_console_noise_error_once_per_line(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    type_bytes("pi\x01\x02\xfe\x00ng\r", 9);
    const char *out = fake_output();
    assert_non_null(strstr(out, "error: ignored 4 non-printable byte(s)\n"));
    assert_null(strstr(strstr(out, "error: ignored") + 1, "error: ignored"));
    assert_int_equal(fake_service.request_count, 1); /* "ping" still ran */
}

static void test_console_ctrl_c_reprompts(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    fake_output_clear();
    type_text("shutdown --force\x03");
    assert_string_equal(fake_output(), "shutdown --force^C\nvigil> ");
    assert_int_equal(fake_service.request_count, 0);
}

static void test_console_json_mode_noise_is_an_error_response(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    fake_output_clear();
    type_bytes("{\"id\":1,\x01\"cmd\":\"ping\"}\n", 24);
    assert_non_null(strstr(fake_output(), "\"id\":null,\"status\":2147942487,\"status_name\":\"E_INVALIDARG\""));
    assert_non_null(strstr(fake_output(), "malformed request: expected a key at byte 8"));
    assert_int_equal(fake_service.request_count, 0);
    assert_int_equal(json_lines_valid(fake_output(), fake_output_length()), 1);
}

static void test_console_json_mode_overlong_line(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    fake_output_clear();
    for (int i = 0; i < 2000; i++)
        console_input_byte(' ');
    type_text("\n");
    assert_non_null(strstr(fake_output(), "\"message\":\"line too long (max 1024)\""));
    assert_int_equal(json_lines_valid(fake_output(), fake_output_length()), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plain_line_echoed, setup),
        cmocka_unit_test_setup(test_cr_lf_crlf_each_end_one_line, setup),
        cmocka_unit_test_setup(test_backspace_and_delete, setup),
        cmocka_unit_test_setup(test_ctrl_u_kills_line, setup),
        cmocka_unit_test_setup(test_ctrl_c_cancels_line, setup),
        cmocka_unit_test_setup(test_tab_is_space_and_escape_sequences_swallowed, setup),
        cmocka_unit_test_setup(test_binary_noise_counted_and_dropped, setup),
        cmocka_unit_test_setup(test_line_of_exactly_max_is_accepted, setup),
        cmocka_unit_test_setup(test_overlong_line_discarded_to_its_end, setup),
        cmocka_unit_test_setup(test_raw_mode_keeps_every_byte_without_echo, setup),
        cmocka_unit_test(test_console_overlong_line_error),
        cmocka_unit_test(test_console_noise_error_once_per_line),
        cmocka_unit_test(test_console_ctrl_c_reprompts),
        cmocka_unit_test(test_console_json_mode_noise_is_an_error_response),
        cmocka_unit_test(test_console_json_mode_overlong_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
