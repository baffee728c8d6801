"""IVMGuestOS properties through the JSON console, before and after the Additions
register: the agent waits (register_delay_ms) before registering, so a running
guest without Additions is seen first. Then AdditionsVersion/OSName/ComputerName
(hostname= module argument), CanShutdown and the shutdown veto, the heartbeat
properties, InstallAdditions without a package, and `poweroff` while the guest
runs (the guest is cut off).

Runner: agent.elf:hostname=svc-props register_delay_ms=4000, no package module.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402

HOSTNAME = "svc-props"


def before_registration(s):
    status = s.result("status")
    assert status["guest_running"] is True and status["additions_registered"] is False, dumps(status)
    # properties that cannot be read are null in JSON (their status shows in human mode, below)
    for key in ("additions_version", "os_name", "computer_name"):
        assert status[key] is None, "%s before registration: %s" % (key, dumps(status))
    assert status["is_heartbeating"] is False, dumps(status)
    guest = s.result("guest")
    assert guest["additions_version"] is None and guest["can_shutdown"] is False, dumps(guest)
    # every operation that needs the Additions is refused at once
    sent = s.stats_sent()
    s.expect(sc.VM_E_ADDITIONS_NOT_AVAIL, "exec", argv=["echo", "too early"])
    s.expect(sc.VM_E_ADDITIONS_NOT_AVAIL, "param", action="get", name="x")
    s.expect(sc.VM_E_ADDITIONS_NOT_AVAIL, "shutdown", reason="too early")
    s.expect(sc.VM_E_ADDITIONS_NOT_AVAIL, "ping")
    assert s.stats_sent() == sent, "a refused request reached the guest"
    # human mode names the status of each unreadable property
    s.enter_human()
    s.con.send_line("guest")
    for label in ("additions version", "os name", "computer name"):
        s.con.expect(r"^%s: unavailable \(VM_E_ADDITIONS_NOT_AVAIL\)$" % label, timeout=sc.WAIT)
    s.con.expect(r"^can shutdown: no$", timeout=sc.WAIT)
    s.enter_json()
    status = s.result("status")
    assert status["additions_registered"] is False, \
        "the Additions registered before the checks ended (raise register_delay_ms): %s" % dumps(status)
    s.note("before registration: ok")


def after_registration(s):
    s.wait_registered()
    detail = s.registered_event()
    assert sc.AGENT_VERSION in detail and HOSTNAME in detail, "additions-registered detail: %r" % detail
    status = s.result("status")
    assert status["guest_running"] is True, dumps(status)
    assert status["additions_version"] == sc.AGENT_VERSION, dumps(status)
    assert status["os_name"] == sc.AGENT_OS_NAME, dumps(status)
    assert status["computer_name"] == HOSTNAME, dumps(status)
    assert status["time_sync"] is True, dumps(status)
    guest = s.result("guest")
    for key in ("additions_version", "os_name", "computer_name"):
        assert guest[key] == status[key], dumps(guest)
    assert guest["can_shutdown"] is True, dumps(guest)
    s.ok("ping")

    # CanShutdown follows the guest's shutdown lock
    out, _ = s.exec_ok(["veto", "on"])
    assert out == "veto on\n", repr(out)
    assert s.result("guest")["can_shutdown"] is False
    out, _ = s.exec_ok(["veto", "off"])
    assert out == "veto off\n", repr(out)
    assert s.result("guest")["can_shutdown"] is True

    # InstallAdditions without a package (no module 1): refused by the service
    sent = s.stats_sent()
    s.expect(sc.VM_E_DRIVE_INVALID, "additions", action="install")
    assert s.stats_sent() == sent, "install without a package reached the guest"
    s.note("after registration: ok")


def heartbeat(s):
    def beating():
        st = s.result("status")
        return st if st["is_heartbeating"] and st["heartbeat_percentage"] > 0 else None
    status = s.wait_until("IsHeartbeating and a percentage > 0", beating, wait=120)
    assert 0 < status["heartbeat_percentage"] <= 100, dumps(status)
    # IsHeartbeating can be seen right after the first beat: wait for the second
    report = s.wait_until("a second beat", lambda: (lambda r: r if r["beats_total"] >= 2 else None)(
        s.result("heartbeat")), wait=30)
    assert report["state"] == "beating" and report["heartbeating"] is True, dumps(report)
    assert report["period_ms"] == 1000 and report["failure_interval_ms"] == 10000, dumps(report)
    assert report["beats_total"] >= 2 and 0 < report["percentage"] <= 100, dumps(report)
    assert report["anomalies_backwards"] == 0 and report["anomalies_jumps"] == 0, dumps(report)
    assert report["last_beat_age_ms"] is not None and report["last_beat_age_ms"] < 10000, dumps(report)
    s.note("heartbeat %d%%, %d beats" % (report["percentage"], report["beats_total"]))


def run(con):
    s = sc.Session(con, "properties")
    s.enter_json()
    before_registration(s)
    after_registration(s)
    heartbeat(s)
    s.poweroff(guest_cut_off=True)
