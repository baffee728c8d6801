/* Shared by the files of hv/console/: the console's state, a parsed request and
 * the output helpers. Not for use outside hv/console/ (and its tests). */
#ifndef VIGIL_HV_CONSOLE_CONSOLE_INTERNAL_H
#define VIGIL_HV_CONSOLE_CONSOLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"
#include "hv/console/console.h"
#include "hv/console/json_reader.h"
#include "hv/console/json_writer.h"
#include "hv/console/line_editor.h"

#define CONSOLE_PROMPT "vigil> "
#define CONSOLE_ARGUMENTS_MAX VIGIL_EXECUTE_ARGUMENTS_MAX /* argv and env, each */
#define CONSOLE_REQUESTS_MAX 10u          /* asynchronous requests in flight */
#define CONSOLE_STREAM_PIECE 384u         /* JSON mode: raw exec output bytes per stream line, at most
                                             (512 base64 characters; a multiple of 3: no padding mid-stream) */
#define CONSOLE_HUMAN_LINE_MAX 200u       /* human mode: output line assembly per stream */
#define CONSOLE_TIMEOUT_SECONDS_MAX 4294967u /* fits uint32_t milliseconds */
#define CONSOLE_JSON_ID_MAX 9007199254740991ull /* 2^53 - 1: exact in every JSON reader */

enum console_command_id {
    COMMAND_HELP = 0,
    COMMAND_STATUS,
    COMMAND_GUEST,
    COMMAND_HEARTBEAT,
    COMMAND_EXEC,
    COMMAND_KILL,
    COMMAND_SHUTDOWN,
    COMMAND_PARAM,
    COMMAND_TIMESYNC,
    COMMAND_ADDITIONS,
    COMMAND_STATS,
    COMMAND_LOG,
    COMMAND_MODE,
    COMMAND_PING,
    COMMAND_POWEROFF,
    COMMAND_POLICY,
    COMMAND_AUDIT,
    COMMAND_ALLOWLIST,
    COMMAND_COUNT,
};

enum console_action {
    ACTION_NONE = 0,
    ACTION_GET,
    ACTION_SET,
    ACTION_LIST,
    ACTION_ON,
    ACTION_OFF,
    ACTION_STATUS,
    ACTION_INSTALL,
    ACTION_ADD,
    ACTION_LOCK,
};

/* Who a reply goes to: a JSON id (or null), or a human-mode request number. */
struct console_target {
    bool has_id;
    uint64_t id;
};

/* One parsed request, from a human line or a JSON object. Strings point into arena. */
struct console_request {
    enum console_command_id command;
    enum console_action action;
    struct console_target target;
    /* exec */
    unsigned argc, env_count;
    const char *argv[CONSOLE_ARGUMENTS_MAX];
    const char *env[CONSOLE_ARGUMENTS_MAX];
    const char *cwd;
    uint32_t timeout_ms;
    /* shutdown, poweroff */
    bool force, reboot;
    const char *reason;
    /* param get/set, help CMD */
    const char *name, *value;
    /* heartbeat interval (ms), kill ID, log level, audit: how many entries */
    bool has_number;
    uint64_t number;
    /* audit: entries after this sequence */
    bool has_since;
    uint64_t since;
    enum console_mode mode;
    size_t arena_used;
    char arena[CONSOLE_LINE_MAX + 2];
};

/* An asynchronous request: accepted by the guest service, awaiting its callbacks. */
struct console_slot {
    bool active;
    bool service_id_known;
    uint32_t service_request_id;
    uint64_t sequence;                    /* submission order (kill without ID: the latest) */
    uint64_t audit_sequence;              /* its audit entry, completed with the final status */
    struct console *console;
    struct guest_service_callbacks callbacks;
    uint64_t names;                       /* param list: names received */
    char line[2][CONSOLE_HUMAN_LINE_MAX]; /* human: a partial output line per stream */
    size_t line_length[2];
    struct console_request request;       /* kept: the service may refer to its strings */
};

struct console {
    struct console_host host;
    enum console_mode mode;
    bool prompt_visible;
    uint64_t next_number;                 /* human-mode request numbers */
    uint64_t next_sequence;
    uint64_t audit_current;               /* the synchronous request's audit entry, 0 once completed */
    struct line_editor editor;
    struct json_writer writer;
    char writer_buffer[256];
    struct console_request scratch;       /* when no slot is free */
    struct json_document document;        /* the JSON request being parsed */
    struct console_slot slots[CONSOLE_REQUESTS_MAX];
};

