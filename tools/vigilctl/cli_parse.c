/*
 * vigilctl: parsing the command line with getopt_long (see cli.h).
 *
 *   vigilctl [GLOBAL OPTIONS] COMMAND [COMMAND OPTIONS] [ARGUMENTS]
 *
 * Two getopt_long passes, both stopping at the first argument that is not an
 * option ('+'): the global options up to the command's name, then the command's
 * own options (a table per command) up to its arguments. So a program run by exec
 * keeps its options (exec ls -l) and a parameter value may start with '-'
 * (param set k -1). getopt's own messages are off (opterr = 0): errors are ours,
 * in vigilctl's words, and the caller exits with status 2.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vctl_client.h" /* VCTL_TICK_MS_DEFAULT */

#define POSITIONAL_MAX 4 /* param set NAME VALUE: the most a command takes (but exec) */

/* Long options without a short form. */
enum {
    OPT_PACE_MS = 1000,
    OPT_TICK_MS,
    OPT_CWD,
    OPT_TIMEOUT,
    OPT_GRAPH,
    OPT_INTERVAL,
    OPT_DURATION,
    OPT_FAILURE_INTERVAL,
    OPT_REASON,
};

static const struct option global_options[] = {
    {"port", required_argument, NULL, 'p'},        {"baud", required_argument, NULL, 'b'},
    {"json", no_argument, NULL, 'j'},              {"timeout", required_argument, NULL, 't'},
    {"pace-ms", required_argument, NULL, OPT_PACE_MS}, {"tick-ms", required_argument, NULL, OPT_TICK_MS},
    {"verbose", no_argument, NULL, 'v'},           {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},           {NULL, 0, NULL, 0},
};

#define HELP_OPTION {"help", no_argument, NULL, 'h'}
#define END_OPTIONS {NULL, 0, NULL, 0}
static const struct option exec_options[] = {
    {"cwd", required_argument, NULL, OPT_CWD}, {"env", required_argument, NULL, 'e'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT}, HELP_OPTION, END_OPTIONS,
};
static const struct option heartbeat_options[] = {
    {"graph", no_argument, NULL, OPT_GRAPH}, {"interval", required_argument, NULL, OPT_INTERVAL},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"failure-interval", required_argument, NULL, OPT_FAILURE_INTERVAL}, HELP_OPTION, END_OPTIONS,
};
static const struct option watch_options[] = {
    {"interval", required_argument, NULL, OPT_INTERVAL}, {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, 'n'}, HELP_OPTION, END_OPTIONS,
};
static const struct option shutdown_options[] = {
    {"force", no_argument, NULL, 'f'}, {"reboot", no_argument, NULL, 'r'}, {"wait", no_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"reason", required_argument, NULL, OPT_REASON},
    HELP_OPTION, END_OPTIONS,
};
static const struct option poweroff_options[] = {{"reboot", no_argument, NULL, 'r'}, HELP_OPTION, END_OPTIONS};
static const struct option metrics_options[] = {{"label", required_argument, NULL, 'l'}, HELP_OPTION, END_OPTIONS};
static const struct option help_only_options[] = {HELP_OPTION, END_OPTIONS};

/* "+": stop at the first argument that is not an option; ":": report a missing value as ':'. */
static const struct {
    const char *short_options;
    const struct option *long_options;
} command_options[VCTL_CMD_COUNT] = {
    [VCTL_CMD_EXEC] = {"+:e:h", exec_options},
    [VCTL_CMD_HEARTBEAT] = {"+:h", heartbeat_options},
    [VCTL_CMD_WATCH] = {"+:n:h", watch_options},
    [VCTL_CMD_SHUTDOWN] = {"+:frwh", shutdown_options},
    [VCTL_CMD_POWEROFF] = {"+:rh", poweroff_options},
    [VCTL_CMD_METRICS] = {"+:l:h", metrics_options},
};

struct parser {
    char *error;
    size_t size;
};

