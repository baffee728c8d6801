/*
 * JSON writer for the console's machine mode: builds one JSON value into a
 * bounded buffer. With a flush function the buffer is handed over whenever it
 * fills (so a line of any length is written in pieces, never truncated);
 * without one, output that does not fit sets `overflow` and is dropped.
 *
 * Strings are always valid JSON and valid UTF-8: '"' and '\\' and control
 * characters are escaped (\n \r \t \b \f or \u00XX), DEL as \u007f, and every
 * byte that is not part of a well-formed UTF-8 sequence as \u00XX (so a
 * reader sees the Latin-1 character of that byte value).
 */
#ifndef VIGIL_HV_CONSOLE_JSON_WRITER_H
#define VIGIL_HV_CONSOLE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_WRITER_DEPTH_MAX 16u

typedef void (*json_writer_flush_fn)(void *context, const char *data, size_t length);

struct json_writer {
    char *buffer;
    size_t size, length;
    json_writer_flush_fn flush; /* may be NULL: bounded mode */
    void *flush_context;
    bool overflow;              /* bounded mode: something did not fit */
    bool after_key;             /* the next value follows a key: no comma */
    unsigned depth;
    uint32_t has_items;         /* bit d: the container at depth d has an item already */
};

void json_writer_init(struct json_writer *writer, char *buffer, size_t size, json_writer_flush_fn flush,
                      void *flush_context);
void json_writer_object_begin(struct json_writer *writer);
void json_writer_object_end(struct json_writer *writer);
void json_writer_array_begin(struct json_writer *writer);
void json_writer_array_end(struct json_writer *writer);
void json_writer_key(struct json_writer *writer, const char *key);
void json_writer_string(struct json_writer *writer, const char *text);          /* NULL writes null */
void json_writer_string_bytes(struct json_writer *writer, const void *data, size_t length);
void json_writer_uint(struct json_writer *writer, uint64_t value);
void json_writer_int(struct json_writer *writer, int64_t value);
void json_writer_bool(struct json_writer *writer, bool value);
void json_writer_null(struct json_writer *writer);
/* Raw bytes outside any value (e.g. the "\n" ending a line). */
void json_writer_raw(struct json_writer *writer, const char *data, size_t length);
/* Hands the buffered output to the flush function (bounded mode: no-op). */
void json_writer_flush(struct json_writer *writer);

#endif
