"""A client for vigil's COM1 console, on pexpect, for tests and tools.
The protocol: docs/console-protocol.md.

Connects to the socket that `tools/run-bochs --console SPEC` (or run-qemu)
serves and reads it through pexpect.fdpexpect (Debian python3-pexpect). Human
mode: send_line() / expect(). JSON mode (DESIGN.md section 5):

    con = vigilconsole.connect("unix:/tmp/vigil.sock")
    con.enter_json_mode()
    resp, streamed = con.request("status")
    # resp: the line {"id":1,"status":0,...}; streamed: the {"id":1,"stream":...}
    # lines before it, in order
    rid = con.send_request("exec", argv=["sleep", "100"])    # several in flight
    con.request("kill", target=rid)
    resp, streamed = con.wait_response(rid, timeout=60)
    out = vigilconsole.stream_bytes(streamed, "stdout")      # exact bytes (data_b64)
    ev = con.wait_event("guest-stopped", timeout=60)
    con.close()

Every received line is in `transcript`; lines that are not JSON objects (the
hypervisor's log, "vigil: ...", the human-mode echo and prompt) also go to
`log`; JSON objects that are neither an event nor about a request of this
client go to `stray`. Events ({"event": NAME, ...}) are queued for
wait_event() whenever they arrive, also while request() waits.

Errors: ConsoleTimeout (nothing matching in time), ConsoleClosed (the runner
closed the connection: the emulator stopped), both ConsoleError.

Input pacing (as vigilctl's, docs/vigilctl.md "Why vigilctl paces its input"):
vigil polls its 16550 console UART on the tick (50 ms) while the console is
quiet, every 1 ms for 500 ms after it has seen input; the UART's receive FIFO
holds 16 bytes and real hardware drops what overruns it. So every send goes out
in chunks of PACE_CHUNK bytes: a burst's first chunk at once, the next one
PACE_MS after it (one tick and a margin: the console then polls every 1 ms),
later ones PACE_GAP_MS apart; after more than PACE_IDLE_MS without sending, the
next send starts a new burst. PACE_MS (default 60, or $VIGILCTL_PACE_MS) is the
module-wide default; Console(..., pace_ms=N) overrides it per connection, 0 =
no pacing.
"""

import base64
import binascii
import json
import os
import re
import socket
import time

import pexpect
import pexpect.fdpexpect

CMD_KEY = "cmd"        # request field naming the command
EOL = b"\r"            # what ends a line sent to the console
PROMPT = "vigil> "     # human-mode prompt
DEFAULT_TIMEOUT = 30.0
TAIL = 15              # lines of context in error messages


def _env_pace(default=60):
    try:
        value = int(os.environ.get("VIGILCTL_PACE_MS", default))
    except ValueError:
        return default
    return value if value >= 0 else default


# Input pacing (see the module's docstring); the same numbers as vctl_client.h.
PACE_CHUNK = 16        # bytes per write: a 16550's receive FIFO
PACE_MS = _env_pace()  # wait after a burst's first chunk: vigil's tick (50 ms) + 10; 0 = no pacing
PACE_GAP_MS = 2        # between further chunks (the console polls every 1 ms by then)
PACE_IDLE_MS = 400     # a burst ends after this long without sending (< the console's 500 ms)


class ConsoleError(Exception):
    pass


class ConsoleTimeout(ConsoleError):
    pass


class ConsoleClosed(ConsoleError):
    pass


def parse_spec(spec):
    """'unix:PATH' -> (AF_UNIX, PATH); 'tcp:[HOST:]PORT' -> (AF_INET, (HOST, PORT)).
    The runner prints 'console on tcp:127.0.0.1:PORT': both forms work."""
    kind, sep, rest = spec.partition(":")
    if kind == "unix" and rest:
        return socket.AF_UNIX, rest
    if kind == "tcp" and rest:
        host, sep, port = rest.rpartition(":")
        try:
            return socket.AF_INET, (host or "127.0.0.1", int(port))
        except ValueError:
            pass
    raise ValueError("console spec is unix:PATH or tcp:[HOST:]PORT, not '%s'" % spec)


