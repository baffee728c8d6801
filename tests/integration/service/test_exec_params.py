"""ExecuteCommand, Parameters and host time sync through the JSON console, with
the agent's built-in commands: output streams (exact bytes, base64 in JSON) and
exit codes, large output in order, env/cwd, a command's own timeout, kill,
several requests queued; the parameter store and the name checks made before
anything reaches the guest; time sync off and on again, with `date` showing
the host's clock. One boot: agent.elf, no package module.
"""

import json
import time

import service_common as sc
from service_common import dumps, st

BOOT = sc.Boot(["agent.elf"],
               expect_guest=[r"^agent: sleep timed out", r"^agent: sleep killed",
                             r"^agent: time sync off: the clock free-runs"])


def spew_bytes(total):
    """What `spew N` prints (tests/guests/agent.c): numbered lines, cut at N bytes."""
    parts, size, line = [], 0, 1
    while size < total:
        text = b"spew line %05u\n" % line
        parts.append(text)
        size += len(text)
        line += 1
    return b"".join(parts)[:total]


def test_registered(s):
    s.wait_registered()


def test_exec_output_and_exit_codes(s):
    assert s.exec_ok(["echo", "hello", "from", "the", "guest"]) == (b"hello from the guest\n", b"")
    # non-ASCII and JSON-special characters arrive as the exact UTF-8 bytes
    word = "h\u00e9llo \"q\" back\\slash \u2713"
    out, _ = s.exec_ok(["echo", word])
    assert out == word.encode("utf-8") + b"\n", repr(out)
    assert s.exec_ok(["exit", "3"], exit_code=3) == (b"", b"")
    assert s.exec_ok(["stderr", "something", "failed"], exit_code=1) == (b"", b"something failed\n")
    assert s.exec_ok(["no-such-program", "x"], exit_code=127) == \
        (b"", b"agent: unknown command 'no-such-program'\n")
    _, err = s.exec_ok(["sleep", "soon"], exit_code=2)
    assert err == b"agent: sleep: bad argument 'soon'\n", repr(err)


def test_exec_env_and_cwd(s):
    out, _ = s.exec_ok(["env"], env=["ALPHA=1", "BETA=two words", "EMPTY="], cwd="/srv/data")
    assert out == b"ALPHA=1\nBETA=two words\nEMPTY=\n", repr(out)
    out, _ = s.exec_ok(["pwd"], cwd="/srv/data")
    assert out == b"/srv/data\n", repr(out)
    out, _ = s.exec_ok(["pwd"])
    assert out == b"/\n", repr(out)


def test_bad_exec_requests_never_reach_the_guest(s):
    sent = s.stats_sent()
    s.expect(st.E_INVALIDARG, "exec", argv=[])
    s.expect(st.E_INVALIDARG, "exec", argv=["env"], env=["NOEQUALS"])
    s.expect(st.E_INVALIDARG, "exec", argv=["pwd"], cwd="")
    assert s.stats_sent() == sent


def test_large_output_every_byte_in_order(s):
    t = time.monotonic()
    resp, out, err = s.exec_(["spew", "20000"])
    assert resp.get("status") == st.S_OK and resp.get("exit_code") == 0, dumps(resp)
    expected = spew_bytes(20000)
    assert len(out) == 20000 and err == b"", "spew: %d bytes of stdout, stderr %r" % (len(out), err[:80])
    if out != expected:
        at = next(i for i in range(len(out)) if out[i] != expected[i])
        raise AssertionError("spew differs at byte %d: %r, expected %r" % (at, out[at:at + 40], expected[at:at + 40]))
    s.note("spew 20000: ok in %.1f s" % (time.monotonic() - t))


def test_exec_own_timeout(s):
    resp, out, err = s.exec_(["sleep", "30"], timeout=2)
    assert resp.get("status") == st.S_OK and resp.get("timed_out") is True and resp.get("exit_code") == 124, \
        dumps(resp)
    assert "killed" not in resp, dumps(resp)


