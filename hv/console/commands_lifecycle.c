/* The guest's life on the console (docs/lifecycle.md): `policy`, `audit`,
 * `allowlist`, the exec allow-list check, the audit trail of every request, and
 * the boot record in status/guest. */
#include <string.h>

#include "hv/console/console_internal.h"
#include "lib/format.h"

#define AUDIT_DEFAULT_COUNT 20u

static uint64_t now_ms(struct console *console)
{
    return console->host.uptime_ms != NULL ? console->host.uptime_ms(console->host.context) : 0;
}

/* ---- the audit trail of requests ---- */

void console_audit_begin(struct console *console, struct console_request *request, const char *line, size_t length)
{
    struct guest_life *life = console->host.life;
    console->audit_current = 0;
    if (life == NULL)
        return;
    bool json = console->mode == CONSOLE_MODE_JSON;
    console->audit_current =
        audit_log_request(&life->audit, now_ms(console), json ? AUDIT_ORIGIN_JSON : AUDIT_ORIGIN_HUMAN,
                          request->target.has_id, request->target.id, console_commands[request->command].name, line,
                          length);
}

void console_audit_finish(struct console *console, uint32_t status, const char *detail)
{
    if (console->host.life == NULL || console->audit_current == 0)
        return;
    audit_log_complete(&console->host.life->audit, console->audit_current, status, detail);
    console->audit_current = 0;
}

void console_audit_invalid(struct console *console, const struct console_request *request, const char *line,
                           size_t length)
{
    struct guest_life *life = console->host.life;
    if (life == NULL)
        return;
    bool json = console->mode == CONSOLE_MODE_JSON;
    uint64_t sequence = audit_log_request(&life->audit, now_ms(console), json ? AUDIT_ORIGIN_JSON : AUDIT_ORIGIN_HUMAN,
                                          request->target.has_id, request->target.id, "invalid", line, length);
    audit_log_complete(&life->audit, sequence, VIGIL_E_INVALIDARG, "the request did not parse");
}

static bool need_life(struct console *console, struct console_request *request)
{
    if (console->host.life != NULL)
        return true;
    console_reply_status(console, &request->target, VIGIL_E_NOTIMPL);
    return false;
}

/* ---- exec allow-list ---- */

bool console_exec_allowed(struct console *console, struct console_request *request)
{
    struct guest_life *life = console->host.life;
    char why[AUDIT_DETAIL_MAX + 64];
    if (life == NULL || request->argc == 0 ||
        exec_allowlist_permits(&life->allowlist, request->argv[0], why, sizeof why))
        return true;
    console_audit_finish(console, VIGIL_E_ACCESSDENIED, why);
    console_reply_refused(console, &request->target, VIGIL_E_ACCESSDENIED, why);
    return false;
}

void console_run_allowlist(struct console *console, struct console_request *request)
{
    if (!need_life(console, request))
        return;
    struct exec_allowlist *list = &console->host.life->allowlist;
    if (request->action == ACTION_ADD) {
        char error[160];
        if (list->locked) {
            console_reply_refused(console, &request->target, VIGIL_E_ACCESSDENIED,
                                  "the exec allow-list is locked: it cannot be widened");
            return;
        }
        if (!exec_allowlist_add(list, request->value, strlen(request->value), error, sizeof error)) {
            console_reply_invalid(console, &request->target, error);
            return;
        }
    } else if (request->action == ACTION_LOCK)
        exec_allowlist_lock(list);
    console_result_begin(console, &request->target);
    console_field_bool(console, "enforcing", exec_allowlist_enforcing(list));
    console_field_bool(console, "locked", list->locked);
    bool json = console->mode == CONSOLE_MODE_JSON;
    if (json) {
        json_writer_key(&console->writer, "entries");
        json_writer_array_begin(&console->writer);
    } else if (list->count == 0)
        console_print(console, exec_allowlist_enforcing(list) ? "entries: none (no program may run)\n"
                                                              : "entries: none (every program may run)\n");
    for (unsigned i = 0; i < list->count; i++) {
        char entry[EXEC_ALLOWLIST_PATH_MAX + 1];
        exec_allowlist_entry_text(list, i, entry, sizeof entry);
        if (json)
            json_writer_string(&console->writer, entry);
        else
            console_field_string(console, "entry", entry);
    }
    if (json)
        json_writer_array_end(&console->writer);
    console_result_end(console);
}

/* ---- recovery policies ---- */

