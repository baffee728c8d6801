"""pytest fixtures of the guest-service console tests (tests/integration/service/).

Each test file declares how its machine boots (BOOT = service_common.Boot(...))
and its tests share one boot through the module-scoped `machine` fixture: Bochs
with vigil and the agent guest, started by `tools/run-bochs --console unix:SOCK`,
the console in JSON mode. A file's last test powers the machine off and asserts
the runner's verdict (the runner's --expect patterns matched and the emulator
stopped by itself); if a run is cut short, the fixture stops the runner.

ctest runs each file (tests/integration/CMakeLists.txt) with VIGIL_BUILD_DIR set;
by hand: VIGIL_BUILD_DIR=build /usr/bin/python3 -m pytest tests/integration/service/test_heartbeat.py
"""

import pytest

import service_common as sc


@pytest.fixture(scope="module")
def machine(request, tmp_path_factory):
    boot = getattr(request.module, "BOOT", None)
    if boot is None:
        pytest.fail("%s has no BOOT = service_common.Boot(...)" % request.module.__name__)
    m = sc.Machine(request.module.__name__, boot, str(tmp_path_factory.mktemp("machine")))
    try:
        m.start()
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="module")
def s(machine):
    """The JSON-mode session of the module's machine."""
    return machine.session
