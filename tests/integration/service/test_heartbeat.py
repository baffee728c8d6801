"""The zero-exit heartbeat through the JSON console: IsHeartbeating and
HeartbeatPercentage while the agent beats; with a 3 s failure interval, the
agent's `stopbeat 12` brings a heartbeat-stopped event, then heartbeat-resumed
with the gap; the report shows the stop in its percentages and longest gap.
One boot: agent.elf (period 1000 ms).
"""

import service_common as sc
from service_common import dumps, st

PAUSE_S = 12
INTERVAL_MS = 3000
BOOT = sc.Boot(["agent.elf"],
               expect_guest=[r"^agent: heartbeat stopped for 12 s", r"^agent: heartbeat resumed"])


def beating(s):
    st_ = s.result("status")
    return st_ if st_["is_heartbeating"] and st_["heartbeat_percentage"] > 0 else None


def test_failure_interval_range(s):
    s.wait_registered()
    for bad in (999, 3600001):  # the service's range is 1000..3600000 ms
        s.expect(st.E_INVALIDARG, "heartbeat", interval=bad)
    s.ok("heartbeat", interval=INTERVAL_MS)
    report = s.result("heartbeat")
    assert report["failure_interval_ms"] == INTERVAL_MS and report["period_ms"] == 1000, dumps(report)


def test_stop_and_resume(s):
    con = s.con
    s.wait_until("IsHeartbeating with a percentage > 0", lambda: beating(s), wait=120)
    before = s.result("heartbeat")
    assert before["state"] == "beating" and before["percentage"] > 0, dumps(before)
    assert all(e["event"] != "heartbeat-stopped" for e in con.events), con.events
    s.note("beating: %d%% (%d beats)" % (before["percentage"], before["beats_total"]))

    out, _ = s.exec_ok(["stopbeat", str(PAUSE_S)])
    assert out == b"heartbeat stopped for %d s\n" % PAUSE_S, repr(out)
    stopped = con.wait_event("heartbeat-stopped", sc.WAIT)
    assert stopped["detail"].startswith("no heartbeat for %d ms" % INTERVAL_MS), dumps(stopped)
    # while stopped: the properties say so, and requests still work (the agent polls)
    status = s.result("status")
    assert status["is_heartbeating"] is False, dumps(status)
    report = s.result("heartbeat")
    assert report["state"] == "stopped" and report["heartbeating"] is False, dumps(report)
    assert report["last_beat_age_ms"] >= INTERVAL_MS, dumps(report)
    s.ok("ping")

    resumed = con.wait_event("heartbeat-resumed", sc.WAIT + 60)
    s.note("event heartbeat-resumed at %d ms: %s" % (resumed["time_ms"], resumed["detail"]))
    gap_ms = int(resumed["detail"].split("after ")[1].split(" ms")[0])
    assert PAUSE_S * 1000 - 1500 <= gap_ms <= PAUSE_S * 1000 + 5000, dumps(resumed)
    assert resumed["time_ms"] - stopped["time_ms"] >= PAUSE_S * 1000 - INTERVAL_MS - 1500, (stopped, resumed)

    after = s.result("heartbeat")
    assert after["state"] == "beating" and after["heartbeating"] is True, dumps(after)
    assert after["longest_gap_ms"] >= PAUSE_S * 1000 - 1500, dumps(after)
    assert 0 < after["percentage"] < 100, dumps(after)  # the gap shows
    assert after["beats_total"] > before["beats_total"], dumps(after)
    assert after["anomalies_backwards"] == 0 and after["anomalies_jumps"] == 0, dumps(after)
    status = s.result("status")
    # (with a handful of beats the percentage moves in big steps from one second to the next)
    assert status["is_heartbeating"] is True and 0 < status["heartbeat_percentage"] < 100, dumps(status)
    assert not [e for e in con.events if e["event"] in ("heartbeat-stopped", "heartbeat-anomaly")], con.events


def test_poweroff_cuts_the_running_guest_off(machine):
    machine.assert_clean_end(guest_cut_off=True)
