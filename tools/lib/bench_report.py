"""tools/bench: the table, the chart and docs/performance.md from one run's results."""

import os
import shutil
import subprocess
from bench_common import DESIGNS, DESIGN_LABELS, GOALS, REPO, info, kvm_problem


def summarize(r):
    """Derived figures and the table rows: (section, name, value, goal, note)."""
    hb, agent = r["heartbeat"], r["agent"]
    hz = hb["tsc_hz"]
    rows = []
    s = r.setdefault("summary", {})

    for design in DESIGNS:
        d = hb["designs"][design]
        s["%s_exits_per_beat" % design] = d["exits_per_beat"]
        s["%s_cycles_per_beat" % design] = d["cycles_per_beat"]
    base = hb["designs"]["store"]["cycles_per_beat"]
    for design in DESIGNS:
        d = hb["designs"][design]
        goal = "0 exits" if design == "store" else ""
        ok = "" if design != "store" else (" ok" if d["exits_caused"] == 0 else " MISSED")
        note = "%d beats: %d exits caused (+%d timer ticks, %d measurement VMCALLs)" % (
            d["beats"], d["exits_caused"], d["exits_timer"], d["measurement_exits"])
        if design != "store":
            note += "; %.1fx vigil's cycles" % (d["cycles_per_beat"] / base)
        rows.append(("1 heartbeat", DESIGN_LABELS[design],
                     "%g exits, %.1f cycles" % (d["exits_per_beat"], d["cycles_per_beat"]), goal + ok, note))

    p = agent["ping"]
    ping_exits_by_reason = {k: v for k, v in p["exits"].items() if v and k not in ("total", "preemption-timer")}
    non_timer = p["exits"].get("total", 0) - p["exits"].get("preemption-timer", 0)
    s["exits_per_ping"] = non_timer / p["count"]
    g = p["guest"]
    s["guest_cycles_per_ping"] = g["request_cycles"] / max(1, g["requests"])
    s["doorbell_cycles_per_ping"] = g["doorbell_cycles"] / max(1, g["requests"])
    rows.append(("2 mailbox", "ping round trip (NOP to the agent)",
                 "%g exits, %.0f cycles" % (s["exits_per_ping"], s["guest_cycles_per_ping"]),
                 "<= 1 exit" + (" ok" if s["exits_per_ping"] <= GOALS["exits_per_ping"] else " MISSED"),
                 "%d pings: %s; guest cycles in the poll that answered, %.0f of them inside the doorbell exit; "
                 "timer ticks meanwhile: %d (they tick anyway)" % (
                     p["count"], " ".join("%s=%d" % kv for kv in sorted(ping_exits_by_reason.items())),
                     s["doorbell_cycles_per_ping"], p["exits"].get("preemption-timer", 0))))
    sp = agent["spew"]
    spew_exits = sp["exits"].get("total", 0) - sp["exits"].get("preemption-timer", 0)
    s["spew_bytes_per_exit"] = sp["bytes"] / max(1, spew_exits)
    rows.append(("2 mailbox", "exec spew %d (streamed output)" % sp["bytes"],
                 "%.0f bytes/exit" % s["spew_bytes_per_exit"], "",
                 "%d exits (all doorbells) for %d messages: output chunks of <= 4072 B, then the result" % (
                     spew_exits, sp["service"].get("chunks_received", 0))))

    idle = agent["idle"]
    seconds = idle["service"]["ticks"] * r["tick_ms"] / 1000.0
    s["idle_seconds_emulated"] = seconds
    s["idle_exits_per_second"] = idle["exits"].get("total", 0) / seconds
    by_reason = {}
    for k, v in idle["exits"].items():
        if k == "total" or not v:
            continue
        name = {"preemption-timer": "tick (console poll inside)", "io": "doorbell/io"}.get(k, k)
        by_reason[name] = v / seconds
    s["idle_exits_per_second_by_reason"] = by_reason
    rows.append(("3 idle", "exits per emulated second, agent idle", "%.1f /s" % s["idle_exits_per_second"],
                 "<= 20/s" + (" ok" if s["idle_exits_per_second"] <= GOALS["idle_exits_per_second"] else " MISSED"),
                 "%.1f s emulated (%d ticks; uptime_ms says %d ms): %s" % (
                     seconds, idle["service"]["ticks"], idle["uptime_ms"],
                     ", ".join("%s %.1f/s" % kv for kv in sorted(by_reason.items())) or "none")))

    c = r["compute"]
    s["slowdown_percent"] = (c["vigil"]["cycles"] / c["bare"]["cycles"] - 1) * 100
    wall = c["bare"]["loop_wall_seconds"], c["vigil"]["loop_wall_seconds"]
    s["slowdown_wall_percent"] = (wall[1] / wall[0] - 1) * 100 if all(wall) else None
    cpu = c["bare"].get("loop_cpu_seconds"), c["vigil"].get("loop_cpu_seconds")
    s["slowdown_cpu_percent"] = (cpu[1] / cpu[0] - 1) * 100 if all(cpu) else None
    s["emulated_instructions_per_wall_second"] = c["bare"]["cycles"] / wall[0] if wall[0] else None
    rows.append(("4 slowdown", "compute loop under vigil vs bare", "%+.4f %%" % s["slowdown_percent"],
                 "<= 1 %" + (" ok" if s["slowdown_percent"] <= GOALS["slowdown_percent"] else " MISSED"),
                 "guest TSC %d vs %d cycles (%d exits under vigil); emulator wall %s, CPU %s" % (
                     c["vigil"]["cycles"], c["bare"]["cycles"], c["vigil"]["exits"]["total"],
                     "%.2f vs %.2f s (%+.1f %%)" % (wall[1], wall[0], s["slowdown_wall_percent"])
                     if s["slowdown_wall_percent"] is not None else "not observed",
                     "%.2f vs %.2f s (%+.1f %%)" % (cpu[1], cpu[0], s["slowdown_cpu_percent"])
                     if s["slowdown_cpu_percent"] is not None else "not observed")))

    full, empty = hb["dispatch"], r["empty_dispatch"]
    for kind, label in (("vmcall", "VMCALL PING round trip"), ("cpuid", "CPUID 0x40000000 round trip")):
        f = full[kind]["cycles"] / full[kind]["rounds"]
        e = empty[kind]["cycles"] / empty[kind]["rounds"]
        s["%s_cycles" % kind] = f
        s["%s_cycles_empty_dispatch" % kind] = e
        s["%s_dispatch_ratio" % kind] = f / e
        goal = ""
        if kind == "vmcall":
            goal = "<= 1.2x" + (" ok" if f / e <= GOALS["dispatch_ratio"] else " MISSED")
        rows.append(("5 dispatch", label, "%.2fx" % (f / e), goal,
                     "%.1f cycles vs %.1f with empty handlers (exitless loop iteration: %.1f)" % (
                         f, e, full["none"]["cycles"] / full["none"]["rounds"])))

    s["boot_tsc_to_guest"] = hb["launch_tsc"]
    s["boot_tsc_to_first_beat"] = agent["first_beat_tsc"]
    launches = r["repeatability"]["launch_tsc_by_pass"]
    s["boot_tsc_spread"] = max(launches) - min(launches) if len(launches) > 1 else None
    rows.append(("6 boot", "power-on to the guest's first instruction", "%d ticks" % hb["launch_tsc"], "",
                 "%.2f s emulated (BIOS + GRUB + vigil)%s; guest_main +%d" % (
                     hb["launch_tsc"] / hz, "; spread over %d boots: %d ticks" % (
                         len(launches), s["boot_tsc_spread"]) if len(launches) > 1 else "",
                     hb["guest_entered_tsc"] - hb["launch_tsc"])))
    rows.append(("6 boot", "power-on to the agent's first heartbeat", "%d ticks" % agent["first_beat_tsc"], "",
                 "%.2f s emulated; %d ticks after its launch" % (agent["first_beat_tsc"] / agent["tsc_hz"],
                                                                 agent["first_beat_tsc"] - agent["launch_tsc"])))

    loss = agent["loss"]
    latency_ms = (loss["event_tsc"] - loss["last_beat_tsc"]) * 1000.0 / agent["tsc_hz"]
    s["loss_latency_ms"] = latency_ms
    s["loss_overshoot_ms"] = latency_ms - loss["failure_interval_ms"]
    rows.append(("7 loss", "last beat -> heartbeat-stopped event", "%.0f ms" % latency_ms,
                 "", "failure interval %d ms (+%.0f ms: sampling on the %d ms tick); beat period %d ms" % (
                     loss["failure_interval_ms"], s["loss_overshoot_ms"], r["tick_ms"], loss["period_ms"])))

    size = r["size"]["vigil.elf"]
    rows.append(("8 size", "vigil.elf text / data / bss", "%d / %d / %d" % (size["text"], size["data"], size["bss"]),
                 "", "ELF file %d bytes (with debug info)" % size["file"]))

    rep = r["repeatability"]
    rows.append(("repeat", "counts identical across boots",
                 ("yes" if not rep["mismatches"] else "NO (%d differ)" % len(rep["mismatches"]))
                 if rep["passes"] > 1 else "not checked",
                 "", "%d counts compared over %d passes%s" % (rep["counts_compared"], rep["passes"],
                                                             "" if rep["passes"] > 1 else " (--quick: one pass)")))
    return rows


