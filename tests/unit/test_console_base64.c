/*
 * Unit tests for the console's base64 encoder (hv/console/base64.c): the RFC 4648
 * test vectors, all 256 byte values against the known encoding, and the output-size
 * check. Every byte value at every cut, decoded: test_vigilctl_base64.c (by
 * vigilctl's decoder) and test_console_json_exec.c (by a reference decoder).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/base64.h"

static void expect(const char *raw, const char *encoded)
{
    char out[64];
    memset(out, 'x', sizeof out);
    assert_int_equal(base64_encode((const uint8_t *)raw, strlen(raw), out, sizeof out), strlen(encoded));
    assert_string_equal(out, encoded);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    expect("", "");
    expect("f", "Zg==");
    expect("fo", "Zm8=");
    expect("foo", "Zm9v");
    expect("foob", "Zm9vYg==");
    expect("fooba", "Zm9vYmE=");
    expect("foobar", "Zm9vYmFy");
}

static void test_all_256_values_in_one_run(void **state)
{
    (void)state;
    uint8_t all[256];
    for (unsigned i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char out[BASE64_ENCODED_LENGTH(256) + 1];
    assert_int_equal(base64_encode(all, sizeof all, out, sizeof out), 344);
    /* well-known prefix and suffix of base64(bytes(range(256))) */
    assert_memory_equal(out, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
    assert_string_equal(out + 324, "8/T19vf4+fr7/P3+/w==");
}

static void test_output_too_small_writes_nothing(void **state)
{
    (void)state;
    char out[8] = "unused!";
    assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, out, 8), 0); /* needs 9 */
    assert_string_equal(out, "unused!");
    assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, NULL, 0), 0);
    assert_int_equal(BASE64_ENCODED_LENGTH(384), 512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_all_256_values_in_one_run),
        cmocka_unit_test(test_output_too_small_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
