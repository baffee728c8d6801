/* vigilctl's JSON reader and writer (tools/vigilctl/lib/vctl_json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vctl_json.h"

static struct vj_value *parse(const char *text)
{
    char error[128];
    return vj_parse(text, strlen(text), error, sizeof error);
}

static void expect_error(const char *text, const char *reason)
{
    char error[128] = "";
    struct vj_value *v = vj_parse(text, strlen(text), error, sizeof error);
    assert_null(v);
    if (strstr(error, reason) == NULL)
        fail_msg("'%s': error '%s' lacks '%s'", text, error, reason);
}

static void test_response_object(void **state)
{
    (void)state;
    struct vj_value *v = parse(" {\"id\":7,\"status\":2684617988,\"status_name\":\"VM_E_ADDITIONS_NOT_AVAIL\","
                               "\"result\":{\"ok\":true,\"n\":null,\"list\":[1,-2,3.5]}}\r\n");
    assert_non_null(v);
    uint64_t id, status;
    assert_true(vj_get_u64(v, "id", &id));
    assert_int_equal(id, 7);
    assert_true(vj_get_u64(v, "status", &status));
    assert_int_equal(status, 0xA0040504u);
    assert_string_equal(vj_get_string(v, "status_name", NULL), "VM_E_ADDITIONS_NOT_AVAIL");
    const struct vj_value *result = vj_get(v, "result");
    bool ok = false;
    assert_true(vj_get_bool(result, "ok", &ok));
    assert_true(ok);
    assert_true(vj_is_null(vj_get(result, "n")));
    const struct vj_value *list = vj_get(result, "list");
    assert_int_equal(list->type, VJ_ARRAY);
    assert_int_equal(list->count, 3);
    int64_t i;
    assert_true(vj_as_i64(&list->items[1], &i));
    assert_int_equal(i, -2);
    assert_false(list->items[2].is_integer);
    uint64_t u;
    assert_false(vj_as_u64(&list->items[1], &u)); /* negative */
    assert_null(vj_get(v, "absent"));
    vj_free(v);
}

static void test_strings_and_escapes(void **state)
{
    (void)state;
    struct vj_value *v = parse("\"a\\\"b\\\\c\\/\\n\\t\\u00e9\\u0001\\u20ac\\ud83d\\ude00 raw \xc3\xa9\"");
    assert_non_null(v);
    /* \u00e9 is the byte 0xE9 (vigil's escape of a byte that is not UTF-8);
     * raw UTF-8 stays as it is. */
    const char want[] = "a\"b\\c/\n\t\xe9\x01\xe2\x82\xac\xf0\x9f\x98\x80 raw \xc3\xa9";
    assert_int_equal(v->length, sizeof want - 1);
    assert_memory_equal(v->string, want, sizeof want - 1);
    vj_free(v);
    /* NUL inside a string is kept with the length */
    v = parse("\"x\\u0000y\"");
    assert_int_equal(v->length, 3);
    assert_int_equal(v->string[1], 0);
    vj_free(v);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("{\"id\":1,", "unexpected end");
    expect_error("{\"id\" 1}", "expected ':'");
    expect_error("{\"id\":1 \"x\":2}", "expected ',' or '}'");
    expect_error("[1 2]", "expected ',' or ']'");
    expect_error("{id:1}", "expected a key");
    expect_error("\"abc", "unterminated string");
    expect_error("\"a\\qb\"", "bad escape");
    expect_error("\"\\u12g4\"", "bad \\u escape");
    expect_error("\"\\ud800x\"", "lone surrogate");
    expect_error("\"a\x01\"", "control character");
    expect_error("01", "leading zero");
    expect_error("-", "bad number");
    expect_error("{} x", "trailing characters");
    expect_error("\xff\xfe", "unexpected character");
    expect_error("", "unexpected end");
    char deep[200];
    memset(deep, '[', sizeof deep);
    deep[sizeof deep - 1] = '\0';
    expect_error(deep, "nested too deep");
}

static void test_numbers(void **state)
{
    (void)state;
    struct vj_value *v = parse("[18446744073709551615, 18446744073709551616, -9223372036854775808, 1e3, 0]");
    uint64_t u;
    int64_t i;
    assert_true(vj_as_u64(&v->items[0], &u));
    assert_true(u == UINT64_MAX);
    assert_false(v->items[1].is_integer); /* overflow: kept as a double */
    assert_true(vj_as_i64(&v->items[2], &i));
    assert_true(i == INT64_MIN);
    assert_false(v->items[3].is_integer);
    assert_true(v->items[3].number == 1000.0);
    assert_true(vj_as_u64(&v->items[4], &u) && u == 0);
    vj_free(v);
}

static void test_writer(void **state)
{
    (void)state;
    struct vj_buf b;
    vj_buf_init(&b);
    vj_begin_object(&b);
    vj_key(&b, "argv");
    vj_begin_array(&b);
    vj_string(&b, "sh");
    vj_string(&b, "-c");
    vj_string(&b, "echo \"hi\"\n\t\x01");
    vj_end_array(&b);
    vj_key(&b, "timeout");
    vj_uint(&b, 5);
    vj_key(&b, "neg");
    vj_int(&b, -3);
    vj_key(&b, "flag");
    vj_bool(&b, false);
    vj_key(&b, "none");
    vj_null(&b);
    vj_key(&b, "bytes");
    vj_string_bytes(&b, "\xff\xc3\xa9\x7f", 4);
    vj_key(&b, "empty");
    vj_begin_object(&b);
    vj_end_object(&b);
    vj_end_object(&b);
    assert_false(b.failed);
    assert_string_equal(b.data, "{\"argv\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\\n\\t\\u0001\"],\"timeout\":5,\"neg\":-3,"
                                "\"flag\":false,\"none\":null,\"bytes\":\"\\u00ff\xc3\xa9\\u007f\",\"empty\":{}}");
    /* round trip: parse and re-serialise gives the same text */
    struct vj_value *v = vj_parse(b.data, b.length, NULL, 0);
    assert_non_null(v);
    struct vj_buf again;
    vj_buf_init(&again);
    vj_value(&again, v);
    assert_string_equal(again.data, b.data);
    const struct vj_value *bytes = vj_get(v, "bytes");
    assert_int_equal(bytes->length, 4);
    assert_memory_equal(bytes->string, "\xff\xc3\xa9\x7f", 4);
    vj_free(v);
    vj_buf_free(&again);
    vj_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_object), cmocka_unit_test(test_strings_and_escapes),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
