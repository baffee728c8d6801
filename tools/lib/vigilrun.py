"""Shared code of tools/run-qemu and tools/run-bochs (python3, stdlib only).

Runs an emulator, watches the hypervisor's COM1 log and the guest's COM2 log
(files the emulator writes) and judges the run by them:
  success = a COM1 line containing "vigil: power off", every --expect regex
            matched some COM1 line, no --reject regex matched any COM1 line,
            every --expect-guest regex matched some COM2 line, no
            --reject-guest regex matched any COM2 line.
With --no-hypervisor the kernel is a bare guest (tests/guests/): the power-off
line is "guest: power off" in the COM2 log instead. With --expect-stop the
emulator must stop by itself (e.g. a guest's triple fault: QEMU -no-reboot
exits, Bochs panics) and no power-off line may appear.
With --console SPEC the emulator's COM1 is a socket to the runner instead of a
file: the runner still writes every COM1 byte to the serial log (so the judging
is unchanged) and also serves one client at a time on SPEC (unix:PATH or
tcp:PORT on 127.0.0.1), forwarding bytes both ways. With --console-script FILE
the runner plays a send/expect script against COM1 itself (see ConsoleScript).
Exit status: 0 success, 1 failure, 2 usage error, 124 timeout.
"""

import argparse
import atexit
import codecs
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

POWER_OFF = "vigil: power off"
GUEST_POWER_OFF = "guest: power off"
DEFAULT_REJECTS = [r"vigil: PANIC", r"vigil: EXCEPTION"]
DEFAULT_GUEST_REJECTS = [r"guest: unexpected exception"]
BANNER = re.compile(r"^vigil \d")

POWER_OFF_GRACE = 0.5  # s to let the emulator exit by itself after power off
REJECT_GRACE = 5.0     # s of further output collected after a reject matched
TAIL_LINES = 40

CONSOLE_HELP = """\
console (--console SPEC, --console-script FILE):
  COM1 becomes a socket between the emulator and the runner. The runner
  writes every COM1 byte to the serial log as before (--serial, --expect,
  --reject and the power-off rule are unchanged) and
  --console unix:PATH | tcp:PORT   serves one client at a time on PATH or
      127.0.0.1:PORT (tcp:0: a free port), bytes both ways, unchanged. It
      prints 'PROG: console on unix:PATH' (or tcp:127.0.0.1:PORT) to stderr
      once listening. COM1 output that arrives while no client is connected
      is kept (the last 64 KiB) and sent to the next client first; a client
      never gets output another client already received. A second client
      while one is connected is told 'console busy' and closed. PATH is
      removed at exit.
  --console-script FILE   the runner plays FILE against COM1; one command a line:
      send TEXT               TEXT + CR
      sendraw TEXT            TEXT with backslash escapes (\\r \\x00 ...), nothing added
      expect REGEX [SECONDS]  wait (default 30 s) for a COM1 line, after the
                              previous expect's match, matching REGEX
                              (re.search); a trailing number is the timeout,
                              '/REGEX/ [SECONDS]' keeps one in the regex; the
                              line still being received (a prompt) counts
                              once COM1 has been quiet for 0.25 s
      sleep SECONDS
      # comment
    A failed expect fails the run and stops it (the message names FILE:LINE
    and the regex); so does the run ending before the script.
"""

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(Exception):
    pass


