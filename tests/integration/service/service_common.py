"""Shared helpers for the guest-service console tests (tests/integration/service/*.py).

Each test file has run(console) for tests/integration/console_session.py, which
boots vigil under Bochs with the agent guest (tests/guests/agent.c) and hands
over a connected tools/lib/vigilconsole.Console. These helpers speak the JSON
protocol (docs/console-protocol.md) and assert statuses by HRESULT value.

Timing facts that shape the tests (Bochs, clock: sync=none, 2 cores):
- emulated time runs 2-4x slower than wall time while the guest runs;
- the console reads COM1 only on the hypervisor's 50 ms tick, 16 bytes (the
  UART FIFO) per tick: input arrives at ~320 bytes per emulated second, so
  keep request lines short and wait generously.
"""

import json
import sys
import time

S_OK = 0
E_INVALIDARG = 0x80070057
E_NOT_FOUND = 0x80070490
E_BUSY = 0x800700AA
ERROR_MACHINE_LOCKED = 0x800704F7
VM_E_TIMED_OUT = 0xA0040202
VM_E_VM_NOT_RUNNING = 0xA0040206
VM_E_DRIVE_INVALID = 0xA0040502
VM_E_ADDITIONS_NOT_AVAIL = 0xA0040504

NAMES = {
    S_OK: "S_OK",
    E_INVALIDARG: "E_INVALIDARG",
    E_NOT_FOUND: "E_NOT_FOUND",
    E_BUSY: "E_BUSY",
    ERROR_MACHINE_LOCKED: "ERROR_MACHINE_LOCKED",
    VM_E_TIMED_OUT: "VM_E_TIMED_OUT",
    VM_E_VM_NOT_RUNNING: "VM_E_VM_NOT_RUNNING",
    VM_E_DRIVE_INVALID: "VM_E_DRIVE_INVALID",
    VM_E_ADDITIONS_NOT_AVAIL: "VM_E_ADDITIONS_NOT_AVAIL",
}

WAIT = 90.0  # s of wall time for one answer (generous: ctest -j2 on 2 cores)

AGENT_VERSION = "vigil-agent 1.0.0"
AGENT_OS_NAME = "vigil test guest"


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


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
        assert ack.get("status") == S_OK and ack.get("result") == {"mode": "json"}, "mode json: %s" % dumps(ack)
        # Repeats of 'mode json' sent before the console read the first one (vigil
        # reads the UART once the guest runs) are answered as malformed JSON, in
        # order: once a later request is answered, all of them have come.
        self.call("help")
        self.con.stray.clear()  # acknowledgements/errors of repeated 'mode json'
        self.note("JSON mode")

    def enter_human(self):
        resp, _ = self.call("mode", mode="human")
        assert resp["status"] == S_OK and resp["result"] == {"mode": "human"}, dumps(resp)

    # -- requests -----------------------------------------------------------------
    def call(self, cmd, wait=WAIT, **fields):
        """Sends {"id","cmd":cmd,**fields}; returns (response, streamed lines)."""
        rid = self.con.send_request(cmd, **fields)
        return self.con.wait_response(rid, wait)

    def expect(self, status, cmd, wait=WAIT, **fields):
        """call(), asserting the response's status (and its name, and a message on failure)."""
        resp, streamed = self.call(cmd, wait=wait, **fields)
        what = "%s %s" % (cmd, dumps(fields))
        assert resp.get("status") == status, "%s: status %s (%s), expected %s (0x%08X): %s" % (
            what, resp.get("status"), resp.get("status_name"), NAMES.get(status, "?"), status, dumps(resp))
        if status in NAMES:
            assert resp.get("status_name") == NAMES[status], "%s: %s" % (what, dumps(resp))
        if status != S_OK:
            assert isinstance(resp.get("message"), str) and resp["message"], "%s: no message: %s" % (what, dumps(resp))
        return resp, streamed

    def ok(self, cmd, wait=WAIT, **fields):
        return self.expect(S_OK, cmd, wait=wait, **fields)

    def result(self, cmd, wait=WAIT, **fields):
        resp, _ = self.ok(cmd, wait=wait, **fields)
        assert isinstance(resp.get("result"), dict), "%s: no result: %s" % (cmd, dumps(resp))
        return resp["result"]

    def exec_(self, argv, wait=WAIT, **fields):
        """Runs argv; returns (final response, stdout text, stderr text). Every
        streamed piece is checked: known stream, string data, at most 512 bytes."""
        resp, streamed = self.call("exec", wait=wait, argv=argv, **fields)
        out, err = [], []
        for piece in streamed:
            assert piece.get("stream") in ("stdout", "stderr"), dumps(piece)
            assert isinstance(piece.get("data"), str), dumps(piece)
            assert len(piece["data"].encode("utf-8")) <= 512, "piece over 512 bytes: %d" % len(piece["data"])
            (out if piece["stream"] == "stdout" else err).append(piece["data"])
        return resp, "".join(out), "".join(err)

    def exec_ok(self, argv, exit_code=0, wait=WAIT, **fields):
        resp, out, err = self.exec_(argv, wait=wait, **fields)
        assert resp.get("status") == S_OK and resp.get("exit_code") == exit_code, \
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
        """Ends the run with 'poweroff': the answer comes first, then vigil powers
        off (the runner's --expect checks 'vigil: power off: operator requested
        power off'); console_session then reads until the runner closes."""
        resp, _ = self.ok("poweroff", reboot=False)
        assert resp["result"] == {"reboot": False, "guest_cut_off": guest_cut_off}, dumps(resp)
        self.note("poweroff answered")
