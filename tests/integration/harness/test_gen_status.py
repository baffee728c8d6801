"""tools/gen-status-py: the Python status constants come from status.h's one
table, and an inconsistent header is refused rather than half-translated."""

import importlib.util
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
GEN = os.path.join(REPO, "tools", "gen-status-py")
HEADER = os.path.join(REPO, "guest-svc", "include", "vigil", "status.h")


def generate(tmp_path, header):
    out = tmp_path / "vigil_status.py"
    r = subprocess.run([sys.executable, GEN, "--header", str(header), "--out", str(out)],
                       capture_output=True, text=True)
    return r, out


def load(path):
    spec = importlib.util.spec_from_file_location("vigil_status_under_test", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_constants_names_and_sentences_from_the_header(tmp_path):
    r, out = generate(tmp_path, HEADER)
    assert r.returncode == 0, r.stderr
    st = load(out)
    # DESIGN.md section 1's values
    assert st.S_OK == 0 and st.E_INVALIDARG == 0x80070057 and st.ERROR_MACHINE_LOCKED == 0x800704F7
    assert st.VM_E_VM_NOT_RUNNING == 0xA0040206 and st.VM_E_ADDITIONS_NOT_AVAIL == 0xA0040504
    assert st.NAMES[st.E_BUSY] == "E_BUSY"
    assert st.MESSAGES[st.ERROR_MACHINE_LOCKED] == "the guest refused to shut down"
    with open(HEADER) as f:
        defines = sum(1 for line in f if line.startswith("#define VIGIL_") and " 0x" in line)
    assert len(st.NAMES) == defines


@pytest.mark.parametrize("edit, complaint", [
    (lambda t: t.replace('X(VIGIL_E_BUSY, "E_BUSY", "the request queue is full")', ""),
     "defined but not in VIGIL_STATUS_TABLE: VIGIL_E_BUSY"),
    (lambda t: t.replace("#define VIGIL_E_FAIL 0x80004005u", ""), "VIGIL_E_FAIL, which has no #define"),
    (lambda t: t.replace('"E_ABORT", "the command was killed"', '"E_FAIL", "the command was killed"'),
     "E_FAIL (0x80004005) appears twice"),
])
def test_inconsistent_header_is_refused(tmp_path, edit, complaint):
    with open(HEADER) as f:
        text = f.read()
    bad = tmp_path / "status.h"
    bad.write_text(edit(text))
    r, out = generate(tmp_path, bad)
    assert r.returncode == 1 and complaint in r.stderr, r.stderr
    assert not out.exists()
