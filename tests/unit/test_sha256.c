/* lib/sha256.c against the FIPS 180-4 examples (NIST CSRC "SHA256.pdf",
 * "SHA256 two-block") and the long message of FIPS 180-2 Appendix B.3, fed
 * whole and in awkward pieces; hex conversion both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/sha256.h"

static void expect_digest(const uint8_t digest[SHA256_DIGEST_SIZE], const char *expected_hex)
{
    char hex[SHA256_HEX_SIZE];
    sha256_to_hex(digest, hex);
    assert_string_equal(hex, expected_hex);
}

static void test_abc(void **state)
{
    (void)state;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256("abc", 3, digest);
    expect_digest(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_empty(void **state)
{
    (void)state;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256("", 0, digest);
    expect_digest(digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static const char two_block[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char two_block_digest[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

static void test_two_blocks(void **state)
{
    (void)state;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(two_block, strlen(two_block), digest);
    expect_digest(digest, two_block_digest);
}

/* The same message in pieces of every size 1..64: the block buffering must not matter. */
static void test_pieces(void **state)
{
    (void)state;
    size_t length = strlen(two_block);
    for (size_t piece = 1; piece <= 64; piece++) {
        struct sha256 context;
        sha256_init(&context);
        for (size_t offset = 0; offset < length; offset += piece)
            sha256_update(&context, two_block + offset, offset + piece <= length ? piece : length - offset);
        uint8_t digest[SHA256_DIGEST_SIZE];
        sha256_final(&context, digest);
        expect_digest(digest, two_block_digest);
    }
}

static void test_million_a(void **state)
{
    (void)state;
    size_t length = 1000000;
    char *message = malloc(length);
    assert_non_null(message);
    memset(message, 'a', length);
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(message, length, digest);
    free(message);
    expect_digest(digest, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* 55, 56 and 64 bytes: where the length field just fits, just does not, and a full block. */
static void test_padding_edges(void **state)
{
    (void)state;
    char message[64];
    memset(message, 'a', sizeof message);
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(message, 55, digest);
    expect_digest(digest, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    sha256(message, 56, digest);
    expect_digest(digest, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    sha256(message, 64, digest);
    expect_digest(digest, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

static void test_hex_round_trip(void **state)
{
    (void)state;
    uint8_t digest[SHA256_DIGEST_SIZE], parsed[SHA256_DIGEST_SIZE];
    sha256("abc", 3, digest);
    char hex[SHA256_HEX_SIZE];
    sha256_to_hex(digest, hex);
    assert_true(sha256_from_hex(hex, strlen(hex), parsed));
    assert_memory_equal(parsed, digest, sizeof digest);
    assert_true(sha256_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 64, parsed));
    assert_memory_equal(parsed, digest, sizeof digest);
}

static void test_hex_rejects(void **state)
{
    (void)state;
    uint8_t parsed[SHA256_DIGEST_SIZE];
    memset(parsed, 0x77, sizeof parsed);
    assert_false(sha256_from_hex("abc", 3, parsed));
    assert_false(sha256_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", 63, parsed));
    assert_false(sha256_from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag", 64, parsed));
    for (size_t i = 0; i < sizeof parsed; i++)
        assert_int_equal(parsed[i], 0x77); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc),           cmocka_unit_test(test_empty),
        cmocka_unit_test(test_two_blocks),    cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_million_a),     cmocka_unit_test(test_padding_edges),
        cmocka_unit_test(test_hex_round_trip), cmocka_unit_test(test_hex_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
