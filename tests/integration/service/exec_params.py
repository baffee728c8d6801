"""ExecuteCommand, Parameters and host time sync through the JSON console, with
the agent's built-in commands: output streams and exit codes, large output in
order, env/cwd, a command's own timeout, kill, several requests queued; the
parameter store and the name checks made before anything reaches the guest;
time sync off and on again, with `date` showing the host's clock.

Runner: agent.elf, no package module.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402


def spew_text(total):
    """What `spew N` prints (tests/guests/agent.c): numbered lines, cut at N bytes."""
    parts, size, line = [], 0, 1
    while size < total:
        text = "spew line %05u\n" % line
        parts.append(text)
        size += len(text)
        line += 1
    return "".join(parts)[:total]


def execs(s):
    out, err = s.exec_ok(["echo", "hello", "from", "the", "guest"])
    assert (out, err) == ("hello from the guest\n", ""), (out, err)
    # non-ASCII and JSON-special characters survive both directions
    word = "h\u00e9llo \"q\" back\\slash \u2713"
    out, _ = s.exec_ok(["echo", word])
    assert out == word + "\n", repr(out)
    out, err = s.exec_ok(["exit", "3"], exit_code=3)
    assert (out, err) == ("", ""), (out, err)
    out, err = s.exec_ok(["stderr", "something", "failed"], exit_code=1)
    assert (out, err) == ("", "something failed\n"), (out, err)
    out, err = s.exec_ok(["no-such-program", "x"], exit_code=127)
    assert (out, err) == ("", "agent: unknown command 'no-such-program'\n"), (out, err)
    out, err = s.exec_ok(["sleep", "soon"], exit_code=2)
    assert err == "agent: sleep: bad argument 'soon'\n", repr(err)
    # the environment and the working directory arrive as given
    out, _ = s.exec_ok(["env"], env=["ALPHA=1", "BETA=two words", "EMPTY="], cwd="/srv/data")
    assert out == "ALPHA=1\nBETA=two words\nEMPTY=\n", repr(out)
    out, _ = s.exec_ok(["pwd"], cwd="/srv/data")
    assert out == "/srv/data\n", repr(out)
    out, _ = s.exec_ok(["pwd"])
    assert out == "/\n", repr(out)
    # bad requests are refused by the console, never sent
    sent = s.stats_sent()
    s.expect(sc.E_INVALIDARG, "exec", argv=[])
    s.expect(sc.E_INVALIDARG, "exec", argv=["env"], env=["NOEQUALS"])
    s.expect(sc.E_INVALIDARG, "exec", argv=["pwd"], cwd="")
    assert s.stats_sent() == sent
    s.note("exec basics: ok")

    # 20000 bytes of output: every byte, in order, in pieces of at most 512
    t = time.monotonic()
    resp, out, err = s.exec_(["spew", "20000"])
    assert resp.get("status") == sc.S_OK and resp.get("exit_code") == 0, dumps(resp)
    expected = spew_text(20000)
    assert len(out) == 20000 and err == "", "spew: %d bytes of stdout, stderr %r" % (len(out), err[:80])
    if out != expected:
        at = next(i for i in range(len(out)) if out[i] != expected[i])
        raise AssertionError("spew differs at byte %d: %r, expected %r" % (at, out[at:at + 40], expected[at:at + 40]))
    s.note("spew 20000: ok in %.1f s" % (time.monotonic() - t))

    # the command's own timeout: the agent stops it (TIMED_OUT, exit 124)
    t = time.monotonic()
    resp, out, err = s.exec_(["sleep", "30"], timeout=2)
    assert resp.get("status") == sc.S_OK and resp.get("timed_out") is True and resp.get("exit_code") == 124, \
        dumps(resp)
    assert "killed" not in resp, dumps(resp)
    s.note("sleep 30 with timeout 2: timed out after %.1f s (wall)" % (time.monotonic() - t))

    # kill: the running exec ends KILLED (exit 137); kill answers at once
    rid = s.con.send_request("exec", argv=["sleep", "30"])
    s.con.pump(1.0)
    resp, _ = s.ok("kill", target=rid)
    final, streamed = s.con.wait_response(rid, sc.WAIT)
    assert final.get("status") == sc.S_OK and final.get("killed") is True and final.get("exit_code") == 137, \
        dumps(final)
    assert streamed == [], streamed
    resp, _ = s.expect(sc.E_INVALIDARG, "kill")  # nothing runs any more
    assert "no exec is running" in resp["message"], dumps(resp)
    s.expect(sc.E_INVALIDARG, "kill", target=rid)
    s.note("kill: ok")

    # a queue: a slow command, then four more sent while it runs; all complete in order
    ids = [s.con.send_request("exec", argv=["sleep", "1"])]
    ids += [s.con.send_request("exec", argv=["echo", "queued", str(i)]) for i in range(4)]
    done = []
    for i, rid in enumerate(ids):
        final, streamed = s.con.wait_response(rid, sc.WAIT)
        assert final.get("status") == sc.S_OK and final.get("exit_code") == 0, dumps(final)
        text = b"".join(sc.exec_bytes(p) for p in streamed).decode("utf-8")
        assert text == ("" if i == 0 else "queued %d\n" % (i - 1)), (i, text)
    finals = [line for line in s.con.transcript if '"exit_code"' in line]
    order = [sc.json.loads(line)["id"] for line in finals if sc.json.loads(line)["id"] in ids]
    assert order == ids, "completion order %s, sent %s" % (order, ids)
    s.note("queue of 5: completed in order")


def parameters(s):
    s.ok("param", action="set", name="color", value="blue")
    s.ok("param", action="set", name="motd", value="hello, world: \u00e9t\u00e9")
    s.ok("param", action="set", name="empty", value="")
    assert s.result("param", action="get", name="color") == {"name": "color", "value": "blue"}
    assert s.result("param", action="get", name="motd") == {"name": "motd", "value": "hello, world: \u00e9t\u00e9"}
    assert s.result("param", action="get", name="empty") == {"name": "empty", "value": ""}
    s.ok("param", action="set", name="color", value="green")  # overwrite
    assert s.result("param", action="get", name="color")["value"] == "green"
    resp, streamed = s.ok("param", action="list")
    names = [p["data"] for p in streamed]
    assert all(p.get("stream") == "name" for p in streamed), streamed
    assert sorted(names) == ["color", "empty", "motd"] and resp["result"] == {"count": 3}, (names, dumps(resp))
    resp, _ = s.expect(sc.E_NOT_FOUND, "param", action="get", name="no-such-parameter")
    assert resp["status"] == 0x80070490
    # the longest valid name (255 characters) works; invalid names never reach the guest
    long_name = "n" * 255
    s.ok("param", action="set", name=long_name, value="v")
    assert s.result("param", action="get", name=long_name)["value"] == "v"
    sent = s.stats_sent()
    for name, fields in (("", {"action": "get"}), ("", {"action": "set", "value": "x"}),
                         ("back\\slash", {"action": "get"}), ("back\\slash", {"action": "set", "value": "x"}),
                         ("tab\there", {"action": "set", "value": "x"}),
                         ("n" * 256, {"action": "get"})):  # long lines are slow to type: once
        resp, _ = s.expect(sc.E_INVALIDARG, "param", name=name, **fields)
        assert "invalid parameter name" in resp["message"], dumps(resp)
    s.expect(sc.E_INVALIDARG, "param", action="get")                 # no name
    s.expect(sc.E_INVALIDARG, "param", action="set", name="a")       # no value
    s.expect(sc.E_INVALIDARG, "param", action="delete", name="a")    # no such action
    assert s.stats_sent() == sent, "an invalid parameter request reached the guest"
    s.note("parameters: ok")


def timesync(s):
    year = time.gmtime().tm_year

    def date():
        out, _ = s.exec_ok(["date"])
        assert len(out) == 25 and out[4] == "-" and out[10] == "T" and out.endswith("Z\n"), repr(out)
        return out.strip()

    assert s.result("timesync") == {"time_sync": True}
    assert s.result("timesync", action="status") == {"time_sync": True}
    synced = date()
    # the host RTC (Bochs time0=local): a plausible date, give or take a year boundary
    assert abs(int(synced[:4]) - year) <= 1, "date with time sync on: %s (host year %d)" % (synced, year)
    assert s.result("timesync", action="off") == {"time_sync": False}
    assert s.result("status")["time_sync"] is False
    assert s.result("guest")["time_sync"] is False
    free = date()  # the agent's clock free-runs from the last host time
    assert abs(int(free[:4]) - year) <= 1 and free >= synced, (synced, free)
    assert s.result("timesync", action="on") == {"time_sync": True}
    again = date()
    assert abs(int(again[:4]) - year) <= 1 and again >= synced, (synced, again)
    assert s.result("status")["time_sync"] is True
    s.expect(sc.E_INVALIDARG, "timesync", action="maybe")
    s.note("time sync: %s / %s / %s" % (synced, free, again))


def run(con):
    s = sc.Session(con, "exec-params")
    s.enter_json()
    s.wait_registered()
    execs(s)
    parameters(s)
    timesync(s)
    s.poweroff(guest_cut_off=True)
