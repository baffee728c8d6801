/*
 * vctl_json: a small JSON reader (into a tree) and writer for vigilctl (host C).
 *
 * Reader: RFC 8259, any number form (integers kept exactly up to 64 bits),
 * depth <= VJ_DEPTH_MAX. Strings are decoded to bytes with a length (they may
 * hold NUL). One vigil convention (docs/console-protocol.md, Streaming): the
 * console writes a byte that is not valid UTF-8 as \u00XX, so the reader turns
 * \u0080..\u00FF back into that single byte (vigil never escapes valid UTF-8
 * characters); the writer does the reverse, so data round-trips unchanged.
 */
#ifndef VCTL_JSON_H
#define VCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VJ_DEPTH_MAX 32

enum vj_type { VJ_NULL, VJ_BOOL, VJ_NUMBER, VJ_STRING, VJ_ARRAY, VJ_OBJECT };

struct vj_member;

struct vj_value {
    enum vj_type type;
    bool boolean;
    /* numbers */
    bool is_integer;  /* no fraction or exponent, fits 64 bits */
    bool negative;
    uint64_t magnitude; /* |value| when is_integer */
    double number;
    /* strings: bytes, NUL-terminated for convenience, length excludes the NUL */
    char *string;
    size_t length;
    /* arrays and objects */
    struct vj_value *items;     /* array elements */
    struct vj_member *members;  /* object members, in order */
    size_t count;
};

struct vj_member {
    char *key;
    size_t key_length;
    struct vj_value value;
};

/* Parses text[0..length) as one JSON value (surrounding whitespace allowed).
 * Returns a tree to free with vj_free, or NULL with a reason in error
 * ("unexpected character at byte 3"). */
struct vj_value *vj_parse(const char *text, size_t length, char *error, size_t error_size);
void vj_free(struct vj_value *value);

/* Lookups: NULL / false when absent or of another type. */
const struct vj_value *vj_get(const struct vj_value *object, const char *key);
bool vj_get_u64(const struct vj_value *object, const char *key, uint64_t *out);
bool vj_get_i64(const struct vj_value *object, const char *key, int64_t *out);
bool vj_get_bool(const struct vj_value *object, const char *key, bool *out);
const char *vj_get_string(const struct vj_value *object, const char *key, size_t *length);
bool vj_is_null(const struct vj_value *value);
bool vj_as_u64(const struct vj_value *value, uint64_t *out);
bool vj_as_i64(const struct vj_value *value, int64_t *out);

/* ---- Writer: a growing buffer ---------------------------------------------- */
struct vj_buf {
    char *data;
    size_t length, capacity;
    bool failed;      /* out of memory */
    bool need_comma;  /* before the next value/key at this level */
    bool after_key;
};

void vj_buf_init(struct vj_buf *buf);
void vj_buf_free(struct vj_buf *buf);
void vj_buf_raw(struct vj_buf *buf, const char *text, size_t length);
void vj_buf_printf(struct vj_buf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));

void vj_begin_object(struct vj_buf *buf);
void vj_end_object(struct vj_buf *buf);
void vj_begin_array(struct vj_buf *buf);
void vj_end_array(struct vj_buf *buf);
void vj_key(struct vj_buf *buf, const char *key);
void vj_string(struct vj_buf *buf, const char *text);           /* NULL writes null */
void vj_string_bytes(struct vj_buf *buf, const char *data, size_t length);
void vj_uint(struct vj_buf *buf, uint64_t value);
void vj_int(struct vj_buf *buf, int64_t value);
void vj_bool(struct vj_buf *buf, bool value);
void vj_null(struct vj_buf *buf);
void vj_value(struct vj_buf *buf, const struct vj_value *value); /* re-serialises a tree */

/* Writes a value compactly to a stream. */
void vj_fprint(FILE *out, const struct vj_value *value);

#endif
