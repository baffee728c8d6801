"""Shared code of tools/run-qemu and tools/run-bochs: runs an emulator with
COM1 and COM2 going to log files (or COM1 through tools/lib/com1_proxy.py) and
judges the run by those logs and by how the emulator ended (tools/lib/judge.py).

A run passes only when the emulator stopped by itself after vigil's power-off
line (a bare guest's 'guest: power off'; with --expect-stop: without one):
the runner never counts its own kill as a clean end. --console SPEC serves
COM1 to clients (unix:PATH or tcp:PORT); --console-script FILE plays a
send/expect script against it (tools/lib/console_script.py).
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

import judge
from com1_proxy import ConsoleProxy, parse_console_spec
from console_script import ScriptPlayer
from judge import UsageError  # noqa: F401 (build_argv of run-bochs/run-qemu raise it)

CONSOLE_HELP = """\
console (--console SPEC, --console-script FILE):
  COM1 becomes a socket between the emulator and the runner. The runner
  writes every COM1 byte to the serial log as before (--serial, --expect,
  --reject and the power-off rule are unchanged; tools/lib/com1_proxy.py) and
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
      expect REGEX [SECONDS]  wait (default 30 s) for COM1 output, after the
                              previous expect's match, matching REGEX (pexpect,
                              re.M: '^' and '$' at line ends, a prompt matches
                              as soon as it arrives); a trailing number is the
                              timeout, '/REGEX/ [SECONDS]' keeps one in the regex
      sleep SECONDS
      # comment
    A failed expect fails the run and stops it (the message names FILE:LINE
    and the regex); so does the run ending before the script.
