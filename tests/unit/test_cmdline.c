/*
 * Unit tests for the hypervisor command line parser: every option, every
 * complaint, and hostile input (binary, unterminated, huge).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/cmdline.h"

static struct hv_options options;
static struct cmdline_diagnostics diagnostics;

/* Parses a NUL-terminated string and checks the return value agrees with the
 * diagnostics record. */
static unsigned parse(const char *text)
{
    unsigned produced = cmdline_parse(text, strlen(text), &options, &diagnostics);
    assert_int_equal(produced, diagnostics.count + diagnostics.dropped);
    return produced;
}

static void assert_default_options(void)
{
    assert_int_equal(options.console_port, 0x3F8);
    assert_int_equal(options.console_baud, 115200);
    assert_int_equal(options.log_level, LOG_INFO);
    assert_int_equal(options.panic, PANIC_HALT);
    assert_int_equal(options.debug_exit_port, 0);
}

/* Parses text expecting exactly one diagnostic equal to message. */
static void assert_single_diagnostic(const char *text, const char *message)
{
    assert_int_equal(parse(text), 1);
    assert_string_equal(diagnostics.messages[0], message);
}

static void defaults_are_safe_for_hardware(void **state)
{
    (void)state;
    memset(&options, 0xAB, sizeof(options));
    hv_options_set_defaults(&options);
    assert_default_options();
}

static void null_and_empty_text_give_defaults_and_reset_diagnostics(void **state)
{
    (void)state;
    memset(&options, 0xAB, sizeof(options));
    memset(&diagnostics, 0xAB, sizeof(diagnostics));
    assert_int_equal(cmdline_parse(NULL, 100, &options, &diagnostics), 0);
    assert_default_options();
    assert_int_equal(diagnostics.count, 0);
    assert_int_equal(diagnostics.dropped, 0);

    memset(&options, 0xAB, sizeof(options));
    assert_int_equal(parse(""), 0);
    assert_default_options();
    assert_int_equal(parse(" \t\r\n "), 0);
    assert_default_options();
}

static void names_match_command_line_spelling(void **state)
{
    (void)state;
    assert_string_equal(log_level_name(LOG_ERROR), "error");
    assert_string_equal(log_level_name(LOG_WARN), "warn");
    assert_string_equal(log_level_name(LOG_INFO), "info");
    assert_string_equal(log_level_name(LOG_DEBUG), "debug");
    assert_string_equal(log_level_name(LOG_TRACE), "trace");
    assert_string_equal(log_level_name((enum log_level)5), "unknown");
    assert_string_equal(panic_policy_name(PANIC_HALT), "halt");
    assert_string_equal(panic_policy_name(PANIC_POWEROFF), "poweroff");
    assert_string_equal(panic_policy_name(PANIC_REBOOT), "reboot");
    assert_string_equal(panic_policy_name((enum panic_policy)3), "unknown");
}

static void console_accepts_named_ports(void **state)
{
    (void)state;
    const struct { const char *text; uint16_t port; } cases[] = {
        { "console=com1", 0x3F8 }, { "console=com2", 0x2F8 },
        { "console=com3", 0x3E8 }, { "console=com4", 0x2E8 },
    };
    for (size_t index = 0; index < sizeof(cases) / sizeof(cases[0]); index++) {
        assert_int_equal(parse(cases[index].text), 0);
        assert_int_equal(options.console_port, cases[index].port);
        assert_int_equal(options.console_baud, 115200);
    }
}

static void console_accepts_hex_port_and_baud(void **state)
{
    (void)state;
    assert_int_equal(parse("console=0x2f8,9600"), 0);
    assert_int_equal(options.console_port, 0x2F8);
    assert_int_equal(options.console_baud, 9600);
    assert_int_equal(parse("console=com3,38400"), 0);
    assert_int_equal(options.console_port, 0x3E8);
    assert_int_equal(options.console_baud, 38400);
    assert_int_equal(parse("console=0XFFF8,50"), 0);
    assert_int_equal(options.console_port, 0xFFF8);
    assert_int_equal(options.console_baud, 50);
    assert_int_equal(parse("console=0x1"), 0);
    assert_int_equal(options.console_port, 0x1);
}

