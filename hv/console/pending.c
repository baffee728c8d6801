/* Asynchronous requests: submission to the guest service and its callbacks
 * (streamed output, completion), printed whenever they arrive. */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

enum { STREAM_OUT = 0, STREAM_ERR = 1 };

struct console_slot *console_slot_free(struct console *console)
{
    for (unsigned i = 0; i < CONSOLE_REQUESTS_MAX; i++)
        if (!console->slots[i].active)
            return &console->slots[i];
    return NULL;
}

struct console_slot *console_slot_find_exec(struct console *console, bool any, uint64_t id)
{
    struct console_slot *found = NULL;
    for (unsigned i = 0; i < CONSOLE_REQUESTS_MAX; i++) {
        struct console_slot *slot = &console->slots[i];
        if (!slot->active || !slot->service_id_known || slot->request.command != COMMAND_EXEC)
            continue;
        if (!any && slot->request.target.id != id)
            continue;
        if (found == NULL || slot->sequence > found->sequence)
            found = slot;
    }
    return found;
}

static const char *command_name(const struct console_slot *slot)
{
    return console_commands[slot->request.command].name;
}

/* ---- JSON streaming: pieces of at most CONSOLE_STREAM_PIECE bytes, cut at UTF-8
 * character boundaries; an incomplete character at the end of a chunk waits for
 * the next chunk of the same stream. */

/* Bytes at the end of data[0..length) that begin a UTF-8 character not yet complete. */
static size_t incomplete_tail(const uint8_t *data, size_t length)
{
    for (size_t back = 1; back <= 3 && back <= length; back++) {
        uint8_t c = data[length - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back */
        size_t need = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        return need > back ? back : 0;
    }
    return 0;
}

static void json_stream_line(struct console *console, struct console_slot *slot, const char *stream,
                             const uint8_t *data, size_t length)
{
    console_json_begin(console, &slot->request.target);
    json_writer_key(&console->writer, "stream");
    json_writer_string(&console->writer, stream);
    json_writer_key(&console->writer, "data");
    json_writer_string_bytes(&console->writer, data, length);
    console_json_end(console);
}

static void json_stream(struct console *console, struct console_slot *slot, unsigned which, const uint8_t *data,
                        size_t length)
{
    const char *stream = which == STREAM_OUT ? "stdout" : "stderr";
    uint8_t stage[CONSOLE_STREAM_PIECE + 4];
    size_t used = slot->carry_length[which];
    memcpy(stage, slot->carry[which], used);
    for (;;) {
        size_t take = CONSOLE_STREAM_PIECE - used;
        if (take > length)
            take = length;
        memcpy(stage + used, data, take);
        data += take;
        length -= take;
        used += take;
        size_t tail = incomplete_tail(stage, used);
        if (used - tail > 0)
            json_stream_line(console, slot, stream, stage, used - tail);
        memmove(stage, stage + used - tail, tail);
        used = tail;
        if (length == 0)
            break;
    }
    memcpy(slot->carry[which], stage, used);
    slot->carry_length[which] = (uint8_t)used;
}

/* ---- Human streaming: whole lines; stderr lines marked. */
static void human_line(struct console *console, struct console_slot *slot, unsigned which)
{
    console_async_begin(console);
    if (which == STREAM_ERR)
        console_print(console, "stderr: ");
    console_print_sanitized(console, slot->line[which], slot->line_length[which]);
    console_print(console, "\n");
    slot->line_length[which] = 0;
}

static void human_stream(struct console *console, struct console_slot *slot, unsigned which, const uint8_t *data,
                         size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (data[i] == '\n') {
            human_line(console, slot, which);
            continue;
        }
        if (data[i] == '\r')
            continue;
        if (slot->line_length[which] == CONSOLE_HUMAN_LINE_MAX)
            human_line(console, slot, which); /* a very long line is shown in pieces */
        slot->line[which][slot->line_length[which]++] = (char)data[i];
    }
}

