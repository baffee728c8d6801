/* Command line text: byte views, bounded numbers, diagnostic messages (hv/cmdline_internal.h). */
#include <string.h>

#include "hv/cmdline_internal.h"
#include "lib/format.h"
#include "lib/hex.h"

/* ---- bytes and text views ---- */

bool cmdline_is_separator(unsigned char byte)
{
    return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\v' ||
           byte == '\f';
}

bool cmdline_is_printable(unsigned char byte)
{
    return byte > ' ' && byte < 0x7F;
}

bool cmdline_text_equals(struct text text, const char *literal)
{
    size_t literal_length = strlen(literal);
    return text.length == literal_length && memcmp(text.start, literal, literal_length) == 0;
}

/* Splits text at the first separator byte. Returns false (and leaves the
 * outputs as text, empty) when the separator does not occur. */
bool cmdline_text_split(struct text text, char separator, struct text *before, struct text *after)
{
    for (size_t index = 0; index < text.length; index++) {
        if (text.start[index] == separator) {
            *before = (struct text){ text.start, index };
            *after = (struct text){ text.start + index + 1, text.length - index - 1 };
            return true;
        }
    }
    *before = text;
    *after = (struct text){ text.start + text.length, 0 };
    return false;
}

bool cmdline_text_contains(struct text text, char wanted)
{
    struct text unused_before, unused_after;
    return cmdline_text_split(text, wanted, &unused_before, &unused_after);
}

/* ---- bounded number parsing ---- */


int cmdline_digit_value(unsigned char byte, unsigned base)
{
    int value = hex_digit_value(byte);
    return value >= 0 && (unsigned)value < base ? value : -1;
}

/* Accepts only digits of base, at least one, with a value <= maximum. A bad
 * digit anywhere reports MALFORMED even if the value also overflowed, because
 * "what you typed is not a number" is the more useful message. */
enum number_result cmdline_parse_digits(struct text digits, unsigned base, uint32_t maximum,
                                        uint32_t *value)
{
    if (digits.length == 0)
        return NUMBER_MALFORMED;
    uint32_t accumulated = 0;
    bool too_large = false;
    for (size_t index = 0; index < digits.length; index++) {
        int digit = cmdline_digit_value((unsigned char)digits.start[index], base);
        if (digit < 0)
            return NUMBER_MALFORMED;
        /* accumulated * base + digit > maximum, asked without overflowing. */
        if (too_large || (uint32_t)digit > maximum ||
            accumulated > (maximum - (uint32_t)digit) / base)
            too_large = true;
        else
            accumulated = accumulated * base + (uint32_t)digit;
    }
    if (too_large)
        return NUMBER_TOO_LARGE;
    *value = accumulated;
    return NUMBER_OK;
}

enum number_result cmdline_parse_decimal(struct text text, uint32_t maximum, uint32_t *value)
{
    return cmdline_parse_digits(text, 10, maximum, value);
}

/* Hexadecimal with a mandatory 0x/0X prefix, so "10" is never silently 16. */
enum number_result cmdline_parse_hex(struct text text, uint32_t maximum, uint32_t *value)
{
    if (text.length < 2 || text.start[0] != '0' || (text.start[1] != 'x' && text.start[1] != 'X'))
        return NUMBER_MALFORMED;
    return cmdline_parse_digits((struct text){ text.start + 2, text.length - 2 }, 16, maximum, value);
}

/* ---- diagnostic messages ---- */


void cmdline_message_append_char(struct message *message, char character)
{
    if (message->length + 1 < sizeof(message->text))
        message->text[message->length++] = character;
    else
        message->truncated = true;
}

void cmdline_message_append(struct message *message, const char *string)
{
    while (*string != '\0')
        cmdline_message_append_char(message, *string++);
}

/* Appends 'text', with bytes a terminal could misread shown as '?' and long
 * text cut to QUOTED_TEXT_LIMIT characters ending in "...". */
void cmdline_message_append_quoted(struct message *message, struct text text)
{
    size_t shown = text.length;
    bool cut = text.length > QUOTED_TEXT_LIMIT;
    if (cut)
        shown = QUOTED_TEXT_LIMIT - 3;
    cmdline_message_append_char(message, '\'');
    for (size_t index = 0; index < shown; index++) {
        unsigned char byte = (unsigned char)text.start[index];
        cmdline_message_append_char(message, cmdline_is_printable(byte) ? (char)byte : '?');
    }
    if (cut)
        cmdline_message_append(message, "...");
    cmdline_message_append_char(message, '\'');
}

void cmdline_message_append_decimal(struct message *message, uint32_t value)
{
    char digits[12];
    format_string(digits, sizeof digits, "%lu", (unsigned long)value);
    cmdline_message_append(message, digits);
}

void cmdline_message_append_hex(struct message *message, uint32_t value)
{
    char digits[12];
    format_string(digits, sizeof digits, "0x%lX", (unsigned long)value);
    cmdline_message_append(message, digits);
}
