/* vigilctl's command line and output formatting (tools/vigilctl/cli_parse.c, cli_help.c, format.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define ARGS(...) ((char *[]){"vigilctl", __VA_ARGS__, NULL})
#define COUNT(...) ((int)(sizeof((char *[]){"vigilctl", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cli, env, ...) parse(cli, env, COUNT(__VA_ARGS__), ARGS(__VA_ARGS__))

static char error[512];

static int parse(struct vctl_cli *cli, const char *env, int argc, char **argv)
{
    return vctl_cli_parse(argc, argv, env, NULL, cli, error, sizeof error);
}

static void expect_usage(const char *fragment, int argc, char **argv)
{
    struct vctl_cli cli;
    assert_int_equal(parse(&cli, "unix:/x", argc, argv), VCTL_PARSE_ERROR);
    if (strstr(error, fragment) == NULL)
        fail_msg("error '%s' lacks '%s'", error, fragment);
}
#define EXPECT_USAGE(fragment, ...) expect_usage(fragment, COUNT(__VA_ARGS__), ARGS(__VA_ARGS__))

static void test_pacing_options(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, "unix:/x", "status"), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, -1); /* not given: the library's default, tick + 10 */
    assert_int_equal(cli.tick_ms, 50);
    assert_int_equal(PARSE(&cli, "unix:/x", "--pace-ms", "120", "--tick-ms=100", "status"), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, 120);
    assert_int_equal(cli.tick_ms, 100);
    assert_int_equal(PARSE(&cli, "unix:/x", "--pace-ms=0", "status"), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, 0); /* off */
    /* $VIGILCTL_PACE_MS, unless --pace-ms is given */
    char *argv[] = {"vigilctl", "status", NULL};
    assert_int_equal(vctl_cli_parse(2, argv, "unix:/x", "80", &cli, error, sizeof error), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, 80);
    assert_int_equal(vctl_cli_parse(2, argv, "unix:/x", "", &cli, error, sizeof error), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, -1);
    char *argv2[] = {"vigilctl", "--pace-ms", "0", "status", NULL};
    assert_int_equal(vctl_cli_parse(4, argv2, "unix:/x", "80", &cli, error, sizeof error), VCTL_PARSE_OK);
    assert_int_equal(cli.pace_ms, 0);
    assert_int_equal(vctl_cli_parse(2, argv, "unix:/x", "fast", &cli, error, sizeof error), VCTL_PARSE_ERROR);
    assert_non_null(strstr(error, "VIGILCTL_PACE_MS"));
    EXPECT_USAGE("bad --pace-ms", "--pace-ms", "-1", "status");
    EXPECT_USAGE("bad --pace-ms", "--pace-ms", "10001", "status");
    EXPECT_USAGE("bad --tick-ms", "--tick-ms", "0", "status");
    EXPECT_USAGE("--pace-ms needs a value", "--pace-ms");
}

static void test_global_options(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, NULL, "--port", "/dev/ttyUSB0", "--baud", "9600", "--json", "-t", "2.5", "status"),
                     VCTL_PARSE_OK);
    assert_string_equal(cli.port, "/dev/ttyUSB0");
    assert_int_equal(cli.baud, 9600);
    assert_true(cli.json);
    assert_true(cli.timeout_s == 2.5);
    assert_int_equal(cli.command, VCTL_CMD_STATUS);
    /* VIGILCTL_PORT, overridden by --port=; defaults */
    assert_int_equal(PARSE(&cli, "tcp:bmc1:2001", "info"), VCTL_PARSE_OK);
    assert_string_equal(cli.port, "tcp:bmc1:2001");
    assert_int_equal(cli.baud, 115200);
    assert_true(cli.timeout_s == 30.0);
    assert_int_equal(PARSE(&cli, "tcp:bmc1:2001", "--port=unix:/s", "info"), VCTL_PARSE_OK);
    assert_string_equal(cli.port, "unix:/s");
    /* help and version need no port */
    assert_int_equal(PARSE(&cli, NULL, "--help"), VCTL_PARSE_HELP);
    assert_int_equal(cli.help_topic, VCTL_CMD_NONE);
    assert_int_equal(PARSE(&cli, NULL, "help", "exec"), VCTL_PARSE_HELP);
    assert_int_equal(cli.help_topic, VCTL_CMD_EXEC);
    assert_int_equal(PARSE(&cli, NULL, "exec", "--help"), VCTL_PARSE_HELP);
    assert_int_equal(cli.help_topic, VCTL_CMD_EXEC);
    assert_int_equal(PARSE(&cli, NULL, "--version"), VCTL_PARSE_OK);
    assert_int_equal(cli.command, VCTL_CMD_VERSION);
}