static int usage_error(struct parser *p, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(struct parser *p, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(p->error, p->size, format, args);
    va_end(args);
    return VCTL_PARSE_ERROR;
}

static bool parse_seconds(const char *text, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' || errno != 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* Text that goes into a JSON request must be UTF-8: jansson's json_string checks it. */
static bool is_utf8(const char *text)
{
    json_t *string = json_string(text);
    json_decref(string);
    return string != NULL;
}

static int not_utf8(struct parser *p, const char *what)
{
    return usage_error(p, "%s is not valid UTF-8 text", what);
}

/* The option getopt_long just refused (c is '?' or ':'), as the user wrote it: a
 * long one as typed (without "=VALUE"), a short one as "-x", or as its long name
 * when its value is missing ("--timeout needs a value" for -t). */
static void refused_option(int c, char **argv, const struct option *options, char *out, size_t size)
{
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) == 0) {
        size_t n = strcspn(arg, "=");
        snprintf(out, size, "%.*s", (int)(n < 64 ? n : 64), arg);
        return;
    }
    for (const struct option *o = options; c == ':' && o->name != NULL; o++)
        if (o->val == optopt) {
            snprintf(out, size, "--%s", o->name);
            return;
        }
    snprintf(out, size, "-%c", optopt);
}

static int option_error(struct parser *p, int c, char **argv, const struct option *options, const char *command)
{
    char option[80];
    refused_option(c, argv, options, option, sizeof option);
    if (c == ':')
        return usage_error(p, "%s needs a value", option);
    if (command == NULL)
        return usage_error(p, "unknown option '%s' (vigilctl --help)", option);
    if (strcmp(command, "exec") == 0)
        return usage_error(p, "exec: unknown option '%s' (put '--' before the program)", option);
    return usage_error(p, "%s: unknown option '%s' (vigilctl %s --help)", command, option, command);
}

/* One command option (getopt_long's c and optarg) into cli. */
static int take_command_option(struct parser *p, struct vctl_cli *cli, int c, const char *value)
{
    const char *name = vctl_command_name(cli->command);
    uint64_t n;
    if (value != NULL && !is_utf8(value))
        return not_utf8(p, "an option's value");
    switch (c) {
    case OPT_CWD:
        if (value[0] == '\0')
            return usage_error(p, "exec: --cwd must not be empty");
        cli->cwd = value;
        return VCTL_PARSE_OK;
    case 'e':
        if (strchr(value, '=') == NULL || value[0] == '=')
            return usage_error(p, "exec: --env wants NAME=VALUE, not '%s'", value);
        if (cli->env_count >= VCTL_ENV_MAX)
            return usage_error(p, "exec: at most %d --env", VCTL_ENV_MAX);
        cli->env[cli->env_count++] = value;
        return VCTL_PARSE_OK;
    case OPT_TIMEOUT: /* exec, shutdown */
        if (!parse_uint(value, 4294967, &n))
            return usage_error(p, "%s: bad --timeout '%s' (whole seconds, 0..4294967)", name, value);
        if (cli->command == VCTL_CMD_EXEC) {
            cli->exec_timeout_set = true;
            cli->exec_timeout_s = (uint32_t)n;
        } else {
            cli->shutdown_timeout_set = true;
            cli->shutdown_timeout_s = (uint32_t)n;
        }
        return VCTL_PARSE_OK;
    case OPT_GRAPH: cli->graph = true; return VCTL_PARSE_OK;
    case OPT_INTERVAL:
        if (!parse_seconds(value, 3600, &cli->interval_s) || cli->interval_s < 0.05)
            return usage_error(p, "%s: bad --interval '%s' (seconds, 0.05..3600)", name, value);
        return VCTL_PARSE_OK;
    case OPT_DURATION:
        if (!parse_seconds(value, 1e7, &cli->duration_s))
            return usage_error(p, "%s: bad --duration '%s' (seconds)", name, value);
        return VCTL_PARSE_OK;
    case 'n':
        if (!parse_uint(value, 1000000000, &n) || n == 0)
            return usage_error(p, "watch: bad --count '%s' (1 or more)", value);
        cli->count = (long)n;
        return VCTL_PARSE_OK;
    case OPT_FAILURE_INTERVAL:
        if (!parse_uint(value, 3600000, &n) || n < 1000)
            return usage_error(p, "heartbeat: bad --failure-interval '%s' (ms, 1000..3600000)", value);
        cli->set_failure_interval = true;
        cli->failure_interval_ms = (uint32_t)n;
        return VCTL_PARSE_OK;
    case 'f': cli->force = true; return VCTL_PARSE_OK;
    case 'r': cli->reboot = true; return VCTL_PARSE_OK;
    case 'w': cli->wait = true; return VCTL_PARSE_OK;
    case OPT_REASON:
        if (strlen(value) > 255)
            return usage_error(p, "shutdown: --reason is %zu bytes (at most 255)", strlen(value));
        cli->reason = value;
        return VCTL_PARSE_OK;
    case 'l':
        if (cli->label_count >= VCTL_LABELS_MAX)
            return usage_error(p, "metrics: at most %d --label", VCTL_LABELS_MAX);
        cli->labels[cli->label_count++] = value;
        return VCTL_PARSE_OK;
    default: return usage_error(p, "%s: unexpected option", name); /* a table entry without a case */
    }
}

