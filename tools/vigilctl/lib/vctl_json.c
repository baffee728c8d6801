/* vctl_json: see vctl_json.h. */
#include "vctl_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reader ---------------------------------------------------------------- */

struct reader {
    const unsigned char *text;
    size_t length, position;
    char *error;
    size_t error_size;
    bool failed;
};

static bool fail(struct reader *r, const char *reason)
{
    if (!r->failed && r->error != NULL && r->error_size > 0)
        snprintf(r->error, r->error_size, "%s at byte %zu", reason, r->position);
    r->failed = true;
    return false;
}

static void skip_space(struct reader *r)
{
    while (r->position < r->length) {
        unsigned char c = r->text[r->position];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->position++;
    }
}

static bool literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->length - r->position < n || memcmp(r->text + r->position, word, n) != 0)
        return fail(r, "unexpected character");
    r->position += n;
    return true;
}

/* A growing byte string for decoding. */
struct bytes {
    char *data;
    size_t length, capacity;
};

static bool bytes_put(struct bytes *b, const void *data, size_t n)
{
    if (b->length + n + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 32;
        while (capacity < b->length + n + 1)
            capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL)
            return false;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, n);
    b->length += n;
    b->data[b->length] = '\0';
    return true;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool hex4(struct reader *r, uint32_t *out)
{
    if (r->length - r->position < 4)
        return fail(r, "bad \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = r->text[r->position + (size_t)i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return fail(r, "bad \\u escape");
    }
    r->position += 4;
    *out = v;
    return true;
}

/* Reads a string at r->position (at the opening quote). Raw bytes >= 0x80 are
 * taken as they are (the console sends valid UTF-8; we do not re-validate). */
static bool read_string(struct reader *r, char **out, size_t *out_length)
{
    struct bytes b = {0};
    r->position++; /* the quote */
    for (;;) {
        if (r->position >= r->length) {
            free(b.data);
            return fail(r, "unterminated string");
        }
        unsigned char c = r->text[r->position];
        if (c == '"') {
            r->position++;
            break;
        }
        if (c < 0x20) {
            free(b.data);
            return fail(r, "control character in string");
        }
        if (c != '\\') {
            size_t start = r->position;
            while (r->position < r->length && r->text[r->position] != '"' && r->text[r->position] != '\\' &&
                   r->text[r->position] >= 0x20)
                r->position++;
            if (!bytes_put(&b, r->text + start, r->position - start))
                goto oom;
            continue;
        }
        r->position++;
        if (r->position >= r->length) {
            free(b.data);
            return fail(r, "bad escape");
        }
        char e = (char)r->text[r->position++];
        char single;
        switch (e) {
        case '"': single = '"'; break;
        case '\\': single = '\\'; break;
        case '/': single = '/'; break;
        case 'b': single = '\b'; break;
        case 'f': single = '\f'; break;
        case 'n': single = '\n'; break;
        case 'r': single = '\r'; break;
        case 't': single = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!hex4(r, &cp)) {
                free(b.data);
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t low;
                if (r->length - r->position < 6 || r->text[r->position] != '\\' || r->text[r->position + 1] != 'u') {
                    free(b.data);
                    return fail(r, "lone surrogate");
                }
                r->position += 2;
                if (!hex4(r, &low)) {
                    free(b.data);
                    return false;
                }
                if (low < 0xDC00 || low > 0xDFFF) {
                    free(b.data);
                    return fail(r, "lone surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(b.data);
                return fail(r, "lone surrogate");
            }
            if (cp <= 0xFF) { /* vigil: \u00XX is the byte XX (see the header) */
                unsigned char byte = (unsigned char)cp;
                if (!bytes_put(&b, &byte, 1))
                    goto oom;
            } else {
                unsigned char enc[4];
                size_t n = utf8_encode(cp, enc);
                if (!bytes_put(&b, enc, n))
                    goto oom;
            }
            continue;
        }
        default:
            r->position--;
            free(b.data);
            return fail(r, "bad escape");
        }
        if (!bytes_put(&b, &single, 1))
            goto oom;
    }
    if (b.data == NULL && !bytes_put(&b, "", 0))
        goto oom;
    *out = b.data;
    *out_length = b.length;
    return true;
oom:
    free(b.data);
    return fail(r, "out of memory");
}