static void test_usage_errors(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, NULL, "status"), VCTL_PARSE_ERROR);
    assert_non_null(strstr(error, "no port"));
    EXPECT_USAGE("no command", "--json");
    EXPECT_USAGE("unknown command 'frobnicate'", "frobnicate");
    EXPECT_USAGE("unknown option '--bogus'", "--bogus", "status");
    EXPECT_USAGE("bad --baud", "--baud", "fast", "status");
    EXPECT_USAGE("bad --timeout", "--timeout", "-1", "status");
    EXPECT_USAGE("--port needs a value", "--port");
    EXPECT_USAGE("unexpected argument 'x'", "status", "x");
    EXPECT_USAGE("help: unknown command 'nope'", "help", "nope");
    EXPECT_USAGE("exec: no program", "exec", "--cwd", "/");
    EXPECT_USAGE("exec: --env wants NAME=VALUE", "exec", "--env", "NOEQUALS", "--", "ls");
    EXPECT_USAGE("exec: bad --timeout", "exec", "--timeout", "soon", "ls");
    EXPECT_USAGE("put '--' before the program", "exec", "--frob", "ls");
    EXPECT_USAGE("param: get, set or list", "param");
    EXPECT_USAGE("param: unknown action 'del'", "param", "del", "x");
    EXPECT_USAGE("param get NAME", "param", "get");
    EXPECT_USAGE("param set NAME VALUE", "param", "set", "x");
    EXPECT_USAGE("invalid name", "param", "get", "a\\b");
    EXPECT_USAGE("timesync: 'maybe'?", "timesync", "maybe");
    EXPECT_USAGE("additions: usage", "additions", "remove");
    EXPECT_USAGE("shutdown: bad --timeout", "shutdown", "--timeout", "1.5");
    EXPECT_USAGE("at most 255", "shutdown", "--reason",
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    EXPECT_USAGE("watch: bad --count", "watch", "--count", "0");
    EXPECT_USAGE("heartbeat: bad --failure-interval", "heartbeat", "--failure-interval", "10");
    EXPECT_USAGE("go with --graph", "heartbeat", "--duration", "5");
    EXPECT_USAGE("kill: bad id", "kill", "latest");
}

static void test_exec(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, "unix:/s", "exec", "--cwd", "/tmp", "--env", "A=1", "-e", "B=x=y", "--timeout", "5",
                           "--", "sh", "-c", "echo hi; exit 3"),
                     VCTL_PARSE_OK);
    assert_int_equal(cli.command, VCTL_CMD_EXEC);
    assert_string_equal(cli.cwd, "/tmp");
    assert_int_equal(cli.env_count, 2);
    assert_string_equal(cli.env[1], "B=x=y");
    assert_true(cli.exec_timeout_set);
    assert_int_equal(cli.exec_timeout_s, 5);
    assert_int_equal(cli.argc, 3);
    assert_string_equal(cli.argv[0], "sh");
    assert_string_equal(cli.argv[2], "echo hi; exit 3");
    /* without '--' the first word that is not an option is the program; its own
     * options follow it untouched */
    assert_int_equal(PARSE(&cli, "unix:/s", "-t", "7", "exec", "ls", "--cwd", "-l"), VCTL_PARSE_OK);
    assert_int_equal(cli.argc, 3);
    assert_string_equal(cli.argv[1], "--cwd");
    assert_null(cli.cwd);
    assert_false(cli.exec_timeout_set);
    assert_int_equal(cli.exec_timeout_s, 7); /* default: the global timeout */
    /* a program whose name starts with '--' */
    assert_int_equal(PARSE(&cli, "unix:/s", "exec", "--", "--weird"), VCTL_PARSE_OK);
    assert_string_equal(cli.argv[0], "--weird");
}

