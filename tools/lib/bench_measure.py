"""tools/bench: booting vigil with the bench guests and reading the counts (the measurements)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import vigilconsole
from bench_common import BenchError, DESIGNS, REPO, info


# ---- running the emulator -------------------------------------------------------------


class Runner:
    """Boots vigil (or a bare guest) under Bochs, or under QEMU/KVM with --kvm."""

    def __init__(self, opts, workdir):
        self.opts = opts
        self.workdir = workdir
        self.count = 0

    def command(self, kernel, module=None, no_hypervisor=False, cmdline=None, console=None, serial=None,
                guest_serial=None, timeout=None):
        if self.opts.kvm:
            argv = [os.path.join(REPO, "tools", "run-qemu"), "--kvm"]
        else:
            argv = [os.path.join(REPO, "tools", "run-bochs"), "--cpu", self.opts.cpu]
        argv += ["--kernel", kernel, "--timeout", str(timeout or self.opts.timeout), "--quiet",
                 "--serial", serial, "--guest-serial", guest_serial]
        if no_hypervisor:
            argv.append("--no-hypervisor")
        if module:
            argv += ["--module", module]
        if cmdline is not None:
            argv += ["--cmdline", cmdline]
        if console:
            argv += ["--console", console]
        return argv

    def paths(self, name):
        self.count += 1
        base = os.path.join(self.workdir, "%02d-%s" % (self.count, name))
        return base + ".com1", base + ".com2"

    def boot(self, name, kernel, module=None, no_hypervisor=False, cmdline=None, watch=()):
        """Runs to power-off; returns (COM1 log, COM2 log, wall seconds, {watched regex: wall time})."""
        serial, guest_serial = self.paths(name)
        argv = self.command(kernel, module, no_hypervisor, cmdline, serial=serial, guest_serial=guest_serial)
        seen = {}
        stop = threading.Event()
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        watcher = threading.Thread(target=watch_file, args=(guest_serial, watch, seen, stop, proc.pid), daemon=True)
        watcher.start()
        output, _ = proc.communicate()
        result = subprocess.CompletedProcess(argv, proc.returncode, output)
        wall = time.monotonic() - start
        stop.set()
        watcher.join()
        com1, com2 = read(serial), read(guest_serial)
        if result.returncode != 0:
            sys.stderr.write(result.stdout.decode("utf-8", "replace"))
            raise BenchError("%s: the run failed (%s exit %d); logs in %s" % (name, argv[0], result.returncode,
                                                                               self.workdir))
        return com1, com2, wall, {k: (v[0] - start, v[1]) for k, v in seen.items()}


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def cpu_seconds(pid):
    """CPU time (user + system) used so far by pid's descendants (the emulator), or None."""
    total, stack, tick = 0, [pid], os.sysconf("SC_CLK_TCK")
    try:
        while stack:
            p = stack.pop()
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    stack += [int(c) for c in f.read().split()]
            if p != pid:
                with open("/proc/%d/stat" % p) as f:
                    stat = f.read().rsplit(")", 1)[1].split()
                total += int(stat[11]) + int(stat[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


def watch_file(path, patterns, seen, stop, pid):
    """Records (wall time, the emulator's CPU seconds) when each regex first appears in the file."""
    pending = list(patterns)
    while pending and not stop.is_set():
        text = read(path)
        now = time.monotonic()
        for pattern in list(pending):
            if re.search(pattern, text, re.M):
                seen[pattern] = (now, cpu_seconds(pid))
                pending.remove(pattern)
        time.sleep(0.005)


def search(pattern, text, what):
    match = re.search(pattern, text, re.M)
    if not match:
        raise BenchError("no %s in the log (pattern %r)" % (what, pattern))
    return match


def fields(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def tsc_hz(com1):
    return int(search(r"^vigil: TSC: (\d+) kHz", com1, "TSC rate").group(1)) * 1000


def launch_tsc(com1):
    return int(search(r"^vigil: launching the guest at TSC (\d+)", com1, "launch TSC").group(1))


def final_exits(com1):
    line = search(r"^vigil: exits: (.*)$", com1, "exit counts").group(1)
    return {key: int(value) for key, value in (item.split("=") for item in line.split())}


# ---- 1, 5, 6: the heartbeat designs and the dispatch loops ----------------------------------


def run_heartbeat(runner, build, beats):
    com1, com2, wall, _ = runner.boot("heartbeat", os.path.join(build, "vigil.elf"),
                                      os.path.join(build, "guests", "bench_heartbeat.elf") + ":beats=%d" % beats)
    if "FAIL" in com2:
        raise BenchError("bench_heartbeat: %s" % search(r"^.*FAIL.*$", com2, "failure").group(0))
    designs = {}
    for design in DESIGNS:
        f = fields(search(r"^bench-beat: design=%s .*$" % design, com2, design + " line").group(0))
        caused = f["exits_total"] - f["measurement"] - f["exits_timer"]
        designs[design] = {
            "beats": f["beats"], "cycles": f["cycles"], "cycles_per_beat": f["cycles"] / f["beats"],
            "exits_total": f["exits_total"], "exits_timer": f["exits_timer"], "exits_io": f["exits_io"],
            "exits_vmcall": f["exits_vmcall"] - f["measurement"], "measurement_exits": f["measurement"],
            "exits_caused": caused, "exits_per_beat": caused / f["beats"]}
    dispatch = {kind: fields(search(r"^bench-beat: dispatch=%s .*$" % kind, com2, kind + " loop").group(0))
                for kind in ("vmcall", "cpuid", "none")}
    return {"designs": designs, "dispatch": dispatch, "tsc_hz": tsc_hz(com1), "launch_tsc": launch_tsc(com1),
            "guest_entered_tsc": int(search(r"^bench-beat: entered at TSC (\d+)", com2, "entry TSC").group(1)),
            "exits": final_exits(com1), "wall_seconds": wall}


def run_empty_dispatch(runner, build, beats):
    kernel = os.path.join(build, "bench", "vigil-empty-dispatch.elf")
    com1, com2, wall, _ = runner.boot("empty-dispatch", kernel, os.path.join(build, "guests", "bench_heartbeat.elf") +
                                      ":beats=%d dispatch_only=1" % beats)
    return {kind: fields(search(r"^bench-beat: dispatch=%s .*$" % kind, com2, kind + " loop").group(0))
            for kind in ("vmcall", "cpuid", "none")}


# ---- 4: guest slowdown ------------------------------------------------------------------


def run_compute(runner, build, iterations):
    guest = os.path.join(build, "guests", "bench_compute.elf")
    watch = (r"^bench-compute: start", r"^bench-compute: iterations=")
    results = {}
    for mode in ("bare", "vigil"):
        if mode == "bare":
            com1, com2, wall, seen = runner.boot("compute-bare", guest, no_hypervisor=True,
                                                 cmdline="iterations=%d" % iterations, watch=watch)
        else:
            com1, com2, wall, seen = runner.boot("compute-vigil", os.path.join(build, "vigil.elf"),
                                                 guest + ":iterations=%d" % iterations, watch=watch)
        f = fields(search(r"^bench-compute: iterations=.*$", com2, "compute result").group(0))
        loop_wall = seen[watch[1]][0] - seen[watch[0]][0] if len(seen) == 2 else None
        loop_cpu = seen[watch[1]][1] - seen[watch[0]][1] if len(seen) == 2 and None not in (
            seen[watch[0]][1], seen[watch[1]][1]) else None
        results[mode] = {"cycles": f["cycles"], "loop_wall_seconds": loop_wall, "loop_cpu_seconds": loop_cpu,
                         "run_wall_seconds": wall,
                         "checksum": search(r"checksum=(0x[0-9a-f]+)", com2, "checksum").group(1)}
        if mode == "vigil":
            results[mode]["exits"] = final_exits(com1)
    if results["bare"]["checksum"] != results["vigil"]["checksum"]:
        raise BenchError("compute: checksums differ bare/vigil")
    return results


# ---- 2, 3, 6, 7: the agent through the console ---------------------------------------------


def exec_stdout(con, argv, timeout=120):
    resp, streamed = con.request("exec", timeout=timeout, argv=argv)  # timeout: how long to wait for it
    if resp.get("status") != 0 or resp.get("exit_code") != 0:
        raise BenchError("exec %s failed: %s" % (" ".join(argv), resp))
    return vigilconsole.stream_bytes(streamed, "stdout").decode("utf-8", "replace"), streamed


def stats(con):
    resp, _ = con.request("stats")
    if resp.get("status") != 0:
        raise BenchError("stats failed: %s" % resp)
    return resp["result"]


def status(con):
    resp, _ = con.request("status")
    if resp.get("status") != 0:
        raise BenchError("status failed: %s" % resp)
    return resp["result"]


def delta(after, before):
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys}


def run_agent(runner, build, params):
    serial, guest_serial = runner.paths("agent")
    sock = os.path.join(runner.workdir, "console.sock")
    argv = runner.command(os.path.join(build, "vigil.elf"), os.path.join(build, "guests", "bench_agent.elf"),
                          console="unix:" + sock, serial=serial, guest_serial=guest_serial)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = {}
    try:
        con = vigilconsole.connect("unix:" + sock, timeout=60)
        con.enter_json_mode(timeout=120)
        deadline = time.monotonic() + 120
        while not status(con).get("additions_registered"):
            if time.monotonic() > deadline:
                raise BenchError("agent: the Additions did not register within 120 s")
            time.sleep(0.2)

        # 2a. ping round trips
        exec_stdout(con, ["report"])  # counters restart
        before = stats(con)
        for _ in range(params["pings"]):
            resp, _ = con.request("ping")
            if resp.get("status") != 0:
                raise BenchError("ping failed: %s" % resp)
        after = stats(con)
        report = fields(exec_stdout(con, ["report"])[0])
        out["ping"] = {"count": params["pings"], "exits": delta(after["exits"], before["exits"]),
                       "service": delta(after["service"], before["service"]), "guest": report}

        # 2b. streamed exec
        before = stats(con)
        text, streamed = exec_stdout(con, ["spew", str(params["spew_bytes"])], timeout=600)
        after = stats(con)
        if len(text) != params["spew_bytes"]:
            raise BenchError("spew: %d bytes arrived, %d expected" % (len(text), params["spew_bytes"]))
        out["spew"] = {"bytes": len(text), "exits": delta(after["exits"], before["exits"]),
                       "service": delta(after["service"], before["service"])}

        # 3. idle: three readings (stats, then status for uptime_ms), T and 2T apart.
        # Every reading is console input, after which vigil polls its UART every
        # millisecond for TIMER_FAST_POLL_LINGER_MS (hv/timer.h); the difference of
        # the two windows cancels that and the readings' own cost, leaving T of
        # nothing but an idle guest.
        readings = []
        for wait in (params["idle_seconds"], 2 * params["idle_seconds"], None):
            readings.append((stats(con), status(con)))
            if wait is not None:
                time.sleep(wait)
        (s0, u0), (s1, u1), (s2, u2) = readings

        def second_minus_first(key):
            first, second = delta(s1[key], s0[key]), delta(s2[key], s1[key])
            return {k: second.get(k, 0) - first.get(k, 0) for k in set(first) | set(second)}

        out["idle"] = {"exits": second_minus_first("exits"), "service": second_minus_first("service"),
                       "uptime_ms": (u2["uptime_ms"] - u1["uptime_ms"]) - (u1["uptime_ms"] - u0["uptime_ms"])}

        # 7. heartbeat loss
        resp, _ = con.request("heartbeat", interval=params["failure_interval_ms"])
        if resp.get("status") != 0:
            raise BenchError("heartbeat interval: %s" % resp)
        resp, _ = con.request("heartbeat")
        interval = resp["result"]["failure_interval_ms"]
        period = resp["result"]["period_ms"]
        last_beat = fields(exec_stdout(con, ["stopbeat"])[0])["last_beat_tsc"]
        event = con.wait_event("heartbeat-stopped", timeout=params["failure_interval_ms"] / 1000.0 * 10 + 60)
        event_tsc = int(search(r"guest TSC (\d+)", event.get("detail", ""), "TSC in the heartbeat-stopped event")
                        .group(1))
        out["loss"] = {"failure_interval_ms": interval, "period_ms": period, "last_beat_tsc": last_beat,
                       "event_tsc": event_tsc, "event": event}

        con.send_request("exec", argv=["poweroff"])
        proc.wait(timeout=120)
        con.close()
    except (vigilconsole.ConsoleError, BenchError, KeyError, subprocess.TimeoutExpired) as e:
        proc.kill()
        proc.wait()
        sys.stderr.write(proc.stdout.read().decode("utf-8", "replace"))
        raise BenchError("agent session: %s (logs in %s)" % (e, runner.workdir))
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout.read().decode("utf-8", "replace"))
        raise BenchError("agent session: the run failed (exit %d); logs in %s" % (proc.returncode, runner.workdir))
    com1, com2 = read(serial), read(guest_serial)
    out["tsc_hz"] = tsc_hz(com1)
    out["launch_tsc"] = launch_tsc(com1)
    out["console_baud"] = int(search(r"^vigil: console \S+ at (\d+) baud", com1, "console speed").group(1))
    out["tick_ms"] = int(search(r"; tick (\d+) ms = ", com1, "tick length").group(1))
    out["first_beat_tsc"] = int(search(r"^bench-agent: first beat at TSC (\d+)", com2, "first beat").group(1))
    return out


# ---- 8: size -----------------------------------------------------------------------------


def image_size(path):
    result = subprocess.run(["size", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise BenchError("size %s: %s" % (path, result.stdout.strip()))
    text, data, bss = (int(v) for v in result.stdout.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss, "file": os.path.getsize(path)}


# ---- the whole run ----------------------------------------------------------------------------


def deterministic_counts(hb, empty, compute):
    """The counts that must be identical from one boot to the next."""
    counts = {"launch_tsc": hb["launch_tsc"], "guest_entered_tsc": hb["guest_entered_tsc"]}
    for design, d in hb["designs"].items():
        counts["%s.cycles" % design] = d["cycles"]
        counts["%s.exits_caused" % design] = d["exits_caused"]
        counts["%s.exits_timer" % design] = d["exits_timer"]
    for kind in ("vmcall", "cpuid", "none"):
        counts["dispatch.%s.cycles" % kind] = hb["dispatch"][kind]["cycles"]
        counts["empty_dispatch.%s.cycles" % kind] = empty[kind]["cycles"]
    counts["compute.bare.cycles"] = compute["bare"]["cycles"]
    counts["compute.vigil.cycles"] = compute["vigil"]["cycles"]
    counts["compute.vigil.exits"] = compute["vigil"]["exits"]["total"]
    return counts


def measure(opts, params, build):
    results = {"parameters": params}
    with tempfile.TemporaryDirectory(prefix="vigil-bench.") as workdir:
        runner = Runner(opts, workdir)
        passes = []
        for n in range(params["repeat"]):
            info("pass %d/%d: heartbeat designs and dispatch (vigil.elf)" % (n + 1, params["repeat"]))
            hb = run_heartbeat(runner, build, params["beats"])
            info("pass %d/%d: dispatch loops (vigil-empty-dispatch.elf)" % (n + 1, params["repeat"]))
            empty = run_empty_dispatch(runner, build, params["beats"])
            info("pass %d/%d: compute loop, bare and under vigil" % (n + 1, params["repeat"]))
            compute = run_compute(runner, build, params["compute_iterations"])
            passes.append((hb, empty, compute))
        info("agent session: ping, spew, idle, heartbeat loss (console)")
        agent = run_agent(runner, build, params)
        if opts.keep_logs:
            keep = os.path.join(os.path.dirname(os.path.abspath(opts.output)), "logs")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(workdir, keep, ignore=shutil.ignore_patterns("*.sock"))
            info("logs kept in %s" % keep)
    hb, empty, compute = passes[0]
    counts = [deterministic_counts(*p) for p in passes]
    mismatches = sorted(k for k in counts[0] if any(c.get(k) != counts[0][k] for c in counts[1:]))
    results["repeatability"] = {"passes": len(passes), "counts_compared": len(counts[0]), "mismatches":
                                {k: [c.get(k) for c in counts] for k in mismatches},
                                "launch_tsc_by_pass": [p[0]["launch_tsc"] for p in passes]}
    results["heartbeat"] = hb
    results["empty_dispatch"] = empty
    results["compute"] = compute
    results["agent"] = agent
    results["size"] = {"vigil.elf": image_size(os.path.join(build, "vigil.elf")),
                       "vigil-empty-dispatch.elf": image_size(os.path.join(build, "bench",
                                                                           "vigil-empty-dispatch.elf"))}
    return results
