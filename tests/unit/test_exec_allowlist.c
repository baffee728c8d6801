/* hv/exec_allowlist.c and hv/rate_limit.c: which programs an operator may run in
 * the guest, the lock, bad entries; the console's per-second request limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/exec_allowlist.h"
#include "hv/rate_limit.h"

static struct exec_allowlist list;

static int setup(void **state)
{
    (void)state;
    exec_allowlist_init(&list);
    return 0;
}

static bool add(const char *text, char *error, size_t size)
{
    return exec_allowlist_add(&list, text, strlen(text), error, size);
}

static void test_open_list_allows_everything(void **state)
{
    (void)state;
    assert_false(exec_allowlist_enforcing(&list));
    assert_true(exec_allowlist_permits(&list, "/bin/sh", NULL, 0));
    assert_true(exec_allowlist_permits(&list, "sh", NULL, 0));
}

static void test_exact_and_prefix(void **state)
{
    (void)state;
    char error[160];
    assert_true(add("/usr/bin/uptime,/opt/tools/*", error, sizeof error));
    assert_int_equal(list.count, 2);
    assert_true(exec_allowlist_enforcing(&list));
    assert_true(exec_allowlist_permits(&list, "/usr/bin/uptime", NULL, 0));
    assert_true(exec_allowlist_permits(&list, "/opt/tools/a", NULL, 0));
    assert_true(exec_allowlist_permits(&list, "/opt/tools/sub/b", NULL, 0));
    char why[160];
    assert_false(exec_allowlist_permits(&list, "/usr/bin/uptime2", why, sizeof why));
    assert_string_equal(why, "exec '/usr/bin/uptime2' refused: not in the exec allow-list");
    assert_false(exec_allowlist_permits(&list, "/opt/tools", why, sizeof why));
    assert_false(exec_allowlist_permits(&list, "/opt/tools/", why, sizeof why));
    assert_false(exec_allowlist_permits(&list, "/opt/toolsX/a", why, sizeof why));
    assert_false(exec_allowlist_permits(&list, "uptime", why, sizeof why));
    assert_non_null(strstr(why, "not an absolute path"));
    char text[EXEC_ALLOWLIST_PATH_MAX];
    assert_true(exec_allowlist_entry_text(&list, 1, text, sizeof text));
    assert_string_equal(text, "/opt/tools/*");
    assert_false(exec_allowlist_entry_text(&list, 2, text, sizeof text));
}

static void test_prefix_cannot_be_escaped(void **state)
{
    (void)state;
    assert_true(add("/usr/bin/*", NULL, 0));
    char why[160];
    assert_false(exec_allowlist_permits(&list, "/usr/bin/../../bin/sh", why, sizeof why));
    assert_non_null(strstr(why, "'..'"));
    assert_false(exec_allowlist_permits(&list, "/usr/bin/./x", why, sizeof why));
    assert_false(exec_allowlist_permits(&list, "/usr/bin//x", why, sizeof why));
    assert_false(exec_allowlist_permits(&list, "/usr/bin/x y", why, sizeof why));
}

static void test_bad_entries_add_nothing(void **state)
{
    (void)state;
    char error[160];
    assert_true(add("/bin/true", error, sizeof error));
    const char *bad[] = {
        "bin/true", "/bin/*/x", "/bin*", "*", "/bin/../sh", "/usr//bin/x", "/usr/bin/", "", "/ok,relative",
        "/a b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        error[0] = '\0';
        assert_false(add(bad[i], error, sizeof error));
        assert_non_null(strstr(error, "exec allow-list entry"));
        assert_int_equal(list.count, 1);
    }
    assert_false(add("relative", error, sizeof error));
    assert_string_equal(error, "exec allow-list entry 'relative': not an absolute path");
    char long_path[300];
    memset(long_path, 'a', sizeof long_path);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    assert_false(add(long_path, error, sizeof error));
    assert_non_null(strstr(error, "longer than"));
    assert_int_equal(list.count, 1);
}

static void test_duplicates_and_capacity(void **state)
{
    (void)state;
    assert_true(add("/a,/a,/b/*", NULL, 0));
    assert_true(add("/a", NULL, 0));
    assert_int_equal(list.count, 2);
    char entry[16];
    for (unsigned i = list.count; i < EXEC_ALLOWLIST_MAX; i++) {
        entry[0] = '/';
        entry[1] = (char)('c' + i);
        entry[2] = '\0';
        assert_true(add(entry, NULL, 0));
    }
    char error[160];
    assert_false(add("/zz", error, sizeof error));
    assert_non_null(strstr(error, "at most 16 entries"));
    assert_int_equal(list.count, EXEC_ALLOWLIST_MAX);
}

static void test_lock(void **state)
{
    (void)state;
    assert_true(add("/bin/true", NULL, 0));
    exec_allowlist_lock(&list);
    char error[160];
    assert_false(add("/bin/sh", error, sizeof error));
    assert_string_equal(error, "the exec allow-list is locked: it cannot be widened");
    assert_false(exec_allowlist_permits(&list, "/bin/sh", NULL, 0));
    assert_true(exec_allowlist_permits(&list, "/bin/true", NULL, 0));
}

static void test_locked_empty_list_allows_nothing(void **state)
{
    (void)state;
    exec_allowlist_lock(&list);
    assert_true(exec_allowlist_enforcing(&list));
    assert_false(exec_allowlist_permits(&list, "/bin/true", NULL, 0));
}

static void test_rate_limit(void **state)
{
    (void)state;
    struct rate_limit limit;
    rate_limit_init(&limit, 3);
    assert_true(rate_limit_admit(&limit, 1000));
    assert_true(rate_limit_admit(&limit, 1100));
    assert_true(rate_limit_admit(&limit, 1999));
    assert_false(rate_limit_admit(&limit, 1999));
    assert_int_equal(limit.refused, 1);
    assert_true(rate_limit_admit(&limit, 2000)); /* a new second */
    assert_true(rate_limit_admit(&limit, 2001));
    assert_true(rate_limit_admit(&limit, 2002));
    assert_false(rate_limit_admit(&limit, 2500));
    assert_true(rate_limit_admit(&limit, 9000));
    assert_int_equal(limit.refused, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_list_allows_everything, setup),
        cmocka_unit_test_setup(test_exact_and_prefix, setup),
        cmocka_unit_test_setup(test_prefix_cannot_be_escaped, setup),
        cmocka_unit_test_setup(test_bad_entries_add_nothing, setup),
        cmocka_unit_test_setup(test_duplicates_and_capacity, setup),
        cmocka_unit_test_setup(test_lock, setup),
        cmocka_unit_test_setup(test_locked_empty_list_allows_nothing, setup),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
