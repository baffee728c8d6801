/* Unit tests for guest-svc/additions/linux/parameters.c: vigil-additionsd's
 * persisted parameter store, in a temporary directory. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest-svc/additions/linux/daemon.h"

void daemon_log(const char *format, ...)
{
    (void)format;
}

static char root[64];

static int make_root(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/vigil-params-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    return system(command) == 0 ? 0 : -1;
}

static void test_values_survive_a_restart(void **state)
{
    (void)state;
    char directory[128], value[VIGIL_PARAMETER_VALUE_MAX + 1];
    snprintf(directory, sizeof directory, "%s/var/lib/vigil/parameters", root);
    parameters_init(directory);
    assert_int_equal(parameters_get("color", value, sizeof value), VIGIL_E_NOT_FOUND);
    assert_int_equal(parameters_set("color", "blue"), VIGIL_S_OK);
    assert_int_equal(parameters_set("../../etc/passwd", "not a path"), VIGIL_S_OK);
    assert_int_equal(parameters_set("empty", ""), VIGIL_S_OK);
    assert_int_equal(parameters_set("color", "green"), VIGIL_S_OK); /* overwrite */

    parameters_init(directory); /* a restarted daemon */
    assert_int_equal(parameters_get("color", value, sizeof value), VIGIL_S_OK);
    assert_string_equal(value, "green");
    assert_int_equal(parameters_get("../../etc/passwd", value, sizeof value), VIGIL_S_OK);
    assert_string_equal(value, "not a path");
    assert_int_equal(parameters_get("empty", value, sizeof value), VIGIL_S_OK);
    assert_string_equal(value, "");
    /* the odd name stayed inside the store */
    char outside[160];
    snprintf(outside, sizeof outside, "%s/var/etc/passwd", root);
    assert_int_equal(access(outside, F_OK), -1);

    const char *name;
    int seen = 0;
    for (uint32_t i = 0; parameters_list(i, &name); i++) {
        assert_true(strcmp(name, "color") == 0 || strcmp(name, "empty") == 0 || strcmp(name, "../../etc/passwd") == 0);
        seen++;
    }
    assert_int_equal(seen, 3);
}

static void test_longest_name_and_value(void **state)
{
    (void)state;
    char directory[128], name[VIGIL_PARAMETER_NAME_MAX + 1], value[VIGIL_PARAMETER_VALUE_MAX + 1],
        back[VIGIL_PARAMETER_VALUE_MAX + 1];
    snprintf(directory, sizeof directory, "%s/long", root);
    parameters_init(directory);
    memset(name, 0xE9, VIGIL_PARAMETER_NAME_MAX); /* 255 bytes: a 510-character file name would not fit */
    name[VIGIL_PARAMETER_NAME_MAX] = 0;
    memset(value, 'v', VIGIL_PARAMETER_VALUE_MAX);
    value[VIGIL_PARAMETER_VALUE_MAX] = 0;
    uint32_t status = parameters_set(name, value);
    assert_int_equal(status, VIGIL_S_OK);
    assert_int_equal(parameters_get(name, back, sizeof back), VIGIL_S_OK);
    assert_string_equal(back, value);
    const char *listed;
    assert_true(parameters_list(0, &listed));
    assert_string_equal(listed, name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_survive_a_restart),
        cmocka_unit_test(test_longest_name_and_value),
    };
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
