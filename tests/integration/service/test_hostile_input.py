"""Hostile console input, with the agent running: binary garbage, an overlong
line, malformed JSON of many kinds and a flood of requests in JSON mode; noise,
an overlong line, bad commands and arguments in human mode. Every bad line gets
exactly one error answer, nothing reaches the guest, and the console stays
responsive: the requests that follow succeed. One boot: agent.elf.
"""

import json
import re

import service_common as sc
from service_common import dumps, st

# (the cancelled 'exec hang' line of the human-mode test must never run)
BOOT = sc.Boot(["agent.elf"], reject_guest=[r"agent: exec hang"])

LONG = 1100  # > the 1024-byte line limit (typing it takes a few seconds: input is ~320 bytes/s)

# (raw line without its CR, expected id, expected message as a regex)
BAD_JSON = [
    (b"\x00\x01\xff\xfe garbage \x1b[A \x7f", None, r"^malformed request: unexpected character at byte 0$"),
    (b"{" + b"x" * LONG + b"}", None, r"^line too long \(max 1024\)$"),
    (b'{"id":5,"cmd":"status"', None, r"^malformed request: unexpected end at byte 22$"),
    (b'{"id":"a","cmd":"status"}', None, r"^'id' must be an integer 0\.\.9007199254740991$"),
    (b"[1,2]", None, r"^malformed request: not an object$"),
    (b'{"id":6,"cmd":"status","id":7}', None, r"^malformed request: duplicate key at byte \d+$"),
    (b'{"id":1.5,"cmd":"status"}', None, r"^malformed request: numbers must be integers at byte \d+$"),
    (b'{"id":7,"cmd":"status"} x', None, r"^malformed request: trailing characters at byte \d+$"),
    (b'{"id":8,"cmd":"status","x":' + b"[" * 12 + b"]" * 12 + b"}", None,
     r"^malformed request: nested too deep at byte \d+$"),
    (b'{"id":9,"cmd":"exec","argv":["\xff\xfe"]}', None, r"^malformed request: invalid UTF-8 in string at byte \d+$"),
    (b'{"id":10}', 10, r"^missing 'cmd'$"),
    (b'{"id":11,"cmd":"reboot"}', 11, r"^unknown command 'reboot'$"),
    (b'{"id":12,"cmd":"exec","argv":["x"],"timout":3}', 12, r"^unknown key 'timout' for 'exec'$"),
    (b'{"id":13,"cmd":"exec","argv":"echo hi"}', 13, r"^'argv' must be an array of strings$"),
    (b'{"id":14,"cmd":"exec","argv":["a\\u0000b"]}', 14, r"must not contain \\u0000"),
    (b'{"id":15,"cmd":"shutdown","force":"yes"}', 15, r"^'force' must be true or false$"),
    (b'{"id":16,"cmd":"exec","argv":["sleep","1"],"timeout":-1}', 16, r"^'timeout' must be an integer 0\.\.\d+$"),
]


def bad_line(s, raw, rid, pattern):
    """Sends raw + CR; exactly one E_INVALIDARG answer with id rid (None: null) must come."""
    before = len(s.con.stray)
    s.con.send_raw(raw + b"\r")
    s.wait_until("an answer to %r" % raw[:40], lambda: len(s.con.stray) > before, every=0.2)
    answer = s.con.stray.pop(before)
    assert answer.get("id") == rid and answer.get("status") == st.E_INVALIDARG, (raw[:60], dumps(answer))
    assert answer.get("status_name") == "E_INVALIDARG" and re.search(pattern, answer.get("message", "")), \
        (raw[:60], dumps(answer))


def test_json_mode_bad_lines(s):
    s.wait_registered()
    sent = s.stats_sent()
    for raw, rid, pattern in BAD_JSON:
        bad_line(s, raw, rid, pattern)
    s.con.send_raw(b"   \r\r\n")  # blank lines: no answer at all
    assert s.result("status")["guest_running"] is True
    assert s.con.stray == [], "extra answers: %s\nlast lines:\n%s" % (s.con.stray, "\n".join(s.con.transcript[-30:]))
    assert s.stats_sent() == sent, "a malformed request reached the guest"
    out, _ = s.exec_ok(["echo", "still", "here"])
    assert out == b"still here\n"
    s.note("JSON mode: %d bad lines answered, console responsive" % len(BAD_JSON))


