/* hv/audit_log.c: the audit ring keeps requests in order with their final status,
 * stays bounded and counts what it overwrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/audit_log.h"
#include "lib/sha256.h"
#include "vigil/status.h"

static struct audit_log log_under_test;

static int setup(void **state)
{
    (void)state;
    audit_log_init(&log_under_test);
    return 0;
}

static void test_empty(void **state)
{
    (void)state;
    assert_int_equal(audit_log_oldest(&log_under_test), 1);
    assert_int_equal(log_under_test.next_sequence, 1);
    assert_null(audit_log_find(&log_under_test, 1));
    assert_null(audit_log_find(&log_under_test, 0));
}

static void test_request_then_complete(void **state)
{
    (void)state;
    const char line[] = "exec /bin/true";
    uint64_t sequence = audit_log_request(&log_under_test, 1234, AUDIT_ORIGIN_HUMAN, true, 7, "exec", line,
                                          strlen(line));
    assert_int_equal(sequence, 1);
    const struct audit_entry *entry = audit_log_find(&log_under_test, sequence);
    assert_non_null(entry);
    assert_int_equal(entry->time_ms, 1234);
    assert_int_equal(entry->origin, AUDIT_ORIGIN_HUMAN);
    assert_true(entry->has_request_id);
    assert_int_equal(entry->request_id, 7);
    assert_string_equal(entry->operation, "exec");
    assert_false(entry->completed);
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(line, strlen(line), digest);
    assert_memory_equal(entry->arguments_digest, digest, AUDIT_DIGEST_SIZE);

    assert_true(audit_log_complete(&log_under_test, sequence, VIGIL_E_ACCESSDENIED, "not in the allow-list"));
    assert_true(entry->completed);
    assert_int_equal(entry->status, VIGIL_E_ACCESSDENIED);
    assert_string_equal(entry->detail, "not in the allow-list");
    /* the final status is final */
    assert_false(audit_log_complete(&log_under_test, sequence, VIGIL_S_OK, NULL));
    assert_int_equal(entry->status, VIGIL_E_ACCESSDENIED);
}

static void test_different_arguments_different_digest(void **state)
{
    (void)state;
    uint64_t a = audit_log_request(&log_under_test, 0, AUDIT_ORIGIN_JSON, false, 0, "param", "param get a", 11);
    uint64_t b = audit_log_request(&log_under_test, 0, AUDIT_ORIGIN_JSON, false, 0, "param", "param get b", 11);
    assert_memory_not_equal(audit_log_find(&log_under_test, a)->arguments_digest,
                            audit_log_find(&log_under_test, b)->arguments_digest, AUDIT_DIGEST_SIZE);
    assert_false(audit_log_find(&log_under_test, a)->has_request_id);
}

static void test_action_is_complete(void **state)
{
    (void)state;
    uint64_t sequence = audit_log_action(&log_under_test, 50, AUDIT_ORIGIN_POLICY, "restart", VIGIL_S_OK,
                                         "heartbeat lost for 10000 ms");
    const struct audit_entry *entry = audit_log_find(&log_under_test, sequence);
    assert_true(entry->completed);
    assert_int_equal(entry->origin, AUDIT_ORIGIN_POLICY);
    assert_string_equal(entry->operation, "restart");
    assert_string_equal(entry->detail, "heartbeat lost for 10000 ms");
    assert_string_equal(audit_origin_name(entry->origin), "policy");
}

static void test_long_text_is_cut(void **state)
{
    (void)state;
    char detail[200];
    memset(detail, 'x', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    uint64_t sequence = audit_log_action(&log_under_test, 0, AUDIT_ORIGIN_POLICY, "averyveryverylongoperationname",
                                         VIGIL_S_OK, detail);
    const struct audit_entry *entry = audit_log_find(&log_under_test, sequence);
    assert_int_equal(strlen(entry->operation), AUDIT_OPERATION_MAX - 1);
    assert_int_equal(strlen(entry->detail), AUDIT_DETAIL_MAX - 1);
}

/* Past the capacity: the oldest entries go, in order, and are counted; the rest stay in order. */
static void test_ring_bound(void **state)
{
    (void)state;
    unsigned total = AUDIT_LOG_CAPACITY + 37;
    for (unsigned i = 0; i < total; i++) {
        char operation[16];
        snprintf(operation, sizeof operation, "op%u", i);
        uint64_t sequence = audit_log_request(&log_under_test, i, AUDIT_ORIGIN_JSON, true, i, operation, NULL, 0);
        assert_int_equal(sequence, i + 1);
    }
    assert_int_equal(log_under_test.overwritten, 37);
    assert_int_equal(audit_log_oldest(&log_under_test), 38);
    assert_null(audit_log_find(&log_under_test, 37));
    assert_false(audit_log_complete(&log_under_test, 37, VIGIL_S_OK, NULL)); /* gone */
    for (uint64_t sequence = 38; sequence <= total; sequence++) {
        const struct audit_entry *entry = audit_log_find(&log_under_test, sequence);
        assert_non_null(entry);
        assert_int_equal(entry->sequence, sequence);
        assert_int_equal(entry->request_id, sequence - 1);
        char operation[16];
        snprintf(operation, sizeof operation, "op%u", (unsigned)(sequence - 1));
        assert_string_equal(entry->operation, operation);
    }
    assert_null(audit_log_find(&log_under_test, total + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, setup),
        cmocka_unit_test_setup(test_request_then_complete, setup),
        cmocka_unit_test_setup(test_different_arguments_different_digest, setup),
        cmocka_unit_test_setup(test_action_is_complete, setup),
        cmocka_unit_test_setup(test_long_text_is_cut, setup),
        cmocka_unit_test_setup(test_ring_bound, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
