"""tools/lib/vigilconsole.py against a fake console on a socketpair (no
emulator): pexpect-based expect with line anchors over CR LF output, JSON
lines sorted into responses, streams and events, exec output decoded from
data_b64, the end of the connection seen as ConsoleClosed."""

import base64
import json
import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "lib"))
import vigilconsole  # noqa: E402


@pytest.fixture
def pair():
    here, there = socket.socketpair()
    con = vigilconsole.Console(here, "fake", pace_ms=0)
    yield con, there
    con.close()
    there.close()


def test_expect_anchors_lines_across_crlf(pair):
    con, vigil = pair
    vigil.sendall(b"vigil> exec echo hi\r\nexec 1 started\r\nhi\r\nexec 1: exit code 0\r\nvigil> ")
    assert con.expect(r"^exec \d+ started$", 5).group(0) == "exec 1 started"
    assert con.expect(r"^hi$", 5)
    con.expect(r"vigil> ", 5)  # a prompt matches without a newline
    with pytest.raises(vigilconsole.ConsoleTimeout):
        con.expect(r"^exec 1 started$", 0.3)  # already consumed: the next expect starts after the match
    assert "exec 1: exit code 0" in con.transcript and "hi" in con.transcript


def test_json_lines_sorted_and_exec_bytes_decoded(pair):
    con, vigil = pair
    rid = con.send_request("exec", argv=["cat"])
    sent = vigil.recv(4096)
    assert json.loads(sent.rstrip(b"\r")) == {"id": rid, "cmd": "exec", "argv": ["cat"]} and sent.endswith(b"\r")
    raw = bytes(range(256))
    lines = [{"event": "heartbeat-stopped", "time_ms": 5, "detail": "x"},
             {"id": rid, "stream": "stdout", "data_b64": base64.b64encode(raw[:200]).decode()},
             {"id": rid, "stream": "stderr", "data_b64": base64.b64encode(b"oops\n").decode()},
             {"id": rid, "stream": "stdout", "data_b64": base64.b64encode(raw[200:]).decode()},
             {"id": 999, "status": 0},
             {"id": rid, "status": 0, "status_name": "S_OK", "exit_code": 0}]
    vigil.sendall(b"vigil: a log line\r\n" + b"".join(json.dumps(l).encode() + b"\r\n" for l in lines))
    resp, streamed = con.wait_response(rid, 5)
    assert resp["exit_code"] == 0 and len(streamed) == 3
    assert vigilconsole.stream_bytes(streamed, "stdout") == raw
    assert vigilconsole.stream_bytes(streamed, "stderr") == b"oops\n"
    assert con.wait_event("heartbeat-stopped", 1)["detail"] == "x"
    assert con.stray == [{"id": 999, "status": 0}] and con.log == ["vigil: a log line"]


def test_text_exec_output_is_refused(pair):
    with pytest.raises(vigilconsole.ConsoleError):
        vigilconsole.stream_bytes([{"id": 1, "stream": "stdout", "data": "hi\n"}], "stdout")


def test_closed_connection(pair):
    con, vigil = pair
    vigil.sendall(b"vigil: power off: operator requested power off\r\n")
    vigil.close()
    assert con.drain(5) is True
    assert con.transcript[-1] == "vigil: power off: operator requested power off"
    with pytest.raises(vigilconsole.ConsoleClosed):
        con.wait_response(con.next_id, 1)
