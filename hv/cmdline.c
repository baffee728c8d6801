/*
 * Hypervisor command line parser. See cmdline.h for the grammar.
 *
 * The text comes from the boot loader and may be anything: unterminated,
 * binary, enormous. So tokens are never copied (they are (start, length)
 * views into the caller's bytes), numbers are parsed with explicit bounds, and
 * every message is built in a fixed buffer that truncates with "...".
 */
#include "hv/cmdline.h"

#include "hv/cmdline_internal.h"

#include <stdbool.h>
#include <string.h>

#include "boards/pc/board.h"
#include "drivers/uart16550/uart16550.h"

#define DEFAULT_CONSOLE_PORT BOARD_PC_COM1_PORT
#define DEFAULT_CONSOLE_BAUD BOARD_PC_CONSOLE_BAUD_DEFAULT
/* A UART occupies 8 consecutive ports, so its base can be at most 0xFFF8. */
#define CONSOLE_PORT_MAX 0xFFF8u
#define IO_PORT_MAX 0xFFFFu


static const char *const log_level_names[] = {
    [LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug", [LOG_TRACE] = "trace",
};

static const char *const panic_policy_names[] = {
    [PANIC_HALT] = "halt", [PANIC_POWEROFF] = "poweroff", [PANIC_REBOOT] = "reboot",
};

#define ARRAY_LENGTH(array) (sizeof(array) / sizeof((array)[0]))

const char *log_level_name(enum log_level level)
{
    if ((unsigned)level >= ARRAY_LENGTH(log_level_names))
        return "unknown";
    return log_level_names[level];
}

const char *panic_policy_name(enum panic_policy policy)
{
    if ((unsigned)policy >= ARRAY_LENGTH(panic_policy_names))
        return "unknown";
    return panic_policy_names[policy];
}

void hv_options_set_defaults(struct hv_options *options)
{
    options->console_port = DEFAULT_CONSOLE_PORT;
    options->console_baud = DEFAULT_CONSOLE_BAUD;
    options->log_level = LOG_INFO;
    options->panic = PANIC_HALT;
    options->debug_exit_port = 0;
    options->tick_ms = HV_TICK_MS_DEFAULT;
    options->guest_exit = GUEST_EXIT_POWEROFF;
    options->selftest_stack_overflow = false;
}

/* ---- the parser ---- */

struct parser {
    struct hv_options *options;
    struct cmdline_diagnostics *diagnostics; /* may be NULL */
    unsigned produced;                       /* diagnostics produced, kept or dropped */
    unsigned options_seen;                   /* bit per option_handlers entry */
};

static void report(struct parser *parser, struct message *message)
{
    if (message->truncated) {
        /* The buffer is full: end the visible text with "..." so a reader
         * knows the line was cut rather than malformed. */
        memcpy(&message->text[message->length - 3], "...", 3);
    }
    message->text[message->length] = '\0';
    parser->produced++;

    struct cmdline_diagnostics *diagnostics = parser->diagnostics;
    if (diagnostics == NULL)
        return;
    if (diagnostics->count < CMDLINE_DIAGNOSTIC_MAX)
        memcpy(diagnostics->messages[diagnostics->count++], message->text, message->length + 1);
    else
        diagnostics->dropped++;
}

static void append_keeping_port(struct message *message, uint16_t port)
{
    cmdline_message_append(message, " (keeping ");
    if (port == 0)
        cmdline_message_append(message, "none");
    else
        cmdline_message_append_hex(message, port);
    cmdline_message_append(message, ")");
}

struct named_port {
    const char *name;
    uint16_t port;
};

static const struct named_port console_port_names[] = {
    { "com1", BOARD_PC_COM1_PORT }, { "com2", BOARD_PC_COM2_PORT },
    { "com3", BOARD_PC_COM3_PORT }, { "com4", BOARD_PC_COM4_PORT },
};

static void apply_console_port(struct parser *parser, struct text token, struct text port_text)
{
    for (size_t index = 0; index < ARRAY_LENGTH(console_port_names); index++) {
        if (cmdline_text_equals(port_text, console_port_names[index].name)) {
            parser->options->console_port = console_port_names[index].port;
            return;
        }
    }

    uint32_t port = 0;
    enum number_result result = cmdline_parse_hex(port_text, CONSOLE_PORT_MAX, &port);
    if (result == NUMBER_OK && port != 0) {
        parser->options->console_port = (uint16_t)port;
        return;
    }

    struct message message = { .length = 0 };
    if (result == NUMBER_MALFORMED) {
        cmdline_message_append(&message, "console: bad port ");
        cmdline_message_append_quoted(&message, port_text);
        cmdline_message_append(&message, " in ");
        cmdline_message_append_quoted(&message, token);
    } else {
        cmdline_message_append(&message, "console: port ");
        cmdline_message_append_quoted(&message, port_text);
        cmdline_message_append(&message, " out of range 0x1-0xFFF8");
    }
    append_keeping_port(&message, parser->options->console_port);
    report(parser, &message);
}

static void apply_console_baud(struct parser *parser, struct text token, struct text baud_text)
{
    uint32_t baud = 0;
    enum number_result result = cmdline_parse_decimal(baud_text, UART16550_MAX_BAUD, &baud);
    if (result == NUMBER_OK && uart16550_baud_valid(baud)) {
        parser->options->console_baud = baud;
        return;
    }

    struct message message = { .length = 0 };
    if (result == NUMBER_MALFORMED) {
        cmdline_message_append(&message, "console: bad baud ");
        cmdline_message_append_quoted(&message, baud_text);
        cmdline_message_append(&message, " in ");
        cmdline_message_append_quoted(&message, token);
    } else {
        /* A number, but the divisor latch cannot produce it exactly. */
        cmdline_message_append(&message, "console: unsupported baud ");
        cmdline_message_append_quoted(&message, baud_text);
        cmdline_message_append(&message, " (must divide 115200)");
    }
    cmdline_message_append(&message, " (keeping ");
    cmdline_message_append_decimal(&message, parser->options->console_baud);
    cmdline_message_append(&message, ")");
    report(parser, &message);
}

/* The port and the baud are applied independently: a typo in one should not
 * also throw away a good value for the other. */
static void apply_console(struct parser *parser, struct text token, struct text value)
{
    struct text port_text, baud_text;
    bool has_baud = cmdline_text_split(value, ',', &port_text, &baud_text);
    apply_console_port(parser, token, port_text);
    if (has_baud)
        apply_console_baud(parser, token, baud_text);
}

static void apply_log_level(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    for (size_t index = 0; index < ARRAY_LENGTH(log_level_names); index++) {
        if (cmdline_text_equals(value, log_level_names[index])) {
            parser->options->log_level = (enum log_level)index;
            return;
        }
    }

    uint32_t level = 0;
    enum number_result result = cmdline_parse_decimal(value, LOG_TRACE, &level);
    if (result == NUMBER_OK) {
        parser->options->log_level = (enum log_level)level;
        return;
    }

    struct message message = { .length = 0 };
    if (result == NUMBER_TOO_LARGE) {
        cmdline_message_append(&message, "loglevel: ");
        cmdline_message_append_quoted(&message, value);
        cmdline_message_append(&message, " out of range 0-4");
    } else {
        cmdline_message_append(&message, "loglevel: unknown level ");
        cmdline_message_append_quoted(&message, value);
    }
    cmdline_message_append(&message, " (keeping ");
    cmdline_message_append(&message, log_level_name(parser->options->log_level));
    cmdline_message_append(&message, ")");
    report(parser, &message);
}

static void apply_panic(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    for (size_t index = 0; index < ARRAY_LENGTH(panic_policy_names); index++) {
        if (cmdline_text_equals(value, panic_policy_names[index])) {
            parser->options->panic = (enum panic_policy)index;
            return;
        }
    }

    struct message message = { .length = 0 };
    cmdline_message_append(&message, "panic: unknown policy ");
    cmdline_message_append_quoted(&message, value);
    cmdline_message_append(&message, " (want halt|poweroff|reboot; keeping ");
    cmdline_message_append(&message, panic_policy_name(parser->options->panic));
    cmdline_message_append(&message, ")");
    report(parser, &message);
}

static void apply_debug_exit(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    uint32_t port = 0;
    enum number_result result = cmdline_parse_hex(value, IO_PORT_MAX, &port);
    if (result == NUMBER_OK) {
        parser->options->debug_exit_port = (uint16_t)port;
        return;
    }

    struct message message = { .length = 0 };
    if (result == NUMBER_MALFORMED) {
        cmdline_message_append(&message, "debug_exit: bad port ");
        cmdline_message_append_quoted(&message, value);
        cmdline_message_append(&message, " (want 0xPORT)");
    } else {
        cmdline_message_append(&message, "debug_exit: port ");
        cmdline_message_append_quoted(&message, value);
        cmdline_message_append(&message, " out of range 0x0-0xFFFF");
    }
    append_keeping_port(&message, parser->options->debug_exit_port);
    report(parser, &message);
}

static void apply_tick(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    uint32_t milliseconds = 0;
    enum number_result result = cmdline_parse_decimal(value, HV_TICK_MS_MAX, &milliseconds);
    if (result == NUMBER_OK && milliseconds >= HV_TICK_MS_MIN) {
        parser->options->tick_ms = milliseconds;
        return;
    }

    struct message message = { .length = 0 };
    cmdline_message_append(&message, "tick_ms: ");
    cmdline_message_append_quoted(&message, value);
    cmdline_message_append(&message, result == NUMBER_MALFORMED ? " is not a number" : " out of range 1-1000");
    cmdline_message_append(&message, " (keeping ");
    cmdline_message_append_decimal(&message, parser->options->tick_ms);
    cmdline_message_append(&message, ")");
    report(parser, &message);
}

static const char *const guest_exit_policy_names[] = { "poweroff", "console" };

const char *guest_exit_policy_name(enum guest_exit_policy policy)
{
    return (size_t)policy < ARRAY_LENGTH(guest_exit_policy_names) ? guest_exit_policy_names[policy] : "unknown";
}

static void apply_guest_exit(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    for (size_t index = 0; index < ARRAY_LENGTH(guest_exit_policy_names); index++) {
        if (cmdline_text_equals(value, guest_exit_policy_names[index])) {
            parser->options->guest_exit = (enum guest_exit_policy)index;
            return;
        }
    }
    struct message message = { .length = 0 };
    cmdline_message_append(&message, "guest_exit: unknown policy ");
    cmdline_message_append_quoted(&message, value);
    cmdline_message_append(&message, " (want poweroff|console; keeping ");
    cmdline_message_append(&message, guest_exit_policy_name(parser->options->guest_exit));
    cmdline_message_append(&message, ")");
    report(parser, &message);
}

/* selftest=stack-overflow: for the test suite only (tests/integration/
 * hostile-memory.cmake), proves that the boot stack's guard page catches an
 * overflow with a clear report. */
static void apply_selftest(struct parser *parser, struct text token, struct text value)
{
    (void)token;
    if (cmdline_text_equals(value, "stack-overflow")) {
        parser->options->selftest_stack_overflow = true;
        return;
    }
    struct message message = { .length = 0 };
    cmdline_message_append(&message, "selftest: unknown test ");
    cmdline_message_append_quoted(&message, value);
    cmdline_message_append(&message, " (want stack-overflow)");
    report(parser, &message);
}

struct option_handler {
    const char *name;
    void (*apply)(struct parser *parser, struct text token, struct text value);
};

static const struct option_handler option_handlers[] = {
    { "console", apply_console },
    { "loglevel", apply_log_level },
    { "panic", apply_panic },
    { "debug_exit", apply_debug_exit },
    { "tick_ms", apply_tick },
    { "guest_exit", apply_guest_exit },
    { "selftest", apply_selftest },
};

static void report_token(struct parser *parser, const char *before, struct text token,
                         const char *after)
{
    struct message message = { .length = 0 };
    cmdline_message_append(&message, before);
    cmdline_message_append_quoted(&message, token);
    cmdline_message_append(&message, after);
    report(parser, &message);
}

static void parse_option(struct parser *parser, struct text token)
{
    struct text name, value;
    bool has_value = cmdline_text_split(token, '=', &name, &value);

    for (size_t index = 0; index < ARRAY_LENGTH(option_handlers); index++) {
        const struct option_handler *handler = &option_handlers[index];
        if (!cmdline_text_equals(name, handler->name))
            continue;

        unsigned bit = 1u << index;
        if (parser->options_seen & bit) {
            struct message message = { .length = 0 };
            cmdline_message_append(&message, "option '");
            cmdline_message_append(&message, handler->name);
            cmdline_message_append(&message, "' given twice (last one wins)");
            report(parser, &message);
        }
        parser->options_seen |= bit;

        if (!has_value || value.length == 0) {
            struct message message = { .length = 0 };
            cmdline_message_append(&message, handler->name);
            cmdline_message_append(&message, ": empty value in ");
            cmdline_message_append_quoted(&message, token);
            cmdline_message_append(&message, " (ignored)");
            report(parser, &message);
            return;
        }
        handler->apply(parser, token, value);
        return;
    }
    report_token(parser, "unknown option ", token, " (ignored)");
}

unsigned cmdline_parse(const char *text, size_t max_length, struct hv_options *options,
                       struct cmdline_diagnostics *diagnostics)
{
    hv_options_set_defaults(options);
    if (diagnostics != NULL)
        memset(diagnostics, 0, sizeof(*diagnostics));
    if (text == NULL)
        return 0;

    struct parser parser = { .options = options, .diagnostics = diagnostics };
    bool first_token = true;
    size_t position = 0;
    while (position < max_length && text[position] != '\0') {
        if (cmdline_is_separator((unsigned char)text[position])) {
            position++;
            continue;
        }

        size_t start = position;
        bool all_printable = true;
        while (position < max_length && text[position] != '\0' &&
               !cmdline_is_separator((unsigned char)text[position])) {
            if (!cmdline_is_printable((unsigned char)text[position]))
                all_printable = false;
            position++;
        }
        struct text token = { text + start, position - start };

        if (!all_printable) {
            /* Likely line noise or a corrupted boot loader string: say so
             * rather than guessing what an option with binary in it meant. */
            report_token(&parser, "non-printable byte in ", token, " (ignored)");
        } else if (first_token && !cmdline_text_contains(token, '=')) {
            /* The kernel image path (GRUB multiboot1, QEMU -kernel). */
        } else {
            parse_option(&parser, token);
        }
        first_token = false;
    }
    return parser.produced;
}
