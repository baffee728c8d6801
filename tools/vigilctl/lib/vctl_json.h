/*
 * vctl_json: typed access to jansson values for vigilctl. jansson
 * (https://jansson.readthedocs.io, Debian libjansson-dev) parses and writes the
 * JSON; this adds what every caller would otherwise repeat: NULL-safe lookups
 * that check the type, unsigned integers, and parsing one console line.
 *
 * Limits that come from jansson: integers are read as signed 64-bit (a number
 * above 2^63-1 makes the line malformed); strings must be valid UTF-8 (the
 * console only writes valid UTF-8; exec output travels base64-encoded).
 */
#ifndef VCTL_JSON_H
#define VCTL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Parses text[0..length) as one JSON object (surrounding whitespace allowed; a
 * string may hold \u0000). Returns a new reference, or NULL with a reason in
 * error ("'[' or '{' expected near 'x' at byte 1") when error is not NULL. */
json_t *vj_parse_object(const char *text, size_t length, char *error, size_t error_size);

/* Lookups: NULL / false when object is NULL, the key is absent, or the value is
 * of another type. Strings: length (if not NULL) gets the byte count. */
const json_t *vj_get(const json_t *object, const char *key);
bool vj_get_u64(const json_t *object, const char *key, uint64_t *out);
bool vj_get_i64(const json_t *object, const char *key, int64_t *out);
bool vj_get_bool(const json_t *object, const char *key, bool *out);
const char *vj_get_string(const json_t *object, const char *key, size_t *length);
bool vj_as_u64(const json_t *value, uint64_t *out);

/* Writes value compactly, in its key order (NULL writes null); returns false
 * when it could not be written. */
bool vj_fprint(FILE *out, const json_t *value);

#endif