static bool read_number(struct reader *r, struct vj_value *v)
{
    size_t start = r->position;
    bool negative = false;
    if (r->text[r->position] == '-') {
        negative = true;
        r->position++;
    }
    if (r->position >= r->length || r->text[r->position] < '0' || r->text[r->position] > '9')
        return fail(r, "bad number");
    if (r->text[r->position] == '0' && r->position + 1 < r->length && r->text[r->position + 1] >= '0' &&
        r->text[r->position + 1] <= '9')
        return fail(r, "bad number (leading zero)");
    uint64_t magnitude = 0;
    bool overflow = false;
    while (r->position < r->length && r->text[r->position] >= '0' && r->text[r->position] <= '9') {
        unsigned d = (unsigned)(r->text[r->position] - '0');
        if (magnitude > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            magnitude = magnitude * 10 + d;
        r->position++;
    }
    bool integer = true;
    if (r->position < r->length && r->text[r->position] == '.') {
        integer = false;
        r->position++;
        if (r->position >= r->length || r->text[r->position] < '0' || r->text[r->position] > '9')
            return fail(r, "bad number");
        while (r->position < r->length && r->text[r->position] >= '0' && r->text[r->position] <= '9')
            r->position++;
    }
    if (r->position < r->length && (r->text[r->position] == 'e' || r->text[r->position] == 'E')) {
        integer = false;
        r->position++;
        if (r->position < r->length && (r->text[r->position] == '+' || r->text[r->position] == '-'))
            r->position++;
        if (r->position >= r->length || r->text[r->position] < '0' || r->text[r->position] > '9')
            return fail(r, "bad number");
        while (r->position < r->length && r->text[r->position] >= '0' && r->text[r->position] <= '9')
            r->position++;
    }
    char text[64];
    size_t n = r->position - start;
    if (n >= sizeof text)
        n = sizeof text - 1;
    memcpy(text, r->text + start, n);
    text[n] = '\0';
    v->type = VJ_NUMBER;
    v->number = strtod(text, NULL);
    v->is_integer = integer && !overflow;
    v->negative = negative;
    v->magnitude = v->is_integer ? magnitude : 0;
    return true;
}

static void free_contents(struct vj_value *v);

static bool read_value(struct reader *r, struct vj_value *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_space(r);
    if (r->position >= r->length)
        return fail(r, "unexpected end");
    unsigned char c = r->text[r->position];
    if (depth > VJ_DEPTH_MAX)
        return fail(r, "nested too deep");
    switch (c) {
    case 'n': v->type = VJ_NULL; return literal(r, "null");
    case 't': v->type = VJ_BOOL; v->boolean = true; return literal(r, "true");
    case 'f': v->type = VJ_BOOL; v->boolean = false; return literal(r, "false");
    case '"': v->type = VJ_STRING; return read_string(r, &v->string, &v->length);
    case '[': {
        v->type = VJ_ARRAY;
        r->position++;
        skip_space(r);
        if (r->position < r->length && r->text[r->position] == ']') {
            r->position++;
            return true;
        }
        size_t capacity = 0;
        for (;;) {
            if (v->count == capacity) {
                capacity = capacity ? capacity * 2 : 4;
                struct vj_value *grown = realloc(v->items, capacity * sizeof *grown);
                if (grown == NULL)
                    return fail(r, "out of memory");
                v->items = grown;
            }
            if (!read_value(r, &v->items[v->count], depth + 1)) {
                free_contents(&v->items[v->count]);
                return false;
            }
            v->count++;
            skip_space(r);
            if (r->position >= r->length)
                return fail(r, "unexpected end");
            if (r->text[r->position] == ',') {
                r->position++;
                continue;
            }
            if (r->text[r->position] == ']') {
                r->position++;
                return true;
            }
            return fail(r, "expected ',' or ']'");
        }
    }
    case '{': {
        v->type = VJ_OBJECT;
        r->position++;
        skip_space(r);
        if (r->position < r->length && r->text[r->position] == '}') {
            r->position++;
            return true;
        }
        size_t capacity = 0;
        for (;;) {
            skip_space(r);
            if (r->position >= r->length)
                return fail(r, "unexpected end");
            if (r->text[r->position] != '"')
                return fail(r, "expected a key");
            if (v->count == capacity) {
                capacity = capacity ? capacity * 2 : 8;
                struct vj_member *grown = realloc(v->members, capacity * sizeof *grown);
                if (grown == NULL)
                    return fail(r, "out of memory");
                v->members = grown;
            }
            struct vj_member *m = &v->members[v->count];
            memset(m, 0, sizeof *m);
            if (!read_string(r, &m->key, &m->key_length))
                return false;
            v->count++; /* owned from here: freed with the object */
            skip_space(r);
            if (r->position >= r->length || r->text[r->position] != ':')
                return fail(r, r->position >= r->length ? "unexpected end" : "expected ':'");
            r->position++;
            if (!read_value(r, &m->value, depth + 1))
                return false;
            skip_space(r);
            if (r->position >= r->length)
                return fail(r, "unexpected end");
            if (r->text[r->position] == ',') {
                r->position++;
                continue;
            }
            if (r->text[r->position] == '}') {
                r->position++;
                return true;
            }
            return fail(r, "expected ',' or '}'");
        }
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return read_number(r, v);
        return fail(r, "unexpected character");
    }
}

static void free_contents(struct vj_value *v)
{
    if (v == NULL)
        return;
    free(v->string);
    for (size_t i = 0; v->type == VJ_ARRAY && i < v->count; i++)
        free_contents(&v->items[i]);
    for (size_t i = 0; v->type == VJ_OBJECT && i < v->count; i++) {
        free(v->members[i].key);
        free_contents(&v->members[i].value);
    }
    free(v->items);
    free(v->members);
    memset(v, 0, sizeof *v);
}

struct vj_value *vj_parse(const char *text, size_t length, char *error, size_t error_size)
{
    struct reader r = {(const unsigned char *)text, length, 0, error, error_size, false};
    struct vj_value *v = calloc(1, sizeof *v);
    if (v == NULL) {
        if (error != NULL && error_size > 0)
            snprintf(error, error_size, "out of memory");
        return NULL;
    }
    if (!read_value(&r, v, 1)) {
        vj_free(v);
        return NULL;
    }
    skip_space(&r);
    if (r.position != r.length) {
        fail(&r, "trailing characters");
        vj_free(v);
        return NULL;
    }
    return v;
}

void vj_free(struct vj_value *value)
{
    if (value == NULL)
        return;
    free_contents(value);
    free(value);
}

const struct vj_value *vj_get(const struct vj_value *object, const char *key)
{
    if (object == NULL || object->type != VJ_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < object->count; i++)
        if (object->members[i].key_length == n && memcmp(object->members[i].key, key, n) == 0)
            return &object->members[i].value;
    return NULL;
}

bool vj_as_u64(const struct vj_value *v, uint64_t *out)
{
    if (v == NULL || v->type != VJ_NUMBER || !v->is_integer || (v->negative && v->magnitude != 0))
        return false;
    *out = v->magnitude;
    return true;
}

bool vj_as_i64(const struct vj_value *v, int64_t *out)
{
    if (v == NULL || v->type != VJ_NUMBER || !v->is_integer)
        return false;
    if (v->negative) {
        if (v->magnitude > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v->magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v->magnitude;
    } else {
        if (v->magnitude > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v->magnitude;
    }
    return true;
}

bool vj_get_u64(const struct vj_value *object, const char *key, uint64_t *out)
{
    return vj_as_u64(vj_get(object, key), out);
}

bool vj_get_i64(const struct vj_value *object, const char *key, int64_t *out)
{
    return vj_as_i64(vj_get(object, key), out);
}

bool vj_get_bool(const struct vj_value *object, const char *key, bool *out)
{
    const struct vj_value *v = vj_get(object, key);
    if (v == NULL || v->type != VJ_BOOL)
        return false;
    *out = v->boolean;
    return true;
}

const char *vj_get_string(const struct vj_value *object, const char *key, size_t *length)
{
    const struct vj_value *v = vj_get(object, key);
    if (v == NULL || v->type != VJ_STRING)
        return NULL;
    if (length != NULL)
        *length = v->length;
    return v->string;
}

bool vj_is_null(const struct vj_value *value) { return value == NULL || value->type == VJ_NULL; }

/* ---- Writer ---------------------------------------------------------------- */

void vj_buf_init(struct vj_buf *buf) { memset(buf, 0, sizeof *buf); }

void vj_buf_free(struct vj_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

void vj_buf_raw(struct vj_buf *buf, const char *text, size_t length)
{
    if (buf->failed)
        return;
    if (buf->length + length + 1 > buf->capacity) {
        size_t capacity = buf->capacity ? buf->capacity : 256;
        while (capacity < buf->length + length + 1)
            capacity *= 2;
        char *grown = realloc(buf->data, capacity);
        if (grown == NULL) {
            buf->failed = true;
            return;
        }
        buf->data = grown;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->length, text, length);
    buf->length += length;
    buf->data[buf->length] = '\0';
}

void vj_buf_printf(struct vj_buf *buf, const char *format, ...)
{
    char small[256];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (n < 0) {
        buf->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        vj_buf_raw(buf, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        buf->failed = true;
        return;
    }
    va_start(args, format);
    vsnprintf(big, (size_t)n + 1, format, args);
    va_end(args);
    vj_buf_raw(buf, big, (size_t)n);
    free(big);
}

static void separate(struct vj_buf *buf)
{
    if (buf->after_key)
        buf->after_key = false;
    else if (buf->need_comma)
        vj_buf_raw(buf, ",", 1);
}

void vj_begin_object(struct vj_buf *buf)
{
    separate(buf);
    vj_buf_raw(buf, "{", 1);
    buf->need_comma = false;
}

void vj_end_object(struct vj_buf *buf)
{
    vj_buf_raw(buf, "}", 1);
    buf->need_comma = true;
}

void vj_begin_array(struct vj_buf *buf)
{
    separate(buf);
    vj_buf_raw(buf, "[", 1);
    buf->need_comma = false;
}

void vj_end_array(struct vj_buf *buf)
{
    vj_buf_raw(buf, "]", 1);
    buf->need_comma = true;
}

/* Length of the valid UTF-8 sequence at data (0: not valid), as the console's writer. */
static size_t utf8_length(const unsigned char *data, size_t length)
{
    unsigned char lead = data[0];
    if (lead < 0x80)
        return 1;
    size_t count;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
        count = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        count = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        count = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else
        return 0;
    if (length < count || data[1] < low || data[1] > high)
        return 0;
    for (size_t i = 2; i < count; i++)
        if ((data[i] & 0xC0) != 0x80)
            return 0;
    return count;
}

static void string_body(struct vj_buf *buf, const char *text, size_t length)
{
    const unsigned char *data = (const unsigned char *)text;
    vj_buf_raw(buf, "\"", 1);
    size_t i = 0;
    while (i < length) {
        unsigned char c = data[i];
        const char *escape = NULL;
        switch (c) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        default: break;
        }
        if (escape != NULL) {
            vj_buf_raw(buf, escape, strlen(escape));
            i++;
            continue;
        }
        size_t n = c < 0x20 || c == 0x7F ? 0 : utf8_length(data + i, length - i);
        if (n == 0) {
            char hex[8];
            snprintf(hex, sizeof hex, "\\u%04x", c);
            vj_buf_raw(buf, hex, 6);
            i++;
        } else {
            vj_buf_raw(buf, text + i, n);
            i += n;
        }
    }
    vj_buf_raw(buf, "\"", 1);
}

void vj_key(struct vj_buf *buf, const char *key)
{
    separate(buf);
    string_body(buf, key, strlen(key));
    vj_buf_raw(buf, ":", 1);
    buf->after_key = true;
}

void vj_string_bytes(struct vj_buf *buf, const char *data, size_t length)
{
    separate(buf);
    string_body(buf, data, length);
    buf->need_comma = true;
}

void vj_string(struct vj_buf *buf, const char *text)
{
    if (text == NULL)
        vj_null(buf);
    else
        vj_string_bytes(buf, text, strlen(text));
}

void vj_uint(struct vj_buf *buf, uint64_t value)
{
    separate(buf);
    vj_buf_printf(buf, "%llu", (unsigned long long)value);
    buf->need_comma = true;
}

void vj_int(struct vj_buf *buf, int64_t value)
{
    separate(buf);
    vj_buf_printf(buf, "%lld", (long long)value);
    buf->need_comma = true;
}

void vj_bool(struct vj_buf *buf, bool value)
{
    separate(buf);
    vj_buf_raw(buf, value ? "true" : "false", value ? 4 : 5);
    buf->need_comma = true;
}

void vj_null(struct vj_buf *buf)
{
    separate(buf);
    vj_buf_raw(buf, "null", 4);
    buf->need_comma = true;
}

void vj_value(struct vj_buf *buf, const struct vj_value *v)
{
    if (v == NULL) {
        vj_null(buf);
        return;
    }
    switch (v->type) {
    case VJ_NULL: vj_null(buf); break;
    case VJ_BOOL: vj_bool(buf, v->boolean); break;
    case VJ_NUMBER:
        if (v->is_integer && !v->negative)
            vj_uint(buf, v->magnitude);
        else if (v->is_integer && v->magnitude <= (uint64_t)INT64_MAX)
            vj_int(buf, -(int64_t)v->magnitude);
        else {
            separate(buf);
            if (isfinite(v->number))
                vj_buf_printf(buf, "%.17g", v->number);
            else
                vj_buf_raw(buf, "null", 4);
            buf->need_comma = true;
        }
        break;
    case VJ_STRING: vj_string_bytes(buf, v->string, v->length); break;
    case VJ_ARRAY:
        vj_begin_array(buf);
        for (size_t i = 0; i < v->count; i++)
            vj_value(buf, &v->items[i]);
        vj_end_array(buf);
        break;
    case VJ_OBJECT:
        vj_begin_object(buf);
        for (size_t i = 0; i < v->count; i++) {
            separate(buf);
            string_body(buf, v->members[i].key, v->members[i].key_length);
            vj_buf_raw(buf, ":", 1);
            buf->after_key = true;
            vj_value(buf, &v->members[i].value);
        }
        vj_end_object(buf);
        break;
    }
}

void vj_fprint(FILE *out, const struct vj_value *value)
{
    struct vj_buf buf;
    vj_buf_init(&buf);
    vj_value(&buf, value);
    if (!buf.failed && buf.data != NULL)
        fwrite(buf.data, 1, buf.length, out);
    vj_buf_free(&buf);
}
