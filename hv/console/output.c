/* Console output in both modes: plain bytes, the prompt, JSON lines and replies. */
#include <stdarg.h>
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

void console_write(struct console *console, const char *data, size_t length)
{
    if (length > 0 && console->host.write != NULL)
        console->host.write(console->host.context, data, length);
}

void console_print(struct console *console, const char *text)
{
    console_write(console, text, strlen(text));
}

void console_printf(struct console *console, const char *format, ...)
{
    char buffer[256];
    va_list arguments;
    va_start(arguments, format);
    int length = format_vstring(buffer, sizeof buffer, format, arguments);
    va_end(arguments);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof buffer) {
        /* longer text goes through console_print; this is a formatting bound, not data */
        length = sizeof buffer - 1;
        buffer[length - 1] = '.';
        buffer[length - 2] = '.';
        buffer[length - 3] = '.';
    }
    console_write(console, buffer, (size_t)length);
}

void console_print_sanitized(struct console *console, const char *text, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        uint8_t c = (uint8_t)text[i];
        if ((c >= 0x20 && c != 0x7F) || c == '\t')
            continue;
        console_write(console, text + start, i - start);
        char escaped[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        console_write(console, escaped, sizeof escaped);
        start = i + 1;
    }
    console_write(console, text + start, length - start);
}

void console_prompt(struct console *console)
{
    if (console->mode != CONSOLE_MODE_HUMAN)
        return;
    size_t length;
    const char *typed = line_editor_line(&console->editor, &length);
    console_print(console, CONSOLE_PROMPT);
    if (!console->editor.ended)
        console_write(console, typed, length);
    console->prompt_visible = true;
}

void console_async_begin(struct console *console)
{
    if (console->mode == CONSOLE_MODE_HUMAN && console->prompt_visible) {
        console_print(console, "\n");
        console->prompt_visible = false;
    }
}

static void writer_flush(void *context, const char *data, size_t length)
{
    console_write(context, data, length);
}

void console_json_begin(struct console *console, const struct console_target *target)
{
    json_writer_init(&console->writer, console->writer_buffer, sizeof console->writer_buffer, writer_flush, console);
    json_writer_object_begin(&console->writer);
    if (target != NULL) {
        json_writer_key(&console->writer, "id");
        if (target->has_id)
            json_writer_uint(&console->writer, target->id);
        else
            json_writer_null(&console->writer);
    }
}

void console_json_end(struct console *console)
{
    json_writer_object_end(&console->writer);
    json_writer_raw(&console->writer, "\n", 1);
    json_writer_flush(&console->writer);
}

const char *console_status_name(uint32_t status)
{
    const char *name = vigil_status_name(status);
    return name != NULL ? name : "UNKNOWN_STATUS";
}

static void json_status(struct console *console, uint32_t status)
{
    json_writer_key(&console->writer, "status");
    json_writer_uint(&console->writer, status);
    json_writer_key(&console->writer, "status_name");
    json_writer_string(&console->writer, console_status_name(status));
}

void console_result_begin(struct console *console, const struct console_target *target)
{
    if (console->mode != CONSOLE_MODE_JSON)
        return;
    console_json_begin(console, target);
    json_status(console, VIGIL_S_OK);
    json_writer_key(&console->writer, "result");
    json_writer_object_begin(&console->writer);
}

void console_result_end(struct console *console)
{
    if (console->mode != CONSOLE_MODE_JSON)
        return;
    json_writer_object_end(&console->writer);
    console_json_end(console);
}

/* Human mode: "additions_version" -> "additions version: " */
static void human_label(struct console *console, const char *key)
{
    char label[64];
    size_t i = 0;
    for (; key[i] != '\0' && i < sizeof label - 1; i++)
        label[i] = key[i] == '_' ? ' ' : key[i];
    console_write(console, label, i);
    console_print(console, ": ");
}

void console_field_string(struct console *console, const char *key, const char *value)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        json_writer_key(&console->writer, key);
        json_writer_string(&console->writer, value);
        return;
    }
    human_label(console, key);
    console_print_sanitized(console, value, strlen(value));
    console_print(console, "\n");
}

void console_field_uint(struct console *console, const char *key, uint64_t value, const char *unit)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        json_writer_key(&console->writer, key);
        json_writer_uint(&console->writer, value);
        return;
    }
    human_label(console, key);
    console_printf(console, "%llu%s\n", (unsigned long long)value, unit != NULL ? unit : "");
}

void console_field_bool(struct console *console, const char *key, bool value)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        json_writer_key(&console->writer, key);
        json_writer_bool(&console->writer, value);
        return;
    }
    human_label(console, key);
    console_print(console, value ? "yes\n" : "no\n");
}

void console_field_unavailable(struct console *console, const char *key, uint32_t status)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        json_writer_key(&console->writer, key);
        json_writer_null(&console->writer);
        return;
    }
    human_label(console, key);
    console_printf(console, "unavailable (%s)\n", console_status_name(status));
}

void console_reply_ok(struct console *console, const struct console_target *target, const char *human_text)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        console_json_begin(console, target);
        json_status(console, VIGIL_S_OK);
        console_json_end(console);
    } else if (human_text != NULL) {
        console_print(console, human_text);
        console_print(console, "\n");
    }
}

void console_reply_status(struct console *console, const struct console_target *target, uint32_t status)
{
    const char *message = vigil_status_message(status);
    if (message == NULL)
        message = "unknown status";
    if (console->mode == CONSOLE_MODE_JSON) {
        console_json_begin(console, target);
        json_status(console, status);
        json_writer_key(&console->writer, "message");
        json_writer_string(&console->writer, message);
        console_json_end(console);
        return;
    }
    console_printf(console, "error: %s (0x%08X): ", console_status_name(status), (unsigned)status);
    console_print(console, message);
    console_print(console, "\n");
}

void console_reply_invalid(struct console *console, const struct console_target *target, const char *text)
{
    if (console->mode == CONSOLE_MODE_JSON) {
        console_json_begin(console, target);
        json_status(console, VIGIL_E_INVALIDARG);
        json_writer_key(&console->writer, "message");
        json_writer_string(&console->writer, text);
        console_json_end(console);
        return;
    }
    if (strncmp(text, "usage:", 6) != 0)
        console_print(console, "error: ");
    console_print_sanitized(console, text, strlen(text));
    console_print(console, "\n");
}
