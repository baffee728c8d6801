"""The Linux guest's Additions daemon (vigil-additionsd) through the JSON console,
one boot of Debian's kernel serving every check:
registration (OSName naming Linux and the kernel release `uname -r` prints,
ComputerName the guest's host name), ExecuteCommand with real programs (uname,
exit codes, a program that does not exist, env/cwd, 256 KiB streamed and checked by
SHA-256 against the guest's own sha256sum, a timeout and a kill of a sleeping
command), InstallAdditions (the daemon replaces itself with the offered package
and init restarts it), parameters surviving that restart, time sync stepping the
clock only while enabled, the shutdown lock file vetoing a shutdown, heartbeat
at 100 %, and at last a real shutdown that vigil reports.

Runner: vigil with guest_exit=console, modules bzImage (kernel), initramfs.cpio
(initrd) from tools/guest-linux --daemon, and the daemon itself as the
Additions package ("additions version=1.0.1").
"""

import hashlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "service"))
import service_common as sc  # noqa: E402
from service_common import dumps  # noqa: E402

VERSION = "vigil-additionsd 1.0.0"
HOSTNAME = "vigil-linux-guest"
BOOT_WAIT = 900.0  # s of wall time for Linux to boot and the daemon to register (Bochs, loaded machine)
# Random bytes, streamed base64-encoded: 256 KiB of text (+ newlines). The console's
# 115200-baud line bounds the rate (~11 KB per emulated second); 1 MiB streams intact
# too (docs/linux-guest.md) but costs ~2 minutes of Bochs time more.
STREAM_BYTES = 192 * 1024


def registration(s):
    status = s.wait_until("the Linux daemon registering",
                          lambda: (lambda r: r if r["additions_registered"] else None)(s.result("status")),
                          BOOT_WAIT, every=5.0)
    s.note("registered: %s" % dumps(status))
    assert status["additions_version"] == VERSION, dumps(status)
    assert status["computer_name"] == HOSTNAME, dumps(status)
    out, err = s.exec_ok(["uname", "-r"])
    release = out.strip()
    assert re.fullmatch(r"6\.\d+\.\d+-\d+-cloud-amd64", release), repr(out)
    assert "(Linux %s)" % release in status["os_name"], (status["os_name"], release)
    out, _ = s.exec_ok(["uname", "-a"])
    assert out.startswith("Linux %s %s " % (HOSTNAME, release)) and " x86_64 " in out, repr(out)
    s.note("uname -a: %s" % out.strip())
    return release


def execs(s):
    s.exec_ok(["sh", "-c", "exit 3"], exit_code=3)
    s.exec_ok(["false"], exit_code=1)
    out, err = s.exec_ok(["no-such-program"], exit_code=127)
    assert out == "" and "cannot run 'no-such-program'" in err, (out, err)
    out, err = s.exec_ok(["sh", "-c", "echo \"$ALPHA\"; pwd; echo oops >&2"], env=["ALPHA=two words"], cwd="/tmp")
    assert (out, err) == ("two words\n/tmp\n", "oops\n"), (out, err)

    # a streamed file, checked by the guest's own sha256sum
    out, _ = s.exec_ok(["sh", "-c", "head -c %d /dev/urandom | base64 > /tmp/blob && sha256sum /tmp/blob"
                        % STREAM_BYTES])
    guest_sum = out.split()[0]
    t = time.monotonic()
    # longer than the default request timeout (30 s): the command gets its own
    out, err = s.exec_ok(["cat", "/tmp/blob"], wait=900, timeout=600)
    assert err == "" and hashlib.sha256(out.encode()).hexdigest() == guest_sum, \
        "streamed %d characters, sha256 differs from the guest's %s" % (len(out), guest_sum)
    s.note("streamed %d bytes intact in %.1f s" % (len(out), time.monotonic() - t))

    # a timeout kills the sleeping command (SIGKILL: 128 + 9)
    resp, out, err = s.exec_(["sleep", "30"], timeout=2)
    assert resp.get("status") == sc.S_OK and resp.get("timed_out") is True and resp.get("exit_code") == 137, dumps(resp)
    # kill: the whole process group goes, the shell and its sleep
    rid = s.con.send_request("exec", argv=["sh", "-c", "sleep 40; echo survived"])
    s.con.pump(3.0)
    s.ok("kill", target=rid)
    final, streamed = s.con.wait_response(rid, sc.WAIT)
    assert final.get("killed") is True and final.get("exit_code") == 137 and streamed == [], (dumps(final), streamed)
    out, _ = s.exec_ok(["sh", "-c", "pgrep -x sleep || true"])
    assert out == "", "a sleep outlived the kill: %r" % out
    s.note("exec: exit codes, env/cwd, timeout and kill ok")


