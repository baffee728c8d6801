/* The console's glue: input bytes -> lines -> requests, events, the prompt. */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

static struct console the_console;

struct console *console_instance(void)
{
    return &the_console;
}

static void echo(void *context, const char *data, size_t length)
{
    struct console *console = context;
    console_write(console, data, length);
}

static uint64_t now_ms(struct console *console)
{
    return console->host.uptime_ms != NULL ? console->host.uptime_ms(console->host.context) : 0;
}

static void json_event(struct console *console, const char *name, uint64_t time_ms, const char *detail,
                       size_t detail_length)
{
    console_json_begin(console, NULL);
    json_writer_key(&console->writer, "event");
    json_writer_string(&console->writer, name);
    json_writer_key(&console->writer, "time_ms");
    json_writer_uint(&console->writer, time_ms);
    json_writer_key(&console->writer, "detail");
    json_writer_string_bytes(&console->writer, detail, detail_length);
    console_json_end(console);
}

void console_init(const struct console_host *host, enum console_mode mode)
{
    struct console *console = &the_console;
    memset(console, 0, sizeof *console);
    console->host = *host;
    console->mode = mode;
    line_editor_init(&console->editor, mode == CONSOLE_MODE_JSON, echo, console);
    const char *version = host->version != NULL ? host->version(host->context) : NULL;
    if (version == NULL)
        version = "unknown";
    if (mode == CONSOLE_MODE_JSON) {
        json_event(console, "console-ready", now_ms(console), version, strlen(version));
        return;
    }
    console_print(console, "vigil ");
    console_print_sanitized(console, version, strlen(version));
    console_print(console, " console: type help\n");
    console_prompt(console);
}

enum console_mode console_mode(void)
{
    return the_console.mode;
}

unsigned console_requests_in_flight(void)
{
    unsigned count = 0;
    for (unsigned i = 0; i < CONSOLE_REQUESTS_MAX; i++)
        count += the_console.slots[i].active;
    return count;
}

static bool blank(const char *line, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    return true;
}

static void handle_line(struct console *console)
{
    size_t length;
    const char *line = line_editor_line(&console->editor, &length);
    struct console_slot *slot = console_slot_free(console);
    struct console_request *request = slot != NULL ? &slot->request : &console->scratch;
    bool parsed;
    if (console->mode == CONSOLE_MODE_JSON) {
        if (blank(line, length))
            return;
        parsed = console_parse_json(console, line, length, request);
    } else
        parsed = console_parse_human(console, line, length, request);
    if (parsed)
        console_run(console, slot, request);
}

void console_input_byte(uint8_t byte)
{
    struct console *console = &the_console;
    if (console->host.write == NULL)
        return; /* not initialised */
    if (console->mode == CONSOLE_MODE_HUMAN && !console->prompt_visible)
        console_prompt(console); /* after asynchronous output: before the echo */
    enum line_editor_result result = line_editor_feed(&console->editor, byte);
    if (result == LINE_EDITOR_NONE)
        return;
    bool human = console->mode == CONSOLE_MODE_HUMAN;
    console->prompt_visible = false; /* the editor echoed the end of the line */
    uint32_t noise = line_editor_noise(&console->editor);
    if (human && noise > 0 && result != LINE_EDITOR_CANCELLED)
        console_printf(console, "error: ignored %lu non-printable byte(s)\n", (unsigned long)noise);
    switch (result) {
    case LINE_EDITOR_LINE:
        handle_line(console);
        break;
    case LINE_EDITOR_TOO_LONG: {
        static const struct console_target no_id = {false, 0};
        console_reply_invalid(console, &no_id, "line too long (max 1024)");
        break;
    }
    default: /* empty or cancelled */
        break;
    }
    /* the mode may have changed: a human prompt comes back at once */
    if (console->mode == CONSOLE_MODE_HUMAN)
        console_prompt(console);
}

void console_tick(void)
{
    struct console *console = &the_console;
    if (console->host.write != NULL && console->mode == CONSOLE_MODE_HUMAN && !console->prompt_visible)
        console_prompt(console);
}

void console_event(const struct guest_service_event *event)
{
    struct console *console = &the_console;
    if (console->host.write == NULL || event == NULL)
        return;
    const char *name = guest_service_event_name(event->kind);
    if (name == NULL)
        name = "unknown";
    size_t detail_length = 0;
    while (detail_length < sizeof event->detail && event->detail[detail_length] != '\0')
        detail_length++;
    if (console->mode == CONSOLE_MODE_JSON) {
        json_event(console, name, event->time_ms, event->detail, detail_length);
        return;
    }
    console_async_begin(console);
    console_print(console, "event: ");
    console_print(console, name);
    if (detail_length > 0) {
        console_print(console, ": ");
        console_print_sanitized(console, event->detail, detail_length);
    }
    console_print(console, "\n");
}

void console_emit_event(void *context, const struct guest_service_event *event)
{
    (void)context;
    console_event(event);
}
