/* SHA-256 after FIPS 180-4: §4.2.2 constants, §5.3.3 initial value, §6.2.2 the
 * compression function, §5.1.1 padding. */
#include "lib/sha256.h"

#include <string.h>

#include "lib/hex.h"

static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotate_right(uint32_t value, unsigned count)
{
    return (value >> count) | (value << (32 - count));
}

static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t schedule[64];
    for (unsigned t = 0; t < 16; t++)
        schedule[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
                      (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (unsigned t = 16; t < 64; t++) {
        uint32_t s0 = rotate_right(schedule[t - 15], 7) ^ rotate_right(schedule[t - 15], 18) ^ (schedule[t - 15] >> 3);
        uint32_t s1 = rotate_right(schedule[t - 2], 17) ^ rotate_right(schedule[t - 2], 19) ^ (schedule[t - 2] >> 10);
        schedule[t] = schedule[t - 16] + s0 + schedule[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (unsigned t = 0; t < 64; t++) {
        uint32_t sum1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t temporary1 = h + sum1 + choose + round_constants[t] + schedule[t];
        uint32_t sum0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        uint32_t temporary2 = sum0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + temporary1;
        d = c;
        c = b;
        b = a;
        a = temporary1 + temporary2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void sha256_init(struct sha256 *context)
{
    static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(context->state, initial, sizeof initial);
    context->length = 0;
    context->used = 0;
}

void sha256_update(struct sha256 *context, const void *data, size_t length)
{
    const uint8_t *bytes = data;
    context->length += length;
    while (length > 0) {
        size_t take = sizeof context->block - context->used;
        if (take > length)
            take = length;
        memcpy(context->block + context->used, bytes, take);
        context->used += take;
        bytes += take;
        length -= take;
        if (context->used == sizeof context->block) {
            compress(context->state, context->block);
            context->used = 0;
        }
    }
}

void sha256_final(struct sha256 *context, uint8_t digest[SHA256_DIGEST_SIZE])
{
    uint64_t bits = context->length * 8;
    static const uint8_t padding[64] = {0x80};
    size_t pad = context->used < 56 ? 56 - context->used : 120 - context->used;
    sha256_update(context, padding, pad);
    uint8_t length_field[8];
    for (unsigned i = 0; i < 8; i++)
        length_field[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(context, length_field, sizeof length_field);
    for (unsigned i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(context->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(context->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(context->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)context->state[i];
    }
}

void sha256(const void *data, size_t length, uint8_t digest[SHA256_DIGEST_SIZE])
{
    struct sha256 context;
    sha256_init(&context);
    sha256_update(&context, data, length);
    sha256_final(&context, digest);
}

void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * SHA256_DIGEST_SIZE] = '\0';
}

bool sha256_from_hex(const char *hex, size_t length, uint8_t digest[SHA256_DIGEST_SIZE])
{
    if (length != 2 * SHA256_DIGEST_SIZE)
        return false;
    uint8_t parsed[SHA256_DIGEST_SIZE];
    for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
        int high = hex_digit_value((unsigned char)hex[2 * i]), low = hex_digit_value((unsigned char)hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        parsed[i] = (uint8_t)(high << 4 | low);
    }
    memcpy(digest, parsed, sizeof parsed);
    return true;
}
