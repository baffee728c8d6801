"""InstallAdditions with a package, then Shutdown through the JSON console: the
agent's veto (ERROR_MACHINE_LOCKED, CanShutdown false), then an accepted
shutdown: S_OK, guest-shutdown events, the guest stops. With guest_exit=console
vigil keeps the console: the cached properties stay readable, operations on
the guest answer VM_E_VM_NOT_RUNNING, and `poweroff` ends the run.
One boot: agent.elf, module 1 = a package with version=2.0.0 (any file will do:
the agent only checksums it and prints what it was offered).
"""

import service_common as sc
from service_common import dumps, st

BOOT = sc.Boot(["agent.elf", "hello.elf:version=2.0.0"],
               expect=[r"vigil: Additions package 2\.0\.0: module 1", r"vigil: guest powered off",
                       r"the console stays up \(guest_exit=console\)"],
               expect_guest=[r"^agent: install additions: version '2\.0\.0', [0-9]+ bytes",
                             r"^agent: shutdown vetoed \(reason 'vetoed by the test'\)",
                             r"^agent: shutting down \(reason 'end of test'\)"])


def test_install_additions_with_a_package(s):
    s.wait_registered()
    s.ok("additions", action="install")  # the agent prints the version on COM2 (BOOT)
    s.expect(st.E_INVALIDARG, "additions", action="remove")
    s.expect(st.E_INVALIDARG, "additions")


def test_guest_vetoes_shutdown(s):
    s.exec_ok(["veto", "on"])
    assert s.result("guest")["can_shutdown"] is False
    s.expect(st.ERROR_MACHINE_LOCKED, "shutdown", reason="vetoed by the test", timeout=10)
    assert s.result("status")["guest_running"] is True
    s.expect(st.E_INVALIDARG, "shutdown", reason="x" * 256)  # reason too long: refused by the console
    s.exec_ok(["veto", "off"])
    assert s.result("guest")["can_shutdown"] is True


def test_accepted_shutdown_stops_the_guest(s):
    con = s.con
    s.ok("shutdown", reason="end of test", timeout=20)
    first = con.wait_event("guest-shutdown", sc.WAIT)
    s.note("event guest-shutdown: %s" % first["detail"])
    s.wait_until("the guest stopping", lambda: not s.result("status")["guest_running"])
    details = [first["detail"]] + [e["detail"] for e in con.events if e["event"] == "guest-shutdown"]
    assert any("ACPI sleep request" in d for d in details), details
    assert all(e["event"] in ("guest-shutdown", "additions-registered") for e in con.events), con.events


def test_after_the_guest_stopped_properties_are_cached(s):
    status = s.result("status")
    assert status["guest_running"] is False and status["additions_registered"] is False, dumps(status)
    assert status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    assert status["os_name"] == sc.AGENT_OS_NAME and status["computer_name"] == "agent-guest", dumps(status)
    assert status["is_heartbeating"] is False, dumps(status)
    guest = s.result("guest")
    assert guest["additions_version"] == sc.AGENT_VERSION and guest["can_shutdown"] is False, dumps(guest)


def test_after_the_guest_stopped_operations_answer_not_running(s):
    for cmd, fields in (("exec", {"argv": ["echo", "late"]}), ("param", {"action": "list"}),
                        ("shutdown", {}), ("additions", {"action": "install"}), ("ping", {})):
        s.expect(st.VM_E_VM_NOT_RUNNING, cmd, **fields)
    s.ok("timesync", action="status")
    stats = s.result("stats")
    assert stats["exits"]["total"] > 0 and stats["service"]["requests_completed"] > 0, dumps(stats)


def test_poweroff_after_the_guest_stopped(machine):
    machine.assert_clean_end(guest_cut_off=False)