static int param_arguments(struct parser *p, struct vctl_cli *cli, char **args, int count)
{
    if (count == 0)
        return usage_error(p, "param: get, set or list? (usage: %s)", vctl_command_usage(VCTL_CMD_PARAM));
    static const struct {
        const char *action, *usage;
        enum vctl_param_action value;
        int count;
    } actions[] = {
        {"get", "param get NAME", VCTL_PARAM_GET, 2},
        {"set", "param set NAME VALUE", VCTL_PARAM_SET, 3},
        {"list", "param list", VCTL_PARAM_LIST, 1},
    };
    size_t a = 0;
    while (a < sizeof actions / sizeof actions[0] && strcmp(actions[a].action, args[0]) != 0)
        a++;
    if (a == sizeof actions / sizeof actions[0])
        return usage_error(p, "param: unknown action '%s' (get, set or list)", args[0]);
    if (count != actions[a].count)
        return usage_error(p, "param %s: usage: %s", args[0], actions[a].usage);
    cli->param_action = actions[a].value;
    for (int i = 1; i < count; i++)
        if (!is_utf8(args[i]))
            return not_utf8(p, i == 1 ? "param: the name" : "param: the value");
    if (count >= 2) {
        cli->param_name = args[1];
        size_t n = strlen(cli->param_name);
        if (n == 0 || n > 255 || strchr(cli->param_name, '\\') != NULL)
            return usage_error(p, "param: invalid name '%s' (1-255 characters, no '\\')", cli->param_name);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)cli->param_name[i] < 0x20 || cli->param_name[i] == 0x7F)
                return usage_error(p, "param: the name has a control character");
    }
    if (count == 3) {
        cli->param_value = args[2];
        if (strlen(cli->param_value) > 1024)
            return usage_error(p, "param set: the value is %zu bytes (at most 1024)", strlen(cli->param_value));
    }
    return VCTL_PARSE_OK;
}

