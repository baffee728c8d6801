/*
 * A small, strict JSON reader for the console's machine mode (DESIGN.md §5): one
 * request per line, parsed into a bounded array of tokens that point into the
 * caller's text (no allocation, no floats).
 *
 * Accepted: RFC 8259 JSON with these limits and choices:
 * - numbers are integers only (no fraction, no exponent), within int64_t;
 * - nesting depth at most JSON_DEPTH_MAX, at most JSON_TOKENS_MAX values;
 * - strings must be valid UTF-8 (no overlong forms, no surrogates); escapes
 *   \" \\ \/ \b \f \n \r \t \uXXXX (surrogate pairs combined, lone surrogates
 *   rejected; \u0000 is valid JSON but json_string_copy refuses such a string);
 * - duplicate keys in an object are REJECTED (compared after unescaping);
 * - whitespace is space, tab, CR, LF; anything after the value is rejected.
 * Errors carry a short reason and the byte offset where they were found.
 */
#ifndef VIGIL_HV_CONSOLE_JSON_READER_H
#define VIGIL_HV_CONSOLE_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 8u
#define JSON_TOKENS_MAX 192u

enum json_type {
    JSON_OBJECT = 1,
    JSON_ARRAY,
    JSON_STRING,
    JSON_INTEGER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
};

struct json_token {
    uint8_t type;     /* enum json_type */
    uint16_t next;    /* index of the first token after this value's subtree */
    uint16_t count;   /* OBJECT: members, ARRAY: elements */
    uint32_t start;   /* STRING: after the opening quote; others: first byte */
    uint32_t end;     /* STRING: the closing quote; others: one past the last byte */
    int64_t integer;  /* INTEGER */
};
/* Object members are laid out as key (a STRING token) then value, in order. */

struct json_document {
    const char *text;
    size_t length;
    unsigned count;
    struct json_token tokens[JSON_TOKENS_MAX];
};

struct json_error {
    const char *reason; /* e.g. "bad escape", "nested too deep" */
    size_t offset;      /* byte offset in the text */
};

/* Parses text[0..length) (which may contain NUL bytes: they are errors). The root is token 0. */
bool json_parse(struct json_document *document, const char *text, size_t length, struct json_error *error);

/* Index of the value of member key in object token object_index, or -1. */
int json_object_get(const struct json_document *document, unsigned object_index, const char *key);
/* The i-th element (0-based) of an array token, or -1. */
int json_array_element(const struct json_document *document, unsigned array_index, unsigned element);
/* Decoded length in bytes of a STRING token. */
size_t json_string_length(const struct json_document *document, unsigned index);
/* Copies the decoded STRING token with a NUL. Returns false if it does not fit in
 * size or contains a NUL (\u0000) itself. */
bool json_string_copy(const struct json_document *document, unsigned index, char *out, size_t size);
/* Compares a decoded STRING token with a C string. */
bool json_string_equals(const struct json_document *document, unsigned index, const char *text);

#endif
