"""A forced Shutdown of a hung guest through the JSON console: the agent's `exec
hang` stops beating and polling for good; `shutdown --force --timeout 3` then
ends with vigil forcing the guest off: guest-shutdown "forced power off after
3000 ms", the shutdown answered S_OK, the guest stopped (console kept).

What the service does today (guest-svc/host/mailbox.c): requests go one at a
time through the single request slot, and a request's timeout starts when it
is *sent*, not when it was asked for. The shutdown therefore waits behind the
hung exec: the exec fails first (VM_E_TIMED_OUT after its timeout + 5 s grace),
then the service's own KILL waits 5 s for an acknowledgement, and only then is
the shutdown sent and its 3 s run. The exec gets a 1 s timeout to keep this short.

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

    final, streamed = con.wait_response(hang, sc.WAIT + 60)
    assert final.get("status") == sc.VM_E_TIMED_OUT and final.get("status_name") == "VM_E_TIMED_OUT", dumps(final)
    assert "exit_code" not in final and streamed == [], (final, streamed)  # the guest never answered
    s.note("exec hang: %s after %.1f s" % (final["status_name"], time.monotonic() - t))

    resp, _ = con.wait_response(shutdown, sc.WAIT + 60)
    assert resp.get("status") == sc.S_OK, dumps(resp)
    forced = con.wait_event("guest-shutdown", 10)
    assert forced["detail"] == "forced power off after 3000 ms: " + REASON, dumps(forced)
    s.note("forced off after %.1f s: %s" % (time.monotonic() - t, forced["detail"]))

    status = s.result("status")
    assert status["guest_running"] is False and status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    s.expect(sc.VM_E_VM_NOT_RUNNING, "exec", argv=["echo", "late"])
    s.expect(sc.VM_E_VM_NOT_RUNNING, "shutdown", force=True)
    # the hung guest also stopped beating (default failure interval 10 s) on the way
    names = [e["event"] for e in con.events]
    assert set(names) <= {"heartbeat-stopped", "additions-registered"}, con.events
    s.poweroff(guest_cut_off=False)
