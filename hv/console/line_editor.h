/*
 * The console's line editor (DESIGN.md §5): one byte at a time from the UART,
 * never blocking, with a bounded buffer.
 *
 * Human mode: printable ASCII is stored and echoed; TAB becomes a space;
 * BS/DEL erase a character, Ctrl-U erases the line, Ctrl-C cancels it; ANSI
 * escape sequences (arrow keys: ESC [ ... final) are swallowed silently; any
 * other byte (control characters, bytes >= 0x80) is binary noise: dropped and
 * counted, and the console reports the count once when the line ends.
 * JSON (raw) mode: no echo, no editing; every byte except CR and LF is stored
 * as received, so binary noise makes the line invalid JSON.
 * Both modes: CR, LF or CRLF ends a line (the LF of a CRLF is swallowed). A
 * line longer than LINE_EDITOR_MAX bytes is discarded up to its end and
 * reported once as LINE_EDITOR_TOO_LONG.
 */
#ifndef VIGIL_HV_CONSOLE_LINE_EDITOR_H
#define VIGIL_HV_CONSOLE_LINE_EDITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX 1024u
#define LINE_EDITOR_MAX CONSOLE_LINE_MAX

enum line_editor_result {
    LINE_EDITOR_NONE = 0,   /* byte consumed, nothing to do */
    LINE_EDITOR_LINE,       /* a complete line: line_editor_line() until the next feed */
    LINE_EDITOR_EMPTY,      /* an empty line ended (nothing typed, or only noise) */
    LINE_EDITOR_TOO_LONG,   /* an overlong line ended; its bytes were discarded */
    LINE_EDITOR_CANCELLED,  /* Ctrl-C in human mode: the line was dropped */
};

/* Where echo goes (human mode only). */
typedef void (*line_editor_echo_fn)(void *context, const char *data, size_t length);

struct line_editor {
    line_editor_echo_fn echo;
    void *echo_context;
    bool raw;            /* JSON mode: no echo, no editing */
    bool overflow;       /* the current line is too long: discarding to its end */
    bool after_cr;       /* the previous byte ended a line with CR: swallow one LF */
    bool ended;          /* a line ended: the next byte starts a new one */
    uint8_t escape;      /* 0 none, 1 after ESC, 2 inside CSI/SS3 */
    uint32_t noise;      /* non-printable bytes dropped from the current line (human mode) */
    size_t length;
    char buffer[LINE_EDITOR_MAX + 1]; /* NUL-terminated after LINE_EDITOR_LINE */
};

void line_editor_init(struct line_editor *editor, bool raw, line_editor_echo_fn echo, void *echo_context);
/* Switches mode; keeps nothing of a partly typed line. */
void line_editor_set_raw(struct line_editor *editor, bool raw);
enum line_editor_result line_editor_feed(struct line_editor *editor, uint8_t byte);
/* The completed line (valid after LINE_EDITOR_LINE until the next feed/clear), or
 * the partly typed line otherwise; *length excludes the NUL. May contain NUL bytes in raw mode. */
const char *line_editor_line(const struct line_editor *editor, size_t *length);
/* The noise count of the current line, or of the line that just ended (human mode). */
uint32_t line_editor_noise(const struct line_editor *editor);
/* Forgets the current line (the next byte after a line end does this by itself). */
void line_editor_clear(struct line_editor *editor);

#endif
