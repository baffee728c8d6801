/*
 * vigilctl's base64 decoder (tools/vigilctl/lib/vctl_base64.c) against the
 * hypervisor's encoder (hv/console/base64.c): exec output crosses the console as
 * base64 and must come back byte for byte, whatever the bytes and wherever the
 * console cut its lines. Also the RFC 4648 vectors and what the decoder refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/base64.h"
#include "vctl_base64.h"

static void expect_decoded(const char *text, const char *raw)
{
    uint8_t out[64];
    size_t length = 99;
    assert_true(vctl_base64_decode(text, strlen(text), out, &length));
    assert_int_equal(length, strlen(raw));
    assert_memory_equal(out, raw, length);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    expect_decoded("", "");
    expect_decoded("Zg==", "f");
    expect_decoded("Zm8=", "fo");
    expect_decoded("Zm9v", "foo");
    expect_decoded("Zm9vYg==", "foob");
    expect_decoded("Zm9vYmE=", "fooba");
    expect_decoded("Zm9vYmFy", "foobar");
}

static void expect_refused(const char *text)
{
    uint8_t out[64];
    size_t length = 99;
    if (vctl_base64_decode(text, strlen(text), out, &length))
        fail_msg("'%s' was accepted", text);
    assert_int_equal(length, 0);
}

static void test_refuses_what_is_not_canonical_base64(void **state)
{
    (void)state;
    expect_refused("Zg=");       /* not a multiple of 4 */
    expect_refused("Zm9vY");
    expect_refused("Zm9v!A==");  /* not in the alphabet */
    expect_refused("Zm-v");      /* the URL-safe alphabet is not ours */
    expect_refused("Zm9v\nYg=="); /* no line breaks */
    expect_refused("Zg==Zg=="); /* padding in the middle */
    expect_refused("Z===");
    expect_refused("====");
    expect_refused("Zh==");     /* bits under the padding must be zero */
    expect_refused("Zm9=");
}

/* Every byte value, split into pieces of every size from 1 to 400 (the console
 * cuts at 384), encoded by the hypervisor's encoder piece by piece and decoded
 * by vigilctl's decoder: the concatenation is the original. */
static void test_round_trip_every_byte_every_cut(void **state)
{
    (void)state;
    uint8_t data[3 * 256];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 151 + 7); /* 151 is odd: each 256 bytes hold every value */
    for (size_t piece = 1; piece <= 400; piece++) {
        uint8_t back[sizeof data];
        size_t total = 0;
        for (size_t at = 0; at < sizeof data; at += piece) {
            size_t n = sizeof data - at < piece ? sizeof data - at : piece;
            char text[BASE64_ENCODED_LENGTH(400) + 1];
            size_t length = base64_encode(data + at, n, text, sizeof text);
            assert_int_equal(length, BASE64_ENCODED_LENGTH(n));
            size_t decoded = 0;
            assert_true(vctl_base64_decode(text, length, back + total, &decoded));
            assert_int_equal(decoded, n);
            total += decoded;
        }
        assert_int_equal(total, sizeof data);
        assert_memory_equal(back, data, sizeof data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_refuses_what_is_not_canonical_base64),
        cmocka_unit_test(test_round_trip_every_byte_every_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
