/* A small, strict JSON reader: see json_reader.h. */
#include "hv/console/json_reader.h"

#include <string.h>

#include "lib/hex.h"

struct parser {
    struct json_document *document;
    const uint8_t *text;
    size_t length, position;
    struct json_error *error;
};

static bool fail(struct parser *parser, const char *reason, size_t offset)
{
    if (parser->error != NULL) {
        parser->error->reason = reason;
        parser->error->offset = offset;
    }
    return false;
}

static void skip_whitespace(struct parser *parser)
{
    while (parser->position < parser->length) {
        uint8_t c = parser->text[parser->position];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        parser->position++;
    }
}

static int new_token(struct parser *parser, enum json_type type)
{
    struct json_document *document = parser->document;
    if (document->count >= JSON_TOKENS_MAX) {
        fail(parser, "too many values", parser->position);
        return -1;
    }
    unsigned index = document->count++;
    struct json_token *token = &document->tokens[index];
    memset(token, 0, sizeof *token);
    token->type = (uint8_t)type;
    token->start = (uint32_t)parser->position;
    return (int)index;
}

/* ---- String decoding (of text already validated by the parser) ---- */
struct string_reader {
    const char *text;
    size_t position, end;
    uint8_t pending[4];
    unsigned pending_count, pending_next;
};

static void string_reader_init(struct string_reader *reader, const struct json_document *document, unsigned index)
{
    memset(reader, 0, sizeof *reader);
    reader->text = document->text;
    reader->position = document->tokens[index].start;
    reader->end = document->tokens[index].end;
}

/* Four hex digits at text[0..4): the value, or -1. */
static int32_t hex4(const uint8_t *text)
{
    int32_t value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_digit_value(text[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

static unsigned encode_utf8(uint32_t code, uint8_t *out)
{
    if (code < 0x80) {
        out[0] = (uint8_t)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (uint8_t)(0xC0 | (code >> 6));
        out[1] = (uint8_t)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (code >> 12));
        out[1] = (uint8_t)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (code >> 18));
    out[1] = (uint8_t)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (code & 0x3F));
    return 4;
}

/* The next decoded byte, or -1 at the end. */
static int string_reader_next(struct string_reader *reader)
{
    if (reader->pending_next < reader->pending_count)
        return reader->pending[reader->pending_next++];
    if (reader->position >= reader->end)
        return -1;
    const uint8_t *text = (const uint8_t *)reader->text;
    uint8_t c = text[reader->position++];
    if (c != '\\')
        return c;
    uint8_t escape = text[reader->position++];
    switch (escape) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': break;
    default: return escape; /* " \ / */
    }
    uint32_t code = (uint32_t)hex4(text + reader->position);
    reader->position += 4;
    if (code >= 0xD800 && code <= 0xDBFF) { /* validated: a low surrogate escape follows */
        uint32_t low = (uint32_t)hex4(text + reader->position + 2);
        reader->position += 6;
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    reader->pending_count = encode_utf8(code, reader->pending);
    reader->pending_next = 1;
    return reader->pending[0];
}

/* ---- Parsing ---- */

/* Length of a valid UTF-8 sequence starting at text[position], or 0. */
static size_t utf8_sequence(const uint8_t *text, size_t length, size_t position)
{
    uint8_t lead = text[position];
    size_t count;
    uint8_t low = 0x80, high = 0xBF; /* allowed range of the second byte */
    if (lead >= 0xC2 && lead <= 0xDF)
        count = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        count = 3;
        if (lead == 0xE0)
            low = 0xA0; /* no overlong forms */
        else if (lead == 0xED)
            high = 0x9F; /* no surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        count = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F; /* at most U+10FFFF */
    } else
        return 0;
    if (position + count > length)
        return 0;
    if (text[position + 1] < low || text[position + 1] > high)
        return 0;
    for (size_t i = 2; i < count; i++)
        if ((text[position + i] & 0xC0) != 0x80)
            return 0;
    return count;
}

static bool parse_escape(struct parser *parser)
{
    size_t at = parser->position; /* the backslash */
    const uint8_t *text = parser->text;
    if (at + 1 >= parser->length)
        return fail(parser, "unterminated string", parser->length);
    uint8_t escape = text[at + 1];
    if (strchr("\"\\/bfnrt", escape) != NULL && escape != '\0') {
        parser->position += 2;
        return true;
    }
    if (escape != 'u')
        return fail(parser, "bad escape", at);
    if (at + 6 > parser->length)
        return fail(parser, "bad \\u escape", at);
    int32_t code = hex4(text + at + 2);
    if (code < 0)
        return fail(parser, "bad \\u escape", at);
    if (code >= 0xDC00 && code <= 0xDFFF)
        return fail(parser, "lone surrogate", at);
    if (code >= 0xD800 && code <= 0xDBFF) {
        if (at + 12 > parser->length || text[at + 6] != '\\' || text[at + 7] != 'u')
            return fail(parser, "lone surrogate", at);
        int32_t low = hex4(text + at + 8);
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(parser, "lone surrogate", at);
        parser->position += 12;
        return true;
    }
    parser->position += 6;
    return true;
}

