/*
 * The console's side of the guest's life (docs/lifecycle.md), against the fake
 * guest service: exec refused by the allow-list before it reaches the guest and
 * audited; allowlist add/lock and bad entries; policy show/set and bad values;
 * the audit trail of a session in order with final statuses; the request limit;
 * the boot record in status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/console.h"
#include "tests/unit/console_fakes.h"

static struct guest_life life;

static void start(enum console_mode mode)
{
    struct recovery_config config;
    recovery_config_defaults(&config);
    guest_life_init(&life, &config, RATE_LIMIT_DEFAULT_PER_SECOND);
    fake_host_reset();
    struct console_host host = *fake_host();
    host.life = &life;
    console_init(&host, mode);
    fake_output_clear();
}

static int human(void **state)
{
    (void)state;
    start(CONSOLE_MODE_HUMAN);
    return 0;
}

static int json(void **state)
{
    (void)state;
    start(CONSOLE_MODE_JSON);
    return 0;
}

static void line(const char *text)
{
    fake_output_clear();
    type_text(text);
    type_text("\n");
}

static void expect_output_contains(const char *needle)
{
    if (strstr(fake_output(), needle) == NULL)
        fail_msg("expected output to contain\n  %s\ngot\n%s", needle, fake_output());
}

static const struct audit_entry *last_entry(void)
{
    return audit_log_find(&life.audit, life.audit.next_sequence - 1);
}

static void test_exec_refused_by_allowlist_never_reaches_the_guest(void **state)
{
    (void)state;
    assert_true(exec_allowlist_add(&life.allowlist, "/usr/bin/*", 10, NULL, 0));
    line("exec /bin/sh -c reboot");
    expect_output_contains("error: E_ACCESSDENIED (0x80070005): exec '/bin/sh' refused: not in the exec allow-list");
    assert_int_equal(fake_service.request_count, 0);
    const struct audit_entry *entry = last_entry();
    assert_string_equal(entry->operation, "exec");
    assert_true(entry->completed);
    assert_int_equal(entry->status, VIGIL_E_ACCESSDENIED);
    assert_string_equal(entry->detail, "exec '/bin/sh' refused: not in the exec allow-list");
    assert_int_equal(entry->origin, AUDIT_ORIGIN_HUMAN);

    /* allowed: reaches the guest; its audit entry completes with the guest's answer */
    line("exec /usr/bin/uptime");
    assert_int_equal(fake_service.request_count, 1);
    uint64_t sequence = life.audit.next_sequence - 1;
    assert_false(audit_log_find(&life.audit, sequence)->completed);
    line("status"); /* another request in between */
    fake_complete(fake_last_request(), VIGIL_E_FAIL, 0, 0, NULL);
    assert_true(audit_log_find(&life.audit, sequence)->completed);
    assert_int_equal(audit_log_find(&life.audit, sequence)->status, VIGIL_E_FAIL);
    assert_int_equal(audit_log_find(&life.audit, sequence + 1)->status, VIGIL_S_OK);
}

static void test_exec_relative_path_refused_when_enforcing(void **state)
{
    (void)state;
    assert_true(exec_allowlist_add(&life.allowlist, "/bin/true", 9, NULL, 0));
    line("exec true");
    expect_output_contains("E_ACCESSDENIED");
    expect_output_contains("not an absolute path");
    assert_int_equal(fake_service.request_count, 0);
}

static void test_allowlist_add_lock_and_bad_entries(void **state)
{
    (void)state;
    line("allowlist");
    expect_output_contains("enforcing: no");
    expect_output_contains("every program may run");
    line("allowlist add /opt/tools/*,/bin/true");
    expect_output_contains("enforcing: yes");
    expect_output_contains("entry: /opt/tools/*");
    expect_output_contains("entry: /bin/true");
    line("allowlist add relative/path");
    expect_output_contains("error: exec allow-list entry 'relative/path': not an absolute path");
    assert_int_equal(life.allowlist.count, 2);
    assert_int_equal(last_entry()->status, VIGIL_E_INVALIDARG);
    line("allowlist lock");
    expect_output_contains("locked: yes");
    line("allowlist add /bin/sh");
    expect_output_contains("error: E_ACCESSDENIED (0x80070005): the exec allow-list is locked: it cannot be widened");
    assert_int_equal(life.allowlist.count, 2);
    assert_int_equal(last_entry()->status, VIGIL_E_ACCESSDENIED);
    line("allowlist frob");
    expect_output_contains("usage: allowlist");
}

static void test_policy_show_set_and_bad_values(void **state)
{
    (void)state;
    line("policy");
    expect_output_contains("on heartbeat loss: log\n");
    expect_output_contains("restart limit: 3\n");
    expect_output_contains("held off: no\n");
    line("policy set on_heartbeat_loss restart");
    expect_output_contains("on heartbeat loss: restart\n");
    assert_int_equal(life.recovery.config.on_heartbeat_loss, RECOVERY_ACTION_RESTART);
    line("policy set on_heartbeat_loss explode");
    expect_output_contains("error: on_heartbeat_loss: unknown action 'explode' (want log|nmi|restart|poweroff; "
                           "keeping restart)");
    assert_int_equal(life.recovery.config.on_heartbeat_loss, RECOVERY_ACTION_RESTART);
    line("policy set restart_window 0");
    expect_output_contains("keeping 300");
    line("policy set nonsense 1");
    expect_output_contains("unknown policy 'nonsense'");
    line("policy set restart_window");
    expect_output_contains("usage: policy");
}