def connect(spec, timeout=DEFAULT_TIMEOUT):
    """Connects to SPEC, retrying until timeout while the socket is not there yet."""
    family, addr = parse_spec(spec)
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            return Console(s, spec)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            s.close()
            if time.monotonic() >= deadline:
                raise ConsoleTimeout("cannot connect to %s within %g s: %s" % (spec, timeout, e))
            time.sleep(0.1)
        except OSError:
            s.close()
            raise


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def stream_bytes(streamed, stream):
    """The exact bytes of one output stream ("stdout"/"stderr") of an exec:
    the pieces' data_b64 (canonical base64 of the raw bytes) decoded and joined
    in order. Raises ConsoleError for a piece without valid canonical base64."""
    out = bytearray()
    for piece in streamed:
        if piece.get("stream") != stream:
            continue
        data = piece.get("data_b64")
        if not isinstance(data, str):
            raise ConsoleError("exec output piece without a data_b64 string: %s" % _dumps(piece))
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as e:
            raise ConsoleError("exec output piece with bad base64 (%s): %s" % (e, _dumps(piece)))
        if base64.b64encode(raw).decode("ascii") != data:
            raise ConsoleError("exec output piece not in canonical base64 (RFC 4648): %s" % _dumps(piece))
        out += raw
    return bytes(out)


class _Com1Text(pexpect.fdpexpect.fdspawn):
    """COM1 output as text without the CRs: vigil ends lines with CR LF, and
    with the CR gone a re.M pattern's '$' marks a line's end."""

    def read_nonblocking(self, size=1, timeout=-1):
        return super().read_nonblocking(size, timeout).replace("\r", "")