/* The command's arguments after its options: args[0..count). */
static int command_arguments(struct parser *p, struct vctl_cli *cli, char **args, int count)
{
    enum vctl_command cmd = cli->command;
    const char *name = vctl_command_name(cmd);
    if (cmd == VCTL_CMD_EXEC) {
        if (count == 0)
            return usage_error(p, "exec: no program (usage: %s)", vctl_command_usage(cmd));
        if (count > 64)
            return usage_error(p, "exec: %d arguments (at most 64)", count);
        for (int i = 0; i < count; i++)
            if (!is_utf8(args[i]))
                return not_utf8(p, "exec: an argument");
        cli->argv = args;
        cli->argc = count;
        return VCTL_PARSE_OK;
    }
    if (count > POSITIONAL_MAX)
        return usage_error(p, "%s: too many arguments", name);
    switch (cmd) {
    case VCTL_CMD_HELP:
        if (count > 1)
            return usage_error(p, "help: one command at most");
        if (count == 1 && (cli->help_topic = vctl_command_lookup(args[0])) == VCTL_CMD_NONE)
            return usage_error(p, "help: unknown command '%s'", args[0]);
        return VCTL_PARSE_HELP;
    case VCTL_CMD_KILL:
        if (count > 1)
            return usage_error(p, "kill: too many arguments");
        if (count == 1 && !parse_uint(args[0], 9007199254740991ull, &cli->target))
            return usage_error(p, "kill: bad id '%s'", args[0]);
        cli->has_target = count == 1;
        return VCTL_PARSE_OK;
    case VCTL_CMD_PARAM: return param_arguments(p, cli, args, count);
    case VCTL_CMD_TIMESYNC:
        if (count > 1)
            return usage_error(p, "timesync: usage: %s", vctl_command_usage(cmd));
        cli->timesync_action = count == 1 ? args[0] : "status";
        if (strcmp(cli->timesync_action, "on") != 0 && strcmp(cli->timesync_action, "off") != 0 &&
            strcmp(cli->timesync_action, "status") != 0)
            return usage_error(p, "timesync: '%s'? (on, off or status)", cli->timesync_action);
        return VCTL_PARSE_OK;
    case VCTL_CMD_ADDITIONS:
        if (count != 1 || strcmp(args[0], "install") != 0)
            return usage_error(p, "additions: usage: %s", vctl_command_usage(cmd));
        return VCTL_PARSE_OK;
    default:
        if (count > 0)
            return usage_error(p, "%s: unexpected argument '%s' (usage: %s)", name, args[0], vctl_command_usage(cmd));
        if (cmd == VCTL_CMD_HEARTBEAT && cli->set_failure_interval && cli->graph)
            return usage_error(p, "heartbeat: --graph and --failure-interval do not go together");
        if (cmd == VCTL_CMD_HEARTBEAT && !cli->graph && (cli->duration_s > 0 || cli->interval_s > 0))
            return usage_error(p, "heartbeat: --duration and --interval go with --graph");
        return VCTL_PARSE_OK;
    }
}

/* The command's options and arguments: argv[0] is the command's name. */
static int parse_command(struct parser *p, struct vctl_cli *cli, int argc, char **argv)
{
    const char *short_options = command_options[cli->command].short_options;
    const struct option *long_options = command_options[cli->command].long_options;
    if (long_options == NULL) {
        short_options = "+:h";
        long_options = help_only_options;
    }
    optind = 0; /* glibc: start afresh (a new argv) */
    int c;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        if (c == 'h') {
            cli->help_topic = cli->command;
            cli->command = VCTL_CMD_HELP;
            return VCTL_PARSE_HELP;
        }
        if (c == '?' || c == ':')
            return option_error(p, c, argv, long_options, vctl_command_name(cli->command));
        int rc = take_command_option(p, cli, c, optarg);
        if (rc != VCTL_PARSE_OK)
            return rc;
    }
    return command_arguments(p, cli, argv + optind, argc - optind);
}

