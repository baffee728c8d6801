"""InstallAdditions with a package, then Shutdown through the JSON console: the
agent's veto (ERROR_MACHINE_LOCKED, CanShutdown false), then an accepted
shutdown: S_OK, guest-shutdown events, the guest stops. With guest_exit=console
vigil keeps the console: the cached properties stay readable, operations on
the guest answer VM_E_VM_NOT_RUNNING, and `poweroff` ends the run.

Runner: agent.elf, module 1 = a package with version=2.0.0 (any file will do:
the agent only checksums it and prints what it was offered).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402


def run(con):
    s = sc.Session(con, "shutdown")
    s.enter_json()
    s.wait_registered()

    # the package (module 1) is offered: the agent answers S_OK (and prints its version on COM2)
    s.ok("additions", action="install")
    s.expect(sc.E_INVALIDARG, "additions", action="remove")
    s.expect(sc.E_INVALIDARG, "additions")
    s.note("additions install: ok")

    # veto
    s.exec_ok(["veto", "on"])
    assert s.result("guest")["can_shutdown"] is False
    resp, _ = s.expect(sc.ERROR_MACHINE_LOCKED, "shutdown", reason="vetoed by the test", timeout=10)
    assert resp["status"] == 0x800704F7, dumps(resp)
    assert s.result("status")["guest_running"] is True
    s.expect(sc.E_INVALIDARG, "shutdown", reason="x" * 256)  # reason too long: refused by the console
    s.exec_ok(["veto", "off"])
    assert s.result("guest")["can_shutdown"] is True
    s.note("veto: ok")

    # an accepted shutdown: the guest announces it, then powers off through ACPI
    s.ok("shutdown", reason="end of test", timeout=20)
    first = con.wait_event("guest-shutdown", sc.WAIT)
    s.note("event guest-shutdown: %s" % first["detail"])
    status = s.wait_until("the guest stopping",
                          lambda: (lambda st: st if not st["guest_running"] else None)(s.result("status")))
    details = [first["detail"]] + [e["detail"] for e in con.events if e["event"] == "guest-shutdown"]
    assert any("ACPI sleep request" in d for d in details), details
    assert all(e["event"] in ("guest-shutdown", "additions-registered") for e in con.events), con.events

    # afterwards: cached properties, no guest
    assert status["additions_registered"] is False, dumps(status)
    assert status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    assert status["os_name"] == sc.AGENT_OS_NAME and status["computer_name"] == "agent-guest", dumps(status)
    assert status["is_heartbeating"] is False, dumps(status)
    guest = s.result("guest")
    assert guest["additions_version"] == sc.AGENT_VERSION and guest["can_shutdown"] is False, dumps(guest)
    for cmd, fields in (("exec", {"argv": ["echo", "late"]}), ("param", {"action": "list"}),
                        ("shutdown", {}), ("additions", {"action": "install"}), ("ping", {})):
        s.expect(sc.VM_E_VM_NOT_RUNNING, cmd, **fields)
    s.ok("timesync", action="status")
    stats = s.result("stats")
    assert stats["exits"]["total"] > 0 and stats["service"]["requests_completed"] > 0, dumps(stats)
    s.note("after the guest stopped: ok")
    s.poweroff(guest_cut_off=False)