static void test_commands(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, "unix:/s", "param", "set", "motd", "-hello there-"), VCTL_PARSE_OK);
    assert_int_equal(cli.param_action, VCTL_PARAM_SET);
    assert_string_equal(cli.param_name, "motd");
    assert_string_equal(cli.param_value, "-hello there-");
    assert_int_equal(PARSE(&cli, "unix:/s", "param", "list"), VCTL_PARSE_OK);
    assert_int_equal(cli.param_action, VCTL_PARAM_LIST);
    assert_int_equal(PARSE(&cli, "unix:/s", "timesync"), VCTL_PARSE_OK);
    assert_string_equal(cli.timesync_action, "status");
    assert_int_equal(PARSE(&cli, "unix:/s", "timesync", "off"), VCTL_PARSE_OK);
    assert_string_equal(cli.timesync_action, "off");
    assert_int_equal(PARSE(&cli, "unix:/s", "shutdown", "--force", "--reboot", "--timeout", "10", "--reason",
                           "kernel update", "--wait"),
                     VCTL_PARSE_OK);
    assert_true(cli.force && cli.reboot && cli.wait && cli.shutdown_timeout_set);
    assert_int_equal(cli.shutdown_timeout_s, 10);
    assert_string_equal(cli.reason, "kernel update");
    assert_int_equal(PARSE(&cli, "unix:/s", "heartbeat", "--graph", "--duration", "5", "--interval", "0.5"),
                     VCTL_PARSE_OK);
    assert_true(cli.graph);
    assert_true(cli.duration_s == 5.0 && cli.interval_s == 0.5);
    assert_int_equal(PARSE(&cli, "unix:/s", "heartbeat", "--failure-interval", "5000"), VCTL_PARSE_OK);
    assert_true(cli.set_failure_interval);
    assert_int_equal(cli.failure_interval_ms, 5000);
    assert_int_equal(PARSE(&cli, "unix:/s", "watch", "--count", "3", "--duration=10"), VCTL_PARSE_OK);
    assert_int_equal(cli.count, 3);
    assert_true(cli.duration_s == 10.0);
    assert_int_equal(PARSE(&cli, "unix:/s", "metrics", "--label", "host=a", "-l", "rack=b 2"), VCTL_PARSE_OK);
    assert_int_equal(cli.label_count, 2);
    assert_int_equal(PARSE(&cli, "unix:/s", "additions", "install"), VCTL_PARSE_OK);
    assert_int_equal(PARSE(&cli, "unix:/s", "kill", "17"), VCTL_PARSE_OK);
    assert_true(cli.has_target && cli.target == 17);
    for (int i = VCTL_CMD_HELP; i < VCTL_CMD_COUNT; i++)
        assert_int_equal(vctl_command_lookup(vctl_command_name((enum vctl_command)i)), i);
}

/* The getopt_long forms: attached values, '=' values, grouped short options,
 * abbreviations, and the errors getopt reports, in vigilctl's words. Each parse
 * starts afresh (getopt keeps its state in globals). */
