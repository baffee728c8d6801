"""Shared code of tools/run-qemu and tools/run-bochs (python3, stdlib only).

Runs an emulator, watches the hypervisor's COM1 log (a file the emulator
writes) and judges the run by it:
  success = a line containing "vigil: power off", every --expect regex
            matched some line, no --reject regex matched any line.
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
DEFAULT_REJECTS = [r"vigil: PANIC", r"vigil: EXCEPTION"]
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
                   help="do not reject PANIC/EXCEPTION lines by default")
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
    for kind, lst in (("expect", opts.expect), ("reject", opts.reject)):
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
    def watch(self):
        """Returns (status, lines, t_poweroff, timed_out)."""
        opts = self.opts
        rejects = [] if opts.allow_panic else [(r, re.compile(r)) for r in DEFAULT_REJECTS]
        rejects += [(r, re.compile(r)) for r in opts.reject]
        t0 = self.t0 = time.monotonic()
        deadline = t0 + opts.timeout
        lines = []
        partial = b""
        pos = 0
        t_poweroff = None
        stop_at = None
        timed_out = False
        f = open(self.serial, "rb")
        try:
            while True:
                exited = self.proc.poll() is not None
                f.seek(pos)
                data = f.read()
                if data:
                    pos += len(data)
                    if self.stream:
                        sys.stdout.buffer.write(data)
                        sys.stdout.buffer.flush()
                    partial += data
                    *done, partial = partial.split(b"\n")
                    for raw in done:
                        line = raw.decode("utf-8", "replace").rstrip("\r")
                        lines.append(line)
                        now = time.monotonic()
                        if POWER_OFF in line and t_poweroff is None:
                            t_poweroff = now - t0
                            stop_at = min(stop_at or 1e18, now + POWER_OFF_GRACE)
                        if any(rx.search(line) for _, rx in rejects):
                            stop_at = min(stop_at or 1e18, now + REJECT_GRACE)
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
            f.close()
            self.stop()
        # whatever arrived while stopping
        with open(self.serial, "rb") as f2:
            f2.seek(pos)
            data = f2.read()
        if self.stream and data:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        partial += data
        for raw in partial.split(b"\n"):
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if line:
                lines.append(line)
                if POWER_OFF in line and t_poweroff is None:
                    t_poweroff = time.monotonic() - t0
        if self.stream:
            sys.stdout.flush()
        self.elapsed = time.monotonic() - t0
        return self.proc.returncode, lines, t_poweroff, timed_out, rejects

    # -- judging ------------------------------------------------------------
    def run(self, argv, cwd=None):
        opts = self.opts
        self.start(argv, cwd)
        status, lines, t_poweroff, timed_out, rejects = self.watch()

        failures = []
        if timed_out:
            failures.append("timeout after %g s" % opts.timeout)
        for r, rx in rejects:
            hit = next((l for l in lines if rx.search(l)), None)
            if hit is not None:
                failures.append("rejected pattern '%s' matched: %s" % (r, hit.strip()))
        for r in opts.expect:
            rx = re.compile(r)
            if not any(rx.search(l) for l in lines):
                failures.append("expected pattern not found: '%s'" % r)
        if t_poweroff is None and not timed_out:
            failures.append("no '%s' line (emulator exited with status %s)"
                            % (POWER_OFF, status))

        banner = next((l.strip() for l in lines if BANNER.match(l)), None)
        if not failures:
            if not opts.quiet:
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
        if not self.stream:
            print("--- serial log (%s), last %d lines ---" % (self.serial, TAIL_LINES), file=out)
            print(tail(self.serial), file=out)
        print("--- end ---", file=out)
        self.msg("command: %s" % " ".join(_quote(a) for a in argv))
        for label, path in self.keep_paths:
            self.msg("%s: %s" % (label, path))
        self.msg("serial log: %s" % self.serial)
        self.msg("elapsed %.2f s; files kept in %s" % (self.elapsed, self.workdir))
        return 124 if timed_out else 1


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
