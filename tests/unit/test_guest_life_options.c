/* vigil's command-line options for the guest's life: hv/cmdline.c collects them,
 * hv/guest_life_options.c applies them; bad ones keep the previous setting and
 * say so in one line each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/cmdline.h"
#include "hv/guest_life_options.h"

static struct guest_life life;
static char warnings[8][200];
static unsigned warning_count;

static void collect(void *context, const char *message)
{
    (void)context;
    if (warning_count < 8)
        snprintf(warnings[warning_count], sizeof warnings[0], "%s", message);
    warning_count++;
}

static unsigned apply(const char *command_line)
{
    static struct hv_options options;
    struct cmdline_diagnostics diagnostics;
    struct recovery_config config;
    recovery_config_defaults(&config);
    guest_life_init(&life, &config, RATE_LIMIT_DEFAULT_PER_SECOND);
    warning_count = 0;
    unsigned cmdline_problems = cmdline_parse(command_line, strlen(command_line), &options, &diagnostics);
    assert_int_equal(cmdline_problems, 0); /* none of them is "unknown" to the command line */
    return guest_life_apply_options(&life, options.deferred, options.deferred_count, collect, NULL);
}

static void test_good_options(void **state)
{
    (void)state;
    const char good[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char line[400];
    snprintf(line, sizeof line,
             "/boot/vigil.elf console=com1 on_heartbeat_loss=restart on_triple_fault=restart restart_limit=2 "
             "restart_window=60 restart_backoff_ms=0 heartbeat_attempts=1 heartbeat_interval=3000 "
             "exec_allow_lock=1 exec_allow=/usr/bin/* exec_allow=/bin/true console_rate=5 module_sha256=1:%s",
             good);
    assert_int_equal(apply(line), 0);
    assert_int_equal(life.recovery.config.on_heartbeat_loss, RECOVERY_ACTION_RESTART);
    assert_int_equal(life.recovery.config.on_triple_fault, RECOVERY_ACTION_RESTART);
    assert_int_equal(life.recovery.config.restart_limit, 2);
    assert_int_equal(life.recovery.config.restart_window_s, 60);
    assert_int_equal(life.recovery.config.restart_backoff_ms, 0);
    assert_int_equal(life.recovery.config.heartbeat_attempts, 1);
    assert_int_equal(life.heartbeat_interval_ms, 3000);
    assert_int_equal(life.console_rate.per_second, 5);
    /* the lock came first on the line but applies after both exec_allow= */
    assert_int_equal(life.allowlist.count, 2);
    assert_true(life.allowlist.locked);
    assert_true(life.modules[1].expected);
    assert_false(life.modules[0].expected);
}

static void test_bad_options_keep_previous_values(void **state)
{
    (void)state;
    unsigned problems = apply("on_heartbeat_loss=reboot on_heartbeat_loss=nmi on_heartbeat_loss=dance "
                              "restart_window=0 heartbeat_interval=5 console_rate=0 exec_allow=relative "
                              "module_sha256=xyz exec_allow_lock=2");
    assert_int_equal(problems, 8);
    assert_int_equal(warning_count, 8);
    assert_string_equal(warnings[0],
                        "on_heartbeat_loss: unknown action 'reboot' (want log|nmi|restart|poweroff; keeping log)");
    assert_string_equal(warnings[1],
                        "on_heartbeat_loss: unknown action 'dance' (want log|nmi|restart|poweroff; keeping nmi)");
    assert_string_equal(warnings[2], "restart_window: '0' is not a number in 1..86400 s (keeping 300)");
    assert_string_equal(warnings[3], "heartbeat_interval: '5' is not a number in 1000..3600000 (keeping 10000)");
    assert_string_equal(warnings[4], "console_rate: '0' is not a number in 1..10000 (keeping 50)");
    assert_string_equal(warnings[5], "exec allow-list entry 'relative': not an absolute path");
    assert_non_null(strstr(warnings[6], "module_sha256: want [INDEX:]64 hex digits"));
    assert_string_equal(warnings[7], "exec_allow_lock: '2' is not a number in 0..1 (keeping 0)");
    assert_int_equal(life.recovery.config.on_heartbeat_loss, RECOVERY_ACTION_NMI);
    assert_int_equal(life.recovery.config.restart_window_s, 300);
    assert_int_equal(life.heartbeat_interval_ms, 0);
    assert_int_equal(life.console_rate.per_second, RATE_LIMIT_DEFAULT_PER_SECOND);
    assert_int_equal(life.allowlist.count, 0);
    assert_false(life.allowlist.locked);
}

static void test_empty_value(void **state)
{
    (void)state;
    assert_int_equal(apply("exec_allow= restart_limit"), 2);
    assert_string_equal(warnings[0], "exec_allow: empty value (ignored)");
    assert_string_equal(warnings[1], "restart_limit: empty value (ignored)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_options),
        cmocka_unit_test(test_bad_options_keep_previous_values),
        cmocka_unit_test(test_empty_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
