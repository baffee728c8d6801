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
Additions package ("additions version=1.0.1"). A pytest file (one boot: the
`machine` fixture of tests/integration/service/conftest.py); CMake passes the
guest tree and the kernel command line in VIGIL_GUEST_LINUX and VIGIL_LINUX_CMDLINE.
"""

import hashlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "service"))
import service_common as sc  # noqa: E402
from service_common import dumps, st  # noqa: E402
from conftest import machine, s  # noqa: E402,F401 (the service tests' fixtures)

GUEST_LINUX = os.environ.get("VIGIL_GUEST_LINUX", os.path.join(sc.BUILD, "guest-linux"))
LINUX_CMDLINE = os.environ.get("VIGIL_LINUX_CMDLINE", "console=ttyS1 nosmp quiet panic=1 cryptomgr.notests")
BOOT = sc.Boot([os.path.join(GUEST_LINUX, "bzImage") + ":kernel " + LINUX_CMDLINE,
                os.path.join(GUEST_LINUX, "initramfs.cpio") + ":initrd",
                os.path.join(sc.BUILD, "vigil-additionsd") + ":additions version=1.0.1"],
               expect=[r"vigil: Additions package 1\.0\.1: module 2"],
               expect_guest=[r"^vigil-additionsd: registered: 'vigil-additionsd 1\.0\.0', OS "
                             r"'.*\(Linux 6\.[0-9.]+-[0-9]+-cloud-amd64\)'",
                             r"^vigil-additionsd: install additions: version '1\.0\.1' \([0-9]+ bytes\) "
                             r"installed: restarting"],
               timeout=1200)


def exec_text(s, argv, exit_code=0, **fields):
    """Session.exec_ok with stdout and stderr as text (the daemon's programs print UTF-8)."""
    out, err = s.exec_ok(argv, exit_code=exit_code, **fields)
    return out.decode("utf-8"), err.decode("utf-8")

VERSION = "vigil-additionsd 1.0.0"
HOSTNAME = "vigil-linux-guest"
BOOT_WAIT = 900.0  # s of wall time for Linux to boot and the daemon to register (Bochs, loaded machine)
# Random bytes, streamed base64-encoded: 256 KiB of text (+ newlines). The console's
# 115200-baud line bounds the rate (~11 KB per emulated second); 1 MiB streams intact
# too (docs/linux-guest.md) but costs ~2 minutes of Bochs time more.
STREAM_BYTES = 192 * 1024


def test_registration(s):
    status = s.wait_until("the Linux daemon registering",
                          lambda: (lambda r: r if r["additions_registered"] else None)(s.result("status")),
                          BOOT_WAIT, every=5.0)
    s.note("registered: %s" % dumps(status))
    assert status["additions_version"] == VERSION, dumps(status)
    assert status["computer_name"] == HOSTNAME, dumps(status)
    out, err = exec_text(s, ["uname", "-r"])
    release = out.strip()
    assert re.fullmatch(r"6\.\d+\.\d+-\d+-cloud-amd64", release), repr(out)
    assert "(Linux %s)" % release in status["os_name"], (status["os_name"], release)
    out, _ = exec_text(s, ["uname", "-a"])
    assert out.startswith("Linux %s %s " % (HOSTNAME, release)) and " x86_64 " in out, repr(out)
    s.note("uname -a: %s" % out.strip())


def test_execs(s):
    exec_text(s, ["sh", "-c", "exit 3"], exit_code=3)
    exec_text(s, ["false"], exit_code=1)
    out, err = exec_text(s, ["no-such-program"], exit_code=127)
    assert out == "" and "cannot run 'no-such-program'" in err, (out, err)
    out, err = exec_text(s, ["sh", "-c", "echo \"$ALPHA\"; pwd; echo oops >&2"], env=["ALPHA=two words"], cwd="/tmp")
    assert (out, err) == ("two words\n/tmp\n", "oops\n"), (out, err)

    # a streamed file, checked by the guest's own sha256sum
    out, _ = exec_text(s, ["sh", "-c", "head -c %d /dev/urandom | base64 > /tmp/blob && sha256sum /tmp/blob"
                        % STREAM_BYTES])
    guest_sum = out.split()[0]
    t = time.monotonic()
    # longer than the default request timeout (30 s): the command gets its own
    out, err = exec_text(s, ["cat", "/tmp/blob"], wait=900, timeout=600)
    assert err == "" and hashlib.sha256(out.encode()).hexdigest() == guest_sum, \
        "streamed %d characters, sha256 differs from the guest's %s" % (len(out), guest_sum)
    s.note("streamed %d bytes intact in %.1f s" % (len(out), time.monotonic() - t))

    # a timeout kills the sleeping command (SIGKILL: 128 + 9)
    resp, out, err = s.exec_(["sleep", "30"], timeout=2)
    assert resp.get("status") == st.S_OK and resp.get("timed_out") is True and resp.get("exit_code") == 137, dumps(resp)
    # kill: the whole process group goes, the shell and its sleep
    # (a timeout of its own: without one vigil gives up after 30 s of emulated time,
    # which an idle Bochs runs through in a few seconds of wall time)
    rid = s.con.send_request("exec", argv=["sh", "-c", "sleep 40; echo survived"], timeout=3600)
    s.con.pump(3.0)
    assert rid not in s.con.responses, "the exec to kill ended by itself: %s" % dumps(s.con.responses[rid])
    s.ok("kill", target=rid)
    final, streamed = s.con.wait_response(rid, sc.WAIT)
    assert final.get("killed") is True and final.get("exit_code") == 137 and streamed == [], (dumps(final), streamed)
    out, _ = exec_text(s, ["sh", "-c", "pgrep -x sleep || true"])
    assert out == "", "a sleep outlived the kill: %r" % out
    s.note("exec: exit codes, env/cwd, timeout and kill ok")


def test_install_and_parameters_survive_restart(s):
    s.ok("param", action="set", name="color", value="blue")
    s.ok("param", action="set", name="path/with/../slashes", value="v\u00e9")
    s.expect(st.E_NOT_FOUND, "param", action="get", name="never-set")
    out, _ = exec_text(s, ["sha256sum", "/sbin/vigil-additionsd"])
    before = out.split()[0]
    registrations = len([line for line in s.con.transcript if '"additions-registered"' in line])
    # InstallAdditions: the daemon writes the package over itself, exits, init respawns it
    s.ok("additions", action="install")
    s.wait_until("the daemon registering again",
                 lambda: len([line for line in s.con.transcript if '"additions-registered"' in line]) > registrations,
                 sc.WAIT * 2)
    out, _ = exec_text(s, ["sh", "-c", "sha256sum /sbin/vigil-additionsd; pidof vigil-additionsd"])
    assert out.split()[0] == before, "the installed daemon differs from the package (same binary): %r" % out
    s.note("InstallAdditions: installed and restarted (pid %s)" % out.split()[-1])
    assert s.result("param", action="get", name="color")["value"] == "blue"
    assert s.result("param", action="get", name="path/with/../slashes")["value"] == "v\u00e9"
    resp, streamed = s.ok("param", action="list")
    assert sorted(p["data"] for p in streamed) == ["color", "path/with/../slashes"], streamed
    s.note("parameters survived a daemon restart")


def test_time_sync(s):
    year = time.gmtime().tm_year
    assert s.result("timesync", action="off") == {"time_sync": False}
    exec_text(s, ["date", "-s", "2001-01-01 00:00:00"])
    s.con.pump(3.0)
    out, _ = exec_text(s, ["date", "+%Y"])
    assert out == "2001\n", "with time sync off the guest clock moved: %r" % out
    assert s.result("timesync", action="on") == {"time_sync": True}
    s.wait_until("the daemon stepping the clock",
                 lambda: abs(int(exec_text(s, ["date", "+%Y"])[0]) - year) <= 1, sc.WAIT, every=2.0)
    s.note("time sync: stepped only while on")


def test_shutdown_lock(s):
    exec_text(s, ["touch", "/run/vigil/shutdown.lock"])
    s.wait_until("CanShutdown false", lambda: s.result("guest")["can_shutdown"] is False, sc.WAIT)
    s.expect(st.ERROR_MACHINE_LOCKED, "shutdown", reason="locked", timeout=20)
    assert s.result("status")["guest_running"] is True
    exec_text(s, ["rm", "/run/vigil/shutdown.lock"])
    s.wait_until("CanShutdown true", lambda: s.result("guest")["can_shutdown"] is True, sc.WAIT)
    s.note("shutdown vetoed by the lock file")


def test_heartbeat_and_shutdown(s):
    st = s.wait_until("heartbeat at 100 %",
                      lambda: (lambda r: r if r["heartbeat_percentage"] == 100 else None)(s.result("status")),
                      sc.WAIT * 2, every=5.0)
    assert st["is_heartbeating"] is True, dumps(st)
    s.note("heartbeat 100 %")
    s.ok("shutdown", reason="end of the Linux test", timeout=60)
    s.wait_until("the guest stopping",
                 lambda: (lambda st: st if not st["guest_running"] else None)(s.result("status")), sc.WAIT * 2)
    events = [e["detail"] for e in s.con.events if e["event"] == "guest-shutdown"]
    assert any("ACPI sleep request" in d for d in events), events
    s.note("shut down: %s" % events)


def test_poweroff_after_the_guest_stopped(machine):
    machine.assert_clean_end(guest_cut_off=False)
