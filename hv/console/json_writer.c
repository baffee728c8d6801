/* JSON writer: see json_writer.h. */
#include "hv/console/json_writer.h"

#include <string.h>

#include "hv/console/unicode_text.h"

void json_writer_init(struct json_writer *writer, char *buffer, size_t size, json_writer_flush_fn flush,
                      void *flush_context)
{
    memset(writer, 0, sizeof *writer);
    writer->buffer = buffer;
    writer->size = size;
    writer->flush = flush;
    writer->flush_context = flush_context;
}

void json_writer_flush(struct json_writer *writer)
{
    if (writer->flush != NULL && writer->length > 0) {
        writer->flush(writer->flush_context, writer->buffer, writer->length);
        writer->length = 0;
    }
}

void json_writer_raw(struct json_writer *writer, const char *data, size_t length)
{
    while (length > 0) {
        if (writer->length == writer->size) {
            if (writer->flush == NULL || writer->size == 0) {
                writer->overflow = true;
                return;
            }
            json_writer_flush(writer);
        }
        size_t room = writer->size - writer->length;
        size_t now = length < room ? length : room;
        memcpy(writer->buffer + writer->length, data, now);
        writer->length += now;
        data += now;
        length -= now;
    }
}

static void put(struct json_writer *writer, char c)
{
    json_writer_raw(writer, &c, 1);
}

/* A comma before a value or key that is not the first of its container. */
static void separate(struct json_writer *writer)
{
    if (writer->after_key) {
        writer->after_key = false;
        return;
    }
    if (writer->depth == 0 || writer->depth > JSON_WRITER_DEPTH_MAX)
        return;
    uint32_t bit = 1u << (writer->depth - 1);
    if (writer->has_items & bit)
        put(writer, ',');
    writer->has_items |= bit;
}

static void begin(struct json_writer *writer, char c)
{
    separate(writer);
    put(writer, c);
    writer->depth++;
    if (writer->depth <= JSON_WRITER_DEPTH_MAX)
        writer->has_items &= ~(1u << (writer->depth - 1));
}

static void end(struct json_writer *writer, char c)
{
    if (writer->depth > 0)
        writer->depth--;
    writer->after_key = false;
    put(writer, c);
}

void json_writer_object_begin(struct json_writer *writer) { begin(writer, '{'); }
void json_writer_object_end(struct json_writer *writer) { end(writer, '}'); }
void json_writer_array_begin(struct json_writer *writer) { begin(writer, '['); }
void json_writer_array_end(struct json_writer *writer) { end(writer, ']'); }

static void escape_unit(struct json_writer *writer, uint16_t unit)
{
    static const char hex[] = "0123456789abcdef";
    char text[6] = {'\\', 'u', hex[unit >> 12], hex[(unit >> 8) & 15], hex[(unit >> 4) & 15], hex[unit & 15]};
    json_writer_raw(writer, text, sizeof text);
}

static void escape_byte(struct json_writer *writer, uint8_t byte)
{
    escape_unit(writer, byte);
}

/* A hidden character (unicode_text.h) as \uXXXX, or a surrogate pair beyond the BMP
 * (RFC 8259 §7), so a viewer of the JSON text sees it spelled out. */
static void escape_code_point(struct json_writer *writer, uint32_t code_point)
{
    if (code_point < 0x10000) {
        escape_unit(writer, (uint16_t)code_point);
        return;
    }
    code_point -= 0x10000;
    escape_unit(writer, (uint16_t)(0xD800 | code_point >> 10));
    escape_unit(writer, (uint16_t)(0xDC00 | (code_point & 0x3FF)));
}

static void string_body(struct json_writer *writer, const uint8_t *data, size_t length)
{
    size_t i = 0;
    while (i < length) {
        uint8_t c = data[i];
        /* the longest run of bytes that need no escaping */
        size_t run = i;
        while (run < length && data[run] >= 0x20 && data[run] < 0x7F && data[run] != '"' && data[run] != '\\')
            run++;
        if (run > i) {
            json_writer_raw(writer, (const char *)data + i, run - i);
            i = run;
            continue;
        }
        const char *short_escape = NULL;
        switch (c) {
        case '"': short_escape = "\\\""; break;
        case '\\': short_escape = "\\\\"; break;
        case '\n': short_escape = "\\n"; break;
        case '\r': short_escape = "\\r"; break;
        case '\t': short_escape = "\\t"; break;
        case '\b': short_escape = "\\b"; break;
        case '\f': short_escape = "\\f"; break;
        default: break;
        }
        if (short_escape != NULL) {
            json_writer_raw(writer, short_escape, 2);
            i++;
        } else if (c < 0x80) {
            escape_byte(writer, c); /* other control characters and DEL */
            i++;
        } else {
            uint32_t code_point;
            size_t count = unicode_utf8_decode(data + i, length - i, &code_point);
            if (count == 0) {
                escape_byte(writer, c);
                i++;
            } else if (unicode_is_hidden(code_point)) {
                escape_code_point(writer, code_point);
                i += count;
            } else {
                json_writer_raw(writer, (const char *)data + i, count);
                i += count;
            }
        }
    }
}

void json_writer_key(struct json_writer *writer, const char *key)
{
    separate(writer);
    put(writer, '"');
    string_body(writer, (const uint8_t *)key, strlen(key));
    json_writer_raw(writer, "\":", 2);
    writer->after_key = true;
}

void json_writer_string_bytes(struct json_writer *writer, const void *data, size_t length)
{
    separate(writer);
    put(writer, '"');
    string_body(writer, data, length);
    put(writer, '"');
}

void json_writer_string(struct json_writer *writer, const char *text)
{
    if (text == NULL)
        json_writer_null(writer);
    else
        json_writer_string_bytes(writer, text, strlen(text));
}

static void unsigned_digits(struct json_writer *writer, uint64_t value)
{
    char digits[20];
    unsigned count = 0;
    do {
        digits[sizeof digits - 1 - count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    json_writer_raw(writer, digits + sizeof digits - count, count);
}

void json_writer_uint(struct json_writer *writer, uint64_t value)
{
    separate(writer);
    unsigned_digits(writer, value);
}

void json_writer_int(struct json_writer *writer, int64_t value)
{
    separate(writer);
    if (value < 0) {
        put(writer, '-');
        unsigned_digits(writer, 0u - (uint64_t)value);
    } else
        unsigned_digits(writer, (uint64_t)value);
}

void json_writer_bool(struct json_writer *writer, bool value)
{
    separate(writer);
    if (value)
        json_writer_raw(writer, "true", 4);
    else
        json_writer_raw(writer, "false", 5);
}

void json_writer_null(struct json_writer *writer)
{
    separate(writer);
    json_writer_raw(writer, "null", 4);
}
