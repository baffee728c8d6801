"""A forced Shutdown of a hung guest through the JSON console: the agent's `exec
hang` stops beating and polling for good; `shutdown --force --timeout 3` then
ends with vigil forcing the guest off: guest-shutdown "forced power off after
3000 ms", the shutdown answered S_OK, the guest stopped (console kept).

The shutdown is queued behind the hung exec (one request at a time through the
single request slot), but a Shutdown's timeout runs from when it was requested
(guest-svc/host/mailbox.c): 3 s after the request vigil forces the guest off
while the shutdown is still queued ("forced power off after 3000 ms (still
queued)"); the shutdown answers S_OK and the hung exec VM_E_VM_NOT_RUNNING,
long before the exec's own host deadline (its 1 s timeout + 5 s grace).
One boot: agent.elf.
"""

import time

import service_common as sc
from service_common import dumps, st

REASON = "hung guest"
BOOT = sc.Boot(["agent.elf"],
               expect=[r"vigil: forcing the guest off: hung guest",
                       r"vigil: guest stopped: forced off after the shutdown timeout"],
               expect_guest=[r"^agent: hanging: no more beats or polls"])


def test_forced_shutdown_of_a_hung_guest(s):
    con = s.con
    s.wait_registered()
    s.exec_ok(["echo", "alive"])
    t = time.monotonic()
    hang = con.send_request("exec", argv=["hang"], timeout=1)
    con.pump(1.0)
    shutdown = con.send_request("shutdown", force=True, timeout=3, reason=REASON)

    resp, _ = con.wait_response(shutdown, sc.WAIT + 60)
    assert resp.get("status") == st.S_OK, dumps(resp)
    forced = con.wait_event("guest-shutdown", 10)
    assert forced["detail"] == "forced power off after 3000 ms (still queued): " + REASON, dumps(forced)
    s.note("forced off after %.1f s: %s" % (time.monotonic() - t, forced["detail"]))

    final, streamed = con.wait_response(hang, 10)
    assert final.get("status") == st.VM_E_VM_NOT_RUNNING, dumps(final)
    assert "exit_code" not in final and streamed == [], (final, streamed)  # the guest never answered


def test_after_the_forced_shutdown(s):
    status = s.result("status")
    assert status["guest_running"] is False and status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    s.expect(st.VM_E_VM_NOT_RUNNING, "exec", argv=["echo", "late"])
    s.expect(st.VM_E_VM_NOT_RUNNING, "shutdown", force=True)
    # the hung guest also stopped beating (default failure interval 10 s) on the way
    names = [e["event"] for e in s.con.events]
    assert set(names) <= {"heartbeat-stopped", "additions-registered"}, s.con.events


def test_poweroff_after_the_guest_stopped(machine):
    machine.assert_clean_end(guest_cut_off=False)