def test_kill(s):
    rid = s.con.send_request("exec", argv=["sleep", "30"])
    s.con.pump(1.0)
    s.ok("kill", target=rid)
    final, streamed = s.con.wait_response(rid, sc.WAIT)
    assert final.get("status") == st.S_OK and final.get("killed") is True and final.get("exit_code") == 137, \
        dumps(final)
    assert streamed == [], streamed
    resp, _ = s.expect(st.E_INVALIDARG, "kill")  # nothing runs any more
    assert "no exec is running" in resp["message"], dumps(resp)
    s.expect(st.E_INVALIDARG, "kill", target=rid)


def test_queued_requests_complete_in_order(s):
    ids = [s.con.send_request("exec", argv=["sleep", "1"])]
    ids += [s.con.send_request("exec", argv=["echo", "queued", str(i)]) for i in range(4)]
    for i, rid in enumerate(ids):
        final, streamed = s.con.wait_response(rid, sc.WAIT)
        assert final.get("status") == st.S_OK and final.get("exit_code") == 0, dumps(final)
        text = sc.vigilconsole.stream_bytes(streamed, "stdout")
        assert text == (b"" if i == 0 else b"queued %d\n" % (i - 1)), (i, text)
    finals = [json.loads(line) for line in s.con.transcript if '"exit_code"' in line]
    order = [f["id"] for f in finals if f["id"] in ids]
    assert order == ids, "completion order %s, sent %s" % (order, ids)


def test_parameters(s):
    s.ok("param", action="set", name="color", value="blue")
    s.ok("param", action="set", name="motd", value="hello, world: \u00e9t\u00e9")
    s.ok("param", action="set", name="empty", value="")
    assert s.result("param", action="get", name="color") == {"name": "color", "value": "blue"}
    assert s.result("param", action="get", name="motd") == {"name": "motd", "value": "hello, world: \u00e9t\u00e9"}
    assert s.result("param", action="get", name="empty") == {"name": "empty", "value": ""}
    s.ok("param", action="set", name="color", value="green")  # overwrite
    assert s.result("param", action="get", name="color")["value"] == "green"
    resp, streamed = s.ok("param", action="list")
    names = [p["data"] for p in streamed]  # parameter names stay text ("data")
    assert all(p.get("stream") == "name" for p in streamed), streamed
    assert sorted(names) == ["color", "empty", "motd"] and resp["result"] == {"count": 3}, (names, dumps(resp))
    s.expect(st.E_NOT_FOUND, "param", action="get", name="no-such-parameter")


def test_parameter_names(s):
    long_name = "n" * 255  # the longest valid name
    s.ok("param", action="set", name=long_name, value="v")
    assert s.result("param", action="get", name=long_name)["value"] == "v"
    sent = s.stats_sent()
    for name, fields in (("", {"action": "get"}), ("", {"action": "set", "value": "x"}),
                         ("back\\slash", {"action": "get"}), ("back\\slash", {"action": "set", "value": "x"}),
                         ("tab\there", {"action": "set", "value": "x"}),
                         ("n" * 256, {"action": "get"})):  # long lines are slow to type: once
        resp, _ = s.expect(st.E_INVALIDARG, "param", name=name, **fields)
        assert "invalid parameter name" in resp["message"], dumps(resp)
    s.expect(st.E_INVALIDARG, "param", action="get")                 # no name
    s.expect(st.E_INVALIDARG, "param", action="set", name="a")       # no value
    s.expect(st.E_INVALIDARG, "param", action="delete", name="a")    # no such action
    assert s.stats_sent() == sent, "an invalid parameter request reached the guest"


def test_time_sync_off_and_on(s):
    year = time.gmtime().tm_year

    def date():
        out, _ = s.exec_ok(["date"])
        text = out.decode("ascii")
        assert len(text) == 25 and text[4] == "-" and text[10] == "T" and text.endswith("Z\n"), repr(out)
        return text.strip()

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
    s.expect(st.E_INVALIDARG, "timesync", action="maybe")
    s.note("time sync: %s / %s / %s" % (synced, free, again))


def test_poweroff_cuts_the_running_guest_off(machine):
    machine.assert_clean_end(guest_cut_off=True)
