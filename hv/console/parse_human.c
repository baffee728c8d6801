/* Human mode: a typed line -> struct console_request (DESIGN.md §5). */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

bool console_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9')
            return false;
        unsigned digit = (unsigned)(*text - '0');
        if (digit > max || value > (max - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

/* Splits line into words in request->arena: whitespace separates; "..." groups
 * (with \" and \\ escapes inside), '...' groups literally. Returns the count, or -1
 * after replying with the error. */
static int tokenize(struct console *console, const char *line, size_t length, struct console_request *request,
                    const char **tokens)
{
    char *out = request->arena;
    size_t used = 0, i = 0;
    int count = 0;
    while (i < length) {
        while (i < length && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= length)
            break;
        if ((unsigned)count >= CONSOLE_TOKENS_MAX) {
            console_reply_invalid(console, &request->target, "too many arguments");
            return -1;
        }
        tokens[count++] = out + used;
        while (i < length && line[i] != ' ' && line[i] != '\t') {
            char quote = line[i];
            if (quote != '"' && quote != '\'') {
                out[used++] = line[i++];
                continue;
            }
            i++;
            for (;;) {
                if (i >= length) {
                    console_reply_invalid(console, &request->target, "unterminated quote");
                    return -1;
                }
                char c = line[i++];
                if (c == quote)
                    break;
                if (quote == '"' && c == '\\' && i < length && (line[i] == '"' || line[i] == '\\'))
                    c = line[i++];
                out[used++] = c;
            }
        }
        out[used++] = '\0'; /* the output never outgrows the input plus one NUL per word */
    }
    request->arena_used = used;
    return count;
}

static bool usage(struct console *console, struct console_request *request)
{
    char text[160];
    format_string(text, sizeof text, "usage: %s", console_commands[request->command].usage);
    console_reply_invalid(console, &request->target, text);
    return false;
}

static bool invalid(struct console *console, struct console_request *request, const char *format, const char *word)
{
    char text[160];
    format_string(text, sizeof text, format, word);
    console_reply_invalid(console, &request->target, text);
    return false;
}

static bool parse_seconds(const char *text, uint32_t *milliseconds)
{
    uint64_t seconds;
    if (!console_parse_uint(text, CONSOLE_TIMEOUT_SECONDS_MAX, &seconds))
        return false;
    *milliseconds = (uint32_t)(seconds * 1000u);
    return true;
}

static bool parse_exec(struct console *console, struct console_request *request, int count, const char **tokens)
{
    int i = 1;
    while (i < count) {
        const char *option = tokens[i];
        if (strcmp(option, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(option, "--", 2) != 0)
            break; /* the program: argv starts here */
        if (i + 1 >= count)
            return usage(console, request);
        const char *value = tokens[i + 1];
        if (strcmp(option, "--timeout") == 0) {
            if (!parse_seconds(value, &request->timeout_ms))
                return invalid(console, request, "exec: bad timeout '%s' (seconds, 0..4294967)", value);
        } else if (strcmp(option, "--cwd") == 0) {
            if (value[0] == '\0')
                return invalid(console, request, "exec: empty --cwd%s", "");
            request->cwd = value;
        } else if (strcmp(option, "--env") == 0) {
            const char *equals = strchr(value, '=');
            if (equals == NULL || equals == value)
                return invalid(console, request, "exec: bad --env '%s' (NAME=value)", value);
            if (request->env_count >= CONSOLE_ARGUMENTS_MAX)
                return invalid(console, request, "exec: too many --env (max 64)%s", "");
            request->env[request->env_count++] = value;
        } else
            return invalid(console, request, "exec: unknown option '%s'", option);
        i += 2;
    }
    if (i >= count)
        return usage(console, request);
    if (count - i > (int)CONSOLE_ARGUMENTS_MAX)
        return invalid(console, request, "exec: too many arguments (max 64)%s", "");
    for (; i < count; i++)
        request->argv[request->argc++] = tokens[i];
    return true;
}

static bool parse_shutdown(struct console *console, struct console_request *request, int count, const char **tokens)
{
    for (int i = 1; i < count; i++) {
        const char *option = tokens[i];
        if (strcmp(option, "--force") == 0)
            request->force = true;
        else if (strcmp(option, "--reboot") == 0)
            request->reboot = true;
        else if (strcmp(option, "--timeout") == 0 || strcmp(option, "--reason") == 0) {
            if (i + 1 >= count)
                return usage(console, request);
            const char *value = tokens[++i];
            if (option[2] == 't') {
                if (!parse_seconds(value, &request->timeout_ms))
                    return invalid(console, request, "shutdown: bad timeout '%s' (seconds, 0..4294967)", value);
            } else {
                if (strlen(value) > VIGIL_SHUTDOWN_REASON_MAX)
                    return invalid(console, request, "shutdown: reason too long (max 255)%s", "");
                request->reason = value;
            }
        } else
            return usage(console, request);
    }
    return true;
}

static bool parse_param(struct console *console, struct console_request *request, int count, const char **tokens)
{
    if (count < 2)
        return usage(console, request);
    const char *action = tokens[1];
    if (strcmp(action, "list") == 0 && count == 2) {
        request->action = ACTION_LIST;
        return true;
    }
    if (strcmp(action, "get") == 0 && count == 3)
        request->action = ACTION_GET;
    else if (strcmp(action, "set") == 0 && count == 4) {
        request->action = ACTION_SET;
        request->value = tokens[3];
        if (strlen(request->value) > VIGIL_PARAMETER_VALUE_MAX)
            return invalid(console, request, "param: value too long (max 1024)%s", "");
    } else
        return usage(console, request);
    request->name = tokens[2];
    if (!guest_service_parameter_name_valid(request->name))
        return invalid(console, request, "param: invalid name '%s' (1-255 characters, no '\\')", request->name);
    return true;
}

static bool parse_arguments(struct console *console, struct console_request *request, int count, const char **tokens)
{
    switch (request->command) {
    case COMMAND_HELP:
        if (count > 2)
            return usage(console, request);
        request->name = count == 2 ? tokens[1] : NULL;
        return true;
    case COMMAND_HEARTBEAT:
        if (count == 1)
            return true;
        if (count != 3 || strcmp(tokens[1], "interval") != 0)
            return usage(console, request);
        if (!console_parse_uint(tokens[2], UINT32_MAX, &request->number))
            return invalid(console, request, "heartbeat: bad interval '%s' (milliseconds)", tokens[2]);
        request->has_number = true;
        return true;
    case COMMAND_EXEC:
        return parse_exec(console, request, count, tokens);
    case COMMAND_KILL:
        if (count > 2)
            return usage(console, request);
        if (count == 2) {
            if (!console_parse_uint(tokens[1], CONSOLE_JSON_ID_MAX, &request->number))
                return invalid(console, request, "kill: bad id '%s'", tokens[1]);
            request->has_number = true;
        }
        return true;
    case COMMAND_SHUTDOWN:
        return parse_shutdown(console, request, count, tokens);
    case COMMAND_PARAM:
        return parse_param(console, request, count, tokens);
    case COMMAND_TIMESYNC:
        if (count == 1 || (count == 2 && strcmp(tokens[1], "status") == 0))
            request->action = ACTION_STATUS;
        else if (count == 2 && strcmp(tokens[1], "on") == 0)
            request->action = ACTION_ON;
        else if (count == 2 && strcmp(tokens[1], "off") == 0)
            request->action = ACTION_OFF;
        else
            return usage(console, request);
        return true;
    case COMMAND_ADDITIONS:
        if (count != 2 || strcmp(tokens[1], "install") != 0)
            return usage(console, request);
        request->action = ACTION_INSTALL;
        return true;
    case COMMAND_LOG:
        if (count == 1)
            return true;
        if (count != 3 || strcmp(tokens[1], "level") != 0)
            return usage(console, request);
        if (!console_parse_uint(tokens[2], 4, &request->number))
            return invalid(console, request, "log: bad level '%s' (0..4)", tokens[2]);
        request->has_number = true;
        return true;
    case COMMAND_MODE:
        if (count == 2 && strcmp(tokens[1], "json") == 0)
            request->mode = CONSOLE_MODE_JSON;
        else if (count == 2 && strcmp(tokens[1], "human") == 0)
            request->mode = CONSOLE_MODE_HUMAN;
        else
            return usage(console, request);
        return true;
    case COMMAND_POWEROFF:
        if (count == 1)
            return true;
        if (count != 2 || strcmp(tokens[1], "--reboot") != 0)
            return usage(console, request);
        request->reboot = true;
        return true;
    default: /* status, guest, stats, ping: no arguments */
        if (count != 1)
            return usage(console, request);
        return true;
    }
}

bool console_parse_human(struct console *console, const char *line, size_t length, struct console_request *request)
{
    const char *tokens[CONSOLE_TOKENS_MAX];
    memset(request, 0, offsetof(struct console_request, arena));
    if (length > CONSOLE_LINE_MAX)
        length = CONSOLE_LINE_MAX;
    int count = tokenize(console, line, length, request, tokens);
    if (count <= 0)
        return false;
    int command = console_command_lookup(tokens[0]);
    if (command < 0)
        return invalid(console, request, "unknown command '%s' (try help)", tokens[0]);
    request->command = (enum console_command_id)command;
    return parse_arguments(console, request, count, tokens);
}
