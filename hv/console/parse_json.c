/* Machine mode: one JSON object per line -> struct console_request (docs/console-protocol.md). */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

/* Keys each command accepts besides "id" and "cmd"; anything else is rejected. */
static const char *const allowed_keys[COMMAND_COUNT][6] = {
    [COMMAND_HEARTBEAT] = {"interval"},
    [COMMAND_EXEC] = {"argv", "timeout", "cwd", "env"},
    [COMMAND_KILL] = {"target"},
    [COMMAND_SHUTDOWN] = {"force", "reboot", "timeout", "reason"},
    [COMMAND_PARAM] = {"action", "name", "value"},
    [COMMAND_TIMESYNC] = {"action"},
    [COMMAND_ADDITIONS] = {"action"},
    [COMMAND_LOG] = {"level"},
    [COMMAND_MODE] = {"mode"},
    [COMMAND_POWEROFF] = {"reboot"},
};

struct json_context {
    struct console *console;
    struct console_request *request;
    const struct json_document *document;
};

static bool reject(struct json_context *context, const char *format, const char *word)
{
    char text[192];
    format_string(text, sizeof text, format, word);
    console_reply_invalid(context->console, &context->request->target, text);
    return false;
}

/* A short, printable copy of a key or word for messages. */
static void excerpt(const struct json_document *document, unsigned index, char *out, size_t size)
{
    memset(out, 0, size);
    if (!json_string_copy(document, index, out, size) && size > 4)
        memcpy(out + size - 4, "...", 4);
    for (size_t i = 0; out[i] != '\0'; i++)
        if ((uint8_t)out[i] < 0x20 || (uint8_t)out[i] >= 0x7F)
            out[i] = '?';
}

/* Value token of key, -1 if absent. */
static int member(struct json_context *context, const char *key)
{
    return json_object_get(context->document, 0, key);
}

/* Copies a decoded string into the arena. */
static bool arena_string(struct json_context *context, unsigned index, const char *key, const char **out)
{
    struct console_request *request = context->request;
    size_t room = sizeof request->arena - request->arena_used;
    char *destination = request->arena + request->arena_used;
    if (!json_string_copy(context->document, index, destination, room))
        return json_string_length(context->document, index) < room ? reject(context, "'%s' must not contain \\u0000", key)
                                                                   : reject(context, "'%s' is too long", key);
    request->arena_used += strlen(destination) + 1;
    *out = destination;
    return true;
}

/* Optional string member; *out stays NULL when absent. */
static bool get_string(struct json_context *context, const char *key, bool required, const char **out)
{
    int index = member(context, key);
    if (index < 0)
        return required ? reject(context, "missing '%s'", key) : true;
    if (context->document->tokens[index].type != JSON_STRING)
        return reject(context, "'%s' must be a string", key);
    return arena_string(context, (unsigned)index, key, out);
}

static bool get_uint(struct json_context *context, const char *key, uint64_t max, bool *present, uint64_t *out)
{
    int index = member(context, key);
    *present = index >= 0;
    if (index < 0)
        return true;
    const struct json_token *token = &context->document->tokens[index];
    if (token->type != JSON_INTEGER || token->integer < 0 || (uint64_t)token->integer > max) {
        char format[96];
        format_string(format, sizeof format, "'%%s' must be an integer 0..%llu", (unsigned long long)max);
        return reject(context, format, key);
    }
    *out = (uint64_t)token->integer;
    return true;
}

static bool get_bool(struct json_context *context, const char *key, bool *out)
{
    int index = member(context, key);
    if (index < 0)
        return true;
    uint8_t type = context->document->tokens[index].type;
    if (type != JSON_TRUE && type != JSON_FALSE)
        return reject(context, "'%s' must be true or false", key);
    *out = type == JSON_TRUE;
    return true;
}

