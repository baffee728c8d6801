"""The runner's verdict (tools/lib/judge.py) on made-up runs, without an
emulator: a run passes only when the emulator stopped by itself after the
power-off line, with a status the board accepts; 'power off failed' fails it."""

import argparse
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "lib"))
import judge  # noqa: E402

QEMU_STATUSES = {0: "ACPI S5", 1: "isa-debug-exit code 0"}


def options(**kw):
    base = dict(expect=[], reject=[], expect_guest=[], reject_guest=[], allow_panic=False,
                no_hypervisor=False, expect_stop=False, timeout=60, kernel="vigil.elf")
    base.update(kw)
    return argparse.Namespace(**base)


def run(tmp_path, com1, com2="", exited=True, status=1, statuses=None, **kw):
    opts = options(**kw)
    (tmp_path / "com1.log").write_bytes(com1.encode())
    (tmp_path / "com2.log").write_bytes(com2.encode())
    logs = judge.serial_logs(opts, str(tmp_path / "com1.log"), str(tmp_path / "com2.log"))
    for log in logs:
        log.poll(0.0, final=True)
    outcome = judge.Outcome()
    outcome.exited_by_itself = exited
    outcome.status = status
    return judge.failures(opts, logs, outcome, statuses, [])


BOOT = "vigil 0.1.0 (multiboot1)\r\nvigil: VT-x not available: no VMX in CPUID\r\n"


def test_clean_power_off_passes(tmp_path):
    assert run(tmp_path, BOOT + "vigil: power off: no VT-x\r\n", expect=["VT-x not available"]) == []


def test_emulator_still_running_after_the_power_off_line_fails(tmp_path):
    found = run(tmp_path, BOOT + "vigil: power off: no VT-x\r\n", exited=False)
    assert len(found) == 1 and "did not stop by itself" in found[0], found


def test_power_off_failed_line_fails_and_is_no_power_off(tmp_path):
    found = run(tmp_path, BOOT + "vigil: power off failed (no FADT); halting\r\n", exited=False)
    assert any("rejected pattern 'vigil: power off failed'" in f for f in found), found
    assert any("no 'vigil: power off' line" in f for f in found), found


def test_qemu_status_after_power_off(tmp_path):
    line = BOOT + "vigil: power off: no VT-x\r\n"
    assert run(tmp_path, line, status=1, statuses=QEMU_STATUSES) == []
    assert run(tmp_path, line, status=0, statuses=QEMU_STATUSES) == []
    found = run(tmp_path, line, status=3, statuses=QEMU_STATUSES)  # isa-debug-exit code 1: the panic path
    assert len(found) == 1 and "exited with status 3" in found[0], found


def test_missing_expect_and_default_rejects(tmp_path):
    found = run(tmp_path, BOOT + "vigil: PANIC: x\r\nvigil: power off: panic\r\n", expect=["never printed"])
    assert any("expected pattern not found: 'never printed'" in f for f in found), found
    assert any("'vigil: PANIC' matched" in f for f in found), found


def test_bare_guest_power_off_is_judged_on_com2(tmp_path):
    assert run(tmp_path, "", "hello\nguest: power off\n", no_hypervisor=True) == []
    found = run(tmp_path, "", "guest: power off\nguest: ACPI power off failed: no FADT\n",
                no_hypervisor=True, exited=False)
    assert any("did not stop by itself" in f for f in found), found
    assert any("guest: ACPI power off failed" in f for f in found), found


@pytest.mark.parametrize("com2, ok", [("triple-fault: loading\n", True), ("guest: power off\n", False)])
def test_expect_stop(tmp_path, com2, ok):
    found = run(tmp_path, "", com2, no_hypervisor=True, expect_stop=True)
    assert (found == []) == ok, found