/* A global option (getopt_long's c and optarg) into cli. */
static int take_global_option(struct parser *p, struct vctl_cli *cli, int c, const char *value, bool *pace_given)
{
    uint64_t n;
    switch (c) {
    case 'p':
        if (value[0] == '\0')
            return usage_error(p, "--port must not be empty");
        cli->port = value;
        return VCTL_PARSE_OK;
    case 'b':
        if (!parse_uint(value, 4000000, &n) || n == 0)
            return usage_error(p, "bad --baud '%s' (e.g. 9600, 115200)", value);
        cli->baud = (unsigned)n;
        return VCTL_PARSE_OK;
    case 'j': cli->json = true; return VCTL_PARSE_OK;
    case 'v': cli->verbose++; return VCTL_PARSE_OK;
    case 't':
        if (!parse_seconds(value, 4294967, &cli->timeout_s))
            return usage_error(p, "bad --timeout '%s' (seconds, 0 = no limit)", value);
        return VCTL_PARSE_OK;
    case OPT_PACE_MS:
        if (!parse_uint(value, VCTL_PACE_MS_MAX, &n))
            return usage_error(p, "bad --pace-ms '%s' (milliseconds 0..%u, 0 = no pacing)", value, VCTL_PACE_MS_MAX);
        cli->pace_ms = (int)n;
        *pace_given = true;
        return VCTL_PARSE_OK;
    case OPT_TICK_MS:
        if (!parse_uint(value, VCTL_TICK_MS_MAX, &n) || n == 0)
            return usage_error(p, "bad --tick-ms '%s' (the hypervisor's tick, milliseconds 1..%u)", value,
                               VCTL_TICK_MS_MAX);
        cli->tick_ms = (int)n;
        return VCTL_PARSE_OK;
    default: return usage_error(p, "unexpected option"); /* a table entry without a case */
    }
}

int vctl_cli_parse(int argc, char **argv, const char *env_port, const char *env_pace, struct vctl_cli *cli,
                   char *error, size_t size)
{
    memset(cli, 0, sizeof *cli);
    cli->baud = VCTL_DEFAULT_BAUD;
    cli->timeout_s = VCTL_DEFAULT_TIMEOUT_S;
    cli->port = env_port != NULL && env_port[0] != '\0' ? env_port : NULL;
    cli->pace_ms = -1;
    cli->tick_ms = VCTL_TICK_MS_DEFAULT;
    error[0] = '\0';
    struct parser p = {error, size};
    bool pace_given = false; /* --pace-ms wins over $VIGILCTL_PACE_MS */
    opterr = 0;
    optind = 0; /* glibc: start afresh (the tests parse many command lines) */
    int c;
    while ((c = getopt_long(argc, argv, "+:p:b:jt:vhV", global_options, NULL)) != -1) {
        if (c == 'h') {
            cli->command = VCTL_CMD_HELP;
            return VCTL_PARSE_HELP;
        }
        if (c == 'V') {
            cli->command = VCTL_CMD_VERSION;
            return VCTL_PARSE_OK;
        }
        if (c == '?' || c == ':')
            return option_error(&p, c, argv, global_options, NULL);
        int rc = take_global_option(&p, cli, c, optarg, &pace_given);
        if (rc != VCTL_PARSE_OK)
            return rc;
    }
    uint64_t n;
    if (!pace_given && env_pace != NULL && env_pace[0] != '\0') {
        if (!parse_uint(env_pace, VCTL_PACE_MS_MAX, &n))
            return usage_error(&p, "bad VIGILCTL_PACE_MS '%s' (milliseconds 0..%u, 0 = no pacing)", env_pace,
                               VCTL_PACE_MS_MAX);
        cli->pace_ms = (int)n;
    }
    if (optind >= argc)
        return usage_error(&p, "no command (vigilctl --help lists them)");
    int command_index = optind;
    cli->command = vctl_command_lookup(argv[command_index]);
    if (cli->command == VCTL_CMD_NONE)
        return usage_error(&p, "unknown command '%s' (vigilctl --help lists them)", argv[command_index]);
    int rc = parse_command(&p, cli, argc - command_index, argv + command_index);
    if (rc != VCTL_PARSE_OK || cli->command == VCTL_CMD_VERSION)
        return rc;
    if (cli->port == NULL)
        return usage_error(&p, "no port: give --port DEV|tcp:HOST:PORT|unix:PATH or set VIGILCTL_PORT");
    if (!cli->exec_timeout_set)
        cli->exec_timeout_s = (uint32_t)ceil(cli->timeout_s);
    return VCTL_PARSE_OK;
}
