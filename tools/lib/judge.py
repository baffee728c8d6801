"""How tools/run-bochs and tools/run-qemu judge a run: the serial logs, the
patterns, and the rule that a run passes only when the emulator stopped by
itself (tools/lib/vigilrun.py runs the emulator; this file decides).

  success = every --expect regex matched some COM1 line, no --reject regex
            (nor 'vigil: PANIC', 'vigil: EXCEPTION', 'vigil: power off
            failed') matched any, the same for COM2 with --expect-guest and
            --reject-guest, a 'vigil: power off' line arrived (a bare guest:
            'guest: power off' on COM2) AND the emulator then exited by itself
            within POWER_OFF_GRACE seconds, with an exit status the board
            accepts (QEMU: 0 after ACPI S5, 1 after isa-debug-exit code 0).
A power-off line followed by a still-running emulator is a broken power-off:
the run fails even though the line is there.
"""

import os
import re
import sys
import time

POWER_OFF = "vigil: power off"
POWER_OFF_FAILED = "vigil: power off failed"
GUEST_POWER_OFF = "guest: power off"
DEFAULT_REJECTS = [r"vigil: PANIC", r"vigil: EXCEPTION", r"vigil: power off failed"]
DEFAULT_GUEST_REJECTS = [r"guest: unexpected exception", r"guest: ACPI power off failed",
                         r"guest: still running after every power-off method"]
BANNER = re.compile(r"^vigil \d")

# s the emulator has to exit by itself after the power-off line. A working
# ACPI S5 (or Bochs' shutdown port) stops it within a fraction of a second of
# the line; the margin is for 2 loaded cores. Only a broken power-off waits it out.
POWER_OFF_GRACE = 10.0
REJECT_GRACE = 5.0     # s of further output collected after a reject matched
TAIL_LINES = 40


class UsageError(Exception):
    pass


def compile_patterns(opts):
    """Checks every regex option; raises UsageError naming a bad one."""
    for kind, lst in (("expect", opts.expect), ("reject", opts.reject),
                      ("expect-guest", opts.expect_guest), ("reject-guest", opts.reject_guest)):
        for r in lst:
            try:
                re.compile(r)
            except re.error as e:
                raise UsageError("bad --%s regex '%s': %s" % (kind, r, e))


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


def is_power_off(line, marker):
    """The power-off line (not its 'power off failed' variant)."""
    return marker in line and POWER_OFF_FAILED not in line


class SerialLog:
    """One serial log file being followed: its lines, its power-off time."""

    def __init__(self, name, path, marker, rejects):
        self.name = name
        self.path = path
        self.marker = marker      # power-off marker judged in this log, or None
        self.rejects = [(r, re.compile(r)) for r in rejects]
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
            if self.marker and self.t_poweroff is None and is_power_off(line, self.marker):
                self.t_poweroff = time.monotonic() - t0
                events.append("power-off")
            if any(rx.search(line) for _, rx in self.rejects):
                events.append("reject")
        return events


def serial_logs(opts, serial, guest_serial):
    """The two logs a run watches: COM1 (vigil) and COM2 (the guest)."""
    rejects = [] if opts.allow_panic else list(DEFAULT_REJECTS)
    guest_rejects = [] if opts.allow_panic else list(DEFAULT_GUEST_REJECTS)
    hv_marker = None if opts.no_hypervisor else POWER_OFF
    guest_marker = GUEST_POWER_OFF if opts.no_hypervisor else None
    return [SerialLog("serial", serial, hv_marker, rejects + opts.reject),
            SerialLog("guest", guest_serial, guest_marker, guest_rejects + opts.reject_guest)]


class Outcome:
    """What the watch saw: how the emulator ended and when."""

    def __init__(self):
        self.status = None          # the emulator's exit status
        self.exited_by_itself = False
        self.timed_out = False
        self.stopped_by_script = False
        self.elapsed = 0.0


def failures(opts, logs, outcome, accepted_statuses, console_failures):
    """The list of reasons the run failed (empty: it passed)."""
    hv_log, guest_log = logs
    decider = guest_log if opts.no_hypervisor else hv_log
    marker = GUEST_POWER_OFF if opts.no_hypervisor else POWER_OFF
    found = list(console_failures)
    if outcome.timed_out:
        found.append("timeout after %g s" % opts.timeout)
    for log, expects, what in ((hv_log, opts.expect, ""), (guest_log, opts.expect_guest, "guest ")):
        for r, rx in log.rejects:
            hit = next((l for l in log.lines if rx.search(l)), None)
            if hit is not None:
                found.append("rejected %spattern '%s' matched: %s" % (what, r, hit.strip()))
        for r in expects:
            rx = re.compile(r)
            if not any(rx.search(l) for l in log.lines):
                found.append("expected %spattern not found: '%s'" % (what, r))
    if opts.expect_stop:
        for log, m in ((hv_log, POWER_OFF), (guest_log, GUEST_POWER_OFF)):
            hit = next((l for l in log.lines if is_power_off(l, m)), None)
            if hit is not None:
                found.append("--expect-stop, but the run powered off: %s" % hit.strip())
        if not outcome.exited_by_itself and not outcome.timed_out:
            found.append("--expect-stop, but the emulator did not stop by itself")
    elif decider.t_poweroff is None:
        if not outcome.timed_out and not outcome.stopped_by_script:
            found.append("no '%s' line%s (emulator exited with status %s)"
                         % (marker, " in the guest serial log" if opts.no_hypervisor else "", outcome.status))
    elif not outcome.exited_by_itself and not outcome.stopped_by_script:
        found.append("the emulator did not stop by itself within %g s of the '%s' line "
                     "(a broken power-off); the runner killed it" % (POWER_OFF_GRACE, marker))
    elif accepted_statuses is not None and outcome.status not in accepted_statuses:
        found.append("the emulator exited with status %s after the '%s' line; a clean power-off "
                     "gives %s" % (outcome.status, marker,
                                   " or ".join("%d (%s)" % kv for kv in sorted(accepted_statuses.items()))))
    return found


def banner(opts, hv_log):
    if opts.no_hypervisor:
        return "bare guest %s" % os.path.basename(opts.kernel)
    return next((l.strip() for l in hv_log.lines if BANNER.match(l)), None)
