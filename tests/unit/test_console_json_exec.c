/*
 * The console's exec output in JSON mode (hv/console/pending.c,
 * docs/console-protocol.md "Streaming"): the guest's raw bytes as "data_b64",
 * base64 of at most 384 bytes per line, whatever the bytes and however the guest
 * chunks them; decoded here by a reference decoder written apart from the encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hv/console/json_reader.h"
#include "tests/unit/console_fakes.h"

static int setup(void **state)
{
    (void)state;
    fake_host_init_console(CONSOLE_MODE_JSON);
    fake_output_clear();
    return 0;
}

/* Starts an exec (id 1) and clears the output. */
static struct fake_request *start_exec(void)
{
    type_text("{\"id\":1,\"cmd\":\"exec\",\"argv\":[\"x\"]}\n");
    fake_output_clear();
    return fake_last_request();
}

/* A reference base64 decoder (RFC 4648 section 4), written apart from the console's
 * encoder: the value of each character is its index in the alphabet. Returns the byte
 * count, or (size_t)-1 if text is not canonical padded base64. */
static size_t reference_base64_decode(const char *text, size_t length, uint8_t *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (length % 4 != 0)
        return (size_t)-1;
    size_t written = 0;
    for (size_t i = 0; i < length; i += 4) {
        unsigned pad = 0;
        uint32_t bits = 0;
        for (unsigned k = 0; k < 4; k++) {
            const char *at = text[i + k] == '\0' ? NULL : strchr(alphabet, text[i + k]);
            bool is_pad = text[i + k] == '=' && i + 4 == length && k >= 2;
            if (at == NULL && !is_pad)
                return (size_t)-1;
            if (is_pad)
                pad++;
            else if (pad > 0)
                return (size_t)-1; /* a character after padding */
            bits = bits << 6 | (is_pad ? 0u : (uint32_t)(at - alphabet));
        }
        out[written++] = (uint8_t)(bits >> 16);
        if (pad < 2)
            out[written++] = (uint8_t)(bits >> 8);
        if (pad < 1)
            out[written++] = (uint8_t)bits;
    }
    return written;
}

/* Decodes every "data_b64" of the stream lines into out and returns the byte count;
 * checks each line holds at most 512 characters (384 bytes) and lines carries
 * the number of stream lines. */
static size_t collect_stream(const char *stream, uint8_t *out, size_t size, unsigned *lines)
{
    static struct json_document document;
    static char encoded[1024];
    size_t total = 0;
    unsigned count = 0;
    const char *line = fake_output();
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        assert_true(json_parse(&document, line, (size_t)(end - line), NULL));
        int kind = json_object_get(&document, 0, "stream");
        if (kind >= 0 && json_string_equals(&document, (unsigned)kind, stream)) {
            assert_int_equal(json_object_get(&document, 0, "data"), -1); /* no escaped text any more */
            int data = json_object_get(&document, 0, "data_b64");
            assert_true(data >= 0);
            size_t length = json_string_length(&document, (unsigned)data);
            assert_true(length > 0 && length <= 512);
            assert_true(json_string_copy(&document, (unsigned)data, encoded, sizeof encoded));
            assert_true(total + length / 4 * 3 <= size);
            size_t decoded = reference_base64_decode(encoded, length, out + total);
            assert_true(decoded != (size_t)-1);
            total += decoded;
            count++;
        }
        line = end + 1;
    }
    if (lines != NULL)
        *lines = count;
    return total;
}

static void test_exec_bytes_kept_across_chunks(void **state)
{
    (void)state;
    struct fake_request *exec = start_exec();
    const char *text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!";
    size_t length = strlen(text);
    for (size_t i = 0; i < length; i++) /* one byte per chunk: a character split anywhere */
        fake_stream(exec, VIGIL_MESSAGE_STDOUT, text + i, 1);
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    uint8_t out[64];
    unsigned lines = 0;
    assert_int_equal(collect_stream("stdout", out, sizeof out, &lines), length);
    assert_memory_equal(out, text, length);
    assert_int_equal(lines, length); /* nothing waits for the rest of a character */
}

static void test_large_chunk_split_in_pieces_of_384(void **state)
{
    (void)state;
    struct fake_request *exec = start_exec();
    uint8_t chunk[3000];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)(i * 7 + 3);
    fake_stream(exec, VIGIL_MESSAGE_STDOUT, chunk, sizeof chunk);
    fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
    /* 7 full lines of 384 bytes (512 characters, no padding), then 312 bytes */
    const char *first = strstr(fake_output(), "\"data_b64\":\"");
    assert_non_null(first);
    assert_int_equal(strcspn(first + 12, "\""), 512);
    uint8_t out[4000];
    unsigned lines = 0;
    assert_int_equal(collect_stream("stdout", out, sizeof out, &lines), sizeof chunk);
    assert_memory_equal(out, chunk, sizeof chunk);
    assert_int_equal(lines, 8);
    assert_int_equal(json_lines_valid(fake_output(), fake_output_length()), 9);
}

static void test_all_byte_values_at_every_chunk_size(void **state)
{
    (void)state;
    uint8_t all[256];
    for (unsigned i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    /* chunk sizes around the 3-byte groups and the 384-byte line limit */
    static const size_t sizes[] = {1, 2, 3, 4, 5, 255, 256};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct fake_request *exec = start_exec();
        for (unsigned round = 0; round < 2; round++) /* 512 bytes: crosses 384 in one chunk of 256 */
            for (size_t at = 0; at < sizeof all; at += sizes[s])
                fake_stream(exec, VIGIL_MESSAGE_STDERR, all + at, sizeof all - at < sizes[s] ? sizeof all - at : sizes[s]);
        fake_complete(exec, VIGIL_S_OK, 0, 0, NULL);
        uint8_t out[600];
        assert_int_equal(collect_stream("stderr", out, sizeof out, NULL), 512);
        assert_memory_equal(out, all, 256);
        assert_memory_equal(out + 256, all, 256);
        assert_int_equal(collect_stream("stdout", out, sizeof out, NULL), 0);
    }
}

static void test_binary_bytes_as_base64(void **state)
{
    (void)state;
    fake_stream(start_exec(), VIGIL_MESSAGE_STDOUT, "\xff\xfe\x00\x1b[0m\x80", 8);
    assert_string_equal(fake_output(), "{\"id\":1,\"stream\":\"stdout\",\"data_b64\":\"//4AG1swbYA=\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exec_bytes_kept_across_chunks, setup),
        cmocka_unit_test_setup(test_large_chunk_split_in_pieces_of_384, setup),
        cmocka_unit_test_setup(test_all_byte_values_at_every_chunk_size, setup),
        cmocka_unit_test_setup(test_binary_bytes_as_base64, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
