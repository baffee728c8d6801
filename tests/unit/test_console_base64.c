/*
 * Unit tests for the console's base64 encoder (hv/console/base64.c): the RFC 4648
 * test vectors, every byte value at every position of a 3-byte group, and the
 * output-size check. Checked by decoding each group by hand: 4 characters of
 * 6 bits give the 3 bytes back, one '=' per missing byte.
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

/* The 6-bit value of one base64 character, or -1. */
static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static void test_every_byte_value_in_every_position(void **state)
{
    (void)state;
    for (unsigned position = 0; position < 3; position++) {
        for (unsigned value = 0; value < 256; value++) {
            uint8_t group[3] = {0x5A, 0xA5, 0x3C};
            group[position] = (uint8_t)value;
            for (size_t length = position + 1; length <= 3; length++) {
                char out[5];
                assert_int_equal(base64_encode(group, length, out, sizeof out), 4);
                uint32_t bits = 0;
                for (unsigned k = 0; k < 4; k++) {
                    if (k > length) { /* one '=' per missing byte */
                        assert_int_equal(out[k], '=');
                        bits <<= 6;
                        continue;
                    }
                    int v = sextet(out[k]);
                    assert_true(v >= 0);
                    bits = bits << 6 | (uint32_t)v;
                }
                for (size_t b = 0; b < length; b++)
                    assert_int_equal((bits >> (16 - 8 * b)) & 0xFF, group[b]);
            }
        }
    }
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
        cmocka_unit_test(test_every_byte_value_in_every_position),
        cmocka_unit_test(test_all_256_values_in_one_run),
        cmocka_unit_test(test_output_too_small_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