static void test_getopt_forms(void **state)
{
    (void)state;
    struct vctl_cli cli;
    assert_int_equal(PARSE(&cli, NULL, "-p/dev/ttyS1", "-jvv", "-t0", "status"), VCTL_PARSE_OK);
    assert_string_equal(cli.port, "/dev/ttyS1");
    assert_true(cli.json);
    assert_int_equal(cli.verbose, 2);
    assert_true(cli.timeout_s == 0.0);
    assert_int_equal(PARSE(&cli, "unix:/s", "--js", "--verb", "--baud=57600", "ping"), VCTL_PARSE_OK);
    assert_true(cli.json && cli.verbose == 1 && cli.baud == 57600);
    assert_int_equal(cli.command, VCTL_CMD_PING);
    assert_int_equal(PARSE(&cli, "unix:/s", "shutdown", "-frw", "--reas=why", "--timeout=0"), VCTL_PARSE_OK);
    assert_true(cli.force && cli.reboot && cli.wait && cli.shutdown_timeout_set);
    assert_int_equal(cli.shutdown_timeout_s, 0);
    assert_string_equal(cli.reason, "why");
    assert_int_equal(PARSE(&cli, "unix:/s", "heartbeat", "--gr", "--interval=0.05"), VCTL_PARSE_OK);
    assert_true(cli.graph && cli.interval_s == 0.05);
    assert_int_equal(PARSE(&cli, "unix:/s", "metrics", "-lhost=a", "--label=rack=b"), VCTL_PARSE_OK);
    assert_int_equal(cli.label_count, 2);
    assert_string_equal(cli.labels[0], "host=a");
    assert_string_equal(cli.labels[1], "rack=b");
    assert_int_equal(PARSE(&cli, "unix:/s", "watch", "-n2"), VCTL_PARSE_OK);
    assert_int_equal(cli.count, 2);
    assert_int_equal(PARSE(&cli, "unix:/s", "poweroff", "-r"), VCTL_PARSE_OK);
    assert_true(cli.reboot);
    assert_int_equal(PARSE(&cli, "unix:/s", "exec", "-eA=1", "--env=B=2", "--", "-x"), VCTL_PARSE_OK);
    assert_int_equal(cli.env_count, 2);
    assert_string_equal(cli.env[0], "A=1");
    assert_string_equal(cli.argv[0], "-x");
    /* arguments end the options: a value may start with '-', and so may a kill id after -- */
    assert_int_equal(PARSE(&cli, "unix:/s", "param", "set", "k", "-1"), VCTL_PARSE_OK);
    assert_string_equal(cli.param_value, "-1");
    assert_int_equal(PARSE(&cli, "unix:/s", "kill", "--", "5"), VCTL_PARSE_OK);
    assert_true(cli.has_target && cli.target == 5);
    /* a command's --help, in any position among its options */
    assert_int_equal(PARSE(&cli, "unix:/s", "shutdown", "--force", "-h"), VCTL_PARSE_HELP);
    assert_int_equal(cli.help_topic, VCTL_CMD_SHUTDOWN);
    assert_int_equal(PARSE(&cli, NULL, "param", "--help"), VCTL_PARSE_HELP);
    assert_int_equal(cli.help_topic, VCTL_CMD_PARAM);
    /* a global option after the command is the command's, and unknown there */
    EXPECT_USAGE("status: unknown option '--json' (vigilctl status --help)", "status", "--json");
    EXPECT_USAGE("unknown option '-x' (vigilctl --help)", "-x", "status");
    EXPECT_USAGE("unknown option '--bogus'", "--bogus=1", "status");
    EXPECT_USAGE("unknown option '--t'", "--t", "1", "status"); /* ambiguous: --timeout, --tick-ms */
    EXPECT_USAGE("--json", "--json=yes", "status");             /* takes no value */
    EXPECT_USAGE("--timeout needs a value", "-t");
    EXPECT_USAGE("--cwd needs a value", "exec", "--cwd");
    EXPECT_USAGE("--env needs a value", "exec", "-e");
    EXPECT_USAGE("--count needs a value", "watch", "-n");
    EXPECT_USAGE("--reason needs a value", "shutdown", "--reason");
    EXPECT_USAGE("shutdown: unknown option '-x'", "shutdown", "-x");
    EXPECT_USAGE("exec: unknown option '-q' (put '--' before the program)", "exec", "-q", "ls");
    EXPECT_USAGE("bad --timeout ''", "--timeout=", "status");
    EXPECT_USAGE("kill: too many arguments", "kill", "1", "2");
    EXPECT_USAGE("ping: too many arguments", "ping", "a", "b", "c", "d", "e");
    /* text for a JSON request must be UTF-8 (exec's own failures exit 125: main.c) */
    EXPECT_USAGE("exec: an argument is not valid UTF-8", "exec", "echo", "caf\xe9");
    EXPECT_USAGE("an option's value is not valid UTF-8", "exec", "--cwd", "/tmp/\xff", "ls");
    EXPECT_USAGE("param: the value is not valid UTF-8", "param", "set", "k", "\xc3(");
    EXPECT_USAGE("param: the name is not valid UTF-8", "param", "get", "\xed\xa0\x80"); /* a surrogate */
    EXPECT_USAGE("an option's value is not valid UTF-8", "shutdown", "--reason", "\xf8\x88\x80\x80\x80");
    assert_int_equal(PARSE(&cli, "unix:/s", "exec", "echo", "caf\xc3\xa9 \xf0\x9f\x98\x80"), VCTL_PARSE_OK);
    /* after an error, the next parse starts clean */
    assert_int_equal(PARSE(&cli, "unix:/s", "status"), VCTL_PARSE_OK);
    assert_false(cli.json);
}

