/*
 * Unit tests for hv/console/json_reader.c and json_writer.c: what the strict reader
 * accepts and rejects (with the reason and byte offset), string decoding, and the
 * writer's escaping (control characters, quotes, invalid UTF-8), bounds and commas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/json_reader.h"
#include "hv/console/json_writer.h"
#include "hv/console/unicode_text.h"

static struct json_document document;
static struct json_error error;

static bool parse(const char *text)
{
    error.reason = NULL;
    error.offset = 0;
    return json_parse(&document, text, strlen(text), &error);
}

static void assert_rejected(const char *text, const char *reason, size_t offset)
{
    if (parse(text))
        fail_msg("accepted: %s", text);
    assert_non_null(error.reason);
    if (strcmp(error.reason, reason) != 0 || error.offset != offset)
        fail_msg("%s: got '%s' at %zu, expected '%s' at %zu", text, error.reason, error.offset, reason, offset);
}

static void test_accepts_a_request(void **state)
{
    (void)state;
    assert_true(parse(" {\"id\": 7, \"cmd\":\"exec\", \"argv\":[\"echo\",\"hi\"], \"x\":{\"y\":[true,false,null,-12]}}\r\n"));
    assert_int_equal(document.tokens[0].type, JSON_OBJECT);
    assert_int_equal(document.tokens[0].count, 4);
    int id = json_object_get(&document, 0, "id");
    assert_true(id > 0);
    assert_int_equal(document.tokens[id].type, JSON_INTEGER);
    assert_int_equal(document.tokens[id].integer, 7);
    int argv = json_object_get(&document, 0, "argv");
    assert_int_equal(document.tokens[argv].count, 2);
    int second = json_array_element(&document, (unsigned)argv, 1);
    assert_true(json_string_equals(&document, (unsigned)second, "hi"));
    assert_int_equal(json_array_element(&document, (unsigned)argv, 2), -1);
    assert_int_equal(json_object_get(&document, 0, "missing"), -1);
    /* the member after a nested value is found: subtree skipping works */
    assert_true(parse("{\"a\":{\"b\":[1,[2,[3]]],\"c\":{}},\"d\":5}"));
    assert_int_equal(document.tokens[json_object_get(&document, 0, "d")].integer, 5);
}

static void test_scalars_and_empty_containers(void **state)
{
    (void)state;
    assert_true(parse("[]"));
    assert_true(parse("{}"));
    assert_true(parse("\"\""));
    assert_true(parse("0"));
    assert_true(parse("-0"));
    assert_true(parse("9223372036854775807"));
    assert_int_equal(document.tokens[0].integer, INT64_MAX);
    assert_true(parse("-9223372036854775808"));
    assert_true(document.tokens[0].integer == INT64_MIN);
}

