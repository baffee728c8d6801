/*
 * vctl_base64: decoding the console's exec output. In JSON mode each stream line
 * carries the guest's raw bytes as "data_b64" (RFC 4648 section 4: standard
 * alphabet, '=' padding; docs/console-protocol.md, Streaming).
 */
#ifndef VCTL_BASE64_H
#define VCTL_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes that decoding `length` characters yields at most. */
#define VCTL_BASE64_DECODED_MAX(length) ((length) / 4u * 3u)

/* Decodes text[0..length) into out (room for VCTL_BASE64_DECODED_MAX(length)
 * bytes). Accepts only canonical padded base64: a length that is a multiple of 4,
 * '=' only as the last one or two characters, and zero bits under the padding.
 * Returns false (out partly written) for anything else. */
bool vctl_base64_decode(const char *text, size_t length, uint8_t *out, size_t *out_length);

#endif