def render_table(rows, r):
    header = ("section", "measure", "value", "goal", "detail")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(4)]
    lines = ["vigil performance, %s, %s" % (r["platform"], r["mode"])]
    lines.append("  ".join(h.ljust(widths[i]) if i < 4 else h for i, h in enumerate(header)))
    for row in rows:
        lines.append("  ".join(str(v).ljust(widths[i]) if i < 4 else str(v) for i, v in enumerate(row)))
    return "\n".join(lines)


def markdown_table(rows):
    out = ["| section | measure | value | goal | detail |", "|---|---|---|---|---|"]
    for row in rows:
        out.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(out)


# ---- the chart ---------------------------------------------------------------------------------


def chart(r, outdir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        info("gnuplot not found (tools/deps installs gnuplot-nox): no chart")
        return None
    data = os.path.join(outdir, "heartbeat.dat")
    labels = {"store": "vigil\\nshared page", "port": "port I/O\\none OUT", "hypercall": "hypercall\\none VMCALL"}
    with open(data, "w") as f:
        f.write("# index design exits_per_beat cycles_per_beat\n")
        for i, design in enumerate(DESIGNS):
            d = r["heartbeat"]["designs"][design]
            f.write("%d %s %g %.1f\n" % (i, design, d["exits_per_beat"], d["cycles_per_beat"]))
    xtics = ", ".join('"%s" %d' % (labels[d], i) for i, d in enumerate(DESIGNS))
    beats = r["heartbeat"]["designs"]["store"]["beats"]
    outputs = {}
    for terminal, ext in (("svg size 900,440 dynamic font 'Helvetica,13' background rgb 'white'", "svg"),
                          ("pngcairo size 900,440 font 'Helvetica,11'", "png")):
        out = os.path.join(outdir, "heartbeat." + ext)
        script = """
set terminal %s
set output '%s'
set termoption noenhanced
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set xrange [-0.6:2.6]
set xtics nomirror (%s)
set ytics nomirror
set bmargin 4
set multiplot layout 1,2 title "Heartbeat cost, %d beats per design, one run (%s)"
set title "VM exits per beat"
set yrange [0:1.3]
plot '%s' using 1:3 with boxes linecolor rgb '#3465a4', '' using 1:3:(sprintf('%%g', $3)) with labels offset 0,0.8
set title "guest cycles per beat (TSC)"
set yrange [0:*]
set offsets 0,0,graph 0.12,0
plot '%s' using 1:4 with boxes linecolor rgb '#cc0000', '' using 1:4:(sprintf('%%.0f', $4)) with labels offset 0,0.8
unset multiplot
""" % (terminal, out, xtics, beats, r["platform"], data, data)
        result = subprocess.run([gnuplot], input=script, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if result.returncode != 0 or not os.path.isfile(out):
            info("gnuplot failed for %s: %s" % (ext, result.stdout.strip()))
            continue
        outputs[ext] = out
    return outputs


# ---- docs/performance.md -------------------------------------------------------------------------


def git_description():
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        return commit + (" with local changes" if dirty else "")
    except OSError:
        return "unknown"


def write_markdown(r, rows, charts, command):
    s = r["summary"]
    hb = r["heartbeat"]["designs"]
    agent = r["agent"]
    svg = None
    if charts and "svg" in charts:
        svg = os.path.join(REPO, "docs", "performance-heartbeat.svg")
        shutil.copyfile(charts["svg"], svg)
    c = r["compute"]
    idle = agent["idle"]
    loss = agent["loss"]
    ips = s.get("emulated_instructions_per_wall_second")
    def verdict(ok):
        return "met" if ok else "**missed**"
    goals = "\n".join([
        "- heartbeat: %g VM exits per beat (goal 0): %s" % (
            s["store_exits_per_beat"], verdict(s["store_exits_per_beat"] == GOALS["exits_per_beat"])),
        "- mailbox: %g exits per ping round trip (goal <= %d): %s" % (
            s["exits_per_ping"], GOALS["exits_per_ping"], verdict(s["exits_per_ping"] <= GOALS["exits_per_ping"])),
        "- idle: %.1f exits per emulated second (goal <= %d): %s" % (
            s["idle_exits_per_second"], GOALS["idle_exits_per_second"],
            verdict(s["idle_exits_per_second"] <= GOALS["idle_exits_per_second"])),
        "- guest slowdown: %+.4f %% in guest cycles (goal <= %g %%): %s" % (
            s["slowdown_percent"], GOALS["slowdown_percent"], verdict(s["slowdown_percent"] <= GOALS["slowdown_percent"])),
        "- dispatch: %.2fx an empty handler for a VMCALL round trip (goal <= %gx): %s" % (
            s["vmcall_dispatch_ratio"], GOALS["dispatch_ratio"],
            verdict(s["vmcall_dispatch_ratio"] <= GOALS["dispatch_ratio"]))])
    text = """# Performance

<!-- Generated by `{command}`: do not edit by hand; run it again instead. -->

Measured by `tools/bench` ({date}, commit {commit}) on {platform}, {mode}. Every
number on this page comes from that run; `build/bench/results.json` has them all.
Bochs runs with `clock: sync=none`, so its TSC advances once per emulated
instruction: counts and cycles are exact and repeat from one boot to the next
({repeat}); wall-clock figures depend on the machine (this one emulated about
{ips} instructions per wall second) and are only compared inside the run. A
"cycle" under Bochs is therefore an emulated instruction: a VM exit and a VM entry
count as one each, so what an exit costs here is vigil's own exit path; on
hardware the transitions themselves cost far more than one instruction, which
widens the gap between the designs with and without exits.

## Results

{table}

![Heartbeat cost: VM exits and guest cycles per beat for the three designs](performance-heartbeat.svg)

Against the goals (issue 7):

{goals}

## What was measured, and how

**1. Heartbeat cost.** One guest (`tests/guests/bench_heartbeat.c`) beats
{beats} times in each of three designs, one after the other in the same boot:
vigil's shared-page counter (`vigil_additions_beat`: one 64-bit update of the
status page, `LOCK CMPXCHG8B` in this 32-bit guest), a port-I/O heartbeat (one
`OUT` per beat to a port vigil intercepts — the console UART's scratch register,
whose handler only counts the write, the least any port heartbeat handler does;
VMware's backdoor and VirtualBox's VMMDev heartbeat do more per exit) and a
hypercall heartbeat (one `VMCALL PING` per beat, the counter round-tripping through
the hypervisor, like a VMBus heartbeat message). Around each loop the guest reads
vigil's exit counters with `VMCALL VIGIL_HYPERCALL_EXIT_COUNT` (total, VMCALL, I/O,
CPUID, preemption timer); the {measurement} reading VMCALLs and the timer ticks
that fell inside the loop are subtracted. Cycles are the guest's TSC around the
loop. Result: the shared page costs {store_exits:g} exits per beat and
{store_cycles:.1f} cycles; the port heartbeat {port_exits:g} exit and
{port_cycles:.1f} cycles ({port_ratio:.1f}x); the hypercall {hc_exits:g} exit and
{hc_cycles:.1f} cycles ({hc_ratio:.1f}x). The vigil hypervisor sees the beats by
reading the counter on its own tick instead.

**2. Mailbox.** `tests/guests/bench_agent.c` runs the reference agent's loop
(beat every period, poll the mailbox every 10 ms) on the same Additions library,
with cycle counters around each poll. `tools/bench` drives vigil's console in JSON
mode (`tools/lib/vigilconsole.py` over `tools/run-bochs --console`): `stats`,
{pings} `ping`s (a NOP request the library answers), `stats` again. The request
reaches the guest through shared memory (no exit); the answer costs one doorbell
`OUT`: {ping_exits:g} exits per round trip besides the preemption-timer ticks that
pass meanwhile (which happen anyway), and {ping_cycles:.0f} guest cycles in the poll
that took the request, copied it, answered and rang. {doorbell_cycles:.0f} of those
({doorbell_share:.1f} %) pass inside the doorbell `OUT`: vigil completes the request
in that exit and queues the console's answer line in its log ring, which the timer
drains into the UART's FIFO (16 bytes per millisecond poll while output waits;
{baud} baud is {char_us:.0f} µs a character), so the guest does not wait for the line. A streamed `exec spew {spew}` moves {spew_bpe:.0f} bytes per exit: one
doorbell per chunk of up to 4072 payload bytes, plus the final message.

**3. Idle cost.** With the agent idle, three console readings (`stats`, `status`)
T and 2T apart; the difference of the two windows is T of nothing but an idle guest
({idle_s:.1f} emulated seconds: {ticks} ticks of `tick_ms={tick}`; `status` uptime
agrees: {uptime} ms), and it cancels what the readings cost themselves — each is
console input, after which vigil polls its UART every millisecond for half a second
(hv/timer.h). Result: {idle_rate:.1f} exits per emulated second, {idle_split}. The
heartbeat is sampled inside the tick, and an idle agent touches only memory.

**4. Guest slowdown.** `tests/guests/bench_compute.c`, a register-only loop, booted
bare (`tools/run-bochs --no-hypervisor`) and under vigil in the same bench run:
{vigil_cycles} vs {bare_cycles} guest cycles, {slowdown:+.4f} % (exits under vigil over
the whole boot: {compute_exits}). The emulator's wall clock
and CPU time for the loop, taken when its start and end lines appear on COM2:
{wall_note}. Those are host-side times of the emulator at 10 ms resolution and
move with whatever else the machine runs; the TSC ratio is the exact one.

**5. Dispatch overhead.** The same `VMCALL PING` loop through vigil's dispatcher
and through a build whose VMCALL, CPUID and doorbell handlers only advance RIP
(`cmake --build BUILD --target image-bench` →
`build/bench/vigil-empty-dispatch.elf`, `VIGIL_BENCH_EMPTY_DISPATCH` in
`hv/bench_hooks.h`): {vmcall:.1f} vs {vmcall_empty:.1f} cycles, {vmcall_ratio:.2f}x; CPUID
of vigil's signature leaf {cpuid:.1f} vs {cpuid_empty:.1f}, {cpuid_ratio:.2f}x.

**6. Boot.** TSC ticks (= emulated instructions) from power-on to vigil's
"launching the guest at TSC N" (BIOS, GRUB, vigil): {boot:,}; to the bench agent's
first heartbeat (its "first beat at TSC N" line, after discovery and registration):
{first_beat:,} (another guest module: GRUB loads a different file). {spread_note}

**7. Heartbeat-loss detection.** The console sets the failure interval to
{interval} ms; `exec stopbeat` makes the agent stop beating and answer with the TSC
of its last beat; vigil's `heartbeat-stopped` event carries the guest TSC at which
it fired. Latency: {latency:.0f} ms, {overshoot:+.0f} ms past the interval. The
monitor samples the counter on the {tick} ms tick: it notices the last beat at the
first tick after it and fires at the first tick at least the interval after that,
so the event comes up to two ticks after the interval; where in that window
depends on when the host's `stopbeat` arrived, which is why this figure alone
changes from run to run.

**8. Size.** `size build/vigil.elf`: text {text}, data {data}, bss {bss} bytes
(the bss includes the guest service's 64 KiB state area); the ELF file is {file}
bytes with its debug information.

## Running it

    tools/bench                  # full run, two passes of the deterministic boots ({wall:.0f} s for this page)
    tools/bench --quick          # one short pass
    tools/bench --markdown       # and regenerate this page and docs/performance-heartbeat.svg
    tools/bench --build-dir /tmp/bench-build   # a private build tree
    ctest --preset bench         # the same as a test (label bench, not in the default run)

It builds the `image-bench` target first (the empty-dispatch image; not part of
the default build). Output: the table on stdout, `build/bench/results.json`,
`build/bench/heartbeat.svg` and `heartbeat.png`.

`tools/bench --kvm` runs the same boots under `tools/run-qemu --kvm` on an Intel
host with nested VMX (`kvm_intel nested=1`, `/dev/kvm` accessible). Exit counts
stay exact; cycles become real TSC cycles (with their noise), so compare them only
inside one run. It refuses to start elsewhere (as here: {kvm_here}).
""".format(goals=goals, command=command, date=r["date"], commit=r["commit"], platform=r["platform"], mode=r["mode"],
           repeat=("%d counts identical over %d boots of each deterministic guest" %
                   (r["repeatability"]["counts_compared"], r["repeatability"]["passes"])
                   if r["repeatability"]["passes"] > 1 and not r["repeatability"]["mismatches"] else
                   "checked in full runs" if r["repeatability"]["passes"] == 1 else
                   "but this run found differences: see results.json"),
           ips=("%.0f million" % (ips / 1e6)) if ips else "an unknown number of",
           table=markdown_table(rows), beats=hb["store"]["beats"], measurement=hb["store"]["measurement_exits"],
           store_exits=hb["store"]["exits_per_beat"], store_cycles=hb["store"]["cycles_per_beat"],
           port_exits=hb["port"]["exits_per_beat"], port_cycles=hb["port"]["cycles_per_beat"],
           port_ratio=hb["port"]["cycles_per_beat"] / hb["store"]["cycles_per_beat"],
           hc_exits=hb["hypercall"]["exits_per_beat"], hc_cycles=hb["hypercall"]["cycles_per_beat"],
           hc_ratio=hb["hypercall"]["cycles_per_beat"] / hb["store"]["cycles_per_beat"],
           pings=agent["ping"]["count"], ping_exits=s["exits_per_ping"], ping_cycles=s["guest_cycles_per_ping"],
           doorbell_cycles=s["doorbell_cycles_per_ping"], baud=agent["console_baud"],
           char_us=10e6 / agent["console_baud"],
           doorbell_share=100.0 * s["doorbell_cycles_per_ping"] / max(1, s["guest_cycles_per_ping"]),
           spew=agent["spew"]["bytes"], spew_bpe=s["spew_bytes_per_exit"],
           idle_s=s["idle_seconds_emulated"], ticks=idle["service"]["ticks"], tick=r["tick_ms"],
           uptime=idle["uptime_ms"], idle_rate=s["idle_exits_per_second"],
           idle_split=", ".join("%s %.1f/s" % kv for kv in sorted(s["idle_exits_per_second_by_reason"].items()))
           or "none", vigil_cycles=c["vigil"]["cycles"], bare_cycles=c["bare"]["cycles"],
           slowdown=s["slowdown_percent"],
           compute_exits=" ".join("%s=%d" % kv for kv in c["vigil"]["exits"].items()),
           wall_note=("wall %.2f s under vigil vs %.2f s bare (%+.1f %%)" % (
               c["vigil"]["loop_wall_seconds"], c["bare"]["loop_wall_seconds"], s["slowdown_wall_percent"])
               if s["slowdown_wall_percent"] is not None else "wall not observed") + (
               ", CPU %.2f s vs %.2f s (%+.1f %%)" % (c["vigil"]["loop_cpu_seconds"], c["bare"]["loop_cpu_seconds"],
                                                       s["slowdown_cpu_percent"])
               if s["slowdown_cpu_percent"] is not None else ""),
           vmcall=s["vmcall_cycles"], vmcall_empty=s["vmcall_cycles_empty_dispatch"],
           vmcall_ratio=s["vmcall_dispatch_ratio"], cpuid=s["cpuid_cycles"],
           cpuid_empty=s["cpuid_cycles_empty_dispatch"], cpuid_ratio=s["cpuid_dispatch_ratio"],
           boot=s["boot_tsc_to_guest"], first_beat=s["boot_tsc_to_first_beat"],
           spread_note=("Over the %d boots of the same guest in this run the launch TSC spread over %d ticks. "
                        "It depends on the boot module's size (GRUB reads it), so compare it only for the same "
                        "guest build." % (len(r["repeatability"]["launch_tsc_by_pass"]), s["boot_tsc_spread"]))
           if s["boot_tsc_spread"] is not None else
           "It depends on the boot module's size (GRUB reads it), so compare it only for the same guest build.", interval=loss["failure_interval_ms"],
           latency=s["loss_latency_ms"], overshoot=s["loss_overshoot_ms"],
           wall=r["wall_seconds"], text=r["size"]["vigil.elf"]["text"], data=r["size"]["vigil.elf"]["data"],
           bss=r["size"]["vigil.elf"]["bss"], file=r["size"]["vigil.elf"]["file"], kvm_here=kvm_problem() or "usable")
    if not svg:
        text = text.replace("![Heartbeat cost", "(no chart: gnuplot missing) ![Heartbeat cost")
    path = os.path.join(REPO, "docs", "performance.md")
    with open(path, "w") as f:
        f.write(text)
    info("wrote %s%s" % (path, " and " + svg if svg else ""))


# ---- main ----------------------------------------------------------------------------------------