static void test_json_audit_lists_the_session_in_order(void **state)
{
    (void)state;
    line("{\"id\":1,\"cmd\":\"status\"}");
    line("{\"id\":2,\"cmd\":\"param\",\"action\":\"get\",\"name\":\"x\"}");
    line("{\"id\":3,\"cmd\":\"nonsense\"}");
    assert_false(audit_log_find(&life.audit, 2)->completed); /* the param get: until the guest answers */
    line("{\"id\":4,\"cmd\":\"policy\",\"action\":\"set\",\"name\":\"restart_limit\",\"value\":\"5\"}");
    fake_complete(fake_last_request(), VIGIL_E_NOT_FOUND, 0, 0, NULL); /* the param get */
    line("{\"id\":5,\"cmd\":\"audit\",\"count\":10}");
    const char *out = fake_output();
    const char *first = strstr(out, "\"request_id\":1,\"op\":\"status\"");
    const char *second = strstr(out, "\"request_id\":2,\"op\":\"param\"");
    const char *third = strstr(out, "\"request_id\":3,\"op\":\"invalid\"");
    const char *fourth = strstr(out, "\"request_id\":4,\"op\":\"policy\"");
    const char *fifth = strstr(out, "\"request_id\":5,\"op\":\"audit\"");
    if (!first || !second || !third || !fourth || !fifth)
        fail_msg("missing entries in\n%s", out);
    assert_true(first < second && second < third && third < fourth && fourth < fifth);
    expect_output_contains("\"op\":\"param\",\"args_sha256\":\"");
    expect_output_contains("\"status\":2147943568,\"status_name\":\"E_NOT_FOUND\"");
    expect_output_contains("\"origin\":\"json\"");
    expect_output_contains("\"op\":\"audit\",\"args_sha256\":\"");
    expect_output_contains("\"op\":\"audit\",\"args_sha256\":\"");
    expect_output_contains("\"detail\":\"the request did not parse\"");
    assert_int_equal(life.recovery.config.restart_limit, 5);
    assert_true(json_lines_valid(fake_output(), fake_output_length()) > 0);
    /* since: only what came after */
    line("{\"id\":6,\"cmd\":\"audit\",\"since\":4}");
    assert_null(strstr(fake_output(), "\"op\":\"status\""));
    expect_output_contains("\"request_id\":5,\"op\":\"audit\"");
    line("{\"id\":7,\"cmd\":\"audit\",\"count\":0}");
    expect_output_contains("E_INVALIDARG");
    line("{\"id\":8,\"cmd\":\"allowlist\",\"action\":\"add\",\"value\":\"nope\"}");
    expect_output_contains("not an absolute path");
}

static void test_request_limit(void **state)
{
    (void)state;
    life.console_rate.per_second = 3;
    for (int i = 1; i <= 5; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"id\":%d,\"cmd\":\"ping\"}", i);
        line(text);
        if (i <= 3)
            assert_null(strstr(fake_output(), "E_RATE_LIMITED"));
        else
            expect_output_contains("\"status_name\":\"E_RATE_LIMITED\",\"message\":\"more than 3 console requests in "
                                   "one second: request dropped\"");
    }
    assert_int_equal(life.console_rate.refused, 2);
    assert_int_equal(fake_service.request_count, 3);
    assert_int_equal(life.audit.next_sequence, 4); /* refused ones are counted, not audited */
    fake_uptime_ms += 1000;
    line("{\"id\":6,\"cmd\":\"ping\"}");
    assert_null(strstr(fake_output(), "E_RATE_LIMITED"));
}

static void test_status_shows_boot_record(void **state)
{
    (void)state;
    life.boot_count = 2;
    guest_life_note_stop(&life, 777, "triple fault");
    assert_true(guest_life_measure_module(&life, 0, "abc", 3, NULL, 0));
    line("status");
    expect_output_contains("boot count: 2\n");
    expect_output_contains("last stop reason: triple fault\n");
    expect_output_contains("last stop ms: 777 ms\n");
    expect_output_contains("module 0 sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
}

static void test_module_expectation(void **state)
{
    (void)state;
    char error[200];
    const char *good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_true(guest_life_expect_module(&life, good, strlen(good), error, sizeof error));
    assert_true(guest_life_measure_module(&life, 0, "abc", 3, error, sizeof error));
    assert_false(guest_life_measure_module(&life, 0, "abd", 3, error, sizeof error));
    assert_non_null(strstr(error, "module 0: SHA-256 "));
    assert_non_null(strstr(error, "but module_sha256= expects ba7816bf"));
    assert_false(guest_life_expect_module(&life, "1:abc", 5, error, sizeof error));
    assert_non_null(strstr(error, "64 hex digits"));
    assert_false(guest_life_expect_module(&life, "99:x", 4, error, sizeof error));
    assert_non_null(strstr(error, "bad module index"));
    char indexed[80];
    snprintf(indexed, sizeof indexed, "1:%s", good);
    assert_true(guest_life_expect_module(&life, indexed, strlen(indexed), error, sizeof error));
    assert_true(life.modules[1].expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exec_refused_by_allowlist_never_reaches_the_guest, human),
        cmocka_unit_test_setup(test_exec_relative_path_refused_when_enforcing, human),
        cmocka_unit_test_setup(test_allowlist_add_lock_and_bad_entries, human),
        cmocka_unit_test_setup(test_policy_show_set_and_bad_values, human),
        cmocka_unit_test_setup(test_json_audit_lists_the_session_in_order, json),
        cmocka_unit_test_setup(test_request_limit, json),
        cmocka_unit_test_setup(test_status_shows_boot_record, human),
        cmocka_unit_test_setup(test_module_expectation, human),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