/* ---- output.c: bytes, prompt, replies in both modes */
void console_write(struct console *console, const char *data, size_t length);
void console_print(struct console *console, const char *text);
void console_printf(struct console *console, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Human mode: text with control characters shown as \xNN (guest-provided strings). */
void console_print_sanitized(struct console *console, const char *text, size_t length);
void console_prompt(struct console *console);
/* Before output that is not an answer to the line just typed (callbacks, events). */
void console_async_begin(struct console *console);
/* JSON mode lines: begin writes '{' and the "id" member (if target != NULL). */
void console_json_begin(struct console *console, const struct console_target *target);
void console_json_end(struct console *console);
/* Result replies: human "key with spaces: value" lines; JSON {"id","status":0,...,"result":{...}}. */
void console_result_begin(struct console *console, const struct console_target *target);
void console_result_end(struct console *console);
void console_field_string(struct console *console, const char *key, const char *value);
void console_field_uint(struct console *console, const char *key, uint64_t value, const char *unit);
void console_field_bool(struct console *console, const char *key, bool value);
/* A property that could not be read: JSON null; human "key: unavailable (NAME)". */
void console_field_unavailable(struct console *console, const char *key, uint32_t status);
/* A success without a result (human: text, if not NULL). */
void console_reply_ok(struct console *console, const struct console_target *target, const char *human_text);
/* An HRESULT error: human "error: NAME (0x%08X): sentence"; JSON with message. */
void console_reply_status(struct console *console, const struct console_target *target, uint32_t status);
/* A refusal with its own explanation: human "error: NAME (0x%08X): text"; JSON status and message text. */
void console_reply_refused(struct console *console, const struct console_target *target, uint32_t status,
                           const char *text);
/* Bad input: human "error: text" (or the text itself if it starts with "usage:"); JSON E_INVALIDARG. */
void console_reply_invalid(struct console *console, const struct console_target *target, const char *text);
const char *console_status_name(uint32_t status);

/* ---- commands.c */
struct console_command {
    const char *name;
    const char *usage;
    const char *summary;
    bool needs_service;
};
extern const struct console_command console_commands[COMMAND_COUNT];
int console_command_lookup(const char *name); /* enum console_command_id or -1 */
/* Runs a parsed request. slot: the free slot the request was parsed into (an
 * asynchronous command takes it), or NULL if none was free (request is scratch). */
void console_run(struct console *console, struct console_slot *slot, struct console_request *request);

/* ---- commands_lifecycle.c: policy, audit, allowlist; the exec allow-list check;
 * the audit trail of every request (docs/lifecycle.md) */
void console_run_policy(struct console *console, struct console_request *request);
void console_run_audit(struct console *console, struct console_request *request);
void console_run_allowlist(struct console *console, struct console_request *request);
/* status/guest: boot count, last stop, module digests (nothing without host.life). */
void console_lifecycle_fields(struct console *console);
/* False after replying E_ACCESSDENIED (and auditing why) if the program is not allowed. */
bool console_exec_allowed(struct console *console, struct console_request *request);
/* Opens the audit entry of a parsed request (console->audit_current). */
void console_audit_begin(struct console *console, struct console_request *request, const char *line, size_t length);
/* Completes console->audit_current, if open, with status. */
void console_audit_finish(struct console *console, uint32_t status, const char *detail);
/* A line that did not parse: one audit entry, already complete. */
void console_audit_invalid(struct console *console, const struct console_request *request, const char *line,
                           size_t length);

/* ---- parse_human.c / parse_json.c: fill request; false after replying with the
 * error (or, for a blank human line, without any reply). */
#define CONSOLE_TOKENS_MAX 200u
bool console_parse_uint(const char *text, uint64_t max, uint64_t *out); /* decimal digits only */
bool console_parse_human(struct console *console, const char *line, size_t length, struct console_request *request);
bool console_parse_json(struct console *console, const char *line, size_t length, struct console_request *request);

/* ---- pending.c */
/* Submits slot->request (an asynchronous command) to the guest service, or
 * replies with the refusal. */
void console_submit(struct console *console, struct console_slot *slot);
/* A free slot to parse the next request into (not yet active), or NULL. */
struct console_slot *console_slot_free(struct console *console);
struct console_slot *console_slot_find_exec(struct console *console, bool any, uint64_t id);

/* The singleton (console.c). */
struct console *console_instance(void);

#endif
