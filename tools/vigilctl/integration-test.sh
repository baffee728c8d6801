#!/usr/bin/env bash
# vigilctl against the agent guest under Bochs (ctest: integration.vigilctl-agent,
# tests/integration/vigilctl.cmake): boots vigil with the agent, drives every
# subcommand through vigilctl on the runner's console socket, checks outputs and
# exit codes, ends with 'vigilctl poweroff' and judges the runner's exit.
#
# usage: integration-test.sh VIGILCTL RUN_BOCHS AGENT_ELF [KERNEL]   (-v: show each command)
set -u
verbose=0
if [ "${1:-}" = "-v" ]; then verbose=1; shift; fi
if [ $# -lt 3 ]; then
    echo "usage: $0 [-v] VIGILCTL RUN_BOCHS AGENT_ELF [KERNEL]" >&2
    exit 2
fi
VIGILCTL=$1 RUNNER=$2 AGENT=$3 KERNEL=${4:-}
tmp=$(mktemp -d /tmp/vigilctl-it.XXXXXX)
sock=$tmp/console.sock
runner_pid=
failures=0 checks=0

cleanup() {
    if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
        kill -TERM "$runner_pid" 2>/dev/null
        wait "$runner_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

say() { echo "vigilctl-it: $*" >&2; }
fail() {
    failures=$((failures + 1))
    say "FAIL: $*"
    [ -s "$tmp/out" ] && { echo "--- stdout ---" >&2; head -c 2000 "$tmp/out" >&2; echo >&2; }
    [ -s "$tmp/err" ] && { echo "--- stderr ---" >&2; head -c 2000 "$tmp/err" >&2; echo >&2; }
}

# run WANT_RC ARGS...: runs vigilctl ARGS, stdout in $tmp/out, stderr in $tmp/err.
run() {
    local want=$1
    shift
    checks=$((checks + 1))
    [ $verbose = 1 ] && say "\$ vigilctl $*"
    "$VIGILCTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ "$rc" != "$want" ]; then
        fail "vigilctl $*: exit $rc, want $want"
        return 1
    fi
    return 0
}
# out_has REGEX / err_has REGEX / out_lacks REGEX (extended regex, per line)
out_has() { grep -Eq -- "$1" "$tmp/out" || fail "stdout of the last command lacks /$1/"; }
err_has() { grep -Eq -- "$1" "$tmp/err" || fail "stderr of the last command lacks /$1/"; }
# json_check PYTHON-EXPR: the expression over j (the first stdout line, parsed) must be true
json_check() {
    python3 -c 'import json,sys
j = json.loads(open(sys.argv[1]).readline())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/out" "$1" || fail "JSON check failed: $1"
}

# ---- boot ---------------------------------------------------------------------------
args=(--console "unix:$sock" --module "$AGENT" --cmdline "console=com1 panic=poweroff guest_exit=console"
      --timeout 300 --expect "vigil: launching the guest")
[ -n "$KERNEL" ] && args+=(--kernel "$KERNEL")
"$RUNNER" "${args[@]}" >"$tmp/runner.log" 2>&1 &
runner_pid=$!
for _ in $(seq 600); do
    grep -q "console on unix:" "$tmp/runner.log" && break
    kill -0 "$runner_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "console on unix:" "$tmp/runner.log"; then
    say "FAIL: the runner did not announce its console"
    cat "$tmp/runner.log" >&2
    exit 1
fi
export VIGILCTL_PORT=unix:$sock
t0=$SECONDS

# Wait for the Additions (the first call also waits for the boot: resends 'mode json').
registered=0
for _ in $(seq 60); do
    if "$VIGILCTL" --timeout 120 --json status >"$tmp/out" 2>"$tmp/err" &&
        grep -q '"additions_registered":true' "$tmp/out"; then
        registered=1
        break
    fi
    sleep 1
done
[ $registered = 1 ] || fail "the guest Additions did not register"

# ---- IVMGuestOS properties ----------------------------------------------------------
run 0 status && { out_has '^additions registered: +yes$'; out_has '^hypervisor: +[0-9]+\.[0-9]+'; out_has '^guest running: +yes$'; }
run 0 --json status && json_check 'j["guest_running"] is True and j["computer_name"] == "agent-guest" and isinstance(j["uptime_ms"], int)'
run 0 info && { out_has '^AdditionsVersion: +vigil-agent 1\.0\.0$'; out_has '^OSName: +vigil test guest$'
                out_has '^ComputerName: +agent-guest$'; out_has '^CanShutdown: +true$'; }
run 0 --json info && json_check 'j["additions_version"] == "vigil-agent 1.0.0" and j["can_shutdown"] is True'
run 0 heartbeat && { out_has '^state: +beating$'; out_has '^IsHeartbeating: +true$'; out_has '^HeartbeatPercentage: +[0-9]+%'; out_has '^last beat: +[0-9]'; }
run 0 --json heartbeat && json_check 'j["heartbeating"] is True and j["beats_total"] > 0 and j["period_ms"] == 1000'
run 0 heartbeat --graph --duration 2 --interval 0.5 && { out_has '^beats \|'; out_has 'no per-beat history'; }
run 0 heartbeat --failure-interval 15000 && out_has '15000 ms'
run 0 --json heartbeat && json_check 'j["failure_interval_ms"] == 15000'
run 0 heartbeat --failure-interval 10000

# ---- ExecuteCommand -------------------------------------------------------------------
run 0 exec -- echo hello world && { out_has '^hello world$'; [ ! -s "$tmp/err" ] || fail "exec echo wrote to stderr"; }
run 3 exec -- exit 3
run 1 exec stderr oops && { err_has '^oops'; [ ! -s "$tmp/out" ] || fail "exec stderr wrote to stdout"; }
run 127 exec -- no-such-command && err_has "unknown command 'no-such-command'"
if run 0 exec -- spew 5000; then
    n=$(wc -c <"$tmp/out")
    [ "$n" = 5000 ] || fail "exec spew 5000: $n bytes on stdout"
    out_has '^spew line 00001$'
fi
run 0 exec --env GREETING=hi --env B=2 -- env && { out_has '^GREETING=hi$'; out_has '^B=2$'; }
run 0 exec --cwd /var/tmp -- pwd && out_has '^/var/tmp$'
# --json passes the console's base64 lines through ({"stream":..,"data_b64":..}); their
# bytes must be exactly what the plain exec wrote (multi-byte UTF-8 included).
json_exec_matches() { # ARGS...: the decoded stdout of --json exec equals the plain exec's stdout
    run 0 exec -- "$@" || return
    cp "$tmp/out" "$tmp/plain"
    run 0 --json exec -- "$@" || return
    python3 - "$tmp/out" "$tmp/plain" <<'PY' || fail "--json exec $*: the decoded stream differs from the plain output"
import base64, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
chunks = [l for l in lines if "stream" in l]
assert all("data" not in l and 0 < len(l["data_b64"]) <= 512 for l in chunks), chunks
data = b"".join(base64.b64decode(l["data_b64"], validate=True) for l in chunks if l["stream"] == "stdout")
plain = open(sys.argv[2], "rb").read()
assert data == plain, (len(data), len(plain))
assert lines[-1]["exit_code"] == 0 and lines[-1]["timed_out"] is False, lines[-1]
if len(plain) > 384:
    assert len(chunks) >= (len(plain) + 383) // 384, len(chunks)  # at most 384 bytes per line
PY
}
json_exec_matches spew 1500
json_exec_matches echo "caf$(printf '\303\251') $(printf '\342\202\254') $(printf '\360\237\230\200') tab$(printf '\t')end"
run 124 exec --timeout 1 -- sleep 30 && err_has 'timed out after 1 s'

# ---- Parameters, time sync, stats, metrics, watch -------------------------------------------
run 0 param set motd "hello there"
run 0 param get motd && out_has '^hello there$'
run 0 --json param get motd && json_check 'j == {"name": "motd", "value": "hello there"}'
run 0 param set second 2
run 0 param list && { out_has '^motd$'; out_has '^second$'; }
run 0 --json param list && json_check '"motd" in j["names"] and j["count"] == len(j["names"])'
run 5 param get no-such-name && err_has '^vigilctl: E_NOT_FOUND \(0x80070490\): no such parameter$'
run 5 --json param get no-such-name && json_check 'j["error"]["status_name"] == "E_NOT_FOUND" and j["error"]["status"] == 0x80070490'
run 0 timesync off && out_has '^time sync: off$'
run 0 timesync status && out_has '^time sync: off$'
run 0 --json timesync on && json_check 'j == {"time_sync": True}'
run 0 stats && { out_has '^VM exits:$'; out_has '^  cpuid +[0-9]+$'; out_has '^  requests_completed +[1-9][0-9]*$'; }
run 0 --json stats && json_check 'j["exits"]["cpuid"] > 0 and j["service"]["doorbells"] > 0'
if run 0 metrics --label host=it; then
    out_has '^# TYPE vigil_up gauge$'
    out_has '^vigil_up\{host="it"\} 1$'
    out_has '^vigil_heartbeat_beats_total\{host="it"\} [1-9][0-9]*$'
    out_has '^vigil_vm_exits_total\{reason="io",host="it"\} [0-9]+$'
    out_has '^vigil_service_requests_completed_total\{host="it"\} [0-9]+$'
    # the text format: comments, or name{labels} value
    bad=$(grep -Ev '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.]+)$' "$tmp/out")
    [ -z "$bad" ] || fail "metrics: lines not in the exposition format: $bad"
fi
run 0 watch --count 3 --interval 0.5 && { n=$(wc -l <"$tmp/out"); [ "$n" = 3 ] || fail "watch --count 3 printed $n lines"; out_has ' heartbeat [0-9]+% beating '; }
run 0 --json watch --count 2 --interval 0.5 && json_check '"heartbeat" in j or "event" in j'
run 0 ping

# ---- Errors -----------------------------------------------------------------------------------
run 2 frobnicate && err_has "unknown command 'frobnicate'"
run 2 param get && err_has 'param get NAME'
run 3 --port "unix:$tmp/no-such.sock" status && err_has 'cannot connect to unix:'
run 125 --port "unix:$tmp/no-such.sock" exec -- echo x
if "$VIGILCTL" additions install >"$tmp/out" 2>"$tmp/err"; then :; else
    rc=$?; [ $rc = 5 ] || fail "additions install: exit $rc (want 0 or 5)"; err_has '^vigilctl: [A-Z_]+ \(0x[0-9A-F]{8}\): '
fi
run 0 exec -- veto on
run 5 shutdown --reason "integration test" && err_has '^vigilctl: ERROR_MACHINE_LOCKED \(0x800704F7\): the guest refused to shut down$'
run 0 exec -- veto off

# ---- Shutdown, then the machine -----------------------------------------------------------------
run 0 shutdown --wait --timeout 20 --reason "integration test" && err_has 'done after .*the guest is no longer running'
run 0 --json status && json_check 'j["guest_running"] is False and j["additions_version"] == "vigil-agent 1.0.0"'
run 126 exec -- echo too late && err_has '^vigilctl: [A-Z_]+ \(0x[0-9A-F]{8}\): '
run 5 --json ping && json_check 'j["error"]["kind"] == "status" and j["error"]["status"] >= 0x80000000'
run 0 poweroff && out_has 'powering off|powered off'

wait "$runner_pid"
runner_rc=$?
runner_pid=
grep -q "^run-bochs: ok: " "$tmp/runner.log" || fail "the runner did not judge the run ok"
[ $runner_rc = 0 ] || fail "the runner exited $runner_rc"
if [ $failures -ne 0 ]; then
    echo "--- runner output ---" >&2
    tail -n 40 "$tmp/runner.log" >&2
    say "$failures of $checks checks FAILED ($((SECONDS - t0)) s)"
    exit 1
fi
say "ok: $checks vigilctl calls checked in $((SECONDS - t0)) s"
exit 0
