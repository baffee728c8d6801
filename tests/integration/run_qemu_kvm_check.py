#!/usr/bin/env python3
"""tools/run-qemu --kvm's host check (kvm_nested_missing) against fake /dev/kvm,
/proc/cpuinfo and kvm_intel parameter files: each missing piece is named."""
import importlib.machinery, importlib.util, os, sys, tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "lib"))
loader = importlib.machinery.SourceFileLoader("run_qemu", os.path.join(REPO, "tools", "run-qemu"))
spec = importlib.util.spec_from_loader("run_qemu", loader)
run_qemu = importlib.util.module_from_spec(spec)
loader.exec_module(run_qemu)

INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx sse2\n"
failures = []

def check(name, cpuinfo, nested, dev=True, expect=()):
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: os.path.join(tmp, k) for k in ("kvm", "cpuinfo", "nested")}
        if dev:
            open(paths["kvm"], "w").close()
        open(paths["cpuinfo"], "w").write(cpuinfo)
        if nested is not None:
            open(paths["nested"], "w").write(nested + "\n")
        missing = run_qemu.kvm_nested_missing(paths["kvm"], paths["cpuinfo"], paths["nested"])
    text = "; ".join(missing)
    if len(missing) != len(expect) or not all(e in text for e in expect):
        failures.append("%s: got [%s], expected %s" % (name, text, list(expect)))

check("all present (Y)", INTEL, "Y")
check("all present (1)", INTEL, "1")
check("no /dev/kvm", INTEL, "Y", dev=False, expect=["does not exist"])
check("AMD host", INTEL.replace("GenuineIntel", "AuthenticAMD").replace(" vmx", " svm"), "Y", expect=["not Intel"])
check("VT-x off", INTEL.replace(" vmx", ""), "Y", expect=["no 'vmx' flag"])
check("nested off", INTEL, "N", expect=["nested=N"])
check("kvm_intel not loaded", INTEL, None, expect=["kvm_intel is not loaded"])
check("everything missing", "vendor_id : AuthenticAMD\nflags : svm\n", None, dev=False,
      expect=["does not exist", "not Intel", "kvm_intel is not loaded"])

for f in failures:
    print("FAIL:", f)
print("%d of 8 cases passed" % (8 - len(failures)))
sys.exit(1 if failures else 0)
