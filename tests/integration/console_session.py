#!/usr/bin/env python3
"""Runs a console test: boots vigil with `tools/run-bochs --console unix:SOCK`
(or run-qemu), connects to the console with tools/lib/vigilconsole.py and
calls run(console) of a test file; then sends nothing more, reads the console
until the run ends and waits for the runner.

  console_session.py --test FILE [--runner bochs|qemu|PATH] [--connect-timeout S]
                     [--verbose] [--] RUNNER-ARGS...

RUNNER-ARGS go to the runner as they are (--kernel, --module, --timeout,
--expect, ...): everything after '--', or without '--' every argument this
script does not know; --console unix:SOCK (in a fresh temp dir) is added. The test file is python; its
run(console) gets a connected vigilconsole.Console (console.runner_output is
the list of the runner's output lines so far) and raises (assert, ConsoleError)
on failure. It typically ends by shutting the guest down, so that vigil powers
off and the runner judges the run as usual.

Exit status: 0 when run() returned and the runner succeeded; 1 when run()
raised (the runner is then stopped) or the runner failed; the runner's 124
on its timeout; 2 on usage errors. On failure the runner's output, the
exception and the last console lines are printed.
"""

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "lib"))
import vigilconsole  # noqa: E402

PROG = "console_session"
CONSOLE_ON = re.compile(r"^run-\S+: console on (unix:\S+|tcp:\S+)\s*$")
TRANSCRIPT_TAIL = 40


def msg(text):
    print("%s: %s" % (PROG, text), file=sys.stderr, flush=True)


class RunnerProcess:
    """The runner as a subprocess; its stdout+stderr collected by a thread."""

    def __init__(self, argv, verbose):
        self.argv = argv
        self.verbose = verbose
        self.lines = []
        self.console = None
        self.announced = threading.Event()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_term_with_parent)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if self.verbose:
                print("| " + line, file=sys.stderr, flush=True)
            m = CONSOLE_ON.match(line)
            if m and self.console is None:
                self.console = m.group(1)
                self.announced.set()
        self.announced.set()  # EOF: wake a waiter

    def wait_announced(self, timeout):
        self.announced.wait(timeout)
        return self.console

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # the runner stops the emulator and cleans up

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.terminate()
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # the emulator dies with it (the runner's PDEATHSIG)
                rc = self.proc.wait()
        self.thread.join(5)
        return rc


def _term_with_parent():
    """In the child: SIGTERM when this driver dies (e.g. killed by ctest on
    timeout), so the runner stops its emulator and removes its socket."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def load_test(path):
    spec = importlib.util.spec_from_file_location("console_test_" + re.sub(r"\W", "_", os.path.basename(path)), path)
    if spec is None:
        raise SystemExit("%s: cannot load %s" % (PROG, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not callable(getattr(mod, "run", None)):
        raise SystemExit("%s: %s has no run(console) function" % (PROG, path))
    return mod


def runner_timeout(args):
    """The runner's --timeout (default 60), to bound our own waits."""
    t = 60.0
    for i, a in enumerate(args):
        if a == "--timeout" and i + 1 < len(args):
            v = args[i + 1]
        elif a.startswith("--timeout="):
            v = a.split("=", 1)[1]
        else:
            continue
        try:
            t = float(v)
        except ValueError:
            pass
    return t


def main():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0], allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--test", required=True, metavar="FILE", help="python file with run(console)")
    p.add_argument("--runner", default="bochs", metavar="bochs|qemu|PATH",
                   help="tools/run-bochs (default), tools/run-qemu or a path")
    p.add_argument("--connect-timeout", type=float, default=120, metavar="S",
                   help="how long to wait for the runner's 'console on' line (default 120)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show the runner's output live")
    argv = sys.argv[1:]
    if "--" in argv:  # everything after '--' goes to the runner
        cut = argv.index("--")
        opts = p.parse_args(argv[:cut])
        rargs = argv[cut + 1:]
    else:             # options this script does not know go to the runner
        opts, rargs = p.parse_known_args(argv)
    if any(a.startswith("--console") for a in rargs):
        p.error("RUNNER-ARGS must not contain --console/--console-script")
    runner = {"bochs": os.path.join(REPO, "tools", "run-bochs"),
              "qemu": os.path.join(REPO, "tools", "run-qemu")}.get(opts.runner, opts.runner)
    if not os.path.isfile(opts.test):
        p.error("no test file %s" % opts.test)
    test = load_test(opts.test)

    tmp = tempfile.mkdtemp(prefix="vigil-console.")  # unique per session: parallel runs never share
    sock = os.path.join(tmp, "console.sock")
    argv = [runner, "--console", "unix:" + sock] + rargs
    total = runner_timeout(rargs)
    rp = None
    con = None
    failure = None
    rc = None
    t0 = time.monotonic()
    try:
        try:
            rp = RunnerProcess(argv, opts.verbose)
        except OSError as e:
            msg("cannot run %s: %s" % (runner, e.strerror))
            return 2
        spec = rp.wait_announced(opts.connect_timeout)
        if spec is None:
            failure = ("the runner exited before listening" if rp.proc.poll() is not None
                       else "no 'console on' line from the runner within %g s" % opts.connect_timeout)
        else:
            try:
                con = vigilconsole.connect(spec, timeout=10)
                con.runner_output = rp.lines
                test.run(con)
            except Exception:
                failure = "the test raised:\n" + traceback.format_exc().rstrip()
        if failure is None:
            # send nothing more; read until the runner closes the console (run over)
            left = max(5.0, total - (time.monotonic() - t0) + 15)
            con.drain(left)
        else:
            rp.terminate()
        rc = rp.wait(max(10.0, total - (time.monotonic() - t0) + 30))
    finally:
        if con is not None:
            con.close()
        if rp is not None and rp.proc.poll() is None:
            rp.terminate()
            rp.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    if failure is None and rc == 0:
        for line in rp.lines:
            if re.match(r"^run-\S+: ok: ", line):
                msg(line)
        msg("ok: %s" % os.path.basename(opts.test))
        return 0
    out = sys.stderr
    if failure is not None:
        msg("FAIL: %s" % failure)
    else:
        msg("FAIL: the runner failed (exit %d)" % rc)
    if con is not None:
        lines = con.transcript[-TRANSCRIPT_TAIL:]
        print("--- console, last %d lines received ---" % TRANSCRIPT_TAIL, file=out)
        print("\n".join(lines) if lines else "(nothing)", file=out)
        if con.partial():
            print(con.partial() + "   (no newline yet)", file=out)
    if not opts.verbose:
        print("--- %s output ---" % os.path.basename(runner), file=out)
        print("\n".join(rp.lines) if rp else "(not started)", file=out)
    print("--- end (runner exit %s) ---" % rc, file=out)
    msg("command: %s" % " ".join(argv))
    if failure is not None and rc == 0:
        return 1
    return rc if rc in (1, 124) else 1


if __name__ == "__main__":
    sys.exit(main())