/* Whatever is left of the streams when the request completes. */
static void flush_streams(struct console *console, struct console_slot *slot)
{
    for (unsigned which = 0; which < 2; which++) {
        if (console->mode == CONSOLE_MODE_JSON && slot->carry_length[which] > 0)
            json_stream_line(console, slot, which == STREAM_OUT ? "stdout" : "stderr", slot->carry[which],
                             slot->carry_length[which]);
        else if (console->mode == CONSOLE_MODE_HUMAN && slot->line_length[which] > 0)
            human_line(console, slot, which);
        slot->carry_length[which] = 0;
        slot->line_length[which] = 0;
    }
}

static void on_data(void *context, uint32_t request_id, uint32_t stream, const uint8_t *data, size_t length)
{
    struct console_slot *slot = context;
    struct console *console = slot->console;
    (void)request_id;
    if (!slot->active || (data == NULL && length > 0))
        return;
    if (slot->request.command == COMMAND_PARAM && slot->request.action == ACTION_LIST) {
        size_t name_length = 0; /* one name per call; stop at a NUL if the service left one */
        while (name_length < length && data[name_length] != 0)
            name_length++;
        slot->names++;
        if (console->mode == CONSOLE_MODE_JSON) {
            json_stream_line(console, slot, "name", data, name_length);
        } else {
            console_async_begin(console);
            console_print(console, "  ");
            console_print_sanitized(console, (const char *)data, name_length);
            console_print(console, "\n");
        }
        return;
    }
    if (slot->request.command != COMMAND_EXEC)
        return; /* no other request streams: ignore */
    unsigned which = (stream & VIGIL_MESSAGE_STDERR) ? STREAM_ERR : STREAM_OUT;
    if (console->mode == CONSOLE_MODE_JSON) {
        /* a mode switch mid-stream: drop any partial human line */
        slot->line_length[which] = 0;
        json_stream(console, slot, which, data, length);
    } else {
        slot->carry_length[which] = 0;
        human_stream(console, slot, which, data, length);
    }
}

static void complete_exec(struct console *console, struct console_slot *slot, const struct guest_service_result *result)
{
    const struct console_target *target = &slot->request.target;
    bool killed = (result->execute_flags & VIGIL_EXECUTE_KILLED) != 0;
    bool timed_out = (result->execute_flags & VIGIL_EXECUTE_TIMED_OUT) != 0;
    if (console->mode == CONSOLE_MODE_JSON) {
        console_json_begin(console, target);
        json_writer_key(&console->writer, "status");
        json_writer_uint(&console->writer, result->status);
        json_writer_key(&console->writer, "status_name");
        json_writer_string(&console->writer, console_status_name(result->status));
        if (result->status == VIGIL_S_OK || killed || timed_out) {
            json_writer_key(&console->writer, "exit_code");
            json_writer_int(&console->writer, result->exit_code);
        }
        if (result->status != VIGIL_S_OK) {
            const char *message = vigil_status_message(result->status);
            json_writer_key(&console->writer, "message");
            json_writer_string(&console->writer, message != NULL ? message : "unknown status");
        }
        if (killed) {
            json_writer_key(&console->writer, "killed");
            json_writer_bool(&console->writer, true);
        }
        if (timed_out) {
            json_writer_key(&console->writer, "timed_out");
            json_writer_bool(&console->writer, true);
        }
        console_json_end(console);
        return;
    }
    console_printf(console, "exec %llu: ", (unsigned long long)target->id);
    if (result->status == VIGIL_S_OK || killed || timed_out)
        console_printf(console, "exit code %d%s%s\n", (int)result->exit_code, killed ? " (killed)" : "",
                       timed_out ? " (timed out)" : "");
    else
        console_reply_status(console, target, result->status);
}

