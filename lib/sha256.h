/*
 * SHA-256 (FIPS 180-4 §6.2) in general-purpose registers only: the measured
 * launch digests every boot module before the first launch and re-checks the
 * pristine copy before each restart (docs/lifecycle.md). Plain C, no SIMD
 * (cmake/check-no-simd.cmake), host-testable.
 */
#ifndef VIGIL_LIB_SHA256_H
#define VIGIL_LIB_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1) /* hex digits and the NUL */

struct sha256 {
    uint32_t state[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t block[64];
    size_t used;          /* bytes waiting in block */
};

void sha256_init(struct sha256 *context);
void sha256_update(struct sha256 *context, const void *data, size_t length);
void sha256_final(struct sha256 *context, uint8_t digest[SHA256_DIGEST_SIZE]);
/* One call: digest of data[0..length). */
void sha256(const void *data, size_t length, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Lower-case hex, NUL-terminated. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[SHA256_HEX_SIZE]);
/* Exactly 64 hex digits (either case) -> digest; false otherwise. */
bool sha256_from_hex(const char *hex, size_t length, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