static void console_rejects_bad_ports(void **state)
{
    (void)state;
    assert_single_diagnostic("console=com5",
                             "console: bad port 'com5' in 'console=com5' (keeping 0x3F8)");
    assert_default_options();
    assert_single_diagnostic("console=3f8",
                             "console: bad port '3f8' in 'console=3f8' (keeping 0x3F8)");
    assert_single_diagnostic("console=0x", "console: bad port '0x' in 'console=0x' (keeping 0x3F8)");
    assert_single_diagnostic("console=0x3g8",
                             "console: bad port '0x3g8' in 'console=0x3g8' (keeping 0x3F8)");
    assert_single_diagnostic("console=0xFFF9",
                             "console: port '0xFFF9' out of range 0x1-0xFFF8 (keeping 0x3F8)");
    assert_single_diagnostic("console=0x0",
                             "console: port '0x0' out of range 0x1-0xFFF8 (keeping 0x3F8)");
    assert_single_diagnostic("console=0x1000000000000",
                             "console: port '0x1000000000000' out of range 0x1-0xFFF8 (keeping 0x3F8)");
    assert_default_options();
    /* A bad port after a good one keeps the good one. */
    assert_int_equal(parse("console=com2 console=bogus"), 2);
    assert_string_equal(diagnostics.messages[0], "option 'console' given twice (last one wins)");
    assert_string_equal(diagnostics.messages[1],
                        "console: bad port 'bogus' in 'console=bogus' (keeping 0x2F8)");
    assert_int_equal(options.console_port, 0x2F8);
}

static void console_rejects_bad_bauds(void **state)
{
    (void)state;
    assert_single_diagnostic("console=com1,12x",
                             "console: bad baud '12x' in 'console=com1,12x' (keeping 115200)");
    assert_int_equal(options.console_baud, 115200);
    assert_single_diagnostic("console=com2,",
                             "console: bad baud '' in 'console=com2,' (keeping 115200)");
    assert_int_equal(options.console_port, 0x2F8); /* the good half still applies */
    assert_single_diagnostic("console=com1,-9600",
                             "console: bad baud '-9600' in 'console=com1,-9600' (keeping 115200)");
    assert_single_diagnostic("console=com1,1234",
                             "console: unsupported baud '1234' (must divide 115200) (keeping 115200)");
    assert_single_diagnostic("console=com1,0",
                             "console: unsupported baud '0' (must divide 115200) (keeping 115200)");
    assert_single_diagnostic("console=com1,230400",
                             "console: unsupported baud '230400' (must divide 115200) (keeping 115200)");
    assert_single_diagnostic("console=com1,99999999999999999999",
                             "console: unsupported baud '99999999999999999999' (must divide 115200) (keeping 115200)");
    assert_single_diagnostic("console=com1,9600,1",
                             "console: bad baud '9600,1' in 'console=com1,9600,1' (keeping 115200)");
    assert_int_equal(options.console_baud, 115200);

    assert_int_equal(parse("console=nope,nope"), 2);
    assert_default_options();
}

static void loglevel_accepts_numbers_and_names(void **state)
{
    (void)state;
    const char *numbers[] = { "loglevel=0", "loglevel=1", "loglevel=2", "loglevel=3", "loglevel=4" };
    const char *names[] = { "loglevel=error", "loglevel=warn", "loglevel=info", "loglevel=debug",
                            "loglevel=trace" };
    for (int level = LOG_ERROR; level <= LOG_TRACE; level++) {
        assert_int_equal(parse(numbers[level]), 0);
        assert_int_equal(options.log_level, level);
        assert_int_equal(parse(names[level]), 0);
        assert_int_equal(options.log_level, level);
    }
    assert_int_equal(parse("loglevel=004"), 0); /* leading zeros are still 4 */
    assert_int_equal(options.log_level, LOG_TRACE);
}

static void loglevel_rejects_bad_values(void **state)
{
    (void)state;
    assert_single_diagnostic("loglevel=9", "loglevel: '9' out of range 0-4 (keeping info)");
    assert_single_diagnostic("loglevel=18446744073709551617",
                             "loglevel: '18446744073709551617' out of range 0-4 (keeping info)");
    assert_single_diagnostic("loglevel=-1", "loglevel: unknown level '-1' (keeping info)");
    assert_single_diagnostic("loglevel=3x", "loglevel: unknown level '3x' (keeping info)");
    assert_single_diagnostic("loglevel=verbose", "loglevel: unknown level 'verbose' (keeping info)");
    assert_single_diagnostic("loglevel=", "loglevel: empty value in 'loglevel=' (ignored)");
    assert_int_equal(options.log_level, LOG_INFO);
}