static void on_complete(void *context, const struct guest_service_result *result)
{
    struct console_slot *slot = context;
    struct console *console = slot->console;
    if (!slot->active || result == NULL)
        return;
    const struct console_target *target = &slot->request.target;
    console_async_begin(console);
    flush_streams(console, slot);
    if (slot->request.command == COMMAND_EXEC) {
        complete_exec(console, slot, result);
    } else if (result->status != VIGIL_S_OK) {
        if (console->mode == CONSOLE_MODE_HUMAN)
            console_printf(console, "%s: ", command_name(slot));
        console_reply_status(console, target, result->status);
    } else if (slot->request.command == COMMAND_PARAM && slot->request.action == ACTION_GET) {
        char value[VIGIL_PARAMETER_VALUE_MAX + 1];
        memcpy(value, result->value, sizeof value - 1); /* bounded even if the service forgot the NUL */
        value[sizeof value - 1] = '\0';
        console_result_begin(console, target);
        if (console->mode == CONSOLE_MODE_JSON) {
            console_field_string(console, "name", slot->request.name);
            console_field_string(console, "value", value);
        } else {
            console_print_sanitized(console, slot->request.name, strlen(slot->request.name));
            console_print(console, " = ");
            console_print_sanitized(console, value, strlen(value));
            console_print(console, "\n");
        }
        console_result_end(console);
    } else if (slot->request.command == COMMAND_PARAM && slot->request.action == ACTION_LIST) {
        console_result_begin(console, target);
        if (console->mode == CONSOLE_MODE_JSON)
            console_field_uint(console, "count", slot->names, NULL);
        else
            console_printf(console, "param list: %llu parameter(s)\n", (unsigned long long)slot->names);
        console_result_end(console);
    } else {
        static const char *const done[COMMAND_COUNT] = {
            [COMMAND_PARAM] = "param set: done",
            [COMMAND_SHUTDOWN] = "shutdown: the guest is shutting down",
            [COMMAND_ADDITIONS] = "additions install: done",
            [COMMAND_PING] = "ping: the Additions answered",
        };
        console_reply_ok(console, target, done[slot->request.command]);
    }
    slot->active = false;
}

static uint32_t submit(struct console *console, struct console_slot *slot, uint32_t *id)
{
    struct guest_service *service = console->host.service;
    struct console_request *request = &slot->request;
    const struct guest_service_callbacks *callbacks = &slot->callbacks;
    switch (request->command) {
    case COMMAND_EXEC: {
        struct guest_execute_command command = {request->argc, request->argv, request->env_count, request->env,
                                                request->cwd, request->timeout_ms};
        return guest_service_execute(service, &command, callbacks, id);
    }
    case COMMAND_SHUTDOWN: {
        struct guest_shutdown_command command = {request->force, request->reboot, request->timeout_ms,
                                                 request->reason};
        return guest_service_shutdown(service, &command, callbacks, id);
    }
    case COMMAND_PARAM:
        if (request->action == ACTION_GET)
            return guest_service_get_parameter(service, request->name, callbacks, id);
        if (request->action == ACTION_SET)
            return guest_service_set_parameter(service, request->name, request->value, callbacks, id);
        return guest_service_list_parameters(service, callbacks, id);
    case COMMAND_ADDITIONS:
        return guest_service_install_additions(service, callbacks, id);
    case COMMAND_PING:
        return guest_service_nop(service, callbacks, id);
    default:
        return VIGIL_E_INVALIDARG;
    }
}

void console_submit(struct console *console, struct console_slot *slot)
{
    struct console_request *request = &slot->request;
    if (console->mode == CONSOLE_MODE_HUMAN) {
        request->target.has_id = true;
        request->target.id = ++console->next_number;
    }
    memset(slot->carry_length, 0, sizeof slot->carry_length);
    memset(slot->line_length, 0, sizeof slot->line_length);
    slot->names = 0;
    slot->console = console;
    slot->callbacks.context = slot;
    slot->callbacks.on_data = on_data;
    slot->callbacks.on_complete = on_complete;
    slot->sequence = ++console->next_sequence;
    slot->service_id_known = false;
    slot->active = true; /* before the call: a completion may come from inside it */
    uint32_t id = 0;
    uint32_t status = submit(console, slot, &id);
    if (status != VIGIL_S_OK) {
        slot->active = false; /* refused: no callback will come */
        console_reply_status(console, &request->target, status);
        return;
    }
    if (slot->active) {
        slot->service_request_id = id;
        slot->service_id_known = true;
    }
    if (console->mode == CONSOLE_MODE_HUMAN && request->command == COMMAND_EXEC && slot->active)
        console_printf(console, "exec %llu started\n", (unsigned long long)request->target.id);
}
