/* hv/recovery_policy.c: what vigil does on heartbeat loss, triple fault, entry
 * failure and guest reset; backoff; the restart-loop guard; configuration by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/recovery_policy.h"

static struct recovery_policy policy;

static void start(struct recovery_config *config)
{
    recovery_policy_init(&policy, config);
}

static struct recovery_config defaults(void)
{
    struct recovery_config config;
    recovery_config_defaults(&config);
    return config;
}

static bool set(struct recovery_config *config, const char *name, const char *value, char *error, size_t size)
{
    return recovery_config_set(config, name, strlen(name), value, strlen(value), error, size);
}

static void test_defaults(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    char text[32];
    assert_true(recovery_config_get(&config, "on_heartbeat_loss", text, sizeof text));
    assert_string_equal(text, "log");
    assert_true(recovery_config_get(&config, "on_triple_fault", text, sizeof text));
    assert_string_equal(text, "halt");
    assert_true(recovery_config_get(&config, "restart_limit", text, sizeof text));
    assert_string_equal(text, "3");
    assert_false(recovery_config_get(&config, "nonsense", text, sizeof text));
}

static void test_log_repeats_up_to_attempts_then_stops(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    start(&config);
    struct recovery_decision d = recovery_heartbeat_lost(&policy, 10000, 10000);
    assert_int_equal(d.step, RECOVERY_STEP_LOG);
    assert_non_null(strstr(d.detail, "attempt 1 of 3"));
    /* a second report of the same loss does nothing */
    assert_int_equal(recovery_heartbeat_lost(&policy, 10001, 10000).step, RECOVERY_STEP_NONE);
    assert_int_equal(recovery_tick(&policy, 19999).step, RECOVERY_STEP_NONE);
    d = recovery_tick(&policy, 20000);
    assert_int_equal(d.step, RECOVERY_STEP_LOG);
    assert_non_null(strstr(d.detail, "attempt 2 of 3"));
    assert_int_equal(recovery_tick(&policy, 30000).step, RECOVERY_STEP_LOG);
    assert_int_equal(recovery_tick(&policy, 40000).step, RECOVERY_STEP_NONE);
    assert_int_equal(recovery_tick(&policy, 900000).step, RECOVERY_STEP_NONE);
}

static void test_nmi_until_the_beat_resumes(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "on_heartbeat_loss", "nmi", NULL, 0));
    start(&config);
    assert_int_equal(recovery_heartbeat_lost(&policy, 0, 5000).step, RECOVERY_STEP_NMI);
    assert_int_equal(recovery_tick(&policy, 5000).step, RECOVERY_STEP_NMI);
    recovery_heartbeat_resumed(&policy);
    assert_int_equal(recovery_tick(&policy, 10000).step, RECOVERY_STEP_NONE);
    /* a new loss starts counting again */
    assert_int_equal(recovery_heartbeat_lost(&policy, 20000, 5000).step, RECOVERY_STEP_NMI);
}

static void test_poweroff(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "on_heartbeat_loss", "poweroff", NULL, 0));
    start(&config);
    assert_int_equal(recovery_heartbeat_lost(&policy, 0, 10000).step, RECOVERY_STEP_POWEROFF);
    assert_int_equal(recovery_tick(&policy, 10000).step, RECOVERY_STEP_NONE);
}

static void test_restart_on_loss_then_restart_when_due(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "on_heartbeat_loss", "restart", NULL, 0));
    start(&config);
    struct recovery_decision d = recovery_heartbeat_lost(&policy, 10000, 10000);
    assert_int_equal(d.step, RECOVERY_STEP_STOP_GUEST);
    assert_int_equal(d.restart_due_ms, 10000); /* the first restart is not delayed */
    d = recovery_tick(&policy, 10000);
    assert_int_equal(d.step, RECOVERY_STEP_RESTART);
    assert_int_equal(policy.restarts_total, 1);
    recovery_guest_restarted(&policy);
    assert_int_equal(recovery_tick(&policy, 10050).step, RECOVERY_STEP_NONE);
}

/* Triple faults under restart: restarts with a doubling backoff, then the loop guard. */
static void test_triple_fault_backoff_and_loop_guard(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "on_triple_fault", "restart", NULL, 0));
    assert_true(set(&config, "restart_limit", "3", NULL, 0));
    assert_true(set(&config, "restart_window", "60", NULL, 0));
    assert_true(set(&config, "restart_backoff_ms", "500", NULL, 0));
    start(&config);
    uint64_t now = 1000;
    uint64_t expected_backoff[] = {0, 500, 1000};
    for (unsigned i = 0; i < 3; i++) {
        struct recovery_decision d = recovery_guest_crashed(&policy, now, RECOVERY_CAUSE_TRIPLE_FAULT);
        assert_int_equal(d.step, RECOVERY_STEP_STOP_GUEST);
        assert_int_equal(d.restart_due_ms, now + expected_backoff[i]);
        assert_non_null(strstr(d.detail, "triple fault"));
        /* a further crash report while the restart is pending changes nothing */
        assert_int_equal(recovery_guest_crashed(&policy, now, RECOVERY_CAUSE_TRIPLE_FAULT).step, RECOVERY_STEP_NONE);
        if (expected_backoff[i] > 0)
            assert_int_equal(recovery_tick(&policy, d.restart_due_ms - 1).step, RECOVERY_STEP_NONE);
        assert_int_equal(recovery_tick(&policy, d.restart_due_ms).step, RECOVERY_STEP_RESTART);
        recovery_guest_restarted(&policy);
        now = d.restart_due_ms + 100;
    }
    struct recovery_decision d = recovery_guest_crashed(&policy, now, RECOVERY_CAUSE_TRIPLE_FAULT);
    assert_int_equal(d.step, RECOVERY_STEP_HOLD_OFF);
    assert_non_null(strstr(d.detail, "restart loop: 3 restarts within 60 s"));
    assert_true(policy.held_off);
    assert_int_equal(recovery_tick(&policy, now + 100000).step, RECOVERY_STEP_NONE);
    assert_int_equal(recovery_heartbeat_lost(&policy, now + 100000, 1000).step, RECOVERY_STEP_NONE);
    /* the operator can bring it back */
    recovery_operator_restart(&policy);
    assert_false(policy.held_off);
}