class Console:
    def __init__(self, sock, name="console", pace_ms=None):
        self.sock = sock
        self.name = name
        self.pace_ms = pace_ms    # None: the module's PACE_MS at each send; 0: no pacing
        self._clock = time.monotonic  # the pacing's clock and sleep (tests replace them)
        self._sleep = time.sleep
        self._pace_last = None    # when the last chunk was sent (None: never)
        self._pace_burst = 0.0    # when the current burst's first chunk was sent
        self.child = _Com1Text(sock.fileno(), timeout=DEFAULT_TIMEOUT, encoding="utf-8",
                               codec_errors="replace", maxread=65536)
        self.child.delayafterread = None
        self.closed = False       # EOF seen
        self._carry = ""          # start of a line an expect() match ended in
        self.transcript = []      # every complete line received
        self.log = []             # lines that are not JSON objects
        self.stray = []           # JSON objects nobody asked for
        self.events = []          # queued events, oldest first
        self.responses = {}       # id -> response object
        self.streams = {}         # id -> [stream objects]
        self.next_id = 1
        self.sent = {}            # id -> request object, until its response

    # -- bytes and lines --------------------------------------------------
    def send_raw(self, data):
        """Sends bytes (or str, UTF-8) exactly as given, paced (see the module's
        docstring): chunks of PACE_CHUNK bytes, PACE_MS after a burst's first
        chunk, PACE_GAP_MS between the others."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        pace = PACE_MS if self.pace_ms is None else self.pace_ms
        if pace <= 0:
            self._sendall(data)
            return
        for off in range(0, len(data), PACE_CHUNK):
            now = self._clock()
            first = self._pace_last is None or now - self._pace_last > PACE_IDLE_MS / 1000.0
            if not first:
                ready = max(self._pace_burst + pace / 1000.0, self._pace_last + PACE_GAP_MS / 1000.0)
                if ready > now:
                    self._sleep(ready - now)
            self._sendall(data[off:off + PACE_CHUNK])
            self._pace_last = self._clock()
            if first:
                self._pace_burst = self._pace_last  # the FIFO was empty: this chunk wakes the console

    def _sendall(self, data):
        # raw bytes (binary garbage included) straight to the socket, as
        # fdpexpect's documentation recommends; pexpect does the reading
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ConsoleClosed("%s: send failed: %s" % (self.name, e))

    def send_line(self, text):
        """Sends TEXT + CR (human mode)."""
        self.send_raw(text.encode("utf-8") + EOL)

    def _expect(self, patterns, deadline):
        """child.expect(patterns + [EOF, TIMEOUT]) until deadline; the text it
        consumed is split into lines (dispatched) and a partial line (kept for
        the next line). Returns the index matched, or None on timeout; raises
        ConsoleClosed at EOF."""
        if self.closed:
            raise ConsoleClosed("%s: connection closed (the run is over)%s" % (self.name, self._tail()))
        n = len(patterns)
        i = self.child.expect(list(patterns) + [pexpect.EOF, pexpect.TIMEOUT],
                              timeout=max(0.0, deadline - time.monotonic()))
        if i == n + 1:
            return None
        text = self.child.before + (self.child.after if i < n else "")
        *lines, rest = (self._carry + text).split("\n")
        self._carry = rest
        for line in lines:
            self._dispatch(line)
        if i == n:
            self.closed = True
            if self._carry:
                self._dispatch(self._carry)
                self._carry = ""
            raise ConsoleClosed("%s: connection closed (the run is over)%s" % (self.name, self._tail()))
        return i

    def _fill(self, deadline):
        """Waits until deadline for one complete line and dispatches it.
        Returns False on timeout. Raises ConsoleClosed at EOF."""
        return self._expect(["\n"], deadline) is not None

    def _dispatch(self, line):
        self.transcript.append(line)
        obj = _json_object(line)
        if obj is None:
            if line.strip():
                self.log.append(line)
            return
        if "event" in obj and "id" not in obj:
            self.events.append(obj)
        elif "id" in obj and obj["id"] in self.streams:
            if "stream" in obj:
                self.streams[obj["id"]].append(obj)
            else:
                self.responses[obj["id"]] = obj
        elif "event" in obj:
            self.events.append(obj)
        else:
            self.stray.append(obj)

    def partial(self):
        """The line being received (no newline yet), e.g. a prompt."""
        return self._carry + self.child.buffer

    def _tail(self):
        lines = self.transcript[-TAIL:]
        if self.partial():
            lines = lines + [self.partial() + "   (no newline yet)"]
        if not lines:
            return "; nothing received"
        return "; last lines received:\n  " + "\n  ".join(lines)

    def pump(self, timeout=0.0):
        """Reads and dispatches whatever arrives within timeout seconds."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            if time.monotonic() >= deadline:
                break

    def drain(self, timeout=DEFAULT_TIMEOUT):
        """Reads until the runner closes the connection (the run ends) or
        timeout; returns True if closed."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self._fill(deadline)
        except ConsoleClosed:
            return True
        return False

    # -- human mode ---------------------------------------------------------
    def expect(self, regex, timeout=DEFAULT_TIMEOUT):
        """Waits for output, after the previous match, matching regex (a
        pexpect expect with re.M, CRs dropped: '^' and '$' anchor at line
        ends, '.' stops at a newline). A match may end within a line (a prompt
        such as 'vigil> '); the next expect starts right after it, where '^'
        matches too. As in pexpect, '$' also matches at the end of what has
        arrived so far: end a pattern with text that closes the line (a whole
        word, a number's unit) rather than rely on '$' right after a number.
        Returns the match object."""
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        if self._expect([rx], deadline) is None:
            raise ConsoleTimeout("%s: no line matching '%s' within %g s%s"
                                 % (self.name, regex, timeout, self._tail()))
        return self.child.match

    # -- JSON mode ------------------------------------------------------------
    def enter_json_mode(self, timeout=60.0, resend_every=5.0):
        """Sends 'mode json' and returns the first JSON object (not an event)
        that arrives after it: the acknowledgement, {"id":null,"status":0,
        "status_name":"S_OK","result":{"mode":"json"}} (docs/console-protocol.md),
        or, if the console already was in JSON mode, its error answer. Sends it when the prompt shows, or
        after resend_every seconds without one, and again every resend_every
        seconds while no JSON object arrives (input sent while the UART was
        being set up can be lost). The answers to repeats are read and dropped
        (a status request after them shows they all came)."""
        deadline = time.monotonic() + timeout
        # wait for the prompt (or give up waiting for it after resend_every)
        if PROMPT not in self.partial() and not any(PROMPT in l for l in self.transcript[-3:]):
            self._expect([re.escape(PROMPT)], min(deadline, time.monotonic() + resend_every))
        sends = 0
        while True:
            self.send_line("mode json")
            sends += 1
            next_send = min(deadline, time.monotonic() + resend_every)
            start = len(self.transcript)
            while True:
                for line in self.transcript[start:]:
                    obj = _json_object(line)
                    if obj is not None and "event" not in obj:  # events stay queued
                        self._forget(obj)
                        if sends > 1:
                            self._absorb_repeats(deadline)
                        return obj
                start = len(self.transcript)
                if time.monotonic() >= next_send:
                    break
                self._fill(next_send)
            if time.monotonic() >= deadline:
                raise ConsoleTimeout("%s: no JSON reply to 'mode json' within %g s (sent %d times)%s"
                                     % (self.name, timeout, sends, self._tail()))

    def _absorb_repeats(self, deadline):
        """After a repeated 'mode json': the console answers lines in order, so
        once a status request is answered every repeat has been answered too
        (an error each, in JSON mode): drop those answers from `stray`."""
        strays = len(self.stray)
        self.wait_response(self.send_request("status"), max(1.0, deadline - time.monotonic()))
        del self.stray[strays:]

    def _forget(self, obj):
        """obj was consumed directly: take it out of the queues _dispatch put it in."""
        for lst in (self.stray, self.events):
            for i, o in enumerate(lst):
                if o == obj:
                    del lst[i]
                    return

    def send_json(self, obj):
        """Sends one JSON object as a line."""
        self.send_raw(_dumps(obj).encode("ascii") + EOL)

    def send_request(self, cmd, **fields):
        """Sends {"id": N, CMD_KEY: cmd, **fields} without waiting; returns N
        for wait_response(). Several requests may be in flight (exec + kill)."""
        rid = self.next_id
        self.next_id += 1
        obj = {"id": rid}
        if cmd is not None:
            obj[CMD_KEY] = cmd
        obj.update(fields)
        self.streams[rid] = []
        self.sent[rid] = obj
        self.send_json(obj)
        return rid

    def wait_response(self, rid, timeout=DEFAULT_TIMEOUT):
        """Waits for the response to request rid; returns (response, streamed):
        streamed = the objects with that id and a "stream" key that arrived
        before the response, in order."""
        deadline = time.monotonic() + timeout
        while rid not in self.responses:
            if time.monotonic() >= deadline:
                raise ConsoleTimeout("%s: no response to %s within %g s%s"
                                     % (self.name, _dumps(self.sent.get(rid, rid)), timeout, self._tail()))
            self._fill(deadline)
        self.sent.pop(rid, None)
        return self.responses.pop(rid), self.streams.pop(rid)

    def request(self, cmd, timeout=DEFAULT_TIMEOUT, **fields):
        """send_request() + wait_response(): sends {"id": N, CMD_KEY: cmd,
        **fields} and returns (response, streamed). cmd=None sends just the
        id and fields."""
        return self.wait_response(self.send_request(cmd, **fields), timeout)

    def request_ok(self, cmd, timeout=DEFAULT_TIMEOUT, **fields):
        """request(), raising ConsoleError when the status is a failure
        HRESULT (bit 31 set / negative) or the response has an "error"."""
        resp, streamed = self.request(cmd, timeout=timeout, **fields)
        if failed(resp):
            raise ConsoleError("%s: request %s failed: %s" % (self.name, cmd, _dumps(resp)))
        return resp, streamed

    def wait_event(self, name=None, timeout=DEFAULT_TIMEOUT):
        """Returns (and dequeues) the oldest event named name (any event if
        None), waiting up to timeout seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if name is None or ev.get("event") == name:
                    return self.events.pop(i)
            if time.monotonic() >= deadline:
                raise ConsoleTimeout("%s: no event %s within %g s (queued: %s)%s"
                                     % (self.name, "'%s'" % name if name else "at all", timeout,
                                        ", ".join(str(e.get("event")) for e in self.events) or "none",
                                        self._tail()))
            self._fill(deadline)

    # -- the end ------------------------------------------------------------------
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _json_object(line):
    s = line.strip()
    if not s.startswith("{"):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def failed(resp):
    """True if a response reports failure: an "error" field, or a "status"
    that is a failure HRESULT (int or string like "0x80004005")."""
    if resp.get("error"):
        return True
    st = resp.get("status", 0)
    if isinstance(st, str):
        try:
            st = int(st, 0)
        except ValueError:
            return True
    if isinstance(st, bool) or not isinstance(st, int):
        return False
    return st < 0 or bool(st & 0x80000000)
