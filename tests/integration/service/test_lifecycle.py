"""The guest's life through the JSON console (docs/lifecycle.md): measured launch
in status, the exec allow-list from the command line (allowed, refused, relative
path refused, lock), bad policy values keep the previous one, heartbeat loss
under on_heartbeat_loss=log with 2 attempts (policy-action events), and the
audit trail listing the session's requests in order with their final statuses.

One boot: agent.elf with exec_allow=/bin/echo,/usr/bin/* heartbeat_interval=3000
heartbeat_attempts=2 on_triple_fault=dance (refused on the command line).
"""

import re

import service_common as sc
from service_common import dumps, st

PAUSE_S = 10
BOOT = sc.Boot(["agent.elf"],
               cmdline=sc.CMDLINE + " exec_allow=/bin/echo,/usr/bin/* heartbeat_interval=3000 heartbeat_attempts=2"
                                    " on_triple_fault=dance",
               expect=[r"vigil: warning: command line: on_triple_fault: unknown action 'dance'",
                       r"vigil: exec allow-list: enforcing, 2 entries",
                       r"vigil: module 0: sha256 [0-9a-f]{64}",
                       r"vigil: warning: recovery: on_heartbeat_loss=log: heartbeat lost \(attempt 2 of 2\)"])


def test_measured_launch_in_status(s):
    s.wait_registered()
    status = s.result("status")
    assert status["boot_count"] == 1 and status["last_stop_reason"] is None, dumps(status)
    assert len(status["module_sha256"]) == 1 and re.fullmatch("[0-9a-f]{64}", status["module_sha256"][0]), dumps(status)
    s.note("module 0 sha256 %s" % status["module_sha256"][0])


def test_exec_allow_list(s):
    # the exec allow-list: checked by vigil before the guest sees anything
    out, _ = s.exec_ok(["/bin/echo", "allowed"])
    assert out == b"allowed\n", repr(out)
    resp, _ = s.expect(st.E_ACCESSDENIED, "exec", argv=["/bin/sh", "-c", "reboot"])
    assert resp["message"] == "exec '/bin/sh' refused: not in the exec allow-list", dumps(resp)
    resp, _ = s.expect(st.E_ACCESSDENIED, "exec", argv=["echo", "relative"])
    assert "not an absolute path" in resp["message"], dumps(resp)
    listing = s.result("allowlist")
    assert listing == {"enforcing": True, "locked": False, "entries": ["/bin/echo", "/usr/bin/*"]}, dumps(listing)
    s.expect(st.E_INVALIDARG, "allowlist", action="add", value="relative/path")
    listing = s.result("allowlist", action="lock")
    assert listing["locked"] is True, dumps(listing)
    resp, _ = s.expect(st.E_ACCESSDENIED, "allowlist", action="add", value="/bin/sh")
    assert "locked" in resp["message"], dumps(resp)
    assert s.result("allowlist")["entries"] == ["/bin/echo", "/usr/bin/*"]


def test_policies_keep_the_previous_value_on_bad_input(s):
    # policies: the bad command-line value kept the default; a bad console value keeps the previous one
    policy = s.result("policy")
    assert policy["on_triple_fault"] == "halt" and policy["heartbeat_attempts"] == 2, dumps(policy)
    assert policy["on_heartbeat_loss"] == "log" and policy["heartbeat_failure_interval_ms"] == 3000, dumps(policy)
    s.expect(st.E_INVALIDARG, "policy", action="set", name="on_heartbeat_loss", value="explode")
    s.expect(st.E_INVALIDARG, "policy", action="set", name="restart_window", value="0")
    assert s.result("policy")["on_heartbeat_loss"] == "log"


def test_heartbeat_loss_under_log(s):
    con = s.con
    # heartbeat loss under `log`, two attempts one failure interval apart
    out, _ = s.exec_ok(["/usr/bin/stopbeat", str(PAUSE_S)])
    stopped = con.wait_event("heartbeat-stopped", sc.WAIT)
    first = con.wait_event("policy-action", sc.WAIT)
    assert first["detail"] == "on_heartbeat_loss=log: heartbeat lost (attempt 1 of 2)", dumps(first)
    second = con.wait_event("policy-action", sc.WAIT)
    assert second["detail"] == "on_heartbeat_loss=log: heartbeat lost (attempt 2 of 2)", dumps(second)
    assert second["time_ms"] - first["time_ms"] >= 3000 - 100, (first, second)
    s.note("heartbeat-stopped at %d ms, policy actions at %d and %d ms" % (
        stopped["time_ms"], first["time_ms"], second["time_ms"]))
    con.wait_event("heartbeat-resumed", sc.WAIT + 60)
    assert not [e for e in con.events if e["event"] == "policy-action"], con.events  # no third attempt


def test_audit_trail_in_order(s):
    # the audit trail: the boot measurement first, then this session in order
    audit = s.result("audit", count=128)
    entries = audit["entries"]
    assert audit["overwritten"] == 0 and entries[0]["seq"] == 1, dumps(audit)
    assert entries[0]["origin"] == "boot" and entries[0]["op"] == "measure" and entries[0]["status"] == 0, dumps(entries[0])
    # (the repeated 'mode json' lines of enter_json are "invalid" JSON entries without an id)
    json_ids = [e["request_id"] for e in entries if e["origin"] == "json" and e["request_id"] is not None]
    assert json_ids == sorted(json_ids) and len(json_ids) >= 15, json_ids
    refused = [e for e in entries if e["op"] == "exec" and e["status"] == st.E_ACCESSDENIED]
    assert [e["detail"] for e in refused][:1] == ["exec '/bin/sh' refused: not in the exec allow-list"], dumps(refused)
    actions = [e for e in entries if e["origin"] == "policy"]
    assert [(e["op"], e["detail"]) for e in actions] == [
        ("log", "heartbeat lost (attempt 1 of 2)"), ("log", "heartbeat lost (attempt 2 of 2)")], dumps(actions)
    assert entries[-1]["op"] == "audit" and entries[-1]["status"] == 0, dumps(entries[-1])
    assert all(re.fullmatch("[0-9a-f]{16}", e["args_sha256"]) for e in entries), dumps(entries)
    s.note("audit: %d entries, %d from this JSON session" % (len(entries), len(json_ids)))


def test_poweroff(machine):
    machine.assert_clean_end(guest_cut_off=True)
