# SPDX-License-Identifier: GPL-2.0
"""The VM harness judges runs strictly: no status, a warning or a failed
command each fail the run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
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
    # a refused memory offline, which the offline tests provoke, is no failure;
    # a page dumped for any other reason is
    refused = "[ 819.7] page dumped because: unmovable page"
    assert runner.scan_log(refused) == []
    assert runner.scan_log(refused.replace("unmovable page", "VM_BUG_ON_FOLIO(x)")) != []


def test_scan_finds_the_debug_kernels_reports() -> None:
    # first lines of lockdep, KASAN, RCU-lockdep and DEBUG_VM reports (6.12)
    for line in (
        "WARNING: possible circular locking dependency detected",
        "BUG: KASAN: slab-use-after-free in hagent_target_put+0x1c/0x80 [hagent]",
        "BUG: KFENCE: out-of-bounds read in hagent_table_lookup+0x1/0x2",
        "WARNING: suspicious RCU usage",
        "page dumped because: VM_BUG_ON_FOLIO(!folio_test_locked(folio))",
        "UBSAN: shift-out-of-bounds in mm/vmscan.c:10:2",
    ):
        assert runner.scan_log(f"[   12.5] {line}") != [], line


OOM = """[  50.1] memhog invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0
[  50.2] CPU: 1 UID: 0 PID: 301 Comm: memhog Not tainted 6.12.95+deb12-amd64 #1
[  50.3] Call Trace:
[  50.4]  <TASK>
[  50.5]  dump_stack_lvl+0x5d/0x80
[  50.6]  asm_exc_page_fault+0x26/0x30
[  50.6] RIP: 0033:0x560c838eaa6a
[  50.6]  </TASK>
[  50.7] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=memhog,pid=300,uid=0
[  50.8] Out of memory: Killed process 300 (memhog) total-vm:800000kB
"""


def test_an_oom_kill_report_is_no_failure_but_what_follows_is() -> None:
    assert runner.scan_log(OOM) == []
    # a warning inside the report, and a stack after it, still count
    warned = OOM.replace("dump_stack_lvl", "WARNING: CPU: 1 PID: 301 at mm/x.c:1 f")
    assert len(runner.scan_log(warned)) == 1
    assert runner.scan_log(OOM + "[  51.0] Call Trace:\n") == ["[  51.0] Call Trace:"]
    kernel_rip = OOM.replace("RIP: 0033:0x560c838eaa6a", "RIP: 0010:hagent_x+0x1/0x2")
    assert len(runner.scan_log(kernel_rip)) == 1
    # a stack with no OOM report before it
    assert runner.scan_log(OOM.split("\n", 1)[1]) != []


def test_the_debug_kernel_boots_from_beside_its_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a release with no /boot image is looked for in /lib/modules/REL/
    rel = "0.0.0-hagent-test-none"
    assert runner.kernel_image(rel) == Path(f"/boot/vmlinuz-{rel}")
    real_path = runner.Path

    def fake(p: str) -> Path:
        return real_path(str(p).replace(f"/lib/modules/{rel}", str(tmp_path)))

    monkeypatch.setattr(runner, "Path", fake)
    image = tmp_path / "vmlinuz"
    image.write_bytes(b"")
    assert runner.kernel_image(rel) == image


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


def test_junit_failures_name_the_test_and_its_message(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(
        "<testsuites><testsuite>"
        '<testcase classname="tests.vm.test_a" name="test_ok"/>'
        '<testcase classname="tests.vm.test_a" name="test_bad">'
        '<failure message="AssertionError: 0.5 &lt; 0.9&#10;more">trace</failure></testcase>'
        '<testcase classname="tests.vm.test_b" name="test_err"><error>boom</error></testcase>'
        "</testsuite></testsuites>"
    )
    assert vmrun.junit_failures(p) == [
        "tests/vm/test_a.py::test_bad: AssertionError: 0.5 < 0.9",
        "tests/vm/test_b.py::test_err: boom",
    ]
    assert vmrun.junit_failures(tmp_path / "missing.xml") == []


def test_four_guests_split_the_suite_by_marker() -> None:
    assert [g.marks for g in vmrun.GUESTS] == [
        "'not tcg_single and not peers and not smp'",
        "tcg_single",
        "peers",
        "smp",
    ]
    assert [g.qemu_opts for g in vmrun.GUESTS] == ["", "-accel tcg,thread=single", "", ""]
    # only the peers' guest has the benchmark's recipe
    assert [(g.hmat, g.fast_mem, g.slow_mem) for g in vmrun.GUESTS] == [
        (False, "1G", "1G"),
        (False, "1G", "1G"),
        (True, "512M", "1536M"),
        (False, "1G", "1G"),
    ]
    assert len({g.name for g in vmrun.GUESTS}) == 4  # each its own results directory
    # the peers' guest boots with NUMA balancing off: only tpp flips it
    assert [g.cmdline for g in vmrun.GUESTS] == ["", "", "numa_balancing=disable", ""]
    # the smp guest has four CPUs (the migration selftest needs three)
    assert [g.cpus for g in vmrun.GUESTS] == [2, 2, 2, 4]


def test_the_smp_guest_boots_only_612_kernels() -> None:
    every = [g.name for g in vmrun.GUESTS]
    assert [g.name for g in vmrun.guests_for("6.12.95+deb12-amd64", every)] == every
    assert [g.name for g in vmrun.guests_for("6.1.0-57-amd64", every)] == every[:3]
    assert [g.name for g in vmrun.guests_for("6.1.0-57-amd64", ["tests-smp"])] == []
    assert [g.name for g in vmrun.guests_for("6.12.9", ["tests-smp", "tests"])] == [
        "tests",
        "tests-smp",
    ]


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


def fake_vng(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> str:
    """A venv whose vng runs @script (sh; $last is the guest script) instead
    of a VM, with mount and dmesg stubbed; returns a kernel with an image."""
    bin_ = tmp_path / "venv" / "bin"
    bin_.mkdir(parents=True)
    for name, body in (("vng", script), ("mount", "exit 0"), ("dmesg", "echo fake dmesg")):
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    monkeypatch.setattr(runner, "VENV", bin_.parent)
    monkeypatch.setattr(runner, "RESULTS", tmp_path / "results")
    images = sorted(Path("/boot").glob("vmlinuz-*"))
    assert images, "scripts/setup installs the kernels the VM tests boot"
    return images[0].name.removeprefix("vmlinuz-")


OOPS = "[    2.029921] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"


def test_a_kernel_that_crashes_before_the_command_boots_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    once = tmp_path / "crashed-once"
    kernel = fake_vng(
        tmp_path,
        monkeypatch,
        f"for a; do last=$a; done\n"
        f'if [ ! -e {once} ]; then touch {once}; echo "{OOPS}"; exit 0; fi\n'
        f'exec sh -c "$last"',
    )
    r = runner.run(kernel, "echo the command ran", name="retry", timeout=60)
    assert r.ok and r.status == 0 and r.boot_failures == 1, r.verdict()
    assert OOPS in (r.outdir / "console.boot-failed-1.log").read_text()
    log = (r.outdir / "console.log").read_text()
    assert runner.GUEST_STARTED in log and "the command ran" in log


def test_a_crash_once_the_command_runs_is_a_failure_not_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = fake_vng(tmp_path, monkeypatch, f'echo {runner.GUEST_STARTED}; echo "{OOPS}"; exit 0')
    r = runner.run(kernel, "true", name="crash", timeout=60)
    assert not r.ok and r.boot_failures == 0 and r.status is None
    assert r.verdict() == "VM did not return status" and "Oops" in r.bad_lines[0]
    assert not list(r.outdir.glob("console.boot-failed-*"))


def test_a_kernel_that_never_gets_to_the_command_fails_after_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = fake_vng(tmp_path, monkeypatch, f'echo "{OOPS}"; exit 0')
    r = runner.run(kernel, "true", name="crash", timeout=60)
    assert not r.ok and r.boot_failures == runner.BOOT_RETRIES and r.status is None
    assert len(list(r.outdir.glob("console.boot-failed-*"))) == runner.BOOT_RETRIES


def test_only_a_crash_before_the_command_counts_as_a_failed_boot(tmp_path: Path) -> None:
    assert runner.crashed_before_command(OOPS, tmp_path, "")
    assert not runner.crashed_before_command("booting fine", tmp_path, "")  # no crash line
    assert not runner.crashed_before_command(f"{runner.GUEST_STARTED}\n{OOPS}", tmp_path, "")
    assert not runner.crashed_before_command(OOPS, tmp_path, "timeout")
    (tmp_path / "status").write_text("0\n")
    assert not runner.crashed_before_command(OOPS, tmp_path, "")


def test_only_the_main_guest_writes_installs_and_only_to_overlays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [g.overlays for g in vmrun.GUESTS] == [vmrun.INSTALL_OVERLAYS, (), (), ()]
    assert "/usr/lib/modules" in vmrun.INSTALL_OVERLAYS  # /lib is a symlink to it on Debian
    args = tmp_path / "args"
    kernel = fake_vng(
        tmp_path,
        monkeypatch,
        f'printf "%s\\n" "$@" > {args}; for a; do last=$a; done\nexec sh -c "$last"',
    )
    there = tmp_path / "there"
    there.mkdir()
    r = runner.run(
        kernel,
        "true",
        name="overlays",
        timeout=60,
        overlays=(str(there), str(tmp_path / "missing")),
    )
    assert r.ok, r.verdict()
    argv = args.read_text().splitlines()
    assert f"--overlay-rwdir={there}" in argv
    assert not [a for a in argv if "missing" in a]  # a directory that does not exist is left out
    assert "--rw" not in argv
