"""Shared code of the guest-service console tests (tests/integration/service/test_*.py).

Boot: how a test file's machine starts (agent guest modules, the runner's
--expect patterns). Machine: the runner (tools/run-bochs --console) as a
subprocess and a vigilconsole.Console on its socket. Session: the JSON protocol
(docs/console-protocol.md), asserting statuses by HRESULT value and name from
vigil_status, the module tools/gen-status-py generates from
guest-svc/include/vigil/status.h at build time (build/python/vigil_status.py).

Timing facts that shape the tests (Bochs, clock: sync=none, 2 cores):
- emulated time runs 2-4x slower than wall time while the guest runs;
- the console reads COM1 only on the hypervisor's 50 ms tick, 16 bytes (the
  UART FIFO) per tick: input arrives at ~320 bytes per emulated second, so
  keep request lines short and wait generously.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.path.abspath(os.environ.get("VIGIL_BUILD_DIR", os.path.join(REPO, "build")))
sys.path.insert(0, os.path.join(REPO, "tools", "lib"))
sys.path.insert(0, os.path.join(BUILD, "python"))
try:
    import vigil_status as st  # noqa: E402 (generated: build/python/vigil_status.py)
except ImportError as e:
    raise ImportError("%s/python/vigil_status.py is missing: build first "
                      "(cmake --build --preset default) or set VIGIL_BUILD_DIR (%s)" % (BUILD, e))
import vigilconsole  # noqa: E402

WAIT = 90.0  # s of wall time for one answer (generous: ctest -j2 on 2 cores)
MAX_PIECE = 384  # raw bytes of exec output per streamed line (docs/console-protocol.md)

AGENT_VERSION = "vigil-agent 1.0.0"
AGENT_OS_NAME = "vigil test guest"
CMDLINE = "console=com1 panic=poweroff guest_exit=console"
OPERATOR_POWEROFF = "vigil: power off: operator requested power off"
CONSOLE_ON = re.compile(r"^run-\S+: console on (unix:\S+)\s*$", re.M)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class Boot:
    """A machine: modules (FILE[:ARGS], FILE relative to build/guests or
    absolute), vigil's command line, the runner's --expect/--reject patterns
    for COM1 and COM2 (judged when the run ends), its timeout, and any other
    tools/run-bochs arguments (e.g. ["--megs", "512"])."""

    def __init__(self, modules, expect=(), expect_guest=(), reject_guest=(), timeout=240,
                 cmdline=CMDLINE, extra_args=()):
        self.modules = list(modules)
        self.expect = [OPERATOR_POWEROFF] + list(expect)
        self.expect_guest = list(expect_guest)
        self.reject_guest = list(reject_guest)
        self.timeout = timeout
        self.cmdline = cmdline
        self.extra_args = list(extra_args)

    def runner_args(self):
        args = ["--cmdline", self.cmdline, "--timeout", str(self.timeout)] + self.extra_args
        for m in self.modules:
            args += ["--module", os.path.join(BUILD, "guests", m)]
        for flag, patterns in (("--expect", self.expect), ("--expect-guest", self.expect_guest),
                               ("--reject-guest", self.reject_guest)):
            for p in patterns:
                args += [flag, p]
        return args


def _term_with_parent():
    """In the runner: SIGTERM when the test process dies (ctest's timeout), so
    it stops its emulator and removes its socket."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Machine:
    """tools/run-bochs --console unix:SOCK with the Boot's arguments, its
    output in runner.log, and a console session on SOCK."""

    def __init__(self, name, boot, tmpdir):
        self.name = name
        self.boot = boot
        self.sock = os.path.join(tmpdir, "console.sock")
        self.log_path = os.path.join(tmpdir, "runner.log")
        self.argv = [os.path.join(REPO, "tools", "run-bochs"), "--kernel", os.path.join(BUILD, "vigil.elf"),
                     "--console", "unix:" + self.sock] + boot.runner_args()
        self.proc = None
        self.con = None
        self.session = None
        self.t0 = time.monotonic()

    def runner_output(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self, connect_timeout=120):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_term_with_parent)
        deadline = time.monotonic() + connect_timeout
        while not CONSOLE_ON.search(self.runner_output()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the runner did not serve its console (exit %s):\n%s\ncommand: %s"
                                     % (self.proc.poll(), self.runner_output(), " ".join(self.argv)))
            time.sleep(0.1)
        self.con = vigilconsole.connect("unix:" + self.sock, timeout=10)
        self.session = Session(self.con, self.name)
        self.session.enter_json()

    def finish(self, guest_cut_off):
        """Powers off through the console and waits for the runner's verdict;
        returns (exit status, runner output)."""
        self.session.poweroff(guest_cut_off)
        left = self.boot.timeout - (time.monotonic() - self.t0) + 15
        self.con.drain(max(5.0, left))  # until the runner closes the console: the run is over
        try:
            rc = self.proc.wait(max(10.0, left + 15))
        except subprocess.TimeoutExpired:
            rc = None
        return rc, self.runner_output()

    def stop(self):
        if self.con is not None:
            self.con.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the runner stops the emulator and cleans up
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # the emulator dies with it (the runner's PDEATHSIG)
                self.proc.wait()

    def assert_clean_end(self, guest_cut_off):
        """The last test of a file: 'poweroff', then the runner must judge the
        run ok: every --expect matched and the emulator stopped by itself."""
        rc, out = self.finish(guest_cut_off)
        assert rc == 0, "the runner failed (exit %s):\n%s" % (rc, out)
        assert re.search(r"^run-bochs: ok: .*emulator exited by itself", out, re.M), out