static int parse_string(struct parser *parser)
{
    int index = new_token(parser, JSON_STRING);
    if (index < 0)
        return -1;
    size_t opening = parser->position;
    parser->position++; /* the opening quote */
    parser->document->tokens[index].start = (uint32_t)parser->position;
    while (parser->position < parser->length) {
        uint8_t c = parser->text[parser->position];
        if (c == '"') {
            parser->document->tokens[index].end = (uint32_t)parser->position;
            parser->position++;
            return index;
        }
        if (c == '\\') {
            if (!parse_escape(parser))
                return -1;
        } else if (c < 0x20) {
            fail(parser, "control character in string", parser->position);
            return -1;
        } else if (c < 0x80) {
            parser->position++;
        } else {
            size_t count = utf8_sequence(parser->text, parser->length, parser->position);
            if (count == 0) {
                fail(parser, "invalid UTF-8 in string", parser->position);
                return -1;
            }
            parser->position += count;
        }
    }
    fail(parser, "unterminated string", opening);
    return -1;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int parse_integer(struct parser *parser)
{
    int index = new_token(parser, JSON_INTEGER);
    if (index < 0)
        return -1;
    size_t start = parser->position;
    const uint8_t *text = parser->text;
    bool negative = false;
    if (text[parser->position] == '-') {
        negative = true;
        parser->position++;
    }
    if (parser->position >= parser->length || !is_digit(text[parser->position])) {
        fail(parser, "bad number", start);
        return -1;
    }
    if (text[parser->position] == '0' && parser->position + 1 < parser->length && is_digit(text[parser->position + 1])) {
        fail(parser, "bad number (leading zero)", start);
        return -1;
    }
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t magnitude = 0;
    while (parser->position < parser->length && is_digit(text[parser->position])) {
        unsigned digit = text[parser->position] - '0';
        if (magnitude > (limit - digit) / 10) {
            fail(parser, "number out of range", start);
            return -1;
        }
        magnitude = magnitude * 10 + digit;
        parser->position++;
    }
    if (parser->position < parser->length) {
        uint8_t c = text[parser->position];
        if (c == '.' || c == 'e' || c == 'E') {
            fail(parser, "numbers must be integers", start);
            return -1;
        }
    }
    struct json_token *token = &parser->document->tokens[index];
    token->integer = negative ? (int64_t)(0u - magnitude) : (int64_t)magnitude;
    token->end = (uint32_t)parser->position;
    return index;
}

static int parse_literal(struct parser *parser, const char *word, enum json_type type)
{
    size_t length = strlen(word);
    if (parser->length - parser->position < length || memcmp(parser->text + parser->position, word, length) != 0) {
        fail(parser, "unexpected character", parser->position);
        return -1;
    }
    int index = new_token(parser, type);
    if (index < 0)
        return -1;
    parser->position += length;
    parser->document->tokens[index].end = (uint32_t)parser->position;
    return index;
}

static bool tokens_equal(const struct json_document *document, unsigned a, unsigned b)
{
    struct string_reader first, second;
    string_reader_init(&first, document, a);
    string_reader_init(&second, document, b);
    for (;;) {
        int x = string_reader_next(&first), y = string_reader_next(&second);
        if (x != y)
            return false;
        if (x < 0)
            return true;
    }
}

static int parse_value(struct parser *parser, unsigned depth);

static int parse_container(struct parser *parser, unsigned depth, bool object)
{
    if (depth > JSON_DEPTH_MAX) {
        fail(parser, "nested too deep", parser->position);
        return -1;
    }
    int index = new_token(parser, object ? JSON_OBJECT : JSON_ARRAY);
    if (index < 0)
        return -1;
    struct json_document *document = parser->document;
    uint8_t closing = object ? '}' : ']';
    parser->position++;
    skip_whitespace(parser);
    if (parser->position < parser->length && parser->text[parser->position] == closing) {
        parser->position++;
    } else {
        for (;;) {
            skip_whitespace(parser);
            if (object) {
                if (parser->position >= parser->length)
                    return fail(parser, "unexpected end", parser->position), -1;
                if (parser->text[parser->position] != '"')
                    return fail(parser, "expected a key", parser->position), -1;
                size_t key_offset = parser->position;
                int key = parse_string(parser);
                if (key < 0)
                    return -1;
                document->tokens[key].next = (uint16_t)document->count;
                /* reject a duplicate of any earlier key of this object */
                unsigned earlier = (unsigned)index + 1;
                for (unsigned member = 0; member < document->tokens[index].count; member++) {
                    if (tokens_equal(document, earlier, (unsigned)key))
                        return fail(parser, "duplicate key", key_offset), -1;
                    earlier = document->tokens[earlier + 1].next;
                }
                skip_whitespace(parser);
                if (parser->position >= parser->length || parser->text[parser->position] != ':')
                    return fail(parser, "expected ':'", parser->position), -1;
                parser->position++;
            }
            if (parse_value(parser, depth + 1) < 0)
                return -1;
            document->tokens[index].count++;
            skip_whitespace(parser);
            if (parser->position >= parser->length)
                return fail(parser, "unexpected end", parser->position), -1;
            uint8_t c = parser->text[parser->position];
            parser->position++;
            if (c == closing)
                break;
            if (c != ',')
                return fail(parser, object ? "expected ',' or '}'" : "expected ',' or ']'", parser->position - 1), -1;
        }
    }
    document->tokens[index].end = (uint32_t)parser->position;
    document->tokens[index].next = (uint16_t)document->count;
    return index;
}

static int parse_value(struct parser *parser, unsigned depth)
{
    skip_whitespace(parser);
    if (parser->position >= parser->length) {
        fail(parser, "unexpected end", parser->position);
        return -1;
    }
    int index;
    uint8_t c = parser->text[parser->position];
    if (c == '{' || c == '[')
        return parse_container(parser, depth, c == '{');
    if (c == '"')
        index = parse_string(parser);
    else if (c == '-' || is_digit(c))
        index = parse_integer(parser);
    else if (c == 't')
        index = parse_literal(parser, "true", JSON_TRUE);
    else if (c == 'f')
        index = parse_literal(parser, "false", JSON_FALSE);
    else if (c == 'n')
        index = parse_literal(parser, "null", JSON_NULL);
    else {
        fail(parser, "unexpected character", parser->position);
        return -1;
    }
    if (index >= 0)
        parser->document->tokens[index].next = (uint16_t)parser->document->count;
    return index;
}

bool json_parse(struct json_document *document, const char *text, size_t length, struct json_error *error)
{
    struct parser parser = {document, (const uint8_t *)text, length, 0, error};
    document->text = text;
    document->length = length;
    document->count = 0;
    if (parse_value(&parser, 1) < 0)
        return false;
    skip_whitespace(&parser);
    if (parser.position != length)
        return fail(&parser, "trailing characters", parser.position);
    return true;
}

int json_object_get(const struct json_document *document, unsigned object_index, const char *key)
{
    if (object_index >= document->count || document->tokens[object_index].type != JSON_OBJECT)
        return -1;
    unsigned member_key = object_index + 1;
    for (unsigned member = 0; member < document->tokens[object_index].count; member++) {
        if (json_string_equals(document, member_key, key))
            return (int)member_key + 1;
        member_key = document->tokens[member_key + 1].next;
    }
    return -1;
}

int json_array_element(const struct json_document *document, unsigned array_index, unsigned element)
{
    if (array_index >= document->count || document->tokens[array_index].type != JSON_ARRAY ||
        element >= document->tokens[array_index].count)
        return -1;
    unsigned index = array_index + 1;
    for (unsigned i = 0; i < element; i++)
        index = document->tokens[index].next;
    return (int)index;
}

size_t json_string_length(const struct json_document *document, unsigned index)
{
    struct string_reader reader;
    size_t length = 0;
    string_reader_init(&reader, document, index);
    while (string_reader_next(&reader) >= 0)
        length++;
    return length;
}

bool json_string_copy(const struct json_document *document, unsigned index, char *out, size_t size)
{
    struct string_reader reader;
    size_t length = 0;
    int c;
    string_reader_init(&reader, document, index);
    while ((c = string_reader_next(&reader)) >= 0) {
        if (length + 1 >= size || c == 0)
            return false;
        out[length++] = (char)c;
    }
    if (size == 0)
        return false;
    out[length] = '\0';
    return true;
}

bool json_string_equals(const struct json_document *document, unsigned index, const char *text)
{
    struct string_reader reader;
    const uint8_t *expected = (const uint8_t *)text;
    string_reader_init(&reader, document, index);
    for (;; expected++) {
        int c = string_reader_next(&reader);
        if (c < 0)
            return *expected == '\0';
        if (*expected == '\0' || c != *expected)
            return false;
    }
}
