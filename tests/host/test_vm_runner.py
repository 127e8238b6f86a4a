# SPDX-License-Identifier: GPL-2.0
"""The VM harness judges runs strictly: no status, a warning or a failed
command each fail the run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.vm import run as vmrun
from tests.vm import runner

WARN = """[   12.1] ------------[ cut here ]------------
[   12.2] WARNING: CPU: 1 PID: 88 at mm/migrate.c:100 migrate_pages+0x1/0x2
[   12.3] hagent: version 0.1.0 loaded
"""


def test_scan_finds_warnings_and_hagent_checks() -> None:
    assert runner.scan_log(WARN) == [
        "[   12.2] WARNING: CPU: 1 PID: 88 at mm/migrate.c:100 migrate_pages+0x1/0x2"
    ]
    assert runner.scan_log("[ 1.0] hagent: CHECK failed: heap_pos == i at heap.c:10")
    assert runner.scan_log("[ 1.0] BUG: Bad page state in process x")
    assert runner.scan_log("[ 1.0] Kernel panic - not syncing: Fatal exception")
    assert runner.scan_log("[ 1.0] hagent: version 0.1.0 loaded\nall good") == []
    # A failure a test induced on purpose is labelled, and only that one passes.
    induced = (
        "[ 2.0] hagent: CHECK failed: !hagent_debug_commands at netlink.c:9 pid=7 debug_fail=1"
    )
    assert runner.scan_log(induced) == []
    assert runner.scan_log(induced.replace("debug_fail=1", "vpfn=1")) != []


def test_verdicts(tmp_path: Path) -> None:
    ok = runner.VmResult("k", 0, 1.0, tmp_path)
    assert ok.ok and ok.verdict() == "ok"
    no_status = runner.VmResult("k", None, 1.0, tmp_path)
    assert not no_status.ok and no_status.verdict() == "VM did not return status"
    warned = runner.VmResult("k", 0, 1.0, tmp_path, bad_lines=["WARNING: x"])
    assert not warned.ok and "WARNING" in warned.verdict()
    failed = runner.VmResult("k", 3, 1.0, tmp_path)
    assert not failed.ok and "exited 3" in failed.verdict()


def test_memory_sizes() -> None:
    assert runner._mib("512M") == 512
    assert runner._mib("1g") == 1024


def test_junit_counts(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(
        '<testsuites><testsuite tests="7" failures="1" errors="1" skipped="2"/></testsuites>'
    )
    assert vmrun.junit_counts(p) == (3, 2, 2)
    assert vmrun.junit_counts(tmp_path / "missing.xml") == (0, 0, 0)


def test_three_guests_split_the_suite_by_marker() -> None:
    assert [g.marks for g in vmrun.GUESTS] == [
        "'not tcg_single and not peers'",
        "tcg_single",
        "peers",
    ]
    assert [g.qemu_opts for g in vmrun.GUESTS] == ["", "-accel tcg,thread=single", ""]
    # only the peers' guest has the benchmark's recipe
    assert [(g.hmat, g.fast_mem, g.slow_mem) for g in vmrun.GUESTS] == [
        (False, "1G", "1G"),
        (False, "1G", "1G"),
        (True, "512M", "1536M"),
    ]
    assert len({g.name for g in vmrun.GUESTS}) == 3  # each its own results directory


def test_hmat_describes_node_1_as_slower() -> None:
    opts = runner.HMAT_QEMU_OPTS.split()
    assert opts.count("-numa") == 4
    assert (
        "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=40" in opts
    )
    assert (
        "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=10" in opts
    )


def test_a_guest_left_without_tests_passes_other_statuses_stay(tmp_path: Path) -> None:
    for status, want in ((0, 0), (1, 1), (2, 2), (5, 0)):
        cmd = vmrun.GUEST_PYTEST.format(marks="x", extra="").replace(
            "python -m pytest", f"sh -c 'exit {status}' pytest", 1
        )
        got = subprocess.run(["sh", "-c", cmd], env={"HAGENT_RESULTS": str(tmp_path)}).returncode
        assert got == want, (status, got)