class _Killed(BaseException):
    """Raised by the SIGTERM/SIGINT/SIGHUP handler; main() stops the emulator."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _set_pdeathsig():
    """In the child: die with SIGKILL when the runner dies (e.g. ctest
    kills it on timeout), so no emulator is left behind."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def common_parser(prog, description, epilog=None):
    p = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", default=os.path.join(REPO, "build", "vigil.elf"),
                   help="hypervisor ELF (default: build/vigil.elf of this repo)")
    p.add_argument("--cmdline", default=None,
                   help="hypervisor command line")
    p.add_argument("--module", action="append", default=[], metavar="FILE[:ARGS]",
                   help="boot module with optional arguments (repeatable)")
    p.add_argument("--serial", default=None, metavar="FILE",
                   help="COM1 log file (default: a temp file); '-' = temp file "
                        "and stream it to stdout live")
    p.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                   help="kill the emulator after this many seconds (default 60); exit 124")
    p.add_argument("--expect", action="append", default=[], metavar="REGEX",
                   help="a serial log line must match REGEX (repeatable)")
    p.add_argument("--reject", action="append", default=[], metavar="REGEX",
                   help="no serial log line may match REGEX (repeatable; "
                        "'vigil: PANIC' and 'vigil: EXCEPTION' are always rejected "
                        "unless --allow-panic)")
    p.add_argument("--allow-panic", action="store_true",
                   help="do not reject PANIC/EXCEPTION lines (and the guest's "
                        "'guest: unexpected exception') by default")
    p.add_argument("--guest-serial", default=None, metavar="FILE",
                   help="COM2 (guest serial) log file (default: a temp file)")
    p.add_argument("--expect-guest", action="append", default=[], metavar="REGEX",
                   help="a guest serial (COM2) log line must match REGEX (repeatable)")
    p.add_argument("--reject-guest", action="append", default=[], metavar="REGEX",
                   help="no guest serial (COM2) log line may match REGEX (repeatable; "
                        "'guest: unexpected exception' is always rejected unless --allow-panic)")
    p.add_argument("--no-hypervisor", action="store_true",
                   help="KERNEL is a bare test guest (multiboot1, no vigil): success "
                        "needs 'guest: power off' in the guest serial log instead of "
                        "'vigil: power off'; the default command line is empty, and "
                        "--serial - streams the guest serial log")
    p.add_argument("--expect-stop", action="store_true",
                   help="success needs the emulator to stop by itself without any "
                        "power-off line (a bare guest's triple fault)")
    p.add_argument("--console", default=None, metavar="SPEC",
                   help="make COM1 a socket to the runner and serve it, one client "
                        "at a time, on SPEC: unix:PATH or tcp:PORT (127.0.0.1; tcp:0 "
                        "picks a free port). Prints 'PROG: console on SPEC' to stderr "
                        "once listening. COM1 output is still logged and judged")
    p.add_argument("--console-script", default=None, metavar="FILE",
                   help="play FILE against COM1 (send/sendraw/expect/sleep lines); "
                        "a failed expect fails the run and stops it")
    p.add_argument("--keep", action="store_true",
                   help="keep the temp dir even on success and print its path")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing on success")
    return p


def parse_modules(specs):
    """--module FILE[:ARGS] -> [(path, args)]."""
    mods = []
    for spec in specs:
        path, sep, args = spec.partition(":")
        if not path:
            raise UsageError("--module needs a file: '%s'" % spec)
        if not os.path.isfile(path):
            raise UsageError("module not found: %s" % path)
        mods.append((path, args))
    return mods


def compile_patterns(opts):
    pats = []
    for kind, lst in (("expect", opts.expect), ("reject", opts.reject),
                      ("expect-guest", opts.expect_guest), ("reject-guest", opts.reject_guest)):
        for r in lst:
            try:
                pats.append((kind, r, re.compile(r)))
            except re.error as e:
                raise UsageError("bad --%s regex '%s': %s" % (kind, r, e))
    return pats


