#include "lib/format.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct output {
    char *buffer;
    size_t size;
    size_t length; /* what the whole output would take, possibly more than size */
};

static void emit(struct output *out, char c)
{
    if (out->length + 1 < out->size)
        out->buffer[out->length] = c;
    out->length++;
}

static void emit_repeated(struct output *out, char c, int count)
{
    for (int i = 0; i < count; i++)
        emit(out, c);
}

struct conversion {
    bool left_justify, zero_pad;
    int width, precision; /* precision -1 = none */
};

static void emit_padded(struct output *out, const struct conversion *spec, const char *prefix, const char *digits,
                        int digit_count)
{
    int prefix_length = (int)strlen(prefix);
    int zeros = spec->precision > digit_count ? spec->precision - digit_count : 0;
    int total = prefix_length + zeros + digit_count;
    int padding = spec->width > total ? spec->width - total : 0;
    bool pad_with_zeros = spec->zero_pad && !spec->left_justify && spec->precision < 0;
    if (!spec->left_justify && !pad_with_zeros)
        emit_repeated(out, ' ', padding);
    for (int i = 0; i < prefix_length; i++)
        emit(out, prefix[i]);
    if (pad_with_zeros)
        emit_repeated(out, '0', padding);
    emit_repeated(out, '0', zeros);
    for (int i = 0; i < digit_count; i++)
        emit(out, digits[i]);
    if (spec->left_justify)
        emit_repeated(out, ' ', padding);
}

static void emit_unsigned(struct output *out, const struct conversion *spec, const char *prefix, uint64_t value,
                          unsigned base, bool uppercase)
{
    const char *alphabet = uppercase ? "0123456789ABCDEF" : "0123456789abcdef";
    char reversed[24], digits[24];
    int count = 0;
    /* C99: a zero value with precision 0 produces no digits. */
    if (!(value == 0 && spec->precision == 0)) {
        do {
            reversed[count++] = alphabet[value % base];
            value /= base;
        } while (value != 0);
    }
    for (int i = 0; i < count; i++)
        digits[i] = reversed[count - 1 - i];
    emit_padded(out, spec, prefix, digits, count);
}

static void emit_text(struct output *out, const struct conversion *spec, const char *text)
{
    if (!text)
        text = "(null)";
    int length = 0;
    while ((spec->precision < 0 || length < spec->precision) && text[length])
        length++;
    int padding = spec->width > length ? spec->width - length : 0;
    if (!spec->left_justify)
        emit_repeated(out, ' ', padding);
    for (int i = 0; i < length; i++)
        emit(out, text[i]);
    if (spec->left_justify)
        emit_repeated(out, ' ', padding);
}

enum length_modifier { LENGTH_INT, LENGTH_CHAR, LENGTH_SHORT, LENGTH_LONG, LENGTH_LONG_LONG, LENGTH_SIZE, LENGTH_MAX, LENGTH_PTRDIFF };

static int64_t signed_argument(enum length_modifier length, va_list *arguments)
{
    switch (length) {
    case LENGTH_CHAR: return (signed char)va_arg(*arguments, int);
    case LENGTH_SHORT: return (short)va_arg(*arguments, int);
    case LENGTH_LONG: return va_arg(*arguments, long);
    case LENGTH_LONG_LONG: return va_arg(*arguments, long long);
    case LENGTH_SIZE: return (int64_t)va_arg(*arguments, size_t);
    case LENGTH_MAX: return va_arg(*arguments, intmax_t);
    case LENGTH_PTRDIFF: return va_arg(*arguments, ptrdiff_t);
    case LENGTH_INT: break;
    }
    return va_arg(*arguments, int);
}

static uint64_t unsigned_argument(enum length_modifier length, va_list *arguments)
{
    switch (length) {
    case LENGTH_CHAR: return (unsigned char)va_arg(*arguments, unsigned);
    case LENGTH_SHORT: return (unsigned short)va_arg(*arguments, unsigned);
    case LENGTH_LONG: return va_arg(*arguments, unsigned long);
    case LENGTH_LONG_LONG: return va_arg(*arguments, unsigned long long);
    case LENGTH_SIZE: return va_arg(*arguments, size_t);
    case LENGTH_MAX: return va_arg(*arguments, uintmax_t);
    case LENGTH_PTRDIFF: return (uint64_t)va_arg(*arguments, ptrdiff_t);
    case LENGTH_INT: break;
    }
    return va_arg(*arguments, unsigned);
}

