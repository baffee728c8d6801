"""IVMGuestOS properties through the JSON console, before and after the Additions
register: the agent waits (register_delay_ms) before registering, so a running
guest without Additions is seen first. Then AdditionsVersion/OSName/ComputerName
(hostname= module argument), CanShutdown and the shutdown veto, the heartbeat
properties, InstallAdditions without a package, and `poweroff` while the guest
runs (the guest is cut off). One boot for the file (the `machine` fixture).
"""

import service_common as sc
from service_common import dumps, st

HOSTNAME = "svc-props"
BOOT = sc.Boot(["agent.elf:hostname=%s register_delay_ms=4000" % HOSTNAME],
               expect_guest=[r"^agent: registering in 4000 ms",
                             r"^agent: registered \(version 'vigil-agent 1\.0\.0', computer 'svc-props'"])


def test_before_registration_properties_are_null(s):
    status = s.result("status")
    assert status["guest_running"] is True and status["additions_registered"] is False, dumps(status)
    # properties that cannot be read are null in JSON (their status shows in human mode)
    for key in ("additions_version", "os_name", "computer_name"):
        assert status[key] is None, "%s before registration: %s" % (key, dumps(status))
    assert status["is_heartbeating"] is False, dumps(status)
    guest = s.result("guest")
    assert guest["additions_version"] is None and guest["can_shutdown"] is False, dumps(guest)


def test_before_registration_operations_are_refused_at_once(s):
    sent = s.stats_sent()
    s.expect(st.VM_E_ADDITIONS_NOT_AVAIL, "exec", argv=["echo", "too early"])
    s.expect(st.VM_E_ADDITIONS_NOT_AVAIL, "param", action="get", name="x")
    s.expect(st.VM_E_ADDITIONS_NOT_AVAIL, "shutdown", reason="too early")
    s.expect(st.VM_E_ADDITIONS_NOT_AVAIL, "ping")
    assert s.stats_sent() == sent, "a refused request reached the guest"


def test_before_registration_human_mode_names_the_status(s):
    s.enter_human()
    s.con.send_line("guest")
    for label in ("additions version", "os name", "computer name"):
        s.con.expect(r"^%s: unavailable \(VM_E_ADDITIONS_NOT_AVAIL\)$" % label, timeout=sc.WAIT)
    s.con.expect(r"^can shutdown: no$", timeout=sc.WAIT)
    s.enter_json()
    status = s.result("status")
    assert status["additions_registered"] is False, \
        "the Additions registered before the checks ended (raise register_delay_ms): %s" % dumps(status)


def test_after_registration_properties(s):
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


def test_can_shutdown_follows_the_guest_lock(s):
    out, _ = s.exec_ok(["veto", "on"])
    assert out == b"veto on\n", repr(out)
    assert s.result("guest")["can_shutdown"] is False
    out, _ = s.exec_ok(["veto", "off"])
    assert out == b"veto off\n", repr(out)
    assert s.result("guest")["can_shutdown"] is True


def test_install_additions_without_a_package_is_refused(s):
    sent = s.stats_sent()
    s.expect(st.VM_E_DRIVE_INVALID, "additions", action="install")
    assert s.stats_sent() == sent, "install without a package reached the guest"


def test_heartbeat_properties(s):
    def beating():
        # two beats at least: a percentage from one beat is a single sample
        report = s.result("heartbeat")
        return report if report["heartbeating"] and report["beats_total"] >= 2 else None
    report = s.wait_until("IsHeartbeating with 2 beats or more", beating, wait=120)
    assert report["state"] == "beating" and 0 < report["percentage"] <= 100, dumps(report)
    assert report["period_ms"] == 1000 and report["failure_interval_ms"] == 10000, dumps(report)
    assert report["anomalies_backwards"] == 0 and report["anomalies_jumps"] == 0, dumps(report)
    assert report["last_beat_age_ms"] is not None and report["last_beat_age_ms"] < 10000, dumps(report)
    status = s.result("status")
    assert status["is_heartbeating"] is True and 0 < status["heartbeat_percentage"] <= 100, dumps(status)
    s.note("heartbeat %d%%, %d beats" % (report["percentage"], report["beats_total"]))


def test_poweroff_cuts_the_running_guest_off(machine):
    machine.assert_clean_end(guest_cut_off=True)