static bool all_digits(const char *text)
{
    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

void console_run_policy(struct console *console, struct console_request *request)
{
    if (!need_life(console, request))
        return;
    struct recovery_policy *policy = &console->host.life->recovery;
    if (request->action == ACTION_SET) {
        char error[200];
        if (!recovery_config_set(&policy->config, request->name, strlen(request->name), request->value,
                                 strlen(request->value), error, sizeof error)) {
            console_reply_invalid(console, &request->target, error);
            return;
        }
    }
    console_result_begin(console, &request->target);
    for (unsigned i = 0; recovery_config_key(i) != NULL; i++) {
        const char *key = recovery_config_key(i);
        char value[24];
        recovery_config_get(&policy->config, key, value, sizeof value);
        uint64_t number = 0;
        if (all_digits(value) && console_parse_uint(value, UINT32_MAX, &number))
            console_field_uint(console, key, number, NULL);
        else
            console_field_string(console, key, value);
    }
    if (console->host.service != NULL) {
        struct heartbeat_report report;
        memset(&report, 0, sizeof report);
        guest_service_heartbeat_report(console->host.service, &report);
        console_field_uint(console, "heartbeat_failure_interval_ms", report.failure_interval_ms, " ms");
    }
    console_field_uint(console, "restarts_in_window", recovery_restarts_in_window(policy, now_ms(console)), NULL);
    console_field_uint(console, "restarts_total", policy->restarts_total, NULL);
    console_field_bool(console, "held_off", policy->held_off);
    console_result_end(console);
}

/* ---- the audit trail on the console ---- */

static void digest_hex(const struct audit_entry *entry, char out[2 * AUDIT_DIGEST_SIZE + 1])
{
    for (unsigned i = 0; i < AUDIT_DIGEST_SIZE; i++)
        format_string(out + 2 * i, 3, "%02x", entry->arguments_digest[i]);
}

static void audit_entry_json(struct console *console, const struct audit_entry *entry)
{
    struct json_writer *writer = &console->writer;
    char digest[2 * AUDIT_DIGEST_SIZE + 1];
    digest_hex(entry, digest);
    json_writer_object_begin(writer);
    json_writer_key(writer, "seq");
    json_writer_uint(writer, entry->sequence);
    json_writer_key(writer, "time_ms");
    json_writer_uint(writer, entry->time_ms);
    json_writer_key(writer, "origin");
    json_writer_string(writer, audit_origin_name(entry->origin));
    json_writer_key(writer, "request_id");
    if (entry->has_request_id)
        json_writer_uint(writer, entry->request_id);
    else
        json_writer_null(writer);
    json_writer_key(writer, "op");
    json_writer_string(writer, entry->operation);
    json_writer_key(writer, "args_sha256");
    json_writer_string(writer, digest);
    json_writer_key(writer, "status");
    if (entry->completed)
        json_writer_uint(writer, entry->status);
    else
        json_writer_null(writer);
    json_writer_key(writer, "status_name");
    json_writer_string(writer, entry->completed ? console_status_name(entry->status) : "pending");
    json_writer_key(writer, "detail");
    json_writer_string(writer, entry->detail);
    json_writer_object_end(writer);
}

static void audit_entry_human(struct console *console, const struct audit_entry *entry)
{
    char id[24] = "-";
    if (entry->has_request_id)
        format_string(id, sizeof id, "%llu", (unsigned long long)entry->request_id);
    char digest[2 * AUDIT_DIGEST_SIZE + 1];
    digest_hex(entry, digest);
    console_printf(console, "#%llu %llu ms %s id=%s %s args=%s ", (unsigned long long)entry->sequence,
                   (unsigned long long)entry->time_ms, audit_origin_name(entry->origin), id, entry->operation, digest);
    if (entry->completed)
        console_printf(console, "%s", console_status_name(entry->status));
    else
        console_print(console, "pending");
    if (entry->detail[0] != '\0') {
        console_print(console, ": ");
        console_print_sanitized(console, entry->detail, strlen(entry->detail));
    }
    console_print(console, "\n");
}

void console_run_audit(struct console *console, struct console_request *request)
{
    if (!need_life(console, request))
        return;
    const struct audit_log *log = &console->host.life->audit;
    uint64_t count = request->has_number ? request->number : AUDIT_DEFAULT_COUNT;
    uint64_t first = audit_log_oldest(log), end = log->next_sequence;
    if (request->has_since) {
        if (request->since + 1 > first)
            first = request->since + 1;
        if (end - first > count && first < end)
            end = first + count;
    } else if (end - first > count)
        first = end - count;
    bool json = console->mode == CONSOLE_MODE_JSON;
    console_result_begin(console, &request->target);
    console_field_uint(console, "overwritten", log->overwritten, NULL);
    console_field_uint(console, "rate_limited", console->host.life->console_rate.refused, NULL);
    console_field_uint(console, "next", log->next_sequence, NULL);
    if (json) {
        json_writer_key(&console->writer, "entries");
        json_writer_array_begin(&console->writer);
    }
    for (uint64_t sequence = first; sequence < end; sequence++) {
        const struct audit_entry *entry = audit_log_find(log, sequence);
        if (entry == NULL)
            continue;
        if (json)
            audit_entry_json(console, entry);
        else
            audit_entry_human(console, entry);
    }
    if (json)
        json_writer_array_end(&console->writer);
    console_result_end(console);
}

/* ---- status and guest ---- */

void console_lifecycle_fields(struct console *console)
{
    struct guest_life *life = console->host.life;
    if (life == NULL)
        return;
    console_field_uint(console, "boot_count", life->boot_count, NULL);
    if (life->stopped) {
        console_field_string(console, "last_stop_reason", life->last_stop_reason);
        console_field_uint(console, "last_stop_ms", life->last_stop_ms, " ms");
    } else if (console->mode == CONSOLE_MODE_JSON) {
        json_writer_key(&console->writer, "last_stop_reason");
        json_writer_null(&console->writer);
        json_writer_key(&console->writer, "last_stop_ms");
        json_writer_null(&console->writer);
    }
    bool json = console->mode == CONSOLE_MODE_JSON;
    if (json) {
        json_writer_key(&console->writer, "module_sha256");
        json_writer_array_begin(&console->writer);
    }
    for (unsigned i = 0; i < life->module_count; i++) {
        char hex[SHA256_HEX_SIZE] = "";
        if (life->modules[i].measured)
            sha256_to_hex(life->modules[i].digest, hex);
        if (json)
            json_writer_string(&console->writer, life->modules[i].measured ? hex : NULL);
        else
            console_printf(console, "module %u sha256: %s\n", i, life->modules[i].measured ? hex : "not measured");
    }
    if (json)
        json_writer_array_end(&console->writer);
}