def tail(path, n=TAIL_LINES, keep=None, drop=None):
    """Last n lines of path; keep/drop: optional regexes filtering the lines."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no file %s)" % path
    lines = data.decode("utf-8", "replace").replace("\r", "").splitlines()
    if keep:
        lines = [l for l in lines if re.search(keep, l)]
    if drop:
        lines = [l for l in lines if not re.search(drop, l)]
    return "\n".join(lines[-n:]) if lines else "(empty)"


class Runner:
    """Owns the work dir, the emulator process and the serial watch."""

    def __init__(self, prog, opts):
        self.prog = prog
        self.opts = opts
        console_spec = console_script = None
        if opts.console or opts.console_script:
            if opts.console and opts.console_script:
                raise UsageError("--console and --console-script cannot be combined")
            console_spec = parse_console_spec(opts.console) if opts.console else None
            console_script = ConsoleScript(opts.console_script) if opts.console_script else None
        self.workdir = tempfile.mkdtemp(prefix="vigil-%s." % prog.split("/")[-1])
        self.keep_paths = []      # (label, path) printed on failure
        self.out_drop = None      # regex of emulator output lines not worth showing
        self.extra_tails = []     # (label, path, keep-regex) shown on failure
        self.stream = opts.serial == "-"
        if opts.serial and opts.serial != "-":
            self.serial = os.path.abspath(opts.serial)
            d = os.path.dirname(self.serial)
            if d:
                os.makedirs(d, exist_ok=True)
        else:
            self.serial = os.path.join(self.workdir, "serial.log")
        open(self.serial, "wb").close()  # truncate; the emulator appends/writes
        if opts.guest_serial:
            self.guest_serial = os.path.abspath(opts.guest_serial)
            d = os.path.dirname(self.guest_serial)
            if d:
                os.makedirs(d, exist_ok=True)
        else:
            self.guest_serial = os.path.join(self.workdir, "guest-serial.log")
        open(self.guest_serial, "wb").close()
        self.emu_out = os.path.join(self.workdir, "emulator.out")
        self.proc = None
        self.console = None
        if console_spec or console_script:
            self.console = ConsoleProxy(self, console_spec, console_script)

    # -- COM1 as a socket (--console, --console-script) -----------------------
    def com1_tcp(self):
        """For build_argv: the emulator's COM1 must connect (as a client) to
        the returned 127.0.0.1 port, where the runner listens."""
        return self.console.listen_emulator_tcp()

    def com1_unix(self):
        """For build_argv: the emulator's COM1 must connect (as a client) to
        the returned unix socket path, where the runner listens."""
        return self.console.listen_emulator_unix(os.path.join(self.workdir, "com1.sock"))

    def msg(self, text):
        print("%s: %s" % (self.prog, text), file=sys.stderr, flush=True)

    # -- process control ------------------------------------------------
    def start(self, argv, cwd=None):
        self.argv = argv
        out = open(self.emu_out, "wb")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=cwd,
                                         preexec_fn=_set_pdeathsig)
        except OSError as e:
            raise UsageError("cannot run %s: %s (run tools/deps)" % (argv[0], e.strerror))
        finally:
            out.close()

    def stop(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # -- watching -----------------------------------------------------------
    def _logs(self):
        """The two serial logs: (name, path, power-off marker or None, rejects)."""
        opts = self.opts
        rejects = [] if opts.allow_panic else [(r, re.compile(r)) for r in DEFAULT_REJECTS]
        rejects += [(r, re.compile(r)) for r in opts.reject]
        guest_rejects = [] if opts.allow_panic else [(r, re.compile(r)) for r in DEFAULT_GUEST_REJECTS]
        guest_rejects += [(r, re.compile(r)) for r in opts.reject_guest]
        hv_marker = None if opts.no_hypervisor else POWER_OFF
        guest_marker = GUEST_POWER_OFF if opts.no_hypervisor else None
        return [_Log("serial", self.serial, hv_marker, rejects),
                _Log("guest", self.guest_serial, guest_marker, guest_rejects)]

    def watch(self):
        """Follows both logs until power off, a reject (plus grace), the
        emulator's exit or the timeout. Returns (status, logs, timed_out)."""
        opts = self.opts
        logs = self._logs()
        # --serial - streams the log that decides the run
        streamed = logs[1] if opts.no_hypervisor else logs[0]
        if self.stream:
            streamed.stream = True
        t0 = self.t0 = time.monotonic()
        deadline = t0 + opts.timeout
        stop_at = None
        timed_out = False
        try:
            while True:
                if self.console is not None and self.console.stop_run:
                    break
                exited = self.proc.poll() is not None
                for log in logs:
                    for event in log.poll(t0):
                        if event == "power-off":
                            stop_at = min(stop_at or 1e18, time.monotonic() + POWER_OFF_GRACE)
                        elif event == "reject":
                            stop_at = min(stop_at or 1e18, time.monotonic() + REJECT_GRACE)
                if exited:
                    break
                now = time.monotonic()
                if stop_at is not None and now >= stop_at:
                    break
                if now >= deadline:
                    timed_out = True
                    break
                time.sleep(0.05)
        finally:
            self.stop()
            if self.console is not None:
                self.console.finish()  # the last COM1 bytes into the log, the script's verdict
        # whatever arrived while stopping
        for log in logs:
            log.poll(t0, final=True)
        if self.stream:
            sys.stdout.flush()
        self.elapsed = time.monotonic() - t0
        return self.proc.returncode, logs, timed_out

    # -- judging ------------------------------------------------------------
    def run(self, argv, cwd=None):
        opts = self.opts
        if self.console is not None:
            self.console.start()
        self.start(argv, cwd)
        status, logs, timed_out = self.watch()
        hv_log, guest_log = logs
        decider = guest_log if opts.no_hypervisor else hv_log
        marker = GUEST_POWER_OFF if opts.no_hypervisor else POWER_OFF
        t_poweroff = decider.t_poweroff

        failures = []
        stopped_by_script = self.console is not None and self.console.stop_run
        if self.console is not None:
            failures += self.console.failures
        if timed_out:
            failures.append("timeout after %g s" % opts.timeout)
        for log, expects, what in ((hv_log, opts.expect, ""), (guest_log, opts.expect_guest, "guest ")):
            for r, rx in log.rejects:
                hit = next((l for l in log.lines if rx.search(l)), None)
                if hit is not None:
                    failures.append("rejected %spattern '%s' matched: %s" % (what, r, hit.strip()))
            for r in expects:
                rx = re.compile(r)
                if not any(rx.search(l) for l in log.lines):
                    failures.append("expected %spattern not found: '%s'" % (what, r))
        if opts.expect_stop:
            for log, m in ((hv_log, POWER_OFF), (guest_log, GUEST_POWER_OFF)):
                hit = next((l for l in log.lines if m in l), None)
                if hit is not None:
                    failures.append("--expect-stop, but the run powered off: %s" % hit.strip())
        elif t_poweroff is None and not timed_out and not stopped_by_script:
            failures.append("no '%s' line%s (emulator exited with status %s)"
                            % (marker, " in the guest serial log" if opts.no_hypervisor else "", status))

        if opts.no_hypervisor:
            banner = "bare guest %s" % os.path.basename(opts.kernel)
        else:
            banner = next((l.strip() for l in hv_log.lines if BANNER.match(l)), None)
        if not failures:
            if not opts.quiet:
                if opts.expect_stop:
                    self.msg("ok: %s; emulator stopped by itself (status %s), %.2f s wall"
                             % (banner or "no banner", status, self.elapsed))
                else:
                    self.msg("ok: %s; power off at %.2f s, %.2f s wall"
                             % (banner or "no banner", t_poweroff, self.elapsed))
            if opts.keep:
                self.msg("kept %s" % self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
            return 0

        for fmsg in failures:
            self.msg(fmsg)
        out = sys.stderr
        print("--- %s output (%s), last %d lines ---" % (os.path.basename(argv[0]), self.emu_out, TAIL_LINES), file=out)
        print(tail(self.emu_out, drop=self.out_drop), file=out)
        for label, path, keep in self.extra_tails:
            print("--- %s (%s), last %d matching lines ---" % (label, path, TAIL_LINES), file=out)
            print(tail(path, keep=keep), file=out)
        for log, label in ((hv_log, "serial log"), (guest_log, "guest serial (COM2) log")):
            if not log.stream:
                print("--- %s (%s), last %d lines ---" % (label, log.path, TAIL_LINES), file=out)
                print(tail(log.path), file=out)
        print("--- end ---", file=out)
        self.msg("command: %s" % " ".join(_quote(a) for a in argv))
        for label, path in self.keep_paths:
            self.msg("%s: %s" % (label, path))
        self.msg("serial log: %s" % self.serial)
        self.msg("guest serial (COM2) log: %s" % self.guest_serial)
        self.msg("elapsed %.2f s; files kept in %s" % (self.elapsed, self.workdir))
        return 124 if timed_out else 1


class _Log:
    """One serial log file being followed: its lines, its power-off time."""

    def __init__(self, name, path, marker, rejects):
        self.name = name
        self.path = path
        self.marker = marker      # power-off marker judged in this log, or None
        self.rejects = rejects    # [(regex text, compiled)]
        self.stream = False
        self.lines = []
        self.t_poweroff = None
        self.pos = 0
        self.partial = b""

    def poll(self, t0, final=False):
        """Reads new data; returns events ("power-off", "reject") of the new lines."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            data = b""
        events = []
        if data:
            self.pos += len(data)
            if self.stream:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            self.partial += data
        *done, self.partial = self.partial.split(b"\n")
        if final and self.partial:
            done.append(self.partial)
            self.partial = b""
        for raw in done:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if final and not line:
                continue
            self.lines.append(line)
            if self.marker and self.marker in line and self.t_poweroff is None:
                self.t_poweroff = time.monotonic() - t0
                events.append("power-off")
            if any(rx.search(line) for _, rx in self.rejects):
                events.append("reject")
        return events


# -- COM1 as a socket: --console and --console-script ---------------------------

CONSOLE_BACKLOG = 64 * 1024          # COM1 output kept for the next client
CONSOLE_CLIENT_MAX = 4 * 1024 * 1024  # unsent output before a slow client is dropped
CONSOLE_INPUT_MAX = 64 * 1024         # client input not yet taken by the emulator
CONSOLE_FINISH_WAIT = 3.0             # s to wait for the emulator's last COM1 bytes
SCRIPT_EXPECT_TIMEOUT = 30.0
SCRIPT_PARTIAL_QUIET = 0.25  # s of COM1 silence before an expect looks at an unfinished line


def parse_console_spec(spec):
    """'unix:PATH' -> ("unix", abspath); 'tcp:PORT' -> ("tcp", port)."""
    kind, sep, rest = spec.partition(":")
    if kind == "unix" and sep and rest:
        path = os.path.abspath(rest)
        if len(path.encode()) > 107:
            raise UsageError("--console: unix socket path too long (max 107 bytes): %s" % path)
        if not os.path.isdir(os.path.dirname(path)):
            raise UsageError("--console: no directory for the socket: %s" % path)
        return ("unix", path)
    if kind == "tcp" and sep:
        try:
            port = int(rest, 10)
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise UsageError("--console: bad TCP port '%s' (0-65535; 0 = any free port)" % rest)
        return ("tcp", port)
    raise UsageError("--console: SPEC is unix:PATH or tcp:PORT, not '%s'" % spec)


class ConsoleScript:
    """--console-script FILE, one command a line:
        send TEXT               TEXT + CR to COM1 (TEXT: the rest of the line, as is)
        sendraw TEXT            TEXT with Python backslash escapes (\\r \\n \\x00 ...)
                                decoded, nothing appended
        expect REGEX [TIMEOUT]  wait (default 30 s) until a COM1 line that arrived
                                after the previous expect's match matches REGEX
                                (re.search). A trailing number is the timeout;
        expect /REGEX/ [TIMEOUT]  the same, REGEX taken as is between the
                                slashes (for a regex ending in a number).
                                The line being received (no newline yet, e.g. a
                                prompt 'vigil> ') counts once COM1 has been
                                quiet for 0.25 s: the next expect goes on
                                after the match within that line.
        sleep SECONDS
        # comment, blank lines
    A failed expect, or the run ending before the script, fails the run."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8")
        except (OSError, UnicodeError) as e:
            raise UsageError("--console-script: cannot read %s: %s" % (path, e))
        self.steps = []
        for n, raw in enumerate(text.split("\n"), 1):
            line = raw.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cmd, _, arg = line.lstrip().partition(" ")
            where = "%s:%d" % (path, n)
            if cmd == "send":
                self.steps.append((n, "send", arg.encode("utf-8") + b"\r", arg))
            elif cmd == "sendraw":
                try:
                    data = codecs.escape_decode(arg.encode("utf-8"))[0]
                except ValueError as e:
                    raise UsageError("%s: sendraw: bad escape: %s" % (where, e))
                self.steps.append((n, "send", data, arg))
            elif cmd == "expect":
                regex, timeout, implicit = arg.strip(), SCRIPT_EXPECT_TIMEOUT, False
                slashed = re.match(r"^/(.*)/(?:\s+(\d+(?:\.\d*)?))?$", regex)
                if slashed:
                    regex = slashed.group(1)
                    if slashed.group(2):
                        timeout = float(slashed.group(2))
                else:
                    head, _, last = regex.rpartition(" ")
                    if head.strip() and re.match(r"^\d+(\.\d*)?$", last):
                        regex, timeout, implicit = head.rstrip(), float(last), True
                if not regex:
                    raise UsageError("%s: expect needs a regex" % where)
                try:
                    rx = re.compile(regex)
                except re.error as e:
                    raise UsageError("%s: bad regex '%s': %s" % (where, regex, e))
                self.steps.append((n, "expect", (rx, timeout, implicit), regex))
            elif cmd == "sleep":
                try:
                    secs = float(arg)
                except ValueError:
                    raise UsageError("%s: sleep needs seconds, not '%s'" % (where, arg))
                self.steps.append((n, "sleep", secs, arg))
            else:
                raise UsageError("%s: unknown command '%s' (send, sendraw, expect, sleep, #)"
                                 % (where, cmd))
        self.cond = threading.Condition()
        self.lines = []          # complete COM1 lines
        self.partial = b""       # the line being received
        self.cursor = (0, 0)     # (line index, offset in it) where the next expect starts
        self.eof = False         # COM1 closed / run over
        self.last_rx = 0.0       # when COM1 output last arrived
        self.done = False
        self.failure = None
        self.step = None         # the step being played

    def feed(self, data):
        with self.cond:
            self.last_rx = time.monotonic()
            self.partial += data
            *done, self.partial = self.partial.split(b"\n")
            for raw in done:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r"))
            self.cond.notify_all()

    def end(self):
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _search(self, rx):
        """Looks for rx from the cursor on, in the complete lines and then in
        the line being received; on a match moves the cursor past it (to the
        next line, or within the partial line). Called with cond held."""
        line, off = self.cursor
        for i in range(line, len(self.lines)):
            if rx.search(self.lines[i], off if i == line else 0):
                self.cursor = (i + 1, 0)
                return True
        if line <= len(self.lines) and self.partial and \
                (self.eof or time.monotonic() >= self.last_rx + SCRIPT_PARTIAL_QUIET):
            text = self.partial.decode("utf-8", "replace").rstrip("\r")
            start = off if line == len(self.lines) else 0
            m = rx.search(text, start)
            if m:
                self.cursor = (len(self.lines), max(m.end(), start + 1))
                return True
        return False

    def _where(self, n):
        return "console script %s:%d" % (self.path, n)

    def play(self, send):
        """Runs the steps (in its own thread); send(bytes) writes to COM1.
        Returns None or a failure message."""
        for n, cmd, arg, text in self.steps:
            self.step = (n, cmd, text)
            if cmd == "send":
                with self.cond:
                    if self.eof:
                        return "%s: the run ended before 'send %s'" % (self._where(n), text)
                send(arg)
            elif cmd == "sleep":
                with self.cond:
                    self.cond.wait_for(lambda: self.eof, arg)
            else:
                rx, timeout, implicit = arg
                deadline = time.monotonic() + timeout
                with self.cond:
                    while True:
                        if self._search(rx):
                            break
                        left = deadline - time.monotonic()
                        hint = (" (the line's trailing number is the timeout: write /REGEX/ "
                                "if it belongs to the regex)" if implicit else "")
                        if self.eof:
                            return ("%s: expect '%s': COM1 closed (the run ended) before a "
                                    "matching line arrived%s" % (self._where(n), text, hint))
                        if left <= 0:
                            return ("%s: expect '%s': no matching COM1 line within %g s%s"
                                    % (self._where(n), text, timeout, hint))
                        self.cond.wait(min(left, SCRIPT_PARTIAL_QUIET / 2))
        self.step = None
        return None


