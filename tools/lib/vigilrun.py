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
Exit status: 0 success, 1 failure, 2 usage error, 124 timeout.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

POWER_OFF = "vigil: power off"
GUEST_POWER_OFF = "guest: power off"
DEFAULT_REJECTS = [r"vigil: PANIC", r"vigil: EXCEPTION"]
DEFAULT_GUEST_REJECTS = [r"guest: unexpected exception"]
BANNER = re.compile(r"^vigil \d")

POWER_OFF_GRACE = 0.5  # s to let the emulator exit by itself after power off
REJECT_GRACE = 5.0     # s of further output collected after a reject matched
TAIL_LINES = 40

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(Exception):
    pass


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
        self.start(argv, cwd)
        status, logs, timed_out = self.watch()
        hv_log, guest_log = logs
        decider = guest_log if opts.no_hypervisor else hv_log
        marker = GUEST_POWER_OFF if opts.no_hypervisor else POWER_OFF
        t_poweroff = decider.t_poweroff

        failures = []
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
        elif t_poweroff is None and not timed_out:
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


def _quote(a):
    return a if re.match(r"^[\w@%+=:,./-]+$", a) else "'" + a.replace("'", "'\\''") + "'"


def main(prog, build_argv, parser):
    """build_argv(runner, opts) -> (argv, cwd); may raise UsageError."""
    opts = parser.parse_args()
    runner = None

    def on_signal(signum, frame):
        if runner is not None:
            runner.stop()
        print("%s: killed by signal %d" % (prog, signum), file=sys.stderr)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        if opts.timeout <= 0:
            raise UsageError("--timeout must be positive")
        compile_patterns(opts)
        runner = Runner(prog, opts)
        argv, cwd = build_argv(runner, opts)
        return runner.run(argv, cwd)
    except UsageError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        if runner is not None and not opts.keep:
            shutil.rmtree(runner.workdir, ignore_errors=True)
        return 2
