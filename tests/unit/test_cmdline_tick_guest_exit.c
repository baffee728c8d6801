/*
 * Unit tests for two hypervisor command-line options (hv/cmdline.c): tick_ms (the
 * VMX-preemption timer tick, 1..1000 ms, default 50) and guest_exit (what vigil does
 * when the guest stops: poweroff, the default, or console). Valid values take
 * effect; bad ones keep the previous value and say so in one diagnostic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/cmdline.h"

static struct hv_options options;
static struct cmdline_diagnostics diagnostics;

static unsigned parse(const char *text)
{
    return cmdline_parse(text, strlen(text), &options, &diagnostics);
}

static void assert_one_diagnostic(const char *text, const char *message)
{
    assert_int_equal(parse(text), 1);
    assert_string_equal(diagnostics.messages[0], message);
}

static void test_tick_ms_default_and_bounds(void **state)
{
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(options.tick_ms, HV_TICK_MS_DEFAULT);
    assert_int_equal(parse("tick_ms=1"), 0);
    assert_int_equal(options.tick_ms, 1);
    assert_int_equal(parse("tick_ms=1000"), 0);
    assert_int_equal(options.tick_ms, 1000);
    assert_one_diagnostic("tick_ms=10 tick_ms=20", "option 'tick_ms' given twice (last one wins)");
    assert_int_equal(options.tick_ms, 20);
}

static void test_tick_ms_bad_values_keep_the_previous(void **state)
{
    (void)state;
    assert_one_diagnostic("tick_ms=0", "tick_ms: '0' out of range 1-1000 (keeping 50)");
    assert_int_equal(options.tick_ms, HV_TICK_MS_DEFAULT);
    assert_one_diagnostic("tick_ms=1001", "tick_ms: '1001' out of range 1-1000 (keeping 50)");
    assert_one_diagnostic("tick_ms=99999999999999999999", "tick_ms: '99999999999999999999' out of range 1-1000 (keeping 50)");
    assert_one_diagnostic("tick_ms=fast", "tick_ms: 'fast' is not a number (keeping 50)");
    assert_one_diagnostic("tick_ms=-5", "tick_ms: '-5' is not a number (keeping 50)");
    assert_one_diagnostic("tick_ms=", "tick_ms: empty value in 'tick_ms=' (ignored)");
    assert_one_diagnostic("tick_ms=0x10", "tick_ms: '0x10' is not a number (keeping 50)");
    assert_int_equal(options.tick_ms, HV_TICK_MS_DEFAULT);
    /* a good value earlier on the line is kept, and named */
    assert_int_equal(parse("tick_ms=7 tick_ms=5000"), 2);
    assert_string_equal(diagnostics.messages[0], "option 'tick_ms' given twice (last one wins)");
    assert_string_equal(diagnostics.messages[1], "tick_ms: '5000' out of range 1-1000 (keeping 7)");
    assert_int_equal(options.tick_ms, 7);
}

static void test_guest_exit_policies(void **state)
{
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(options.guest_exit, GUEST_EXIT_POWEROFF);
    assert_int_equal(parse("guest_exit=console"), 0);
    assert_int_equal(options.guest_exit, GUEST_EXIT_CONSOLE);
    assert_one_diagnostic("guest_exit=console guest_exit=poweroff", "option 'guest_exit' given twice (last one wins)");
    assert_int_equal(options.guest_exit, GUEST_EXIT_POWEROFF);
    assert_string_equal(guest_exit_policy_name(GUEST_EXIT_POWEROFF), "poweroff");
    assert_string_equal(guest_exit_policy_name(GUEST_EXIT_CONSOLE), "console");
    assert_string_equal(guest_exit_policy_name((enum guest_exit_policy)7), "unknown");
}

static void test_guest_exit_bad_values_keep_the_previous(void **state)
{
    (void)state;
    assert_one_diagnostic("guest_exit=reboot", "guest_exit: unknown policy 'reboot' (want poweroff|console; keeping poweroff)");
    assert_int_equal(options.guest_exit, GUEST_EXIT_POWEROFF);
    assert_int_equal(parse("guest_exit=console guest_exit=CONSOLE"), 2);
    assert_string_equal(diagnostics.messages[1],
                        "guest_exit: unknown policy 'CONSOLE' (want poweroff|console; keeping console)");
    assert_int_equal(options.guest_exit, GUEST_EXIT_CONSOLE);
    assert_one_diagnostic("guest_exit=", "guest_exit: empty value in 'guest_exit=' (ignored)");
    assert_one_diagnostic("guest_exit=consolex", "guest_exit: unknown policy 'consolex' (want poweroff|console; keeping poweroff)");
    assert_one_diagnostic("guest_exit=consol", "guest_exit: unknown policy 'consol' (want poweroff|console; keeping poweroff)");
    assert_int_equal(options.guest_exit, GUEST_EXIT_POWEROFF);
}

static void test_both_with_other_options(void **state)
{
    (void)state;
    assert_int_equal(parse("console=com1 tick_ms=10 panic=poweroff guest_exit=console loglevel=3"), 0);
    assert_int_equal(options.tick_ms, 10);
    assert_int_equal(options.guest_exit, GUEST_EXIT_CONSOLE);
    assert_int_equal(options.panic, PANIC_POWEROFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tick_ms_default_and_bounds),
        cmocka_unit_test(test_tick_ms_bad_values_keep_the_previous),
        cmocka_unit_test(test_guest_exit_policies),
        cmocka_unit_test(test_guest_exit_bad_values_keep_the_previous),
        cmocka_unit_test(test_both_with_other_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
