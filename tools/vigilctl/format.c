/* vigilctl: output formatting (see cli.h). */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

void vctl_print_sanitized(FILE *out, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

void vctl_format_duration_ms(char *out, size_t size, uint64_t ms)
{
    if (ms < 1000) {
        snprintf(out, size, "%" PRIu64 " ms", ms);
        return;
    }
    uint64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, size, "%" PRIu64 ".%01" PRIu64 " s", s, (ms % 1000) / 100);
    else if (s < 3600)
        snprintf(out, size, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, size, "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m", s / 86400, s / 3600 % 24, s / 60 % 60);
}

/* ---- Human output: "label: value" lines ------------------------------------------ */

static void label(FILE *out, const char *text) { fprintf(out, "%-22s ", text); }

static void field_string(FILE *out, const json_t *result, const char *key, const char *text)
{
    size_t length = 0;
    const char *value = vj_get_string(result, key, &length);
    label(out, text);
    if (value != NULL)
        vctl_print_sanitized(out, value, length);
    else
        fputs("unavailable", out);
    fputc('\n', out);
}

static void field_bool(FILE *out, const json_t *result, const char *key, const char *text, const char *yes,
                       const char *no)
{
    bool value;
    label(out, text);
    fputs(vj_get_bool(result, key, &value) ? (value ? yes : no) : "unavailable", out);
    fputc('\n', out);
}

static void field_uint(FILE *out, const json_t *result, const char *key, const char *text,
                       const char *unit)
{
    uint64_t n;
    label(out, text);
    if (vj_get_u64(result, key, &n))
        fprintf(out, "%" PRIu64 "%s\n", n, unit != NULL ? unit : "");
    else
        fputs("unavailable\n", out);
}

static void field_ms(FILE *out, const json_t *result, const char *key, const char *text, const char *never)
{
    uint64_t n;
    char d[64];
    label(out, text);
    if (vj_get_u64(result, key, &n)) {
        vctl_format_duration_ms(d, sizeof d, n);
        fprintf(out, "%s\n", d);
    } else
        fprintf(out, "%s\n", json_is_null(vj_get(result, key)) && never != NULL ? never : "unavailable");
}

void vctl_print_status(FILE *out, const json_t *r)
{
    field_string(out, r, "hypervisor", "hypervisor:");
    field_ms(out, r, "uptime_ms", "uptime:", NULL);
    field_bool(out, r, "guest_running", "guest running:", "yes", "no");
    field_bool(out, r, "additions_registered", "additions registered:", "yes", "no");
    field_string(out, r, "additions_version", "additions version:");
    field_string(out, r, "os_name", "os name:");
    field_string(out, r, "computer_name", "computer name:");
    field_uint(out, r, "heartbeat_percentage", "heartbeat:", "% (last 60 s)");
    field_bool(out, r, "is_heartbeating", "heartbeating:", "yes", "no");
    field_bool(out, r, "time_sync", "time sync:", "on", "off");
}

void vctl_print_info(FILE *out, const json_t *r)
{
    field_string(out, r, "additions_version", "AdditionsVersion:");
    field_string(out, r, "os_name", "OSName:");
    field_string(out, r, "computer_name", "ComputerName:");
    field_bool(out, r, "can_shutdown", "CanShutdown:", "true", "false");
    field_uint(out, r, "heartbeat_percentage", "HeartbeatPercentage:", "");
    field_bool(out, r, "is_heartbeating", "IsHeartbeating:", "true", "false");
    field_bool(out, r, "time_sync", "IsHostTimeSyncEnabled:", "true", "false");
}