static void panic_accepts_policies_and_rejects_others(void **state)
{
    (void)state;
    assert_int_equal(parse("panic=poweroff"), 0);
    assert_int_equal(options.panic, PANIC_POWEROFF);
    assert_int_equal(parse("panic=reboot"), 0);
    assert_int_equal(options.panic, PANIC_REBOOT);
    assert_int_equal(parse("panic=reboot panic=halt"), 1);
    assert_int_equal(options.panic, PANIC_HALT);
    assert_single_diagnostic("panic=explode",
                             "panic: unknown policy 'explode' (want halt|poweroff|reboot; keeping halt)");
    assert_int_equal(options.panic, PANIC_HALT);
    assert_single_diagnostic("panic=poweroffx",
                             "panic: unknown policy 'poweroffx' (want halt|poweroff|reboot; keeping halt)");
}

static void debug_exit_accepts_hex_port(void **state)
{
    (void)state;
    assert_int_equal(parse("debug_exit=0xf4"), 0);
    assert_int_equal(options.debug_exit_port, 0xF4);
    assert_int_equal(parse("debug_exit=0xFFFF"), 0);
    assert_int_equal(options.debug_exit_port, 0xFFFF);
    assert_int_equal(parse("debug_exit=0xf4 debug_exit=0x0"), 1);
    assert_int_equal(options.debug_exit_port, 0);
}

static void debug_exit_rejects_bad_values(void **state)
{
    (void)state;
    assert_single_diagnostic("debug_exit=244",
                             "debug_exit: bad port '244' (want 0xPORT) (keeping none)");
    assert_single_diagnostic("debug_exit=0xf4q",
                             "debug_exit: bad port '0xf4q' (want 0xPORT) (keeping none)");
    assert_single_diagnostic("debug_exit=0x10000",
                             "debug_exit: port '0x10000' out of range 0x0-0xFFFF (keeping none)");
    assert_int_equal(parse("debug_exit=0xf4 debug_exit=0xzz"), 2);
    assert_string_equal(diagnostics.messages[1],
                        "debug_exit: bad port '0xzz' (want 0xPORT) (keeping 0xF4)");
    assert_int_equal(options.debug_exit_port, 0xF4);
}

static void all_options_together(void **state)
{
    (void)state;
    assert_int_equal(parse("console=com2,57600 loglevel=debug panic=poweroff debug_exit=0xf4"), 0);
    assert_int_equal(options.console_port, 0x2F8);
    assert_int_equal(options.console_baud, 57600);
    assert_int_equal(options.log_level, LOG_DEBUG);
    assert_int_equal(options.panic, PANIC_POWEROFF);
    assert_int_equal(options.debug_exit_port, 0xF4);
}

static void first_token_without_equals_is_the_image_path(void **state)
{
    (void)state;
    assert_int_equal(parse("/boot/vigil.elf console=com2"), 0);
    assert_int_equal(options.console_port, 0x2F8);
    assert_int_equal(parse("build/vigil.elf loglevel=trace"), 0); /* QEMU -kernel, relative */
    assert_int_equal(options.log_level, LOG_TRACE);
    assert_int_equal(parse("  vigil.elf"), 0);
    /* Only the first token: a later path-like word is an unknown option. */
    assert_single_diagnostic("/boot/vigil.elf /boot/other", "unknown option '/boot/other' (ignored)");
    /* A first token that is an option is parsed, not skipped. */
    assert_int_equal(parse("panic=reboot"), 0);
    assert_int_equal(options.panic, PANIC_REBOOT);
}

static void unknown_and_valueless_options_are_reported(void **state)
{
    (void)state;
    assert_single_diagnostic("foo=bar", "unknown option 'foo=bar' (ignored)");
    assert_single_diagnostic("/vigil =3", "unknown option '=3' (ignored)");
    assert_single_diagnostic("/vigil Console=com2", "unknown option 'Console=com2' (ignored)");
    assert_single_diagnostic("/vigil nosmp", "unknown option 'nosmp' (ignored)");
    assert_single_diagnostic("/vigil console", "console: empty value in 'console' (ignored)");
    assert_single_diagnostic("console=", "console: empty value in 'console=' (ignored)");
    assert_default_options();
}

static void repeated_option_warns_and_last_wins(void **state)
{
    (void)state;
    assert_single_diagnostic("console=com1 console=com2",
                             "option 'console' given twice (last one wins)");
    assert_int_equal(options.console_port, 0x2F8);
}

static void any_whitespace_separates_tokens(void **state)
{
    (void)state;
    assert_int_equal(parse("\tconsole=com4\r\n\vloglevel=warn\f panic=reboot\n"), 0);
    assert_int_equal(options.console_port, 0x2E8);
    assert_int_equal(options.log_level, LOG_WARN);
    assert_int_equal(options.panic, PANIC_REBOOT);
}

