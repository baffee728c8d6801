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

Runner: agent.elf.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402

REASON = "hung guest"


def run(con):
    s = sc.Session(con, "forced-shutdown")
    s.enter_json()
    s.wait_registered()
    s.exec_ok(["echo", "alive"])

    t = time.monotonic()
    hang = con.send_request("exec", argv=["hang"], timeout=1)
    con.pump(1.0)
    shutdown = con.send_request("shutdown", force=True, timeout=3, reason=REASON)

    resp, _ = con.wait_response(shutdown, sc.WAIT + 60)
    assert resp.get("status") == sc.S_OK, dumps(resp)
    took = time.monotonic() - t
    forced = con.wait_event("guest-shutdown", 10)
    assert forced["detail"] == "forced power off after 3000 ms (still queued): " + REASON, dumps(forced)
    s.note("forced off after %.1f s: %s" % (took, forced["detail"]))

    final, streamed = con.wait_response(hang, 10)
    assert final.get("status") == sc.VM_E_VM_NOT_RUNNING, dumps(final)
    assert "exit_code" not in final and streamed == [], (final, streamed)  # the guest never answered

    status = s.result("status")
    assert status["guest_running"] is False and status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    s.expect(sc.VM_E_VM_NOT_RUNNING, "exec", argv=["echo", "late"])
    s.expect(sc.VM_E_VM_NOT_RUNNING, "shutdown", force=True)
    # the hung guest also stopped beating (default failure interval 10 s) on the way
    names = [e["event"] for e in con.events]
    assert set(names) <= {"heartbeat-stopped", "additions-registered"}, con.events
    s.poweroff(guest_cut_off=False)