void vctl_print_heartbeat(FILE *out, const json_t *r)
{
    field_string(out, r, "state", "state:");
    field_bool(out, r, "heartbeating", "IsHeartbeating:", "true", "false");
    field_uint(out, r, "percentage", "HeartbeatPercentage:", "% (last 60 s)");
    field_uint(out, r, "percentage_1_minute", "1 minute:", "%");
    field_uint(out, r, "percentage_5_minutes", "5 minutes:", "%");
    field_uint(out, r, "percentage_15_minutes", "15 minutes:", "%");
    field_ms(out, r, "period_ms", "declared period:", NULL);
    field_ms(out, r, "failure_interval_ms", "failure interval:", NULL);
    field_ms(out, r, "last_beat_age_ms", "last beat:", "never");
    field_ms(out, r, "longest_gap_ms", "longest gap:", NULL);
    field_uint(out, r, "beats_total", "beats:", NULL);
    uint64_t back = 0, jumps = 0;
    vj_get_u64(r, "anomalies_backwards", &back);
    vj_get_u64(r, "anomalies_jumps", &jumps);
    label(out, "anomalies:");
    fprintf(out, "%" PRIu64 " backwards, %" PRIu64 " jumps\n", back, jumps);
}

/* "  NAME                       COUNT" for each member of a counters object. */
static uint64_t print_counters(FILE *out, const json_t *counters)
{
    uint64_t total = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)counters, key, value) { /* jansson iterates without modifying */
        uint64_t n = 0;
        vj_as_u64(value, &n);
        total += n;
        size_t length = strlen(key);
        fputs("  ", out);
        vctl_print_sanitized(out, key, length);
        fprintf(out, "%*s %12" PRIu64 "\n", length < 24 ? (int)(24 - length) : 0, "", n);
    }
    return total;
}

void vctl_print_stats(FILE *out, const json_t *r)
{
    const json_t *exits = vj_get(r, "exits");
    fputs("VM exits:\n", out);
    uint64_t total = json_is_object(exits) ? print_counters(out, exits) : 0;
    if (vj_get(exits, "total") == NULL)
        fprintf(out, "  %-24s %12" PRIu64 "\n", "total", total);
    fputs("guest service:\n", out);
    const json_t *service = vj_get(r, "service");
    if (json_is_object(service))
        print_counters(out, service);
}

/* ---- Errors ---------------------------------------------------------------------- */

/* {"error":{"kind":KIND,"command":COMMAND,...}} as one line. */
static void print_json_error(FILE *out, json_t *error)
{
    json_t *line = json_pack("{s:o}", "error", error);
    if (line != NULL)
        vj_fprint(out, line);
    fputc('\n', out);
    json_decref(line);
}

void vctl_print_status_error(FILE *out, bool json, const char *command, uint32_t status, const char *name,
                             const char *message)
{
    char hex[16];
    snprintf(hex, sizeof hex, "0x%08X", status);
    if (json) {
        print_json_error(out, json_pack("{s:s,s:s?,s:I,s:s,s:s?,s:s?}", "kind", "status", "command", command,
                                        "status", (json_int_t)status, "status_hex", hex, "status_name", name,
                                        "message", message));
        return;
    }
    fprintf(out, "vigilctl: %s (%s): %s\n", name, hex, message);
}

void vctl_print_error(FILE *out, bool json, const char *command, const char *kind, const char *message)
{
    if (json) {
        print_json_error(out, json_pack("{s:s?,s:s?,s:s?}", "kind", kind, "command", command, "message", message));
        return;
    }
    fprintf(out, "vigilctl: %s%s%s\n", command != NULL ? command : "", command != NULL ? ": " : "", message);
}

/* ---- Sparkline ------------------------------------------------------------------- */

void vctl_sparkline(char *out, size_t size, const int *values, size_t count, int max)
{
    static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    if (size == 0)
        return;
    out[0] = '\0';
    if (max <= 0)
        for (size_t i = 0; i < count; i++)
            if (values[i] > max)
                max = values[i];
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        const char *glyph;
        if (values[i] < 0)
            glyph = " ";
        else {
            int level = max > 0 ? (int)((long)values[i] * 7 / max) : 0;
            if (level > 7)
                level = 7;
            if (level < 0)
                level = 0;
            glyph = blocks[level];
        }
        size_t n = strlen(glyph);
        if (o + n + 1 > size)
            break;
        memcpy(out + o, glyph, n);
        o += n;
        out[o] = '\0';
    }
}

/* ---- Prometheus ------------------------------------------------------------------ */

struct labels {
    const char *const *pairs;
    size_t count;
};