"""

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
                        "'vigil: PANIC', 'vigil: EXCEPTION' and 'vigil: power off failed' "
                        "are always rejected unless --allow-panic)")
    p.add_argument("--allow-panic", action="store_true",
                   help="do not reject PANIC/EXCEPTION/power off failed lines (and the "
                        "guest's 'guest: unexpected exception') by default")
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
            raise judge.UsageError("--module needs a file: '%s'" % spec)
        if not os.path.isfile(path):
            raise judge.UsageError("module not found: %s" % path)
        mods.append((path, args))
    return mods


class Runner:
    """Owns the work dir, the emulator process and the serial watch."""

    def __init__(self, prog, opts):
        self.prog = prog
        self.opts = opts
        if opts.console and opts.console_script:
            raise judge.UsageError("--console and --console-script cannot be combined")
        console_spec = parse_console_spec(opts.console) if opts.console else None
        self.script = ScriptPlayer(opts.console_script) if opts.console_script else None
        self.workdir = tempfile.mkdtemp(prefix="vigil-%s." % prog.split("/")[-1])
        self.keep_paths = []      # (label, path) printed on failure
        self.out_drop = None      # regex of emulator output lines not worth showing
        self.extra_tails = []     # (label, path, keep-regex) shown on failure
        self.accepted_statuses = None  # {status: meaning} of a clean power-off; None: any
        self.stream = opts.serial == "-"
        self.serial = self._log_path(opts.serial if opts.serial != "-" else None, "serial.log")
        self.guest_serial = self._log_path(opts.guest_serial, "guest-serial.log")
        self.emu_out = os.path.join(self.workdir, "emulator.out")
        self.proc = None
        self.console = None
        if console_spec or self.script:
            self.console = ConsoleProxy(prog, console_spec, self.serial, opts.quiet)

    def _log_path(self, path, default_name):
        if path:
            path = os.path.abspath(path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
        else:
            path = os.path.join(self.workdir, default_name)
        open(path, "wb").close()  # truncate; the emulator appends/writes
        return path

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
            raise judge.UsageError("cannot run %s: %s (run tools/deps)" % (argv[0], e.strerror))
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
        """Follows both logs until the emulator exits, the timeout, a reject
        (plus REJECT_GRACE), a failed script, or POWER_OFF_GRACE after the
        power-off line (then the emulator did not stop by itself). Returns
        (logs, outcome)."""
        opts = self.opts
        logs = judge.serial_logs(opts, self.serial, self.guest_serial)
        # --serial - streams the log that decides the run
        if self.stream:
            logs[1 if opts.no_hypervisor else 0].stream = True
        outcome = judge.Outcome()
        t0 = time.monotonic()
        deadline = t0 + opts.timeout
        stop_at = None
        try:
            while True:
                exited = self.proc.poll() is not None
                for log in logs:
                    for event in log.poll(t0):
                        grace = judge.POWER_OFF_GRACE if event == "power-off" else judge.REJECT_GRACE
                        stop_at = min(stop_at or 1e18, time.monotonic() + grace)
                if exited:
                    outcome.exited_by_itself = True
                    break
                if self.script is not None and self.script.failure:
                    outcome.stopped_by_script = True
                    break
                now = time.monotonic()
                if stop_at is not None and now >= stop_at:
                    break
                if now >= deadline:
                    outcome.timed_out = True
                    break
                time.sleep(0.05)
        finally:
            self.stop()
            if self.console is not None:
                self.console.finish()  # the last COM1 bytes into the log
        # whatever arrived while stopping
        for log in logs:
            log.poll(t0, final=True)
        if self.stream:
            sys.stdout.flush()
        outcome.status = self.proc.returncode
        outcome.elapsed = time.monotonic() - t0
        return logs, outcome

    # -- judging ------------------------------------------------------------
    def run(self, argv, cwd=None):
        opts = self.opts
        if self.console is not None:
            self.console.start(self.script.proxy_end if self.script else None)
        if self.script is not None:
            self.script.start()
        self.start(argv, cwd)
        logs, outcome = self.watch()
        found = list(self.console.failures) if self.console is not None else []
        if self.script is not None:
            failure = self.script.finish(judge.REJECT_GRACE)
            if failure:
                found.append(failure)
        found += judge.failures(opts, logs, outcome, self.accepted_statuses, [])
        if not found:
            if not opts.quiet:
                banner = judge.banner(opts, logs[0]) or "no banner"
                if opts.expect_stop:
                    self.msg("ok: %s; emulator stopped by itself (status %s), %.2f s wall"
                             % (banner, outcome.status, outcome.elapsed))
                else:
                    decider = logs[1] if opts.no_hypervisor else logs[0]
                    self.msg("ok: %s; power off at %.2f s, emulator exited by itself (status %s), "
                             "%.2f s wall" % (banner, decider.t_poweroff, outcome.status, outcome.elapsed))
            if opts.keep:
                self.msg("kept %s" % self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
            return 0
        self.report(argv, logs, found, outcome)
        return 124 if outcome.timed_out else 1

    def report(self, argv, logs, found, outcome):
        for fmsg in found:
            self.msg(fmsg)
        out = sys.stderr
        n = judge.TAIL_LINES
        print("--- %s output (%s), last %d lines ---" % (os.path.basename(argv[0]), self.emu_out, n), file=out)
        print(judge.tail(self.emu_out, drop=self.out_drop), file=out)
        for label, path, keep in self.extra_tails:
            print("--- %s (%s), last %d matching lines ---" % (label, path, n), file=out)
            print(judge.tail(path, keep=keep), file=out)
        for log, label in zip(logs, ("serial log", "guest serial (COM2) log")):
            if not log.stream:
                print("--- %s (%s), last %d lines ---" % (label, log.path, n), file=out)
                print(judge.tail(log.path), file=out)
        print("--- end ---", file=out)
        self.msg("command: %s" % " ".join(_quote(a) for a in argv))
        for label, path in self.keep_paths:
            self.msg("%s: %s" % (label, path))
        self.msg("serial log: %s" % self.serial)
        self.msg("guest serial (COM2) log: %s" % self.guest_serial)
        self.msg("elapsed %.2f s; files kept in %s" % (outcome.elapsed, self.workdir))

    def close(self):
        if self.console is not None:
            self.console.close()
        if self.script is not None:
            self.script.close()


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
        judge.compile_patterns(opts)
        runner = Runner(prog, opts)
        argv, cwd = build_argv(runner, opts)
        if runner.console is not None and runner.console.emu_listener is None:
            raise judge.UsageError("internal: build_argv did not connect COM1 to the console")
        return runner.run(argv, cwd)
    except judge.UsageError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        if runner is not None:
            runner.close()
            if not opts.keep:
                shutil.rmtree(runner.workdir, ignore_errors=True)
        return 2
    except _Killed as k:
        if runner is not None:
            runner.stop()
        print("%s: killed by signal %d" % (prog, k.signum), file=sys.stderr)
        return 128 + k.signum
    finally:
        if runner is not None:
            runner.close()