/* ---- Formatting ------------------------------------------------------------------------ */

struct capture {
    char *text;
    size_t size;
    FILE *out;
};

static void capture_begin(struct capture *c) { c->out = open_memstream(&c->text, &c->size); }
static const char *capture_end(struct capture *c)
{
    fclose(c->out);
    return c->text;
}

static json_t *json(const char *text)
{
    json_t *v = vj_parse_object(text, strlen(text), NULL, 0);
    assert_non_null(v);
    return v;
}

static void test_status_and_info(void **state)
{
    (void)state;
    json_t *status = json("{\"hypervisor\":\"0.1.0\",\"uptime_ms\":3723000,\"guest_running\":true,"
                                   "\"additions_registered\":false,\"additions_version\":null,\"os_name\":null,"
                                   "\"computer_name\":\"a\\u0007b\",\"heartbeat_percentage\":null,"
                                   "\"is_heartbeating\":null,\"time_sync\":true}");
    struct capture c;
    capture_begin(&c);
    vctl_print_status(c.out, status);
    const char *text = capture_end(&c);
    assert_non_null(strstr(text, "hypervisor:            0.1.0\n"));
    assert_non_null(strstr(text, "uptime:                1h 02m 03s\n"));
    assert_non_null(strstr(text, "additions registered:  no\n"));
    assert_non_null(strstr(text, "additions version:     unavailable\n"));
    assert_non_null(strstr(text, "computer name:         a\\x07b\n")); /* control characters shown */
    assert_non_null(strstr(text, "time sync:             on\n"));
    free(c.text);
    json_decref(status);

    json_t *guest = json("{\"additions_version\":\"vigil-agent 1.0.0\",\"os_name\":\"vigil test guest\","
                                  "\"computer_name\":\"agent-guest\",\"heartbeat_percentage\":98,"
                                  "\"is_heartbeating\":true,\"time_sync\":false,\"can_shutdown\":false}");
    capture_begin(&c);
    vctl_print_info(c.out, guest);
    text = capture_end(&c);
    assert_non_null(strstr(text, "AdditionsVersion:      vigil-agent 1.0.0\n"));
    assert_non_null(strstr(text, "CanShutdown:           false\n"));
    assert_non_null(strstr(text, "HeartbeatPercentage:   98\n"));
    assert_non_null(strstr(text, "IsHostTimeSyncEnabled: false\n"));
    free(c.text);
    json_decref(guest);
}

static void test_heartbeat_and_stats(void **state)
{
    (void)state;
    json_t *hb = json("{\"state\":\"not started\",\"heartbeating\":false,\"period_ms\":1000,"
                               "\"failure_interval_ms\":10000,\"percentage\":0,\"percentage_1_minute\":0,"
                               "\"percentage_5_minutes\":0,\"percentage_15_minutes\":0,\"last_beat_age_ms\":null,"
                               "\"longest_gap_ms\":0,\"beats_total\":0,\"anomalies_backwards\":1,\"anomalies_jumps\":2}");
    struct capture c;
    capture_begin(&c);
    vctl_print_heartbeat(c.out, hb);
    const char *text = capture_end(&c);
    assert_non_null(strstr(text, "state:                 not started\n"));
    assert_non_null(strstr(text, "last beat:             never\n"));
    assert_non_null(strstr(text, "failure interval:      10.0 s\n"));
    assert_non_null(strstr(text, "anomalies:             1 backwards, 2 jumps\n"));
    free(c.text);
    json_decref(hb);

    json_t *stats = json("{\"exits\":{\"cpuid\":3,\"io\":20},\"service\":{\"doorbells\":5}}");
    capture_begin(&c);
    vctl_print_stats(c.out, stats);
    text = capture_end(&c);
    assert_non_null(strstr(text, "  cpuid                               3\n"));
    assert_non_null(strstr(text, "  total                              23\n"));
    assert_non_null(strstr(text, "  doorbells                           5\n"));
    free(c.text);
    json_decref(stats);
}

