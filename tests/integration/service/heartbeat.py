"""The zero-exit heartbeat through the JSON console: IsHeartbeating and
HeartbeatPercentage while the agent beats; with a 3 s failure interval, the
agent's `stopbeat 12` brings a heartbeat-stopped event, then heartbeat-resumed
with the gap; the report shows the stop in its percentages and longest gap.

Runner: agent.elf (period 1000 ms).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402

PAUSE_S = 12
INTERVAL_MS = 3000


def run(con):
    s = sc.Session(con, "heartbeat")
    s.enter_json()
    s.wait_registered()

    # the failure interval: the service's range is 1000..3600000 ms
    for bad in (999, 3600001):
        s.expect(sc.E_INVALIDARG, "heartbeat", interval=bad)
    s.ok("heartbeat", interval=INTERVAL_MS)
    report = s.result("heartbeat")
    assert report["failure_interval_ms"] == INTERVAL_MS and report["period_ms"] == 1000, dumps(report)

    def beating():
        st = s.result("status")
        return st if st["is_heartbeating"] and st["heartbeat_percentage"] > 0 else None
    s.wait_until("IsHeartbeating with a percentage > 0", beating, wait=120)
    before = s.result("heartbeat")
    assert before["state"] == "beating" and before["percentage"] > 0, dumps(before)
    assert not con.events or all(e["event"] != "heartbeat-stopped" for e in con.events), con.events
    s.note("beating: %d%% (%d beats)" % (before["percentage"], before["beats_total"]))

    out, _ = s.exec_ok(["stopbeat", str(PAUSE_S)])
    assert out == "heartbeat stopped for %d s\n" % PAUSE_S, repr(out)
    stopped = con.wait_event("heartbeat-stopped", sc.WAIT)
    assert stopped["detail"].startswith("no heartbeat for %d ms" % INTERVAL_MS), dumps(stopped)
    s.note("event heartbeat-stopped at %d ms: %s" % (stopped["time_ms"], stopped["detail"]))
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
    s.note("after the gap: %d%% (1 min %d%%, 5 min %d%%), longest gap %d ms" % (
        after["percentage"], after["percentage_1_minute"], after["percentage_5_minutes"], after["longest_gap_ms"]))
    assert not [e for e in con.events if e["event"] in ("heartbeat-stopped", "heartbeat-anomaly")], con.events
    s.poweroff(guest_cut_off=True)