static void non_printable_bytes_are_reported_as_question_marks(void **state)
{
    (void)state;
    assert_single_diagnostic("console=co\x01m2", "non-printable byte in 'console=co?m2' (ignored)");
    assert_default_options();
    assert_single_diagnostic("/vigil panic=\xFFreboot\x7F",
                             "non-printable byte in 'panic=?reboot?' (ignored)");
    assert_default_options();
    /* A binary first token is still reported, not taken for a path. */
    assert_single_diagnostic("\x80\x81 loglevel=1", "non-printable byte in '?\?' (ignored)"); /* "?\?" dodges a trigraph */
    assert_int_equal(options.log_level, LOG_WARN);
}

/* Every message is NUL-terminated, fits, and contains only printable ASCII. */
static void assert_messages_are_clean(void)
{
    assert_true(diagnostics.count <= CMDLINE_DIAGNOSTIC_MAX);
    for (unsigned index = 0; index < diagnostics.count; index++) {
        const char *message = diagnostics.messages[index];
        const char *terminator = memchr(message, '\0', CMDLINE_DIAGNOSTIC_LENGTH);
        assert_non_null(terminator);
        size_t length = (size_t)(terminator - message);
        assert_true(length > 0);
        for (size_t position = 0; position < length; position++)
            assert_true(message[position] >= ' ' && message[position] < 0x7F);
    }
}

static void every_byte_value_is_survived(void **state)
{
    (void)state;
    char line[256 * 3];
    size_t length = 0;
    for (unsigned byte = 1; byte < 256; byte++) {
        line[length++] = 'x';
        line[length++] = (char)byte;
        line[length++] = (byte % 7 == 0) ? ' ' : '=';
    }
    unsigned produced = cmdline_parse(line, length, &options, &diagnostics);
    assert_true(produced > CMDLINE_DIAGNOSTIC_MAX);
    assert_int_equal(produced, diagnostics.count + diagnostics.dropped);
    assert_messages_are_clean();
}

static void random_bytes_never_break_the_parser(void **state)
{
    (void)state;
    /* Biased toward the parser's own alphabet so options and values are
     * actually reached, not just "unknown option". */
    static const char alphabet[] = "console=com1,0x3F8 loglevel=panic=debug_exit=9600\t\n,=x\x01\xff";
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t length = (size_t)(round % 200);
        char *line = malloc(length + 1); /* exact size: ASan catches any over-read */
        assert_non_null(line);
        for (size_t index = 0; index < length; index++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t pick = (seed >> 16) % (sizeof(alphabet) + 16);
            line[index] = pick < sizeof(alphabet) - 1 ? alphabet[pick] : (char)(seed >> 8);
        }
        unsigned produced = cmdline_parse(line, length, &options, &diagnostics);
        assert_int_equal(produced, diagnostics.count + diagnostics.dropped);
        assert_messages_are_clean();
        free(line);
    }
}

static void overlong_tokens_are_truncated_in_messages(void **state)
{
    (void)state;
    enum { LONG = 5000 };
    char *line = malloc(LONG + 1);
    assert_non_null(line);
    memset(line, 'a', LONG);
    memcpy(line, "/vigil ", 7);
    line[LONG] = '\0';
    assert_int_equal(parse(line), 1);
    /* 24 characters quoted: 21 of the token and "...". */
    assert_string_equal(diagnostics.messages[0], "unknown option 'aaaaaaaaaaaaaaaaaaaaa...' (ignored)");

    memcpy(line, "console=com1,", 13);
    memset(line + 13, '7', LONG - 13);
    assert_int_equal(parse(line), 1);
    assert_string_equal(diagnostics.messages[0],
                        "console: unsupported baud '777777777777777777777...' (must divide 115200) "
                        "(keeping 115200)");
    assert_messages_are_clean();

    memcpy(line, "console=com1,", 13);
    line[LONG - 1] = 'x';
    assert_int_equal(parse(line), 1);
    assert_string_equal(diagnostics.messages[0],
                        "console: bad baud '777777777777777777777...' in 'console=com1,77777777...' "
                        "(keeping 115200)");
    free(line);
}