class ConsoleProxy:
    """Owns the runner's end of the emulator's COM1 socket (the emulator
    connects to it as a client) and, with --console, the listening socket
    for clients. A thread copies COM1 output to the serial log, to the client
    (or, while no client is connected, into a backlog of the last 64 KiB
    that the next client receives first) and to the script; client input goes
    to COM1 unchanged. One client at a time: a second one is told 'busy' and
    closed."""

    def __init__(self, runner, spec, script):
        self.runner = runner
        self.prog = runner.prog
        self.spec = spec
        self.script = script
        self.quiet = runner.opts.quiet
        self.serial_path = runner.serial
        self.emu_listener = None
        self.emu = None
        self.emu_connected = False
        self.emu_eof = False
        self.listener = None
        self.unix_path = None     # client socket file we created (removed at exit)
        self.unix_ino = None
        self.com1_unix = None     # emulator socket file
        self.client = None
        self.to_client = bytearray()
        self.backlog = bytearray()
        self.to_emu = bytearray()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.closing = False
        self.closed = False
        self.thread = None
        self.script_thread = None
        self.stop_run = False     # the script failed: stop the emulator
        self.failures = []
        self.log_fd = None
        atexit.register(self.close)

    # -- setup --------------------------------------------------------------
    def listen_emulator_tcp(self):
        if self.emu_listener is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))  # the kernel picks a free port, held until accepted
            s.listen(1)
            self.emu_listener = s
        return self.emu_listener.getsockname()[1]

    def listen_emulator_unix(self, path):
        if self.emu_listener is None:
            if len(path.encode()) > 107:
                raise UsageError("temp dir path too long for a unix socket: %s" % path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            self.emu_listener = s
            self.com1_unix = path
        return self.com1_unix

    def _listen_clients(self):
        kind, where = self.spec
        if kind == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", where))
            except OSError as e:
                s.close()
                raise UsageError("--console: cannot listen on 127.0.0.1:%d: %s" % (where, e.strerror))
            s.listen(4)
            name = "tcp:127.0.0.1:%d" % s.getsockname()[1]
        else:
            path = where
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None:
                if not stat.S_ISSOCK(st.st_mode):
                    raise UsageError("--console: %s exists and is not a socket" % path)
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    probe.connect(path)
                    live = True
                except OSError:
                    live = False
                finally:
                    probe.close()
                if live:
                    raise UsageError("--console: %s is in use by another program" % path)
                os.unlink(path)  # stale socket of an earlier run
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(path)
            except OSError as e:
                s.close()
                raise UsageError("--console: cannot bind %s: %s" % (path, e.strerror))
            self.unix_path = path
            self.unix_ino = os.lstat(path).st_ino
            s.listen(4)
            name = "unix:" + path
        s.setblocking(False)
        self.listener = s
        self.name = name

    def start(self):
        """Before the emulator starts: listen for clients (announcing it),
        start the proxy thread and the script."""
        self.log_fd = os.open(self.serial_path, os.O_WRONLY | os.O_APPEND)
        if self.spec is not None:
            self._listen_clients()
            print("%s: console on %s" % (self.prog, self.name), file=sys.stderr, flush=True)
        self.emu_listener.setblocking(False)
        self.thread = threading.Thread(target=self._loop, name="console-proxy", daemon=True)
        self.thread.start()
        if self.script is not None:
            self.script_thread = threading.Thread(target=self._play, name="console-script", daemon=True)
            self.script_thread.start()

    def _note(self, text):
        if not self.quiet:
            print("%s: console: %s" % (self.prog, text), file=sys.stderr, flush=True)

    def _wake(self):
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    def send(self, data):
        """COM1 input from the script (any thread)."""
        with self.lock:
            self.to_emu += data
        self._wake()

    def _play(self):
        err = self.script.play(self.send)
        if err:
            self.failures.append(err)
            self.stop_run = True
        self.script.done = True

    # -- the proxy thread -----------------------------------------------------
    def _drop_client(self, why=None):
        if self.client is not None:
            try:
                self.client.close()
            except OSError:
                pass
            self.client = None
            self.to_client = bytearray()
            self._note("client disconnected" + (" (%s)" % why if why else ""))

    def _emu_closed(self):
        if self.emu is not None:
            try:
                self.emu.close()
            except OSError:
                pass
        self.emu = None
        self.emu_eof = True
        if self.script is not None:
            self.script.end()

    def _from_emu(self, data):
        os.write(self.log_fd, data)
        if self.script is not None:
            self.script.feed(data)
        if self.client is not None:
            self.to_client += data
            if len(self.to_client) > CONSOLE_CLIENT_MAX:
                self._drop_client("it does not read; %d bytes pending" % len(self.to_client))
        elif self.spec is not None:
            self.backlog += data
            if len(self.backlog) > CONSOLE_BACKLOG:
                del self.backlog[:len(self.backlog) - CONSOLE_BACKLOG]

    def _accept_client(self):
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if self.client is not None:
            try:
                conn.setblocking(False)
                conn.send(("%s: console busy: another client is connected\r\n" % self.prog).encode())
            except OSError:
                pass
            conn.close()
            self._note("refused a second client")
            return
        conn.setblocking(False)
        self.client = conn
        self.to_client = self.backlog
        self.backlog = bytearray()
        self._note("client connected")

    def _loop(self):
        while not self.closing:
            r = [self.wake_r]
            w = []
            if self.emu_listener is not None and not self.emu_connected:
                r.append(self.emu_listener)
            with self.lock:
                pending_in = len(self.to_emu)
            if self.emu is not None:
                r.append(self.emu)
                if pending_in:
                    w.append(self.emu)
            if self.listener is not None:
                r.append(self.listener)
            if self.client is not None:
                # client input only once COM1 is there and can take it
                if self.emu is not None and pending_in < CONSOLE_INPUT_MAX:
                    r.append(self.client)
                elif self.emu_eof:
                    r.append(self.client)  # notice a disconnect
                if self.to_client:
                    w.append(self.client)
            try:
                rr, ww, _ = select.select(r, w, [], 1.0)
            except (OSError, ValueError):
                continue
            if self.wake_r in rr:
                try:
                    os.read(self.wake_r, 4096)
                except OSError:
                    pass
            if self.emu_listener is not None and self.emu_listener in rr and not self.emu_connected:
                try:
                    conn, _ = self.emu_listener.accept()
                except OSError:
                    conn = None
                if conn is not None:
                    conn.setblocking(False)
                    self.emu = conn
                    self.emu_connected = True
                    self.emu_listener.close()
                    self.emu_listener = None
                    if self.com1_unix:
                        try:
                            os.unlink(self.com1_unix)
                        except OSError:
                            pass
            if self.emu is not None and self.emu in rr:
                try:
                    data = self.emu.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    self._emu_closed()
                elif data:
                    self._from_emu(data)
            if self.emu is not None and self.emu in ww:
                with self.lock:
                    try:
                        n = self.emu.send(self.to_emu)
                        del self.to_emu[:n]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self.to_emu = bytearray()
                        self._emu_closed()
            if self.listener is not None and self.listener in rr:
                self._accept_client()
            if self.client is not None and self.client in rr:
                try:
                    data = self.client.recv(4096)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    self._drop_client()
                elif data and not self.emu_eof:
                    with self.lock:
                        self.to_emu += data
            if self.client is not None and self.client in ww:
                try:
                    n = self.client.send(self.to_client)
                    del self.to_client[:n]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    self._drop_client()

    # -- the end ----------------------------------------------------------------
    def finish(self):
        """After the emulator stopped: wait for its last COM1 bytes (EOF),
        let the script see them, and record what went wrong."""
        deadline = time.monotonic() + CONSOLE_FINISH_WAIT
        while self.emu_connected and not self.emu_eof and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.emu_connected:
            self.failures.append("COM1: the emulator never connected to the runner's socket")
        if self.script is not None:
            self.script.end()
            self.script_thread.join(CONSOLE_FINISH_WAIT)
            if not self.script.done:
                step = self.script.step
                self.failures.append("console script %s:%s: still at '%s %s' when the run ended"
                                     % (self.script.path, step[0] if step else "?",
                                        step[1] if step else "", step[2] if step else ""))
        # flush what the client has not received yet, then close it
        deadline = time.monotonic() + 1.0
        while self.client is not None and self.to_client and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self):
        """Stops the thread, closes every socket, removes the socket files.
        Idempotent; also runs at exit."""
        if self.closed:
            return
        self.closed = True
        self.closing = True
        self._wake()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(2.0)
        for s in (self.client, self.listener, self.emu, self.emu_listener):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        self.client = self.listener = self.emu = self.emu_listener = None
        for path, ino in ((self.unix_path, self.unix_ino), (self.com1_unix, None)):
            if not path:
                continue
            try:
                if ino is None or os.lstat(path).st_ino == ino:
                    os.unlink(path)
            except OSError:
                pass
        for fd in (self.wake_r, self.wake_w, self.log_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.log_fd = None


def _quote(a):
    return a if re.match(r"^[\w@%+=:,./-]+$", a) else "'" + a.replace("'", "'\\''") + "'"


def main(prog, build_argv, parser):
    """build_argv(runner, opts) -> (argv, cwd); may raise UsageError."""
    opts = parser.parse_args()
    runner = None
    killed = []

    def on_signal(signum, frame):
        # Only unwind from here: stopping the emulator inside the handler could
        # deadlock when the signal interrupted Popen.poll() (its lock is held).
        if not killed:
            killed.append(signum)
            raise _Killed(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        if opts.timeout <= 0:
            raise UsageError("--timeout must be positive")
        compile_patterns(opts)
        runner = Runner(prog, opts)
        argv, cwd = build_argv(runner, opts)
        if runner.console is not None and runner.console.emu_listener is None:
            raise UsageError("internal: build_argv did not connect COM1 to the console")
        return runner.run(argv, cwd)
    except UsageError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        if runner is not None:
            if runner.console is not None:
                runner.console.close()
            if not opts.keep:
                shutil.rmtree(runner.workdir, ignore_errors=True)
        return 2
    except _Killed as k:
        if runner is not None:
            runner.stop()
        print("%s: killed by signal %d" % (prog, k.signum), file=sys.stderr)
        return 128 + k.signum
    finally:
        if runner is not None and runner.console is not None:
            runner.console.close()