static void escape_label_value(FILE *out, const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '\\')
            fputs("\\\\", out);
        else if (c == '"')
            fputs("\\\"", out);
        else if (c == '\n')
            fputs("\\n", out);
        else
            fputc(c, out);
    }
}

static bool label_name_ok(const char *name, size_t n)
{
    if (n == 0 || (n >= 2 && name[0] == '_' && name[1] == '_'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* name{extra="value",labels...} */
static void sample_labels(FILE *out, const struct labels *l, const char *extra_name, const char *extra_value,
                          size_t extra_length)
{
    bool any = extra_name != NULL || l->count > 0;
    if (!any)
        return;
    fputc('{', out);
    bool first = true;
    if (extra_name != NULL) {
        fprintf(out, "%s=\"", extra_name);
        escape_label_value(out, extra_value, extra_length);
        fputc('"', out);
        first = false;
    }
    for (size_t i = 0; i < l->count; i++) {
        const char *eq = strchr(l->pairs[i], '=');
        if (!first)
            fputc(',', out);
        first = false;
        fprintf(out, "%.*s=\"", (int)(eq - l->pairs[i]), l->pairs[i]);
        escape_label_value(out, eq + 1, strlen(eq + 1));
        fputc('"', out);
    }
    fputc('}', out);
}

static void header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *out, const struct labels *l, const char *name, const char *extra_name,
                   const char *extra_value, double value)
{
    fputs(name, out);
    sample_labels(out, l, extra_name, extra_value, extra_value != NULL ? strlen(extra_value) : 0);
    if (value == (double)(uint64_t)value && value < 1e15)
        fprintf(out, " %" PRIu64 "\n", (uint64_t)value);
    else
        fprintf(out, " %.3f\n", value);
}

static void gauge_u64(FILE *out, const struct labels *l, const char *name, const char *help,
                      const json_t *object, const char *key, double scale)
{
    uint64_t n;
    if (!vj_get_u64(object, key, &n))
        return;
    header(out, name, "gauge", help);
    sample(out, l, name, NULL, NULL, (double)n * scale);
}

static void gauge_bool(FILE *out, const struct labels *l, const char *name, const char *help,
                       const json_t *object, const char *key)
{
    bool b;
    if (!vj_get_bool(object, key, &b))
        return;
    header(out, name, "gauge", help);
    sample(out, l, name, NULL, NULL, b ? 1 : 0);
}

bool vctl_print_metrics(FILE *out, bool up, const json_t *status, const json_t *hb,
                        const json_t *stats, const char *const *pairs, size_t label_count)
{
    for (size_t i = 0; i < label_count; i++) {
        const char *eq = strchr(pairs[i], '=');
        if (eq == NULL || !label_name_ok(pairs[i], (size_t)(eq - pairs[i])))
            return false;
    }
    struct labels l = {pairs, label_count};
    header(out, "vigil_up", "gauge", "Whether vigil's console answered vigilctl (1) or not (0).");
    sample(out, &l, "vigil_up", NULL, NULL, up ? 1 : 0);
    if (status != NULL) {
        const char *keys[] = {"hypervisor", "additions_version", "os_name", "computer_name"};
        header(out, "vigil_info", "gauge", "Hypervisor and guest Additions identity (always 1).");
        fputs("vigil_info{", out);
        bool first = true;
        for (size_t i = 0; i < 4; i++) {
            size_t n = 0;
            const char *v = vj_get_string(status, keys[i], &n);
            if (v == NULL)
                continue;
            fprintf(out, "%s%s=\"", first ? "" : ",", keys[i]);
            escape_label_value(out, v, n);
            fputc('"', out);
            first = false;
        }
        for (size_t i = 0; i < label_count; i++) {
            const char *eq = strchr(pairs[i], '=');
            fprintf(out, "%s%.*s=\"", first ? "" : ",", (int)(eq - pairs[i]), pairs[i]);
            escape_label_value(out, eq + 1, strlen(eq + 1));
            fputc('"', out);
            first = false;
        }
        fputs("} 1\n", out);
        gauge_u64(out, &l, "vigil_uptime_seconds", "Time since the hypervisor booted.", status, "uptime_ms", 0.001);
        gauge_bool(out, &l, "vigil_guest_running", "Whether the guest is running.", status, "guest_running");
        gauge_bool(out, &l, "vigil_additions_registered", "Whether the guest Additions registered.", status,
                   "additions_registered");
        gauge_bool(out, &l, "vigil_time_sync_enabled", "IsHostTimeSyncEnabled.", status, "time_sync");
    }
    if (hb != NULL) {
        gauge_bool(out, &l, "vigil_heartbeating", "IsHeartbeating: a beat within the failure interval.", hb,
                   "heartbeating");
        const char *windows[][2] = {{"percentage", "60s"},
                                    {"percentage_1_minute", "1m"},
                                    {"percentage_5_minutes", "5m"},
                                    {"percentage_15_minutes", "15m"}};
        header(out, "vigil_heartbeat_percentage", "gauge",
               "HeartbeatPercentage: beats seen as a percentage of those expected, per window.");
        for (size_t i = 0; i < 4; i++) {
            uint64_t n;
            if (vj_get_u64(hb, windows[i][0], &n))
                sample(out, &l, "vigil_heartbeat_percentage", "window", windows[i][1], (double)n);
        }
        gauge_u64(out, &l, "vigil_heartbeat_period_seconds", "The beat period the guest declared.", hb, "period_ms",
                  0.001);
        gauge_u64(out, &l, "vigil_heartbeat_failure_interval_seconds",
                  "No beat for this long makes IsHeartbeating false.", hb, "failure_interval_ms", 0.001);
        gauge_u64(out, &l, "vigil_heartbeat_last_beat_age_seconds", "Time since the last beat (absent: never).", hb,
                  "last_beat_age_ms", 0.001);
        gauge_u64(out, &l, "vigil_heartbeat_longest_gap_seconds", "The longest time between two beats.", hb,
                  "longest_gap_ms", 0.001);
        uint64_t n;
        if (vj_get_u64(hb, "beats_total", &n)) {
            header(out, "vigil_heartbeat_beats_total", "counter", "Heartbeats seen.");
            sample(out, &l, "vigil_heartbeat_beats_total", NULL, NULL, (double)n);
        }
        uint64_t back = 0, jumps = 0;
        if (vj_get_u64(hb, "anomalies_backwards", &back) && vj_get_u64(hb, "anomalies_jumps", &jumps)) {
            header(out, "vigil_heartbeat_anomalies_total", "counter",
                   "Heartbeat counter anomalies (went backwards, jumped absurdly).");
            sample(out, &l, "vigil_heartbeat_anomalies_total", "kind", "backwards", (double)back);
            sample(out, &l, "vigil_heartbeat_anomalies_total", "kind", "jump", (double)jumps);
        }
    }
    const char *key;
    json_t *value;
    const json_t *exits = vj_get(stats, "exits");
    if (json_is_object(exits)) {
        header(out, "vigil_vm_exits_total", "counter", "VM exits handled, by exit reason.");
        json_object_foreach((json_t *)exits, key, value) {
            uint64_t n;
            if (!vj_as_u64(value, &n) || strcmp(key, "total") == 0)
                continue; /* the sum of the others: sum() in PromQL */
            fputs("vigil_vm_exits_total", out);
            sample_labels(out, &l, "reason", key, strlen(key));
            fprintf(out, " %" PRIu64 "\n", n);
        }
    }
    const json_t *service = vj_get(stats, "service");
    if (json_is_object(service)) {
        json_object_foreach((json_t *)service, key, value) {
            uint64_t n;
            if (!vj_as_u64(value, &n) || !label_name_ok(key, strlen(key)))
                continue;
            char name[128];
            snprintf(name, sizeof name, "vigil_service_%s_total", key);
            char help[192];
            snprintf(help, sizeof help, "Guest service counter '%s' (operations, doorbells, chunks).", key);
            header(out, name, "counter", help);
            sample(out, &l, name, NULL, NULL, (double)n);
        }
    }
    return true;
}
