/*
 * Base64 (RFC 4648 section 4: the standard alphabet, '=' padding) for the console's
 * JSON mode: exec output is the guest's raw bytes, which need not be text, so a
 * stream line carries them as "data_b64" (docs/console-protocol.md, Streaming).
 * Freestanding, no tables beyond the 64-character alphabet, no SIMD.
 */
#ifndef VIGIL_HV_CONSOLE_BASE64_H
#define VIGIL_HV_CONSOLE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for `length` bytes (without a terminating NUL). */
#define BASE64_ENCODED_LENGTH(length) ((((length) + 2u) / 3u) * 4u)

/* Encodes data[0..length) into out and NUL-terminates it; out must hold
 * BASE64_ENCODED_LENGTH(length) + 1 characters, else nothing is written and 0 is
 * returned. Returns the number of characters written (without the NUL). */
size_t base64_encode(const uint8_t *data, size_t length, char *out, size_t out_size);

#endif