class Session:
    """A JSON-mode session on a vigilconsole.Console."""

    def __init__(self, con, name="service"):
        self.con = con
        self.name = name
        self.t0 = time.monotonic()

    def note(self, text):
        print("%s: [%6.1f s] %s" % (self.name, time.monotonic() - self.t0, text), file=sys.stderr, flush=True)

    # -- modes ------------------------------------------------------------------
    def enter_json(self):
        ack = self.con.enter_json_mode(timeout=120, resend_every=2.0)
        assert ack.get("status") == st.S_OK and ack.get("result") == {"mode": "json"}, "mode json: %s" % dumps(ack)
        self.con.stray.clear()  # acknowledgements/errors of repeated 'mode json'
        self.note("JSON mode")

    def enter_human(self):
        resp, _ = self.call("mode", mode="human")
        assert resp["status"] == st.S_OK and resp["result"] == {"mode": "human"}, dumps(resp)

    # -- requests -----------------------------------------------------------------
    def call(self, cmd, wait=WAIT, **fields):
        """Sends {"id","cmd":cmd,**fields}; returns (response, streamed lines)."""
        rid = self.con.send_request(cmd, **fields)
        return self.con.wait_response(rid, wait)

    def expect(self, status, cmd, wait=WAIT, **fields):
        """call(), asserting the response's status, its name, and a message on failure."""
        resp, streamed = self.call(cmd, wait=wait, **fields)
        what = "%s %s" % (cmd, dumps(fields))
        assert resp.get("status") == status, "%s: status %s (%s), expected %s (0x%08X): %s" % (
            what, resp.get("status"), resp.get("status_name"), st.NAMES.get(status, "?"), status, dumps(resp))
        assert resp.get("status_name") == st.NAMES[status], "%s: %s" % (what, dumps(resp))
        if status != st.S_OK:
            assert isinstance(resp.get("message"), str) and resp["message"], "%s: no message: %s" % (what, dumps(resp))
        return resp, streamed

    def ok(self, cmd, wait=WAIT, **fields):
        return self.expect(st.S_OK, cmd, wait=wait, **fields)

    def result(self, cmd, wait=WAIT, **fields):
        resp, _ = self.ok(cmd, wait=wait, **fields)
        assert isinstance(resp.get("result"), dict), "%s: no result: %s" % (cmd, dumps(resp))
        return resp["result"]

    def exec_(self, argv, wait=WAIT, **fields):
        """Runs argv; returns (final response, stdout bytes, stderr bytes). Every
        streamed piece is checked: a known stream, data_b64 decoding to at most
        MAX_PIECE bytes."""
        resp, streamed = self.call("exec", wait=wait, argv=argv, **fields)
        for piece in streamed:
            assert piece.get("stream") in ("stdout", "stderr"), dumps(piece)
            assert "data" not in piece, "exec output as text, not data_b64: %s" % dumps(piece)
            size = len(vigilconsole.stream_bytes([piece], piece["stream"]))
            assert 0 < size <= MAX_PIECE, "piece of %d bytes: %s" % (size, dumps(piece))
        return resp, vigilconsole.stream_bytes(streamed, "stdout"), vigilconsole.stream_bytes(streamed, "stderr")

    def exec_ok(self, argv, exit_code=0, wait=WAIT, **fields):
        resp, out, err = self.exec_(argv, wait=wait, **fields)
        assert resp.get("status") == st.S_OK and resp.get("exit_code") == exit_code, \
            "exec %s: expected exit code %d: %s (stdout %r, stderr %r)" % (argv, exit_code, dumps(resp), out, err)
        assert "killed" not in resp and "timed_out" not in resp, dumps(resp)
        return out, err

    def stats_sent(self):
        return self.result("stats")["service"]["requests_sent"]

    # -- waiting --------------------------------------------------------------------
    def wait_until(self, what, predicate, wait=WAIT, every=1.0):
        """Calls predicate() until it returns a true value (returned), at most wait s."""
        deadline = time.monotonic() + wait
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError("%s: not within %g s" % (what, wait))
            self.con.pump(every)

    def wait_registered(self, wait=WAIT):
        """Until status says the Additions registered; returns the status result."""
        status = self.wait_until("the Additions registering",
                                 lambda: (lambda r: r if r["additions_registered"] else None)(self.result("status")),
                                 wait)
        self.note("Additions registered")
        return status

    def registered_event(self, wait=WAIT):
        """The additions-registered event's detail: from the JSON event queue, or
        from the human-mode line if it came before 'mode json'."""
        for line in self.con.log:
            if line.startswith("event: additions-registered: "):
                return line.split(": ", 2)[2]
        return self.con.wait_event("additions-registered", wait)["detail"]

    # -- the end ----------------------------------------------------------------------
    def poweroff(self, guest_cut_off):
        """'poweroff': the answer comes first, then vigil powers off (the Boot
        expects 'vigil: power off: operator requested power off')."""
        resp, _ = self.ok("poweroff", reboot=False)
        assert resp["result"] == {"reboot": False, "guest_cut_off": guest_cut_off}, dumps(resp)
        self.note("poweroff answered")
