/* Which characters of guest text a terminal would act on or not show at all.
 * Shared by both console modes: human output writes them as \u{NNNN}, JSON as
 * \uXXXX, so guest text can neither reorder, hide nor forge what vigil prints
 * (docs/console-protocol.md, "Guest text"; docs/security.md). */
#ifndef VIGIL_HV_CONSOLE_UNICODE_TEXT_H
#define VIGIL_HV_CONSOLE_UNICODE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at data[0..length), or 0 if the byte
 * there does not start one (also used to split output at character boundaries). */
size_t json_utf8_sequence_length(const uint8_t *data, size_t length);

/* Decodes the well-formed UTF-8 sequence at data[0..length) into *code_point and
 * returns its length, or 0 if the byte there does not start one. */
size_t unicode_utf8_decode(const uint8_t *data, size_t length, uint32_t *code_point);

/* True for C1 controls (U+0080..U+009F), bidi embeddings, overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069), the line and paragraph separators, and the
 * invisible format characters (zero-width spaces and joiners, marks, fillers,
 * tags, BOM). ASCII controls are the caller's business (they are single bytes). */
bool unicode_is_hidden(uint32_t code_point);

#endif