static void overlong_line_of_valid_options_is_parsed(void **state)
{
    (void)state;
    enum { REPEATS = 2000 };
    const char *option = "loglevel=trace    ";
    size_t option_length = strlen(option);
    char *line = malloc(REPEATS * option_length + 32);
    assert_non_null(line);
    size_t length = 0;
    for (int repeat = 0; repeat < REPEATS; repeat++, length += option_length)
        memcpy(line + length, option, option_length);
    memcpy(line + length, "panic=reboot", 13);
    length += 12;
    /* Each repeat after the first warns: far more than fit. */
    assert_int_equal(cmdline_parse(line, length, &options, &diagnostics), REPEATS - 1);
    assert_int_equal(diagnostics.count, CMDLINE_DIAGNOSTIC_MAX);
    assert_int_equal(diagnostics.dropped, REPEATS - 1 - CMDLINE_DIAGNOSTIC_MAX);
    assert_int_equal(options.log_level, LOG_TRACE);
    assert_int_equal(options.panic, PANIC_REBOOT);
    free(line);
}

static void diagnostics_overflow_is_counted_as_dropped(void **state)
{
    (void)state;
    assert_int_equal(parse("a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11"), 11);
    assert_int_equal(diagnostics.count, CMDLINE_DIAGNOSTIC_MAX);
    assert_int_equal(diagnostics.dropped, 3);
    assert_string_equal(diagnostics.messages[0], "unknown option 'a=1' (ignored)");
    assert_string_equal(diagnostics.messages[7], "unknown option 'h=8' (ignored)");

    /* The next parse starts afresh. */
    assert_int_equal(parse("panic=halt"), 0);
    assert_int_equal(diagnostics.count, 0);
    assert_int_equal(diagnostics.dropped, 0);
}

static void diagnostics_may_be_null(void **state)
{
    (void)state;
    const char *text = "bogus=1 loglevel=9 panic=reboot";
    assert_int_equal(cmdline_parse(text, strlen(text), &options, NULL), 2);
    assert_int_equal(options.panic, PANIC_REBOOT);
}

static void max_length_bounds_an_unterminated_buffer(void **state)
{
    (void)state;
    const char text[] = "panic=reboot";
    size_t length = sizeof(text) - 1;
    char *unterminated = malloc(length); /* no NUL anywhere: ASan flags any over-read */
    assert_non_null(unterminated);
    memcpy(unterminated, text, length);
    assert_int_equal(cmdline_parse(unterminated, length, &options, &diagnostics), 0);
    assert_int_equal(options.panic, PANIC_REBOOT);

    /* Cut mid-value: only "panic=reb" is seen. */
    assert_int_equal(cmdline_parse(unterminated, 9, &options, &diagnostics), 1);
    assert_string_equal(diagnostics.messages[0],
                        "panic: unknown policy 'reb' (want halt|poweroff|reboot; keeping halt)");
    assert_int_equal(cmdline_parse(unterminated, 0, &options, &diagnostics), 0);
    assert_default_options();
    free(unterminated);

    /* A NUL before max_length ends the text. */
    const char with_nul[] = "panic=reboot\0console=com2";
    assert_int_equal(cmdline_parse(with_nul, sizeof(with_nul), &options, &diagnostics), 0);
    assert_int_equal(options.panic, PANIC_REBOOT);
    assert_int_equal(options.console_port, 0x3F8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_safe_for_hardware),
        cmocka_unit_test(null_and_empty_text_give_defaults_and_reset_diagnostics),
        cmocka_unit_test(names_match_command_line_spelling),
        cmocka_unit_test(console_accepts_named_ports),
        cmocka_unit_test(console_accepts_hex_port_and_baud),
        cmocka_unit_test(console_rejects_bad_ports),
        cmocka_unit_test(console_rejects_bad_bauds),
        cmocka_unit_test(loglevel_accepts_numbers_and_names),
        cmocka_unit_test(loglevel_rejects_bad_values),
        cmocka_unit_test(panic_accepts_policies_and_rejects_others),
        cmocka_unit_test(debug_exit_accepts_hex_port),
        cmocka_unit_test(debug_exit_rejects_bad_values),
        cmocka_unit_test(all_options_together),
        cmocka_unit_test(first_token_without_equals_is_the_image_path),
        cmocka_unit_test(unknown_and_valueless_options_are_reported),
        cmocka_unit_test(repeated_option_warns_and_last_wins),
        cmocka_unit_test(any_whitespace_separates_tokens),
        cmocka_unit_test(non_printable_bytes_are_reported_as_question_marks),
        cmocka_unit_test(every_byte_value_is_survived),
        cmocka_unit_test(random_bytes_never_break_the_parser),
        cmocka_unit_test(overlong_tokens_are_truncated_in_messages),
        cmocka_unit_test(overlong_line_of_valid_options_is_parsed),
        cmocka_unit_test(diagnostics_overflow_is_counted_as_dropped),
        cmocka_unit_test(diagnostics_may_be_null),
        cmocka_unit_test(max_length_bounds_an_unterminated_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