static void test_string_escapes_decode(void **state)
{
    (void)state;
    char out[64];
    assert_true(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\""));
    assert_true(json_string_copy(&document, 0, out, sizeof out));
    assert_string_equal(out, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(json_string_length(&document, 0), strlen(out));
    assert_false(json_string_copy(&document, 0, out, 5)); /* does not fit */
    /* raw UTF-8 is kept */
    assert_true(parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
    assert_true(json_string_equals(&document, 0, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    /* keys compare after unescaping */
    assert_true(parse("{\"i\\u0064\":1}"));
    assert_true(json_object_get(&document, 0, "id") > 0);
}

static void test_truncated_input(void **state)
{
    (void)state;
    assert_rejected("", "unexpected end", 0);
    assert_rejected("   ", "unexpected end", 3);
    assert_rejected("{", "unexpected end", 1);
    assert_rejected("{\"id\"", "expected ':'", 5);
    assert_rejected("{\"id\":", "unexpected end", 6);
    assert_rejected("{\"id\":1", "unexpected end", 7);
    assert_rejected("{\"id\":1,", "unexpected end", 8);
    assert_rejected("[1,2", "unexpected end", 4);
    assert_rejected("{\"cmd\":\"sta", "unterminated string", 7);
    assert_rejected("\"abc\\", "unterminated string", 5);
    assert_rejected("tru", "unexpected character", 0);
    assert_rejected("-", "bad number", 0);
}

static void test_bad_escapes_and_strings(void **state)
{
    (void)state;
    assert_rejected("\"\\x41\"", "bad escape", 1);
    assert_rejected("\"\\u12G4\"", "bad \\u escape", 1);
    assert_rejected("\"\\u12\"", "bad \\u escape", 1);
    assert_rejected("\"\\ud83d\"", "lone surrogate", 1);
    assert_rejected("\"\\ud83d\\u0041\"", "lone surrogate", 1);
    assert_rejected("\"\\ude00\"", "lone surrogate", 1);
    assert_rejected("\"a\tb\"", "control character in string", 2);
    assert_rejected("\"a\x01\"", "control character in string", 2);
    assert_rejected("\"\xff\"", "invalid UTF-8 in string", 1);
    assert_rejected("\"\xc0\xaf\"", "invalid UTF-8 in string", 1);          /* overlong '/' */
    assert_rejected("\"\xe0\x80\xaf\"", "invalid UTF-8 in string", 1);      /* overlong */
    assert_rejected("\"\xed\xa0\x80\"", "invalid UTF-8 in string", 1);      /* UTF-8 surrogate */
    assert_rejected("\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string", 1);  /* > U+10FFFF */
    assert_rejected("\"\xe2\x82\"", "invalid UTF-8 in string", 1);          /* truncated */
    assert_rejected("'a'", "unexpected character", 0);
}

static void test_nul_escape_valid_but_not_a_c_string(void **state)
{
    (void)state;
    char out[16];
    assert_true(parse("\"a\\u0000b\""));
    assert_int_equal(json_string_length(&document, 0), 3);
    assert_false(json_string_copy(&document, 0, out, sizeof out));
    assert_false(json_string_equals(&document, 0, "a"));
}

static void test_nested_too_deep(void **state)
{
    (void)state;
    assert_true(parse("[[[[[[[[1]]]]]]]]")); /* depth 8 */
    assert_rejected("[[[[[[[[[1]]]]]]]]]", "nested too deep", 8);
    assert_rejected("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}", "nested too deep", 40);
    char deep[4000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    assert_rejected(deep, "nested too deep", 8);
}

static void test_numbers(void **state)
{
    (void)state;
    assert_rejected("9223372036854775808", "number out of range", 0);
    assert_rejected("-9223372036854775809", "number out of range", 0);
    assert_rejected("{\"id\":123456789012345678901234567890}", "number out of range", 6);
    assert_rejected("1.5", "numbers must be integers", 0);
    assert_rejected("1e3", "numbers must be integers", 0);
    assert_rejected("01", "bad number (leading zero)", 0);
    assert_rejected("+1", "unexpected character", 0);
    assert_rejected("-a", "bad number", 0);
}

static void test_structure_errors(void **state)
{
    (void)state;
    assert_rejected("{\"id\":1}x", "trailing characters", 8);
    assert_rejected("{\"id\":1} {}", "trailing characters", 9);
    assert_rejected("{\"id\":1,}", "expected a key", 8);
    assert_rejected("[1,]", "unexpected character", 3);
    assert_rejected("{id:1}", "expected a key", 1);
    assert_rejected("{\"a\" 1}", "expected ':'", 5);
    assert_rejected("{\"a\":1 \"b\":2}", "expected ',' or '}'", 7);
    assert_rejected("[1 2]", "expected ',' or ']'", 3);
    assert_rejected("{\"id\":1,\"id\":2}", "duplicate key", 8);
    assert_rejected("{\"id\":1,\"i\\u0064\":2}", "duplicate key", 8);
    assert_rejected("{\"a\":{\"x\":1},\"b\":{\"x\":1,\"x\":2}}", "duplicate key", 24);
    assert_true(parse("{\"a\":{\"x\":1},\"b\":{\"x\":1}}")); /* same key in different objects */
    const char with_nul[] = "{\"id\":1\0}";
    assert_false(json_parse(&document, with_nul, sizeof with_nul - 1, &error));
}

static void test_too_many_values(void **state)
{
    (void)state;
    char text[2048];
    size_t length = 0;
    text[length++] = '[';
    for (unsigned i = 0; i < JSON_TOKENS_MAX; i++)
        length += (size_t)snprintf(text + length, sizeof text - length, "%s1", i ? "," : "");
    text[length++] = ']';
    text[length] = '\0';
    if (parse(text))
        fail_msg("accepted %u values", JSON_TOKENS_MAX + 1);
    assert_string_equal(error.reason, "too many values");
}

/* ---- writer */
static char buffer[512];
static struct json_writer writer;

static const char *written(void)
{
    assert_false(writer.overflow);
    buffer[writer.length] = '\0';
    return buffer;
}

static void test_writer_object_with_commas(void **state)
{
    (void)state;
    json_writer_init(&writer, buffer, sizeof buffer - 1, NULL, NULL);
    json_writer_object_begin(&writer);
    json_writer_key(&writer, "id");
    json_writer_uint(&writer, 18446744073709551615ull);
    json_writer_key(&writer, "n");
    json_writer_int(&writer, INT64_MIN);
    json_writer_key(&writer, "a");
    json_writer_array_begin(&writer);
    json_writer_string(&writer, "x");
    json_writer_array_begin(&writer);
    json_writer_array_end(&writer);
    json_writer_object_begin(&writer);
    json_writer_object_end(&writer);
    json_writer_bool(&writer, true);
    json_writer_null(&writer);
    json_writer_string(&writer, NULL);
    json_writer_array_end(&writer);
    json_writer_key(&writer, "b");
    json_writer_bool(&writer, false);
    json_writer_object_end(&writer);
    assert_string_equal(written(),
                        "{\"id\":18446744073709551615,\"n\":-9223372036854775808,\"a\":[\"x\",[],{},true,null,null],\"b\":false}");
}

static void test_writer_escapes(void **state)
{
    (void)state;
    static const char raw[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f"
                              "\xc3\xa9"          /* é: kept */
                              "\xff\xc3"          /* invalid, truncated */
                              "\xe2\x82\xac"      /* €: kept */
                              "\xed\xa0\x80"      /* a surrogate in UTF-8: invalid */
                              "\xc0\xaf"          /* overlong: invalid */
                              "\xf0\x9f\x98\x80"; /* 😀: kept */
    json_writer_init(&writer, buffer, sizeof buffer - 1, NULL, NULL);
    json_writer_string_bytes(&writer, raw, sizeof raw - 1);
    assert_string_equal(written(), "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\xc3\xa9\\u00ff\\u00c3\xe2\x82\xac"
                                   "\\u00ed\\u00a0\\u0080\\u00c0\\u00af\xf0\x9f\x98\x80\"");
    /* and the reader accepts it */
    assert_true(json_parse(&document, buffer, writer.length, &error));
    /* every byte value alone produces valid JSON */
    for (unsigned byte = 0; byte < 256; byte++) {
        uint8_t b = (uint8_t)byte;
        json_writer_init(&writer, buffer, sizeof buffer - 1, NULL, NULL);
        json_writer_string_bytes(&writer, &b, 1);
        if (!json_parse(&document, buffer, writer.length, &error))
            fail_msg("byte 0x%02x: %s", byte, error.reason);
    }
}

static void test_writer_keys_escaped(void **state)
{
    (void)state;
    json_writer_init(&writer, buffer, sizeof buffer - 1, NULL, NULL);
    json_writer_object_begin(&writer);
    json_writer_key(&writer, "a\"\n");
    json_writer_uint(&writer, 0);
    json_writer_object_end(&writer);
    assert_string_equal(written(), "{\"a\\\"\\n\":0}");
}

static void test_writer_bounded_overflow(void **state)
{
    (void)state;
    char small[8];
    json_writer_init(&writer, small, sizeof small, NULL, NULL);
    json_writer_string(&writer, "0123456789");
    assert_true(writer.overflow);
    assert_true(writer.length <= sizeof small);
}

static char flushed[8192];
static size_t flushed_length;
static unsigned flushes;

static void flush(void *context, const char *data, size_t length)
{
    (void)context;
    assert_true(flushed_length + length < sizeof flushed);
    memcpy(flushed + flushed_length, data, length);
    flushed_length += length;
    flushes++;
}

static void test_writer_flushes_long_output(void **state)
{
    (void)state;
    char small[16];
    char long_text[3000];
    memset(long_text, 'z', sizeof long_text);
    long_text[100] = '\n';
    flushed_length = 0;
    flushes = 0;
    json_writer_init(&writer, small, sizeof small, flush, NULL);
    json_writer_object_begin(&writer);
    json_writer_key(&writer, "data");
    json_writer_string_bytes(&writer, long_text, sizeof long_text);
    json_writer_object_end(&writer);
    json_writer_flush(&writer);
    assert_false(writer.overflow);
    assert_true(flushes > 100);
    assert_int_equal(flushed_length, 1 + 7 + 1 + (sizeof long_text + 1) + 1 + 1); /* the \n escaped */
    /* what was flushed in pieces reads back as the same object and the same bytes */
    if (!json_parse(&document, flushed, flushed_length, &error))
        fail_msg("flushed output is not JSON: %s at byte %zu", error.reason, error.offset);
    int data = json_object_get(&document, 0, "data");
    assert_true(data > 0);
    static char decoded[sizeof long_text + 1];
    assert_true(json_string_copy(&document, (unsigned)data, decoded, sizeof decoded));
    assert_memory_equal(decoded, long_text, sizeof long_text);
}

/* What a string becomes in a bounded writer. */
static const char *escaped_string(const char *text)
{
    static char out[256];
    json_writer_init(&writer, out, sizeof out - 1, NULL, NULL);
    json_writer_string(&writer, text);
    assert_false(writer.overflow);
    out[writer.length] = '\0';
    return out;
}

static void test_writer_escapes_hidden_characters(void **state)
{
    (void)state;
    /* bidi override and isolate, C1 control (NEL, CSI), zero-width space, BOM:
     * spelled out so a viewer of the JSON text cannot be misled by them */
    assert_string_equal(escaped_string("a\xe2\x80\xae" "b"), "\"a\\u202eb\"");
    assert_string_equal(escaped_string("\xe2\x81\xa6x\xe2\x81\xa9"), "\"\\u2066x\\u2069\"");
    assert_string_equal(escaped_string("\xc2\x85\xc2\x9b"), "\"\\u0085\\u009b\"");
    assert_string_equal(escaped_string("\xe2\x80\x8b\xef\xbb\xbf"), "\"\\u200b\\ufeff\"");
    assert_string_equal(escaped_string("\xe2\x80\xa8"), "\"\\u2028\"");
    /* a tag character beyond the BMP: a surrogate pair */
    assert_string_equal(escaped_string("\xf3\xa0\x80\x81"), "\"\\udb40\\udc01\"");
    /* visible non-ASCII stays as it is; a raw C1 byte is not UTF-8: its value */
    assert_string_equal(escaped_string("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"), "\"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\"");
    assert_string_equal(escaped_string("\x9b"), "\"\\u009b\"");
    /* and the reader decodes the escapes back to the same characters */
    const char *line = "{\"d\":\"\\u202e\\udb40\\udc01\"}";
    assert_true(parse(line));
    char decoded[16];
    assert_true(json_string_copy(&document, (unsigned)json_object_get(&document, 0, "d"), decoded, sizeof decoded));
    assert_string_equal(decoded, "\xe2\x80\xae\xf3\xa0\x80\x81");
}

static void test_utf8_sequence_length(void **state)
{
    (void)state;
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"a", 1), 1);
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"\xc3\xa9", 2), 2);
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"\xc3", 1), 0);
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"\x80", 1), 0);
    assert_int_equal(json_utf8_sequence_length((const uint8_t *)"", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_a_request),
        cmocka_unit_test(test_scalars_and_empty_containers),
        cmocka_unit_test(test_string_escapes_decode),
        cmocka_unit_test(test_truncated_input),
        cmocka_unit_test(test_bad_escapes_and_strings),
        cmocka_unit_test(test_nul_escape_valid_but_not_a_c_string),
        cmocka_unit_test(test_nested_too_deep),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_too_many_values),
        cmocka_unit_test(test_writer_object_with_commas),
        cmocka_unit_test(test_writer_escapes),
        cmocka_unit_test(test_writer_keys_escaped),
        cmocka_unit_test(test_writer_bounded_overflow),
        cmocka_unit_test(test_writer_flushes_long_output),
        cmocka_unit_test(test_utf8_sequence_length),
        cmocka_unit_test(test_writer_escapes_hidden_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