static bool get_string_array(struct json_context *context, const char *key, const char **out, unsigned *count)
{
    int index = member(context, key);
    if (index < 0)
        return true;
    const struct json_document *document = context->document;
    const struct json_token *array = &document->tokens[index];
    if (array->type != JSON_ARRAY)
        return reject(context, "'%s' must be an array of strings", key);
    if (array->count > CONSOLE_ARGUMENTS_MAX)
        return reject(context, "'%s' has more than 64 elements", key);
    unsigned element = (unsigned)index + 1;
    for (unsigned i = 0; i < array->count; i++) {
        if (document->tokens[element].type != JSON_STRING)
            return reject(context, "'%s' must be an array of strings", key);
        if (!arena_string(context, element, key, &out[i]))
            return false;
        element = document->tokens[element].next;
    }
    *count = array->count;
    return true;
}

/* "action": one of the words, required or defaulting to fallback. */
static bool get_action(struct json_context *context, const char *const *words, const enum console_action *actions,
                       enum console_action fallback)
{
    int index = member(context, "action");
    if (index < 0) {
        context->request->action = fallback;
        return fallback != ACTION_NONE ? true : reject(context, "missing '%s'", "action");
    }
    if (context->document->tokens[index].type == JSON_STRING)
        for (unsigned i = 0; words[i] != NULL; i++)
            if (json_string_equals(context->document, (unsigned)index, words[i])) {
                context->request->action = actions[i];
                return true;
            }
    char text[128] = "'action' must be one of:";
    for (unsigned i = 0; words[i] != NULL; i++) {
        size_t length = strlen(text);
        format_string(text + length, sizeof text - length, " \"%s\"", words[i]);
    }
    return reject(context, "%s", text);
}

static bool check_keys(struct json_context *context)
{
    const struct json_document *document = context->document;
    const char *const *allowed = allowed_keys[context->request->command];
    unsigned key = 1;
    for (unsigned i = 0; i < document->tokens[0].count; i++, key = document->tokens[key + 1].next) {
        if (json_string_equals(document, key, "id") || json_string_equals(document, key, "cmd"))
            continue;
        bool known = false;
        for (unsigned k = 0; k < 6 && allowed[k] != NULL && !known; k++)
            known = json_string_equals(document, key, allowed[k]);
        if (!known) {
            char name[40];
            excerpt(document, key, name, sizeof name);
            char format[96];
            format_string(format, sizeof format, "unknown key '%%s' for '%s'",
                          console_commands[context->request->command].name);
            return reject(context, format, name);
        }
    }
    return true;
}

static bool parse_seconds(struct json_context *context, uint32_t *milliseconds)
{
    bool present;
    uint64_t seconds = 0;
    if (!get_uint(context, "timeout", CONSOLE_TIMEOUT_SECONDS_MAX, &present, &seconds))
        return false;
    *milliseconds = (uint32_t)(seconds * 1000u);
    return true;
}

