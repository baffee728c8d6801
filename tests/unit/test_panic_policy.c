/*
 * Unit tests for hv/panic.c: what vigil prints and does when it cannot go on
 * (panic), when the guest stopped for good (hv_stop_after_guest) and on an orderly
 * power-off (hv_power_off), under each policy of the panic= option: halt, poweroff
 * (ACPI power-off with the failure or success exit code, then halt if that failed)
 * and reboot (ACPI reset, then halt if that failed). ACPI, the log and the halt are
 * fakes; the halt jumps back into the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/cpu.h"
#include "drivers/acpi/acpi_power.h"
#include "hv/panic.h"
#include "tests/unit/log_capture.h"

/* ---- fakes: ACPI and the halt (the log: log_capture.c) */
static unsigned power_off_calls, reset_calls, halts;
static struct acpi_power_config power_off_config;
static uint8_t power_off_exit_code;
static size_t output_at_power_off; /* what had been written when the power-off came */
static bool flushed_before_power_off;
static jmp_buf halted;

const char *acpi_power_off(const struct acpi_power_config *config, uint8_t exit_code)
{
    power_off_calls++;
    power_off_config = *config;
    power_off_exit_code = exit_code;
    output_at_power_off = log_capture.length;
    flushed_before_power_off = log_capture.flushes > 0;
    return "no \\_S5 object in the DSDT";
}

void acpi_reset(const struct acpi_power_config *config)
{
    (void)config;
    reset_calls++;
}

void cpu_halt_forever(void)
{
    halts++;
    longjmp(halted, 1);
}

/* panic_configure with ACPI values as acpi_power_read would have saved them (none). */
static void configure(enum panic_policy policy, uint16_t debug_exit_port)
{
    struct acpi_power_config power;
    memset(&power, 0, sizeof power);
    power.debug_exit_port = debug_exit_port;
    panic_configure(policy, &power);
}

static int setup(void **state)
{
    (void)state;
    log_capture_reset();
    power_off_calls = reset_calls = halts = 0;
    memset(&power_off_config, 0, sizeof power_off_config);
    power_off_exit_code = 0xFF;
    flushed_before_power_off = false;
    return 0;
}

/* Runs one noreturn call until its halt. */
#define RUN_UNTIL_HALT(call)                                                                                           \
    do {                                                                                                               \
        if (setjmp(halted) == 0) {                                                                                     \
            call;                                                                                                      \
            fail_msg("returned: " #call);                                                                              \
        }                                                                                                              \
    } while (0)

static void test_panic_halt(void **state)
{
    (void)state;
    configure(PANIC_HALT, 0xf4);
    RUN_UNTIL_HALT(panic("EPT misconfiguration at 0x%x", 0x1000));
    assert_string_equal(log_capture.text, "vigil: PANIC: EPT misconfiguration at 0x1000\n"
                                "vigil: panic policy: halt (CPU stopped; reset the machine)\n");
    assert_false(log_capture.written_while_buffered); /* the report is not left in the ring */
    assert_int_equal(halts, 1);
    assert_int_equal(power_off_calls, 0);
    assert_int_equal(reset_calls, 0);
}

static void test_panic_poweroff_reports_failure_code(void **state)
{
    (void)state;
    configure(PANIC_POWEROFF, 0xf4);
    RUN_UNTIL_HALT(panic("boom"));
    assert_int_equal(power_off_calls, 1);
    assert_int_equal(power_off_exit_code, ACPI_EXIT_CODE_FAILURE);
    assert_int_equal(power_off_config.debug_exit_port, 0xf4); /* the configured values */
    assert_true(flushed_before_power_off);
    /* everything up to the policy line was out before the machine was powered off */
    assert_int_equal(output_at_power_off, strlen("vigil: PANIC: boom\nvigil: panic policy: power off\n"));
    /* the power-off failed (fake): said so, then halted rather than returned */
    assert_string_equal(log_capture.text, "vigil: PANIC: boom\nvigil: panic policy: power off\n"
                                "vigil: power off failed (no \\_S5 object in the DSDT); halting\n");
    assert_int_equal(halts, 1);
    assert_int_equal(reset_calls, 0);
}

static void test_panic_reboot(void **state)
{
    (void)state;
    configure(PANIC_REBOOT, 0);
    RUN_UNTIL_HALT(panic("boom"));
    assert_int_equal(reset_calls, 1);
    assert_int_equal(power_off_calls, 0);
    assert_string_equal(log_capture.text, "vigil: PANIC: boom\nvigil: panic policy: reboot\nvigil: reset failed; halting\n");
    assert_int_equal(halts, 1);
}

static void test_panic_message_bounded(void **state)
{
    (void)state;
    char long_text[600];
    memset(long_text, 'z', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    configure(PANIC_HALT, 0);
    RUN_UNTIL_HALT(panic("%s", long_text));
    const char *newline = strchr(log_capture.text, '\n');
    assert_non_null(newline);
    /* "vigil: PANIC: " + at most 191 characters of the message */
    assert_true((size_t)(newline - log_capture.text) <= strlen("vigil: PANIC: ") + 191);
    assert_true((size_t)(newline - log_capture.text) > strlen("vigil: PANIC: ") + 100);
}

static void test_power_off_is_a_success(void **state)
{
    (void)state;
    configure(PANIC_HALT, 0xf4);
    RUN_UNTIL_HALT(hv_power_off("operator requested power off"));
    assert_int_equal(power_off_calls, 1); /* whatever the panic policy */
    assert_int_equal(power_off_exit_code, ACPI_EXIT_CODE_SUCCESS);
    assert_string_equal(log_capture.text, "vigil: power off: operator requested power off\n"
                                "vigil: power off failed (no \\_S5 object in the DSDT); halting\n");
}

static void test_stop_after_guest_follows_the_policy(void **state)
{
    (void)state;
    configure(PANIC_HALT, 0);
    RUN_UNTIL_HALT(hv_stop_after_guest("guest powered off"));
    assert_string_equal(log_capture.text, "vigil: halting: guest powered off (reset the machine to restart)\n");
    assert_int_equal(power_off_calls + reset_calls, 0);

    setup(NULL);
    configure(PANIC_POWEROFF, 0);
    RUN_UNTIL_HALT(hv_stop_after_guest("guest powered off"));
    assert_int_equal(power_off_calls, 1);
    assert_int_equal(power_off_exit_code, ACPI_EXIT_CODE_SUCCESS); /* not a failure: the guest ended */
    assert_true(strncmp(log_capture.text, "vigil: power off: guest powered off\n", 36) == 0);

    setup(NULL);
    configure(PANIC_REBOOT, 0);
    RUN_UNTIL_HALT(hv_stop_after_guest("triple fault"));
    assert_int_equal(reset_calls, 1);
    assert_string_equal(log_capture.text, "vigil: rebooting: triple fault\nvigil: reset failed; halting\n");
    assert_false(log_capture.written_while_buffered);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_panic_halt, setup),
        cmocka_unit_test_setup(test_panic_poweroff_reports_failure_code, setup),
        cmocka_unit_test_setup(test_panic_reboot, setup),
        cmocka_unit_test_setup(test_panic_message_bounded, setup),
        cmocka_unit_test_setup(test_power_off_is_a_success, setup),
        cmocka_unit_test_setup(test_stop_after_guest_follows_the_policy, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
