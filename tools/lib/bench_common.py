"""tools/bench: constants and messages shared by its parts (bench_measure, bench_report)."""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROG = "bench"
DESIGNS = ("store", "port", "hypercall")
DESIGN_LABELS = {"store": "vigil: shared-page counter", "port": "port I/O (one OUT per beat)",
                 "hypercall": "hypercall (one VMCALL per beat)"}
GOALS = {"exits_per_beat": 0, "exits_per_ping": 1, "idle_exits_per_second": 20, "slowdown_percent": 1.0,
         "dispatch_ratio": 1.2}

FULL = {"beats": 100000, "compute_iterations": 20000000, "pings": 40, "spew_bytes": 65536, "idle_seconds": 10.0,
        "failure_interval_ms": 10000, "repeat": 2}
QUICK = {"beats": 10000, "compute_iterations": 4000000, "pings": 10, "spew_bytes": 16384, "idle_seconds": 3.0,
         "failure_interval_ms": 2000, "repeat": 1}


class BenchError(Exception):
    pass


def fail(message):
    print("%s: %s" % (PROG, message), file=sys.stderr)
    sys.exit(1)


def info(message):
    print("%s: %s" % (PROG, message), file=sys.stderr, flush=True)


def kvm_problem():
    """None if --kvm can run here, else why not."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible"
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
    except OSError:
        cpuinfo = ""
    if "GenuineIntel" not in cpuinfo:
        vendor = re.search(r"^vendor_id\s*:\s*(\S+)", cpuinfo, re.M)
        return "the host CPU is %s, not Intel (vigil needs VT-x)" % (vendor.group(1) if vendor else "unknown")
    try:
        with open("/sys/module/kvm_intel/parameters/nested") as f:
            nested = f.read().strip()
    except OSError:
        return "kvm_intel is not loaded"
    if nested not in ("Y", "1"):
        return "kvm_intel nested=%s: nested VMX is off (modprobe kvm_intel nested=1)" % nested
    return None