static void test_window_forgets_old_restarts(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "on_triple_fault", "restart", NULL, 0));
    assert_true(set(&config, "restart_limit", "1", NULL, 0));
    assert_true(set(&config, "restart_window", "10", NULL, 0));
    start(&config);
    assert_int_equal(recovery_guest_crashed(&policy, 0, RECOVERY_CAUSE_TRIPLE_FAULT).step, RECOVERY_STEP_STOP_GUEST);
    assert_int_equal(recovery_tick(&policy, 0).step, RECOVERY_STEP_RESTART);
    assert_int_equal(recovery_restarts_in_window(&policy, 9999), 1);
    assert_int_equal(recovery_restarts_in_window(&policy, 10000), 0);
    assert_int_equal(recovery_guest_crashed(&policy, 10000, RECOVERY_CAUSE_TRIPLE_FAULT).step,
                     RECOVERY_STEP_STOP_GUEST);
}

static void test_halt_policy_and_guest_reset(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    start(&config);
    struct recovery_decision d = recovery_guest_crashed(&policy, 0, RECOVERY_CAUSE_ENTRY_FAILURE);
    assert_int_equal(d.step, RECOVERY_STEP_HALT);
    assert_non_null(strstr(d.detail, "VM-entry failure"));
    /* a reset request always means a restart, and counts against the guard */
    d = recovery_guest_crashed(&policy, 0, RECOVERY_CAUSE_GUEST_RESET);
    assert_int_equal(d.step, RECOVERY_STEP_STOP_GUEST);
    assert_int_equal(recovery_restarts_in_window(&policy, 1), 1);
}

static void test_backoff_is_capped(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    assert_true(set(&config, "restart_limit", "100", NULL, 0));
    assert_true(set(&config, "restart_backoff_ms", "60000", NULL, 0));
    start(&config);
    uint64_t now = 0;
    for (unsigned i = 0; i < 10; i++) {
        struct recovery_decision d = recovery_guest_crashed(&policy, now, RECOVERY_CAUSE_GUEST_RESET);
        assert_int_equal(d.step, RECOVERY_STEP_STOP_GUEST);
        assert_true(d.restart_due_ms - now <= RECOVERY_BACKOFF_MAX_MS);
        assert_int_equal(recovery_tick(&policy, d.restart_due_ms).step, RECOVERY_STEP_RESTART);
        now = d.restart_due_ms;
    }
}

static void test_bad_settings_keep_the_previous_one(void **state)
{
    (void)state;
    struct recovery_config config = defaults();
    struct recovery_config before = config;
    char error[200];
    assert_false(set(&config, "on_heartbeat_loss", "reboot", error, sizeof error));
    assert_string_equal(error, "on_heartbeat_loss: unknown action 'reboot' (want log|nmi|restart|poweroff; keeping log)");
    assert_false(set(&config, "on_triple_fault", "nmi", error, sizeof error));
    assert_non_null(strstr(error, "want restart|halt"));
    assert_false(set(&config, "restart_window", "0", error, sizeof error));
    assert_string_equal(error, "restart_window: '0' is not a number in 1..86400 s (keeping 300)");
    assert_false(set(&config, "restart_window", "99999999999999", error, sizeof error));
    assert_false(set(&config, "restart_limit", "101", error, sizeof error));
    assert_false(set(&config, "heartbeat_attempts", "-1", error, sizeof error));
    assert_false(set(&config, "heartbeat_attempts", "", error, sizeof error));
    assert_false(set(&config, "restart_backoff_ms", "60001", error, sizeof error));
    assert_false(set(&config, "frobnicate", "1", error, sizeof error));
    assert_non_null(strstr(error, "unknown policy 'frobnicate'"));
    assert_memory_equal(&config, &before, sizeof config);
    for (unsigned i = 0; recovery_config_key(i) != NULL; i++) {
        char text[32];
        assert_true(recovery_config_get(&config, recovery_config_key(i), text, sizeof text));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_log_repeats_up_to_attempts_then_stops),
        cmocka_unit_test(test_nmi_until_the_beat_resumes),
        cmocka_unit_test(test_poweroff),
        cmocka_unit_test(test_restart_on_loss_then_restart_when_due),
        cmocka_unit_test(test_triple_fault_backoff_and_loop_guard),
        cmocka_unit_test(test_window_forgets_old_restarts),
        cmocka_unit_test(test_halt_policy_and_guest_reset),
        cmocka_unit_test(test_backoff_is_capped),
        cmocka_unit_test(test_bad_settings_keep_the_previous_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
