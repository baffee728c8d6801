/* The exec allow-list; rules in exec_allowlist.h. */
#include "hv/exec_allowlist.h"

#include <stdarg.h>
#include <string.h>

#include "lib/format.h"

#define QUOTED_MAX 40 /* at most this much of a bad entry is quoted back */

static void say(char *out, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t size, const char *format, ...)
{
    if (out == NULL || size == 0)
        return;
    va_list arguments;
    va_start(arguments, format);
    format_vstring(out, size, format, arguments);
    va_end(arguments);
}

void exec_allowlist_init(struct exec_allowlist *list)
{
    memset(list, 0, sizeof *list);
}

void exec_allowlist_lock(struct exec_allowlist *list)
{
    list->locked = true;
}

bool exec_allowlist_enforcing(const struct exec_allowlist *list)
{
    return list->locked || list->count > 0;
}

/* Absolute, printable, no empty, "." or ".." segment. */
static const char *path_problem(const char *path, size_t length)
{
    if (length == 0 || path[0] != '/')
        return "not an absolute path";
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] >= 0x7F || path[i] == ',')
            return "contains a space, a comma or a control character";
    size_t segment_start = 1;
    for (size_t i = 1; i <= length; i++) {
        if (i < length && path[i] != '/')
            continue;
        size_t segment_length = i - segment_start;
        const char *segment = path + segment_start;
        bool last = i == length;
        if (segment_length == 0 && !last)
            return "contains '//'";
        if ((segment_length == 1 && segment[0] == '.') ||
            (segment_length == 2 && segment[0] == '.' && segment[1] == '.'))
            return "contains a '.' or '..' segment";
        segment_start = i + 1;
    }
    return NULL;
}

static bool parse_entry(const char *text, size_t length, struct exec_allowlist_entry *entry, char *error,
                        size_t error_size)
{
    int quoted = length > QUOTED_MAX ? QUOTED_MAX : (int)length;
    memset(entry, 0, sizeof *entry);
    size_t path_length = length;
    if (length >= 2 && text[length - 1] == '*' && text[length - 2] == '/') {
        entry->prefix = true;
        path_length = length - 1;
    }
    if (memchr(text, '*', path_length) != NULL) {
        say(error, error_size, "exec allow-list entry '%.*s': '*' only as the last character, after a '/'", quoted,
            text);
        return false;
    }
    const char *problem = path_problem(text, path_length);
    if (problem == NULL && !entry->prefix && text[path_length - 1] == '/')
        problem = "names a directory (use DIR/* for everything under it)";
    if (problem != NULL) {
        say(error, error_size, "exec allow-list entry '%.*s': %s", quoted, text, problem);
        return false;
    }
    if (path_length + 1 > sizeof entry->path) {
        say(error, error_size, "exec allow-list entry '%.*s...': longer than %u characters", quoted, text,
            (unsigned)(sizeof entry->path - 2));
        return false;
    }
    memcpy(entry->path, text, path_length);
    return true;
}

static bool contains(const struct exec_allowlist *list, unsigned count, const struct exec_allowlist_entry *entry)
{
    for (unsigned i = 0; i < count; i++)
        if (list->entries[i].prefix == entry->prefix && strcmp(list->entries[i].path, entry->path) == 0)
            return true;
    return false;
}

bool exec_allowlist_add(struct exec_allowlist *list, const char *text, size_t length, char *error, size_t error_size)
{
    if (list->locked) {
        say(error, error_size, "the exec allow-list is locked: it cannot be widened");
        return false;
    }
    struct exec_allowlist_entry parsed[EXEC_ALLOWLIST_MAX];
    unsigned count = list->count;
    size_t start = 0;
    for (size_t i = 0; i <= length; i++) {
        if (i < length && text[i] != ',')
            continue;
        struct exec_allowlist_entry entry;
        if (!parse_entry(text + start, i - start, &entry, error, error_size))
            return false;
        start = i + 1;
        /* checked against the list and the new entries so far */
        bool duplicate = contains(list, list->count, &entry);
        for (unsigned j = list->count; j < count && !duplicate; j++)
            duplicate = parsed[j - list->count].prefix == entry.prefix &&
                        strcmp(parsed[j - list->count].path, entry.path) == 0;
        if (duplicate)
            continue;
        if (count >= EXEC_ALLOWLIST_MAX) {
            say(error, error_size, "the exec allow-list holds at most %u entries", EXEC_ALLOWLIST_MAX);
            return false;
        }
        parsed[count++ - list->count] = entry;
    }
    for (unsigned j = list->count; j < count; j++)
        list->entries[j] = parsed[j - list->count];
    list->count = count;
    return true;
}

bool exec_allowlist_permits(const struct exec_allowlist *list, const char *program, char *why, size_t why_size)
{
    if (!exec_allowlist_enforcing(list))
        return true;
    size_t length = strlen(program);
    int quoted = length > QUOTED_MAX ? QUOTED_MAX : (int)length;
    const char *problem = path_problem(program, length);
    if (problem != NULL) {
        say(why, why_size, "exec '%.*s' refused: %s (the allow-list needs absolute, plain paths)", quoted, program,
            problem);
        return false;
    }
    for (unsigned i = 0; i < list->count; i++) {
        const struct exec_allowlist_entry *entry = &list->entries[i];
        size_t entry_length = strlen(entry->path);
        if (entry->prefix ? length > entry_length && strncmp(program, entry->path, entry_length) == 0
                          : strcmp(program, entry->path) == 0)
            return true;
    }
    say(why, why_size, "exec '%.*s' refused: not in the exec allow-list", quoted, program);
    return false;
}

bool exec_allowlist_entry_text(const struct exec_allowlist *list, unsigned index, char *out, size_t size)
{
    if (index >= list->count)
        return false;
    format_string(out, size, "%s%s", list->entries[index].path, list->entries[index].prefix ? "*" : "");
    return true;
}
