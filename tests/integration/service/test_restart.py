"""Restarts (docs/lifecycle.md), through the JSON console, in one boot:
1. the agent stops beating under on_heartbeat_loss=restart: heartbeat-stopped
   within the interval and one sample, the guest is stopped and restarted from its
   pristine image, the agent registers and beats again, boot count 2;
2. `shutdown --reboot`: the agent resets through 0xCF9, the guest comes back
   (boot count 3) with the cached properties shown meanwhile;
3. a triple fault under on_triple_fault=restart: restarted after the backoff
   (boot count 4);
4. another triple fault: the restart-loop guard (restart_limit=3) keeps it off,
   with a policy-action event saying why; the audit trail has every action.

One boot: agent.elf:hostname=svc-restart with on_heartbeat_loss=restart
on_triple_fault=restart heartbeat_interval=2000 restart_limit=3
restart_backoff_ms=500.
"""

import service_common as sc
from service_common import dumps

INTERVAL_MS = 2000
BOOT = sc.Boot(["agent.elf:hostname=svc-restart"], timeout=400,
               cmdline=sc.CMDLINE + " on_heartbeat_loss=restart on_triple_fault=restart heartbeat_interval=2000"
                                    " restart_limit=3 restart_backoff_ms=500",
               expect=[r"vigil: guest image: pristine copy at 0x[0-9a-f]+-0x[0-9a-f]+, hidden from the guest",
                       r"vigil: restarting the guest from its pristine image"],
               expect_guest=[r"^agent: triple fault"])


def policy_event(con, startswith):
    event = con.wait_event("policy-action", sc.WAIT)
    assert event["detail"].startswith(startswith), dumps(event)
    return event


def back_again(s, con, boots):
    con.wait_event("additions-registered", sc.WAIT + 60)
    status = s.wait_until("beating after the restart",
                          lambda: (lambda r: r if r["is_heartbeating"] else None)(s.result("status")), wait=120)
    assert status["boot_count"] == boots and status["guest_running"] is True, dumps(status)
    assert status["computer_name"] == "svc-restart", dumps(status)
    s.note("boot %d: registered and beating (last stop: %s)" % (boots, status["last_stop_reason"]))
    return status


def test_first_boot(s):
    s.wait_registered()
    assert s.result("status")["boot_count"] == 1
    s.con.events[:] = [e for e in s.con.events if e["event"] != "additions-registered"]  # the first boot's


def test_heartbeat_loss_restarts_the_guest(s):
    con = s.con
    # 1. heartbeat loss -> restart
    s.exec_ok(["stopbeat", "600"])
    stopped = con.wait_event("heartbeat-stopped", sc.WAIT)
    assert stopped["detail"].startswith("no heartbeat for %d ms" % INTERVAL_MS), dumps(stopped)
    policy_event(con, "on_heartbeat_loss=stop-guest: restart 1 of 3 within 300 s after heartbeat lost, in 0 ms")
    policy_event(con, "restart=restart: restarting the guest (automatic restart 1)")
    status = back_again(s, con, 2)
    assert status["last_stop_reason"] == "stopped by the recovery policy for a restart", dumps(status)


def test_shutdown_reboot_brings_the_guest_back(s):
    con = s.con
    # 2. shutdown --reboot: the guest resets itself through 0xCF9
    s.ok("shutdown", reboot=True, reason="restart test")
    policy_event(con, "guest reset=stop-guest: restart 2 of 3 within 300 s after guest reset request, in 500 ms")
    down = s.result("status")
    if not down["guest_running"]:  # while it is down: the last known properties
        assert down["additions_version"] == sc.AGENT_VERSION and down["computer_name"] == "svc-restart", dumps(down)
    policy_event(con, "restart=restart: restarting the guest (automatic restart 2)")
    status = back_again(s, con, 3)
    assert "0xCF9" in status["last_stop_reason"], dumps(status)


def test_triple_fault_restarts_after_the_backoff(s):
    con = s.con
    # 3. triple fault -> restart after the backoff
    con.send_request("exec", argv=["triplefault"])
    con.wait_event("triple-fault", sc.WAIT)
    policy_event(con, "on_triple_fault=stop-guest: restart 3 of 3 within 300 s after triple fault, in 1000 ms")
    policy_event(con, "restart=restart: restarting the guest (automatic restart 3)")
    back_again(s, con, 4)


def test_restart_loop_guard_holds_the_guest_off(s):
    con = s.con
    # 4. one more: the loop guard holds it off
    con.send_request("exec", argv=["triplefault"])
    con.wait_event("triple-fault", sc.WAIT)
    held = policy_event(con, "on_triple_fault=hold-off: restart loop: 3 restarts within 300 s (restart_limit=3)")
    s.note("held off: %s" % held["detail"])
    status = s.result("status")
    assert status["guest_running"] is False and status["boot_count"] == 4, dumps(status)
    assert s.result("policy")["held_off"] is True
    stats = s.result("stats")
    assert stats["exits"]["total"] > 0, dumps(stats)  # the exit counters survived every restart

    actions = [(e["op"], e["status"]) for e in s.result("audit", count=128)["entries"] if e["origin"] == "policy"]
    assert actions == [("stop-guest", 0), ("restart", 0)] * 3 + [("hold-off", 0)], actions


def test_poweroff(machine):
    machine.assert_clean_end(guest_cut_off=False)