static void test_metrics(void **state)
{
    (void)state;
    json_t *status = json("{\"hypervisor\":\"0.1.0\",\"uptime_ms\":1500,\"guest_running\":true,"
                                   "\"additions_registered\":true,\"additions_version\":\"v \\\"1\\\"\",\"os_name\":null,"
                                   "\"computer_name\":\"host\",\"time_sync\":true}");
    json_t *hb = json("{\"heartbeating\":true,\"percentage\":100,\"percentage_1_minute\":99,"
                               "\"percentage_5_minutes\":98,\"percentage_15_minutes\":97,\"period_ms\":1000,"
                               "\"failure_interval_ms\":10000,\"last_beat_age_ms\":250,\"longest_gap_ms\":1000,"
                               "\"beats_total\":42,\"anomalies_backwards\":0,\"anomalies_jumps\":1}");
    json_t *stats = json("{\"exits\":{\"total\":23,\"cpuid\":3,\"io\":20},\"service\":{\"doorbells\":5,"
                                  "\"requests_completed\":4}}");
    const char *labels[] = {"host", "host=bmc1"};
    struct capture c;
    capture_begin(&c);
    assert_false(vctl_print_metrics(c.out, true, status, hb, stats, labels, 1)); /* no '=' */
    capture_end(&c);
    free(c.text);
    capture_begin(&c);
    assert_true(vctl_print_metrics(c.out, true, status, hb, stats, labels + 1, 1));
    const char *text = capture_end(&c);
    assert_non_null(strstr(text, "# HELP vigil_up "));
    assert_non_null(strstr(text, "# TYPE vigil_up gauge\nvigil_up{host=\"bmc1\"} 1\n"));
    assert_non_null(strstr(text, "vigil_info{hypervisor=\"0.1.0\",additions_version=\"v \\\"1\\\"\","
                                 "computer_name=\"host\",host=\"bmc1\"} 1\n"));
    assert_non_null(strstr(text, "vigil_uptime_seconds{host=\"bmc1\"} 1.500\n"));
    assert_non_null(strstr(text, "vigil_heartbeat_percentage{window=\"15m\",host=\"bmc1\"} 97\n"));
    assert_non_null(strstr(text, "vigil_heartbeat_last_beat_age_seconds{host=\"bmc1\"} 0.250\n"));
    assert_non_null(strstr(text, "# TYPE vigil_heartbeat_beats_total counter\nvigil_heartbeat_beats_total{host=\"bmc1\"} 42\n"));
    assert_non_null(strstr(text, "vigil_heartbeat_anomalies_total{kind=\"jump\",host=\"bmc1\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE vigil_vm_exits_total counter\n"));
    assert_non_null(strstr(text, "vigil_vm_exits_total{reason=\"io\",host=\"bmc1\"} 20\n"));
    assert_null(strstr(text, "reason=\"total\"")); /* the sum is not a reason */
    assert_non_null(strstr(text, "# TYPE vigil_service_requests_completed_total counter\n"
                                 "vigil_service_requests_completed_total{host=\"bmc1\"} 4\n"));
    /* every sample line's metric has HELP and TYPE before it */
    char *copy = strdup(text);
    char typed[64][96];
    int ntyped = 0;
    for (char *line = strtok(copy, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char name[96];
        if (sscanf(line, "# TYPE %95s", name) == 1) {
            snprintf(typed[ntyped++ % 64], sizeof typed[0], "%s", name);
            continue;
        }
        if (line[0] == '#')
            continue;
        size_t n = strcspn(line, "{ ");
        bool found = false;
        for (int i = 0; i < ntyped && i < 64; i++)
            found = found || (strlen(typed[i]) == n && strncmp(typed[i], line, n) == 0);
        if (!found)
            fail_msg("sample without TYPE: %s", line);
    }
    free(copy);
    free(c.text);
    /* down: only vigil_up 0 */
    capture_begin(&c);
    assert_true(vctl_print_metrics(c.out, false, NULL, NULL, NULL, NULL, 0));
    text = capture_end(&c);
    assert_string_equal(text, "# HELP vigil_up Whether vigil's console answered vigilctl (1) or not (0).\n"
                              "# TYPE vigil_up gauge\nvigil_up 0\n");
    free(c.text);
    json_decref(status);
    json_decref(hb);
    json_decref(stats);
}

static void test_errors_and_helpers(void **state)
{
    (void)state;
    struct capture c;
    capture_begin(&c);
    vctl_print_status_error(c.out, false, "info", 0xA0040504u, "VM_E_ADDITIONS_NOT_AVAIL",
                            "the guest Additions are not running");
    const char *text = capture_end(&c);
    assert_string_equal(text, "vigilctl: VM_E_ADDITIONS_NOT_AVAIL (0xA0040504): the guest Additions are not running\n");
    free(c.text);
    capture_begin(&c);
    vctl_print_status_error(c.out, true, "info", 0xA0040504u, "VM_E_ADDITIONS_NOT_AVAIL", "not running");
    text = capture_end(&c);
    assert_string_equal(text, "{\"error\":{\"kind\":\"status\",\"command\":\"info\",\"status\":2684617988,"
                              "\"status_hex\":\"0xA0040504\",\"status_name\":\"VM_E_ADDITIONS_NOT_AVAIL\","
                              "\"message\":\"not running\"}}\n");
    free(c.text);
    capture_begin(&c);
    vctl_print_error(c.out, true, "status", "timeout", "no response to 'status' (id 5) within 3.0 s");
    text = capture_end(&c);
    assert_string_equal(text, "{\"error\":{\"kind\":\"timeout\",\"command\":\"status\",\"message\":\"no response to "
                              "'status' (id 5) within 3.0 s\"}}\n");
    free(c.text);

    char d[32];
    vctl_format_duration_ms(d, sizeof d, 850);
    assert_string_equal(d, "850 ms");
    vctl_format_duration_ms(d, sizeof d, 12345);
    assert_string_equal(d, "12.3 s");
    vctl_format_duration_ms(d, sizeof d, 125000);
    assert_string_equal(d, "2m 05s");
    vctl_format_duration_ms(d, sizeof d, 90061000);
    assert_string_equal(d, "1d 01h 01m");

    char spark[64];
    int values[] = {0, 1, 2, -1, 4};
    vctl_sparkline(spark, sizeof spark, values, 5, 4);
    assert_string_equal(spark, "\u2581\u2582\u2584 \u2588");
    vctl_sparkline(spark, sizeof spark, values, 5, 0); /* scaled to the largest */
    assert_string_equal(spark, "\u2581\u2582\u2584 \u2588");
    vctl_sparkline(spark, 7, values, 5, 4); /* truncated to whole glyphs */
    assert_string_equal(spark, "\u2581\u2582");

    capture_begin(&c);
    vctl_print_help(c.out, VCTL_CMD_NONE);
    text = capture_end(&c);
    for (int i = VCTL_CMD_HELP; i < VCTL_CMD_COUNT; i++)
        assert_non_null(strstr(text, vctl_command_name((enum vctl_command)i)));
    assert_non_null(strstr(text, "Exit codes"));
    free(c.text);
    capture_begin(&c);
    vctl_print_help(c.out, VCTL_CMD_EXEC);
    text = capture_end(&c);
    assert_non_null(strstr(text, "usage: vigilctl [GLOBAL OPTIONS] exec [--cwd DIR]"));
    free(c.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacing_options),
        cmocka_unit_test(test_global_options),   cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_exec),             cmocka_unit_test(test_commands),
        cmocka_unit_test(test_getopt_forms),
        cmocka_unit_test(test_status_and_info),  cmocka_unit_test(test_heartbeat_and_stats),
        cmocka_unit_test(test_metrics),          cmocka_unit_test(test_errors_and_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
