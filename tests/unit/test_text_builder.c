/* Unit tests for lib/text_builder.c: bounded appends, NUL termination, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/text_builder.h"

static void test_appends_text_and_numbers(void **state)
{
    (void)state;
    char buffer[64];
    struct text_builder builder;
    text_builder_start(&builder, buffer, sizeof buffer);
    assert_string_equal(buffer, "");
    text_builder_append(&builder, "segment ");
    text_builder_printf(&builder, "%u: [0x%llx, 0x%llx)", 3u, 0x1000ull, 0x2000ull);
    assert_string_equal(buffer, "segment 3: [0x1000, 0x2000)");
    assert_int_equal(builder.length, strlen(buffer));
    assert_false(builder.truncated);
}

static void test_truncates_and_stays_terminated(void **state)
{
    (void)state;
    char buffer[8];
    memset(buffer, 'X', sizeof buffer);
    struct text_builder builder;
    text_builder_start(&builder, buffer, sizeof buffer);
    text_builder_append(&builder, "abcdef");
    assert_false(builder.truncated);
    text_builder_append(&builder, "ghij");
    assert_true(builder.truncated);
    assert_string_equal(buffer, "abcdefg");
    assert_int_equal(builder.length, 7);

    text_builder_start(&builder, buffer, sizeof buffer);
    text_builder_printf(&builder, "%s", "0123456789");
    assert_true(builder.truncated);
    assert_string_equal(buffer, "0123456");
    text_builder_append(&builder, "more"); /* full: nothing more goes in */
    assert_string_equal(buffer, "0123456");
}

static void test_null_buffer_writes_nothing(void **state)
{
    (void)state;
    struct text_builder builder;
    text_builder_start(&builder, NULL, 16);
    text_builder_append(&builder, "x");
    text_builder_printf(&builder, "%d", 5);
    assert_int_equal(builder.size, 0);
    assert_int_equal(builder.length, 0);
    assert_true(builder.truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_text_and_numbers),
        cmocka_unit_test(test_truncates_and_stays_terminated),
        cmocka_unit_test(test_null_buffer_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
