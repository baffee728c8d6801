/* Unit tests for hv/guest_modules.c: boot module roles from module strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/guest_modules.h"

static struct boot_module modules[BOOT_MODULE_MAX];
static char error[160];

static unsigned set(const char *const *strings)
{
    unsigned count = 0;
    memset(modules, 0, sizeof modules);
    for (; strings[count]; count++)
        strncpy(modules[count].cmdline, strings[count], sizeof modules[count].cmdline - 1);
    return count;
}

static void test_roles_by_word_in_any_order(void **state)
{
    (void)state;
    const char *strings[] = { "additions version=2.0", "initrd", "kernel console=ttyS1 nosmp", NULL };
    struct guest_modules roles;
    assert_true(guest_modules_assign(modules, set(strings), &roles, error, sizeof error));
    assert_int_equal(roles.kernel, 2);
    assert_int_equal(roles.initrd, 1);
    assert_int_equal(roles.additions, 0);
    assert_string_equal(roles.kernel_args, "console=ttyS1 nosmp");
    assert_string_equal(roles.additions_args, "version=2.0");
    assert_int_equal(roles.unused, 0);
}

static void test_unlabelled_modules_keep_positions(void **state)
{
    (void)state;
    const char *strings[] = { "test=heartbeat", "version=1.2.3", "extra", NULL };
    struct guest_modules roles;
    assert_true(guest_modules_assign(modules, set(strings), &roles, error, sizeof error));
    assert_int_equal(roles.kernel, 0);
    assert_int_equal(roles.additions, 1);
    assert_int_equal(roles.initrd, GUEST_MODULE_NONE);
    assert_string_equal(roles.kernel_args, "test=heartbeat");
    assert_string_equal(roles.additions_args, "version=1.2.3");
    assert_int_equal(roles.unused, 1);
    /* A role word must be whole: "kernels=2" is an argument, "kernel" alone a role. */
    const char *words[] = { "kernels=2", "  kernel", NULL };
    assert_true(guest_modules_assign(modules, set(words), &roles, error, sizeof error));
    assert_int_equal(roles.kernel, 1);
    assert_string_equal(roles.kernel_args, "");
    assert_int_equal(roles.additions, 0);
}

static void test_conflicts_are_refused(void **state)
{
    (void)state;
    const char *twice[] = { "kernel a", "kernel b", NULL };
    struct guest_modules roles;
    assert_false(guest_modules_assign(modules, set(twice), &roles, error, sizeof error));
    assert_string_equal(error, "modules 0 and 1 both say 'kernel'");
    const char *no_kernel[] = { "initrd", "additions version=1", NULL };
    assert_false(guest_modules_assign(modules, set(no_kernel), &roles, error, sizeof error));
    assert_string_equal(error, "2 modules but none is the kernel");
    const char *none[] = { NULL };
    assert_true(guest_modules_assign(modules, set(none), &roles, error, sizeof error));
    assert_int_equal(roles.kernel, GUEST_MODULE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_by_word_in_any_order),
        cmocka_unit_test(test_unlabelled_modules_keep_positions),
        cmocka_unit_test(test_conflicts_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