def install_and_parameters_survive_restart(s):
    s.ok("param", action="set", name="color", value="blue")
    s.ok("param", action="set", name="path/with/../slashes", value="v\u00e9")
    s.expect(sc.E_NOT_FOUND, "param", action="get", name="never-set")
    out, _ = s.exec_ok(["sha256sum", "/sbin/vigil-additionsd"])
    before = out.split()[0]
    registrations = len([line for line in s.con.transcript if '"additions-registered"' in line])
    # InstallAdditions: the daemon writes the package over itself, exits, init respawns it
    s.ok("additions", action="install")
    s.wait_until("the daemon registering again",
                 lambda: len([line for line in s.con.transcript if '"additions-registered"' in line]) > registrations,
                 sc.WAIT * 2)
    out, _ = s.exec_ok(["sh", "-c", "sha256sum /sbin/vigil-additionsd; pidof vigil-additionsd"])
    assert out.split()[0] == before, "the installed daemon differs from the package (same binary): %r" % out
    s.note("InstallAdditions: installed and restarted (pid %s)" % out.split()[-1])
    assert s.result("param", action="get", name="color")["value"] == "blue"
    assert s.result("param", action="get", name="path/with/../slashes")["value"] == "v\u00e9"
    resp, streamed = s.ok("param", action="list")
    assert sorted(p["data"] for p in streamed) == ["color", "path/with/../slashes"], streamed
    s.note("parameters survived a daemon restart")


def time_sync(s):
    year = time.gmtime().tm_year
    assert s.result("timesync", action="off") == {"time_sync": False}
    s.exec_ok(["date", "-s", "2001-01-01 00:00:00"])
    s.con.pump(3.0)
    out, _ = s.exec_ok(["date", "+%Y"])
    assert out == "2001\n", "with time sync off the guest clock moved: %r" % out
    assert s.result("timesync", action="on") == {"time_sync": True}
    s.wait_until("the daemon stepping the clock",
                 lambda: abs(int(s.exec_ok(["date", "+%Y"])[0]) - year) <= 1, sc.WAIT, every=2.0)
    s.note("time sync: stepped only while on")


def shutdown_lock(s):
    s.exec_ok(["touch", "/run/vigil/shutdown.lock"])
    s.wait_until("CanShutdown false", lambda: s.result("guest")["can_shutdown"] is False, sc.WAIT)
    s.expect(sc.ERROR_MACHINE_LOCKED, "shutdown", reason="locked", timeout=20)
    assert s.result("status")["guest_running"] is True
    s.exec_ok(["rm", "/run/vigil/shutdown.lock"])
    s.wait_until("CanShutdown true", lambda: s.result("guest")["can_shutdown"] is True, sc.WAIT)
    s.note("shutdown vetoed by the lock file")


def run(con):
    s = sc.Session(con, "linux")
    s.enter_json()
    registration(s)
    execs(s)
    install_and_parameters_survive_restart(s)
    time_sync(s)
    shutdown_lock(s)
    st = s.wait_until("heartbeat at 100 %",
                      lambda: (lambda r: r if r["heartbeat_percentage"] == 100 else None)(s.result("status")),
                      sc.WAIT * 2, every=5.0)
    assert st["is_heartbeating"] is True, dumps(st)
    s.note("heartbeat 100 %")
    s.ok("shutdown", reason="end of the Linux test", timeout=60)
    s.wait_until("the guest stopping",
                 lambda: (lambda st: st if not st["guest_running"] else None)(s.result("status")), sc.WAIT * 2)
    events = [e["detail"] for e in con.events if e["event"] == "guest-shutdown"]
    assert any("ACPI sleep request" in d for d in events), events
    s.note("shut down: %s" % events)
    s.poweroff(guest_cut_off=False)