static bool parse_command(struct json_context *context)
{
    struct console_request *request = context->request;
    switch (request->command) {
    case COMMAND_HEARTBEAT:
        return get_uint(context, "interval", UINT32_MAX, &request->has_number, &request->number);
    case COMMAND_EXEC: {
        if (member(context, "argv") < 0)
            return reject(context, "missing '%s'", "argv");
        if (!get_string_array(context, "argv", request->argv, &request->argc))
            return false;
        if (request->argc == 0)
            return reject(context, "'%s' must not be empty", "argv");
        if (!get_string_array(context, "env", request->env, &request->env_count))
            return false;
        for (unsigned i = 0; i < request->env_count; i++) {
            const char *equals = strchr(request->env[i], '=');
            if (equals == NULL || equals == request->env[i])
                return reject(context, "'env' entries must be NAME=value%s", "");
        }
        if (!get_string(context, "cwd", false, &request->cwd))
            return false;
        if (request->cwd != NULL && request->cwd[0] == '\0')
            return reject(context, "'%s' must not be empty", "cwd");
        return parse_seconds(context, &request->timeout_ms);
    }
    case COMMAND_KILL:
        return get_uint(context, "target", CONSOLE_JSON_ID_MAX, &request->has_number, &request->number);
    case COMMAND_SHUTDOWN:
        if (!get_bool(context, "force", &request->force) || !get_bool(context, "reboot", &request->reboot) ||
            !parse_seconds(context, &request->timeout_ms) || !get_string(context, "reason", false, &request->reason))
            return false;
        if (request->reason != NULL && strlen(request->reason) > VIGIL_SHUTDOWN_REASON_MAX)
            return reject(context, "'%s' is too long (max 255)", "reason");
        return true;
    case COMMAND_PARAM: {
        static const char *const words[] = {"get", "set", "list", NULL};
        static const enum console_action actions[] = {ACTION_GET, ACTION_SET, ACTION_LIST};
        if (!get_action(context, words, actions, ACTION_NONE))
            return false;
        if (request->action == ACTION_LIST)
            return member(context, "name") < 0 && member(context, "value") < 0
                       ? true
                       : reject(context, "'list' takes no %s", "name or value");
        if (!get_string(context, "name", true, &request->name))
            return false;
        if (!guest_service_parameter_name_valid(request->name))
            return reject(context, "invalid parameter name (1-255 characters, no '\\')%s", "");
        if (request->action == ACTION_GET)
            return member(context, "value") < 0 ? true : reject(context, "'get' takes no %s", "value");
        if (!get_string(context, "value", true, &request->value))
            return false;
        if (strlen(request->value) > VIGIL_PARAMETER_VALUE_MAX)
            return reject(context, "'%s' is too long (max 1024)", "value");
        return true;
    }
    case COMMAND_TIMESYNC: {
        static const char *const words[] = {"on", "off", "status", NULL};
        static const enum console_action actions[] = {ACTION_ON, ACTION_OFF, ACTION_STATUS};
        return get_action(context, words, actions, ACTION_STATUS);
    }
    case COMMAND_ADDITIONS: {
        static const char *const words[] = {"install", NULL};
        static const enum console_action actions[] = {ACTION_INSTALL};
        return get_action(context, words, actions, ACTION_NONE);
    }
    case COMMAND_LOG:
        return get_uint(context, "level", 4, &request->has_number, &request->number);
    case COMMAND_POWEROFF:
        return get_bool(context, "reboot", &request->reboot);
    case COMMAND_MODE: {
        int index = member(context, "mode");
        if (index < 0)
            return reject(context, "missing '%s'", "mode");
        if (json_string_equals(context->document, (unsigned)index, "json") &&
            context->document->tokens[index].type == JSON_STRING)
            request->mode = CONSOLE_MODE_JSON;
        else if (json_string_equals(context->document, (unsigned)index, "human") &&
                 context->document->tokens[index].type == JSON_STRING)
            request->mode = CONSOLE_MODE_HUMAN;
        else
            return reject(context, "'mode' must be \"json\" or \"human\"%s", "");
        return true;
    }
    default: /* help, status, guest, stats, ping */
        return true;
    }
}

bool console_parse_json(struct console *console, const char *line, size_t length, struct console_request *request)
{
    struct json_document *document = &console->document;
    struct json_context context = {console, request, document};
    struct json_error error = {"", 0};
    memset(request, 0, offsetof(struct console_request, arena));
    if (!json_parse(document, line, length, &error)) {
        char text[128];
        format_string(text, sizeof text, "malformed request: %s at byte %zu", error.reason, error.offset);
        console_reply_invalid(console, &request->target, text);
        return false;
    }
    if (document->tokens[0].type != JSON_OBJECT)
        return reject(&context, "malformed request: %s", "not an object");
    int id = member(&context, "id");
    if (id < 0)
        return reject(&context, "missing '%s'", "id");
    const struct json_token *token = &document->tokens[id];
    if (token->type != JSON_INTEGER || token->integer < 0 || (uint64_t)token->integer > CONSOLE_JSON_ID_MAX)
        return reject(&context, "'id' must be an integer 0..%s", "9007199254740991");
    request->target.has_id = true;
    request->target.id = (uint64_t)token->integer;
    int command = member(&context, "cmd");
    if (command < 0)
        return reject(&context, "missing '%s'", "cmd");
    if (document->tokens[command].type != JSON_STRING)
        return reject(&context, "'%s' must be a string", "cmd");
    char name[24];
    excerpt(document, (unsigned)command, name, sizeof name);
    int found = json_string_length(document, (unsigned)command) < sizeof name ? console_command_lookup(name) : -1;
    if (found < 0)
        return reject(&context, "unknown command '%s'", name);
    request->command = (enum console_command_id)found;
    return check_keys(&context) && parse_command(&context);
}
