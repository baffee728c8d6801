"""A triple fault while a request is in flight, through the JSON console: the
agent's `exec triplefault` (empty IDT + int3) gives the triple-fault event
(OnTripleFault); the exec is answered VM_E_VM_NOT_RUNNING (the guest is gone,
it never answered); vigil keeps the console (guest_exit=console) with the
cached properties, and `poweroff` ends the run.

Runner: agent.elf:hostname=svc-tf.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402


def run(con):
    s = sc.Session(con, "triple-fault")
    s.enter_json()
    s.wait_registered()
    s.exec_ok(["echo", "before"])

    rid = con.send_request("exec", argv=["triplefault"])
    event = con.wait_event("triple-fault", sc.WAIT)
    assert event["detail"].startswith("triple fault"), dumps(event)
    final, streamed = con.wait_response(rid, sc.WAIT)
    assert final.get("status") == sc.VM_E_VM_NOT_RUNNING and "exit_code" not in final, dumps(final)
    assert streamed == [], streamed
    s.note("event triple-fault: %s; exec: %s" % (event["detail"], final["status_name"]))

    status = s.result("status")
    assert status["guest_running"] is False and status["additions_registered"] is False, dumps(status)
    assert status["additions_version"] == sc.AGENT_VERSION and status["computer_name"] == "svc-tf", dumps(status)
    assert status["is_heartbeating"] is False, dumps(status)
    s.expect(sc.VM_E_VM_NOT_RUNNING, "exec", argv=["echo", "after"])
    s.expect(sc.VM_E_VM_NOT_RUNNING, "param", action="get", name="x")
    # the policy-action event: on_triple_fault=halt (the default) said what it did
    assert not [e for e in con.events if e["event"] not in ("heartbeat-stopped", "additions-registered",
                                                             "policy-action")], con.events
    s.poweroff(guest_cut_off=False)
