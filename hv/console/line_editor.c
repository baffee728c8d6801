/* The console's line editor: see line_editor.h. */
#include "hv/console/line_editor.h"

#include <string.h>

#define CTRL_C 0x03
#define BACKSPACE 0x08
#define TAB 0x09
#define LINE_FEED 0x0A
#define CARRIAGE_RETURN 0x0D
#define CTRL_U 0x15
#define ESCAPE 0x1B
#define DELETE 0x7F

enum { ESCAPE_NONE = 0, ESCAPE_SEEN, ESCAPE_SEQUENCE };

static void echo(struct line_editor *editor, const char *data, size_t length)
{
    if (!editor->raw && editor->echo != NULL && length > 0)
        editor->echo(editor->echo_context, data, length);
}

static void erase_characters(struct line_editor *editor, size_t count)
{
    static const char erase[] = "\b \b\b \b\b \b\b \b\b \b\b \b\b \b\b \b";
    const size_t per_write = (sizeof erase - 1) / 3;
    while (count > 0) {
        size_t now = count < per_write ? count : per_write;
        echo(editor, erase, now * 3);
        count -= now;
    }
}

void line_editor_clear(struct line_editor *editor)
{
    editor->length = 0;
    editor->buffer[0] = '\0';
    editor->overflow = false;
    editor->noise = 0;
    editor->escape = ESCAPE_NONE;
    editor->ended = false;
}

void line_editor_init(struct line_editor *editor, bool raw, line_editor_echo_fn echo_function, void *echo_context)
{
    memset(editor, 0, sizeof *editor);
    editor->raw = raw;
    editor->echo = echo_function;
    editor->echo_context = echo_context;
}

void line_editor_set_raw(struct line_editor *editor, bool raw)
{
    editor->raw = raw;
    line_editor_clear(editor);
}

static enum line_editor_result end_line(struct line_editor *editor)
{
    enum line_editor_result result;
    echo(editor, "\n", 1);
    editor->buffer[editor->length] = '\0';
    editor->ended = true;
    if (editor->overflow)
        result = LINE_EDITOR_TOO_LONG;
    else if (editor->length == 0)
        result = LINE_EDITOR_EMPTY;
    else
        result = LINE_EDITOR_LINE;
    return result;
}

static void store(struct line_editor *editor, uint8_t byte)
{
    if (editor->overflow)
        return;
    if (editor->length >= LINE_EDITOR_MAX) {
        editor->overflow = true; /* the rest of the line is discarded; reported at its end */
        return;
    }
    editor->buffer[editor->length++] = (char)byte;
    char c = (char)byte;
    echo(editor, &c, 1);
}

/* Swallows the rest of an ANSI escape sequence; true if the byte was part of one. */
static bool swallow_escape(struct line_editor *editor, uint8_t byte)
{
    if (editor->escape == ESCAPE_SEEN) {
        editor->escape = (byte == '[' || byte == 'O') ? ESCAPE_SEQUENCE : ESCAPE_NONE;
        return true;
    }
    if (editor->escape == ESCAPE_SEQUENCE) {
        /* parameter and intermediate bytes 0x20..0x3F continue; 0x40..0x7E ends */
        if (byte >= 0x20 && byte <= 0x3F)
            return true;
        editor->escape = ESCAPE_NONE;
        if (byte >= 0x40 && byte <= 0x7E)
            return true;
        /* anything else ends the sequence and is handled as an ordinary byte */
    }
    return false;
}

enum line_editor_result line_editor_feed(struct line_editor *editor, uint8_t byte)
{
    if (editor->after_cr) {
        editor->after_cr = false;
        if (byte == LINE_FEED)
            return LINE_EDITOR_NONE; /* the LF of a CRLF: the line just ended stays readable */
    }
    if (editor->ended)
        line_editor_clear(editor);
    if (byte == CARRIAGE_RETURN || byte == LINE_FEED) {
        editor->after_cr = byte == CARRIAGE_RETURN;
        return end_line(editor);
    }
    if (editor->raw) {
        store(editor, byte);
        return LINE_EDITOR_NONE;
    }
    if (swallow_escape(editor, byte))
        return LINE_EDITOR_NONE;
    switch (byte) {
    case BACKSPACE:
    case DELETE:
        if (editor->length > 0 && !editor->overflow) {
            editor->length--;
            erase_characters(editor, 1);
        }
        return LINE_EDITOR_NONE;
    case CTRL_U:
        erase_characters(editor, editor->length); /* what is on the screen, overlong or not */
        editor->length = 0;
        editor->overflow = false;
        return LINE_EDITOR_NONE;
    case CTRL_C:
        echo(editor, "^C\n", 3);
        line_editor_clear(editor);
        editor->ended = true;
        return LINE_EDITOR_CANCELLED;
    case ESCAPE:
        editor->escape = ESCAPE_SEEN;
        return LINE_EDITOR_NONE;
    case TAB:
        byte = ' ';
        break;
    default:
        break;
    }
    if (byte < 0x20 || byte >= 0x7F) {
        if (editor->noise < UINT32_MAX)
            editor->noise++;
        return LINE_EDITOR_NONE;
    }
    store(editor, byte);
    return LINE_EDITOR_NONE;
}

const char *line_editor_line(const struct line_editor *editor, size_t *length)
{
    if (length != NULL)
        *length = editor->length;
    return editor->buffer;
}

uint32_t line_editor_noise(const struct line_editor *editor)
{
    return editor->noise;
}
