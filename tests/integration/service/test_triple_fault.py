"""A triple fault while a request is in flight, through the JSON console: the
agent's `exec triplefault` (empty IDT + int3) gives the triple-fault event
(OnTripleFault); the exec is answered VM_E_VM_NOT_RUNNING (the guest is gone,
it never answered); vigil keeps the console (guest_exit=console) with the
cached properties, and `poweroff` ends the run. One boot: agent.elf:hostname=svc-tf.
"""

import service_common as sc
from service_common import dumps, st

BOOT = sc.Boot(["agent.elf:hostname=svc-tf"],
               expect=[r"vigil: guest stopped: triple fault", r"the console stays up \(guest_exit=console\)"],
               expect_guest=[r"^agent: triple fault"],
               reject_guest=[r"agent: still running after the triple fault"])


def test_triple_fault_answers_the_exec_in_flight(s):
    con = s.con
    s.wait_registered()
    s.exec_ok(["echo", "before"])
    rid = con.send_request("exec", argv=["triplefault"])
    event = con.wait_event("triple-fault", sc.WAIT)
    assert event["detail"].startswith("triple fault"), dumps(event)
    final, streamed = con.wait_response(rid, sc.WAIT)
    assert final.get("status") == st.VM_E_VM_NOT_RUNNING and "exit_code" not in final, dumps(final)
    assert streamed == [], streamed


def test_after_the_triple_fault(s):
    status = s.result("status")
    assert status["guest_running"] is False and status["additions_registered"] is False, dumps(status)
    assert status["additions_version"] == sc.AGENT_VERSION and status["computer_name"] == "svc-tf", dumps(status)
    assert status["is_heartbeating"] is False, dumps(status)
    s.expect(st.VM_E_VM_NOT_RUNNING, "exec", argv=["echo", "after"])
    s.expect(st.VM_E_VM_NOT_RUNNING, "param", action="get", name="x")
    assert not [e for e in s.con.events if e["event"] not in ("heartbeat-stopped", "additions-registered",
                                                                "policy-action")], \
        s.con.events


def test_poweroff_after_the_guest_stopped(machine):
    machine.assert_clean_end(guest_cut_off=False)
