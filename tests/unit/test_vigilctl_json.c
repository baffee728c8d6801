/*
 * vigilctl's typed access over jansson (tools/vigilctl/lib/vctl_json.c): what a
 * console line may hold and what each lookup makes of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vctl_json.h"

static json_t *parse(const char *text)
{
    char error[160];
    json_t *value = vj_parse_object(text, strlen(text), error, sizeof error);
    if (value == NULL)
        fail_msg("'%s' refused: %s", text, error);
    return value;
}

static void expect_refused(const char *text, const char *fragment)
{
    char error[160] = "";
    json_t *value = vj_parse_object(text, strlen(text), error, sizeof error);
    if (value != NULL) {
        json_decref(value);
        fail_msg("'%s' was accepted", text);
    }
    if (strstr(error, fragment) == NULL)
        fail_msg("error for '%s' is '%s', lacks '%s'", text, error, fragment);
}

static void test_lines_that_are_not_one_object(void **state)
{
    (void)state;
    expect_refused("[1,2]", "not a JSON object");
    expect_refused("\"status\"", "expected"); /* jansson: only an object or array at the top */
    expect_refused("{\"id\":1,", "byte");                     /* cut short: where */
    expect_refused("{\"id\":1} {\"id\":2}", "end of file expected");
    expect_refused("{\"id\":1,\"id\":2}", "duplicate");
    expect_refused("{\"s\":\"\xff\"}", "unable to decode byte 0xff"); /* the console writes only UTF-8 */
    expect_refused("{\"n\":18446744073709551615}", "too big"); /* above int64: jansson refuses */
    json_t *ok = parse("  {\"id\":1}\r\n");                    /* whitespace around is fine */
    json_decref(ok);
}

static void test_typed_lookups(void **state)
{
    (void)state;
    json_t *v = parse("{\"u\":9007199254740991,\"neg\":-3,\"f\":1.5,\"t\":true,\"s\":\"a\\u0000b\\u00e9\","
                      "\"n\":null,\"o\":{\"k\":7}}");
    uint64_t u = 0;
    int64_t i = 0;
    bool b = false;
    assert_true(vj_get_u64(v, "u", &u));
    assert_true(u == 9007199254740991ull);
    assert_false(vj_get_u64(v, "neg", &u)); /* negative: not unsigned */
    assert_true(vj_get_i64(v, "neg", &i));
    assert_int_equal(i, -3);
    assert_false(vj_get_u64(v, "f", &u));   /* a fraction is no integer */
    assert_false(vj_get_i64(v, "s", &i));
    assert_true(vj_get_bool(v, "t", &b) && b);
    assert_false(vj_get_bool(v, "n", &b));
    size_t length = 0;
    const char *s = vj_get_string(v, "s", &length);
    assert_int_equal(length, 5);            /* a NUL inside, é as two bytes */
    assert_memory_equal(s, "a\0b\xc3\xa9", 5);
    assert_null(vj_get_string(v, "t", NULL));
    assert_null(vj_get(v, "missing"));
    assert_true(vj_get_u64(vj_get(v, "o"), "k", &u) && u == 7);
    assert_null(vj_get(vj_get(v, "s"), "k")); /* a lookup in a non-object */
    assert_null(vj_get(NULL, "k"));
    assert_false(vj_as_u64(NULL, &u));
    json_decref(v);
}

static void test_fprint_is_compact_and_in_order(void **state)
{
    (void)state;
    json_t *v = parse("{ \"z\" : 1 , \"a\" : [ true , null ] , \"s\" : \"q\\\"\\n\" }");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_true(vj_fprint(out, v));
    fputc(' ', out);
    assert_true(vj_fprint(out, NULL));
    fclose(out);
    assert_string_equal(text, "{\"z\":1,\"a\":[true,null],\"s\":\"q\\\"\\n\"} null");
    free(text);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_that_are_not_one_object),
        cmocka_unit_test(test_typed_lookups),
        cmocka_unit_test(test_fprint_is_compact_and_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