def test_json_mode_flood(s):
    """More requests than fit: 1 in flight + 8 queued in the service; the rest E_BUSY."""
    slow = s.con.send_request("exec", argv=["sleep", "6"])
    ids = [s.con.send_request("exec", argv=["echo", str(i)]) for i in range(10)]
    busy, accepted = [], []
    for rid in ids:
        resp, streamed = s.con.wait_response(rid, sc.WAIT)
        if resp.get("status") == st.E_BUSY:
            assert resp["status_name"] == "E_BUSY" and streamed == [], dumps(resp)
            busy.append(rid)
        else:
            assert resp.get("status") == st.S_OK and resp.get("exit_code") == 0, dumps(resp)
            accepted.append(rid)
    resp, _ = s.con.wait_response(slow, sc.WAIT)
    assert resp.get("exit_code") == 0, dumps(resp)
    assert len(accepted) == 8 and busy == ids[8:], "accepted %s, busy %s" % (accepted, busy)
    finals = [json.loads(l)["id"] for l in s.con.transcript if l.startswith('{"id":') and '"exit_code"' in l]
    order = [i for i in finals if i in accepted]
    assert order == accepted, "completion order %s" % order
    stats = s.result("stats")["service"]
    assert stats["requests_refused_busy"] >= 2, dumps(stats)
    s.note("flood: %d accepted in order, %d E_BUSY" % (len(accepted), len(busy)))


def test_human_mode_noise(s):
    con = s.con
    s.enter_human()
    con.send_raw(b"\x01\x02sta\xfftus\r")  # noise dropped and reported; the rest of the line runs
    con.expect(r"^error: ignored 3 non-printable byte\(s\)$", timeout=sc.WAIT)
    con.expect(r"^guest running: yes$", timeout=sc.WAIT)
    con.send_raw(b"y" * LONG + b"\r")
    con.expect(r"^error: line too long \(max 1024\)$", timeout=sc.WAIT)
    con.send_line("frobnicate now")
    con.expect(r"^error: unknown command 'frobnicate' \(try help\)$", timeout=sc.WAIT)
    con.send_line("exec --timeout soon echo")
    con.expect(r"^error: exec: bad timeout 'soon' \(seconds, 0\.\.4294967\)$", timeout=sc.WAIT)
    con.send_line('exec echo "unterminated')
    con.expect(r"^error: unterminated quote$", timeout=sc.WAIT)
    con.send_line("param get back\\slash")
    con.expect(r"^error: param: invalid name", timeout=sc.WAIT)
    con.send_line("timesync maybe")
    con.expect(r"^usage: timesync \[on\|off\|status\]$", timeout=sc.WAIT)
    con.send_raw(b"exec hang\x03")  # Ctrl-C: the line is cancelled, nothing runs
    con.expect(r"\^C", timeout=sc.WAIT)
    con.send_raw(b"\x1b[A\x1b[Bexec echo after all that\r")  # arrow keys are ignored silently
    con.expect(r"^exec \d+ started$", timeout=sc.WAIT)
    con.expect(r"^stdout: after all that$", timeout=sc.WAIT)
    con.expect(r"^exec \d+: exit code 0$", timeout=sc.WAIT)
    # (the runner's --reject-guest 'agent: exec hang' checks that the cancelled line never ran)
    s.enter_json()
    s.note("human mode: ok")


def test_console_still_answers(s):
    assert s.result("status")["guest_running"] is True
    assert s.exec_ok(["echo", "the end"]) == (b"the end\n", b"")


def test_poweroff_cuts_the_running_guest_off(machine):
    machine.assert_clean_end(guest_cut_off=True)
