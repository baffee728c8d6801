/*
 * Private to the command line parser (hv/cmdline.c): views of its bytes,
 * bounded number parsing and the fixed-size diagnostic messages
 * (hv/cmdline_text.c).
 */
#ifndef VIGIL_HV_CMDLINE_INTERNAL_H
#define VIGIL_HV_CMDLINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/cmdline.h"

/* How much of a token a message quotes, so that a message quoting two tokens
 * still fits in CMDLINE_DIAGNOSTIC_LENGTH. */
#define QUOTED_TEXT_LIMIT 24u

/* A view of bytes in the command line; not NUL-terminated. */
struct text {
    const char *start;
    size_t length;
};

enum number_result { NUMBER_OK, NUMBER_MALFORMED, NUMBER_TOO_LARGE };

struct message {
    char text[CMDLINE_DIAGNOSTIC_LENGTH];
    size_t length;
    bool truncated;
};

bool cmdline_is_separator(unsigned char byte);
bool cmdline_is_printable(unsigned char byte);
bool cmdline_text_equals(struct text text, const char *literal);
bool cmdline_text_split(struct text text, char separator, struct text *before, struct text *after);
bool cmdline_text_contains(struct text text, char wanted);
int cmdline_digit_value(unsigned char byte, unsigned base);
enum number_result cmdline_parse_digits(struct text digits, unsigned base, uint32_t maximum,
                                        uint32_t *value);
enum number_result cmdline_parse_decimal(struct text text, uint32_t maximum, uint32_t *value);
enum number_result cmdline_parse_hex(struct text text, uint32_t maximum, uint32_t *value);
void cmdline_message_append_char(struct message *message, char character);
void cmdline_message_append(struct message *message, const char *string);
void cmdline_message_append_quoted(struct message *message, struct text text);
void cmdline_message_append_decimal(struct message *message, uint32_t value);
void cmdline_message_append_hex(struct message *message, uint32_t value);

#endif
