# SPDX-License-Identifier: GPL-2.0
"""A broken invariant never panics the machine: one structured line, an
event, a counter, and the target's folios go back to the LRU."""

from __future__ import annotations

import subprocess
import threading
import time

from hagent.errors import ExitCode
from tests.vm.conftest import KO, ctl_json, isolated_back, module_loaded, run_ctl, stats, vmstat
from tests.vm.memhog import Memhog


def test_failed_check_shuts_the_target_down_and_is_reported() -> None:
    from hagent.kernel import RealKernel

    assert not module_loaded()
    isolated = vmstat()["nr_isolated_anon"]
    run_ctl("load", "--ko", str(KO), "debug_commands=1")
    hog = Memhog(16)
    events: list[object] = []
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        frame = ctl_json("top", "--once", "--interval", "0.5")
        assert [t["pid"] for t in frame["targets"]] == [hog.pid]
        k = RealKernel()

        def listen() -> None:
            for ev in k.events():
                events.append(ev)
                if len(events) >= 2:
                    return

        th = threading.Thread(target=listen, daemon=True)
        th.start()
        time.sleep(1)
        k.debug_fail(hog.pid)
        deadline = time.monotonic() + 60
        while stats()["targets"] and time.monotonic() < deadline:
            time.sleep(0.3)
        t = stats()["totals"]
        assert stats()["targets"] == [], "the target was not shut down"
        assert t["checks.failed"] == 1
        assert t["targets.failsafe"] == 1
        assert t["released.failsafe"] == t["adopted"] > 0
        hog.do("touch")  # the process runs on, unmanaged
        th.join(timeout=30)
        kinds = [e["type"] for e in events]  # type: ignore[index]
        assert "check_failed" in kinds and "target_failsafe" in kinds, events
        log = subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout
        line = [ln for ln in log.splitlines() if "CHECK failed" in ln]
        assert len(line) == 1 and f"pid={hog.pid} debug_fail=1" in line[0], line
        found = run_ctl("triage", "--dmesg", "--json", check=False)
        assert found.returncode == ExitCode.FINDINGS, found.stdout
        assert '"kind": "check"' in found.stdout
    finally:
        hog.exit()
        run_ctl("unload")
    isolated_back(isolated)


def test_debug_fail_needs_the_debug_parameter(managing: None) -> None:
    from hagent.errors import HagentError
    from hagent.kernel import RealKernel

    hog = Memhog(4)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        try:
            RealKernel().debug_fail(hog.pid)
        except HagentError as e:
            assert "debug_commands" in e.message
        else:
            raise AssertionError("DEBUG_FAIL worked without debug_commands=1")
        assert len(stats()["targets"]) == 1
    finally:
        hog.exit()


def test_top_fits_a_terminal_of_80_by_24(managing: None) -> None:
    import sys

    hog = Memhog(16)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        r = subprocess.run(
            [sys.executable, "-m", "tests.vm.top_tmux"], capture_output=True, text=True, timeout=600
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert str(hog.pid) in r.stdout
    finally:
        hog.exit()