static int read_count(const char **cursor, va_list *arguments, bool *from_argument_negative)
{
    *from_argument_negative = false;
    if (**cursor == '*') {
        (*cursor)++;
        int value = va_arg(*arguments, int);
        *from_argument_negative = value < 0;
        return value;
    }
    int value = 0;
    while (**cursor >= '0' && **cursor <= '9') {
        if (value < 100000) /* bounded: a format string is ours, but never overflow */
            value = value * 10 + (**cursor - '0');
        (*cursor)++;
    }
    return value;
}

static enum length_modifier read_length(const char **cursor)
{
    switch (**cursor) {
    case 'h':
        (*cursor)++;
        if (**cursor == 'h') { (*cursor)++; return LENGTH_CHAR; }
        return LENGTH_SHORT;
    case 'l':
        (*cursor)++;
        if (**cursor == 'l') { (*cursor)++; return LENGTH_LONG_LONG; }
        return LENGTH_LONG;
    case 'z': (*cursor)++; return LENGTH_SIZE;
    case 'j': (*cursor)++; return LENGTH_MAX;
    case 't': (*cursor)++; return LENGTH_PTRDIFF;
    default: return LENGTH_INT;
    }
}

int format_vstring(char *buffer, size_t size, const char *format, va_list arguments_in)
{
    struct output out = { buffer, size, 0 };
    va_list arguments;
    va_copy(arguments, arguments_in);
    for (const char *cursor = format; *cursor; cursor++) {
        if (*cursor != '%') {
            emit(&out, *cursor);
            continue;
        }
        cursor++;
        struct conversion spec = { false, false, 0, -1 };
        for (;; cursor++) {
            if (*cursor == '-')
                spec.left_justify = true;
            else if (*cursor == '0')
                spec.zero_pad = true;
            else
                break;
        }
        bool negative;
        spec.width = read_count(&cursor, &arguments, &negative);
        if (negative) { /* C99: a negative '*' width means '-' flag and its magnitude */
            spec.left_justify = true;
            spec.width = spec.width == INT32_MIN ? INT32_MAX : -spec.width;
        }
        if (*cursor == '.') {
            cursor++;
            spec.precision = read_count(&cursor, &arguments, &negative);
            if (negative)
                spec.precision = -1;
        }
        enum length_modifier length = read_length(&cursor);
        switch (*cursor) {
        case 'd':
        case 'i': {
            int64_t value = signed_argument(length, &arguments);
            uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
            emit_unsigned(&out, &spec, value < 0 ? "-" : "", magnitude, 10, false);
            break;
        }
        case 'u': emit_unsigned(&out, &spec, "", unsigned_argument(length, &arguments), 10, false); break;
        case 'x': emit_unsigned(&out, &spec, "", unsigned_argument(length, &arguments), 16, false); break;
        case 'X': emit_unsigned(&out, &spec, "", unsigned_argument(length, &arguments), 16, true); break;
        case 'o': emit_unsigned(&out, &spec, "", unsigned_argument(length, &arguments), 8, false); break;
        case 'p': {
            struct conversion pointer_spec = spec;
            pointer_spec.zero_pad = false;
            emit_unsigned(&out, &pointer_spec, "0x", (uint64_t)(uintptr_t)va_arg(arguments, void *), 16, false);
            break;
        }
        case 'c': {
            char text[2] = { (char)va_arg(arguments, int), 0 };
            struct conversion char_spec = spec;
            char_spec.precision = 1;
            if (text[0] == 0) { /* a NUL character still counts as one character */
                emit_repeated(&out, ' ', spec.width > 1 && !spec.left_justify ? spec.width - 1 : 0);
                emit(&out, 0);
                emit_repeated(&out, ' ', spec.width > 1 && spec.left_justify ? spec.width - 1 : 0);
            } else {
                emit_text(&out, &char_spec, text);
            }
            break;
        }
        case 's': emit_text(&out, &spec, va_arg(arguments, const char *)); break;
        case '%': emit(&out, '%'); break;
        case '\0':
            cursor--; /* a lone '%' at the end: stop without reading past the NUL */
            break;
        default:
            /* Unknown conversion: show it literally rather than guess an argument. */
            emit(&out, '%');
            emit(&out, *cursor);
            break;
        }
    }
    va_end(arguments);
    if (size > 0)
        buffer[out.length < size ? out.length : size - 1] = '\0';
    return out.length > INT32_MAX ? INT32_MAX : (int)out.length;
}

int format_string(char *buffer, size_t size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    int length = format_vstring(buffer, size, format, arguments);
    va_end(arguments);
    return length;
}
