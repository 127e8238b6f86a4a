# SPDX-License-Identifier: GPL-2.0
"""Access samples: every source goes through the same rings, and the counts
always reconcile: total == fast + slow + unmanaged + invalid + dropped."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from hagent.errors import ExitCode
from tests.vm.bench_placement_host import kernel_config
from tests.vm.conftest import counters, ctl_json, run_ctl, stats, wait_until
from tests.vm.memhog import MEMHOG, Memhog, entries, pages_on_node
from tests.vm.test_placement import histogram

FAST, SLOW = 0, 1
KINDS = ("fast", "slow", "unmanaged", "invalid", "dropped")
SOURCES = ("pebs", "ibs", "abit", "inject", "fault")


def reconciles(c: dict[str, int]) -> None:
    for prefix in ["samples."] + [f"samples.{s}." for s in SOURCES]:
        total = c[prefix + "total"]
        parts = sum(c[prefix + k] for k in KINDS)
        assert total == parts, f"{prefix}: total {total} != {parts} ({c})"


def text_address(pid: int) -> int:
    """An address mapped from memhog's own file: mapped, never managed.  Found
    by the file's name: the guest's build/ is an overlay (tests/vm/run.py),
    and on 6.12 maps stopped naming memhog by the path it was run from once
    it became one."""
    paths = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[5].startswith("/"):
            paths.add(fields[5])
            if Path(fields[5]).name == MEMHOG.name:
                return int(fields[0].split("-")[0], 16)
    raise AssertionError(f"memhog's text mapping not found among {sorted(paths)}")


def test_injected_pattern_gives_exact_counts(managing: None) -> None:
    hog = Memhog(16, node=SLOW)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        page = 4096
        run_ctl(
            "inject", "--pid", str(hog.pid),
            f"{hog.addr:#x}:50", f"{hog.addr + page:#x}:7:s", f"{hog.addr + 2 * page:#x}",
            f"{text_address(hog.pid):#x}:3", "0x1000:4",
            "--repeat", "10",
        )  # fmt: skip
        c = counters(hog.pid)
        assert c["samples.inject.total"] == 10 * (50 + 7 + 1 + 3 + 4)
        assert c["samples.inject.slow"] == 10 * (50 + 7 + 1)
        assert c["samples.inject.fast"] == 0
        assert c["samples.inject.unmanaged"] == 10 * 3
        assert c["samples.inject.invalid"] == 10 * 4
        assert c["samples.inject.dropped"] == 0
        reconciles(c)
        heat = entries(hog.pid)
        assert heat[hog.addr][1] > heat[hog.addr + page][1] > heat[hog.addr + 2 * page][1] > 0
    finally:
        hog.exit()


def test_ring_flood_is_counted_as_dropped(managing: None) -> None:
    hog = Memhog(16, node=FAST)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        addrs = [f"{hog.addr + i * 4096:#x}" for i in range(4000)]
        # 400,000 samples pushed from one CPU with the drain locked out:
        # far more than a ring holds.
        run_ctl("inject", "--pid", str(hog.pid), *addrs, "--repeat", "100")
        c = counters(hog.pid)
        assert c["samples.inject.total"] == 400_000
        assert c["samples.inject.dropped"] > 0
        assert c["samples.inject.fast"] > 0
        reconciles(c)
        reconciles(stats()["totals"])
    finally:
        hog.exit()


def test_abit_ranks_the_touched_subset_hottest(managing: None) -> None:
    hog = Memhog(64)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        hog.do("hot 8 8 6")  # write MiB 8..16 of 64 for 6 s while hagentd scans
        c = counters(hog.pid)
        assert c["samples.abit.total"] > 0
        assert c["abit.tlb_flushes"] > 0
        reconciles(c)
        heat = entries(hog.pid)
        lo, hi = hog.addr + (8 << 20), hog.addr + (16 << 20)
        region = {a: h for a, (_t, h) in heat.items() if hog.addr <= a < hog.addr + (64 << 20)}
        hottest = sorted(region, key=lambda a: region[a], reverse=True)[: (8 << 20) // 4096]
        inside = sum(lo <= a < hi for a in hottest)
        assert inside / len(hottest) >= 0.9, f"only {inside} of the {len(hottest)} hottest"
    finally:
        hog.exit()


def window_ms(before: dict[str, int], after: dict[str, int]) -> float:
    """Mean accessed-bit window, in ms, between two snapshots of counters."""
    n = after["abit.windows"] - before["abit.windows"]
    assert n > 0, "no window measured"
    return (after["abit.window_us"] - before["abit.window_us"]) / n / 1000


def test_abit_window_follows_how_much_is_touched(managing: None) -> None:
    """The window shrinks while most primed folios come back touched, grows
    back while few do, and abit_window_ms fixes it."""
    hog = Memhog(64)
    try:
        # The window alone: at the idle scan pace (its own test, in
        # test_placement) steps come 4x apart and the window moves that much slower.
        run_ctl("config", "scan_idle_div=1")
        ctl_json("enable", "--pid", str(hog.pid))
        # Every page, over and over: nearly all touched.  The first seconds
        # are the shrinking itself; the busy window is measured after them.
        hog.do("hot 0 64 4")
        c0 = counters(hog.pid)
        hog.do("hot 0 64 6")
        c1 = counters(hog.pid)
        time.sleep(6)  # nothing touched: the window grows back (over a few steps)
        c15 = counters(hog.pid)
        time.sleep(6)
        c2 = counters(hog.pid)
        run_ctl("config", "abit_window_ms=400")
        time.sleep(1)  # a step may have started waiting before the change
        c3 = counters(hog.pid)
        time.sleep(4)
        c4 = counters(hog.pid)
        busy, idle, fixed = window_ms(c0, c1), window_ms(c15, c2), window_ms(c3, c4)
        assert busy < idle / 2, f"busy {busy:.1f} ms, idle {idle:.1f} ms"
        assert idle > 100, f"idle {idle:.1f} ms: should grow toward scan_interval_ms=200"
        assert 400 <= fixed < 700, f"fixed at 400 ms, measured {fixed:.1f} ms"
        # A sample is a primed folio found touched: never more than were primed.
        for a, b in ((c0, c1), (c1, c2), (c3, c4)):
            touched = b["samples.abit.total"] - a["samples.abit.total"]
            primed = b["abit.primed"] - a["abit.primed"]
            assert 0 <= touched <= primed, (touched, primed)
        assert (c1["samples.abit.total"] - c0["samples.abit.total"]) > (
            c2["samples.abit.total"] - c1["samples.abit.total"]
        )
    finally:
        hog.exit()


def test_a_thp_costs_the_scan_one_entry(managing: None) -> None:
    """scan_pages counts mapped entries, and a PMD mapping a THP is one, as
    the walk's cost is; each process gets its entries over the steps a pass
    over all takes.  So a pass over a process in THPs takes as many steps
    as one over a process in base pages, and their counts are on one scale.
    Counted by pages, the THP process's pass took four times as many steps
    here (and a pass over 1 GiB of THPs 16 steps at the defaults: a hot THP
    waited four passes, a minute in the benchmark's full fast tier)."""
    thp, base = Memhog(64, thp=True, node=SLOW), Memhog(16, node=SLOW)
    try:
        # 32 + 4,096 entries, 1,024 a step: five steps a pass, for each.
        # Counted by pages, 16,384 + 4,096: the THP process 16 steps a pass
        # (two THPs a step), the other four.
        ctl_json("config", "scan_pages=1024", "scan_idle_div=1")
        for h in (thp, base):
            ctl_json("enable", "--pid", str(h.pid))
        c = counters(thp.pid)
        pages = c["managed_pages.fast"] + c["managed_pages.slow"]
        assert c["managed_folios"] <= pages - 511 * 30, c  # the premise: THPs
        before = {h.pid: counters(h.pid)["scans"] for h in (thp, base)}
        steps = stats()["totals"]["scan.steps"]
        time.sleep(12)
        steps = stats()["totals"]["scan.steps"] - steps
        passes = {h.pid: counters(h.pid)["scans"] - before[h.pid] for h in (thp, base)}
        assert steps >= 15, steps
        assert abs(passes[thp.pid] - passes[base.pid]) <= 2, (passes, steps)
        assert passes[thp.pid] >= steps / 8, (passes, steps)
    finally:
        thp.exit()
        base.exit()


def test_samples_reconcile_after_the_workloads(managing: None) -> None:
    hogs = [Memhog(16, thp=True), Memhog(16, node=SLOW)]
    try:
        for h in hogs:
            ctl_json("enable", "--pid", str(h.pid))
            h.do("hot 0 4 2")
        for h in hogs:
            reconciles(counters(h.pid))
    finally:
        for h in hogs:
            h.exit()
    reconciles(stats()["totals"])


def test_hardware_samplers_are_detected_and_reported(managing: None) -> None:
    # No PMU under TCG: the detection path runs and says why.
    samplers = {s["name"]: s for s in ctl_json("status")["samplers"]}
    for name in ("pebs", "ibs"):
        assert samplers[name]["available"] is False
        assert "not an" in samplers[name]["reason"] or "PMU" in samplers[name]["reason"]
    # What each would count is said where it cannot run too; nothing runs unmanaged.
    assert "REMOTE_DRAM" in samplers["pebs"]["events"]
    assert "IBS op" in samplers["ibs"]["events"]
    assert "page-faults" in samplers["fault"]["events"]
    assert all(s["counters"] == 0 for s in samplers.values())


def sampler(name: str) -> dict[str, Any]:
    return next(s for s in ctl_json("status")["samplers"] if s["name"] == name)


def fault_counters() -> int:
    return int(sampler("fault")["counters"])


def need_soft_dirty() -> None:
    """Faults on managed pages without giving them back: memhog's softdirty
    write-protects its pages through /proc/self/clear_refs (4), which only a
    kernel with soft-dirty tracking does (Debian's have it; a minimal
    virtme-ng config, the debug flavour's before it asked for it, does not)."""
    config = kernel_config(os.uname().release)
    if config and config.get("CONFIG_MEM_SOFT_DIRTY") != "y":
        pytest.skip(f"{os.uname().release} has no CONFIG_MEM_SOFT_DIRTY: no faults to sample")


def test_fault_samples_go_overflow_handler_ring_drain_table(managing: None) -> None:
    """The software sampler (page faults, a per-CPU perf counter) runs the
    path PEBS and IBS take: its counters exist only while a process is
    managed, every fault of the managed process becomes a sample that lands
    on its folio, and the counts reconcile."""
    need_soft_dirty()
    ncpu = os.cpu_count() or 1
    assert sampler("fault")["available"] is True
    # Heat from faults alone: no accessed-bit measurement.
    run_ctl("config", "fault_samples=1", "abit=0")
    hog = Memhog(16, node=SLOW)
    try:
        time.sleep(1)  # the work item that would start counters has run by now
        assert fault_counters() == 0, "counters running while nothing is managed"
        hog.do("softdirty 1")
        assert stats()["totals"]["samples.fault.total"] == 0

        ctl_json("enable", "--pid", str(hog.pid))
        wait_until(f"{ncpu} fault counters", lambda: fault_counters() == ncpu, timeout=30)
        before = counters(hog.pid)
        faults = int(hog.do("softdirty 3").split()[1])
        assert faults >= 3 * 16 * 256, f"only {faults} faults in 3 rounds over 4,096 pages"
        c = counters(hog.pid)
        got = {k: c[f"samples.fault.{k}"] - before[f"samples.fault.{k}"] for k in KINDS}
        total = c["samples.fault.total"] - before["samples.fault.total"]
        # Every fault is pushed (a fault the kernel retries is pushed twice).
        assert total >= faults, (total, faults, got)
        # ... and, unless its ring was full, hits a managed folio of the slow tier.
        assert got["slow"] + got["dropped"] >= 0.9 * faults, (faults, got)
        assert got["slow"] > 0, got
        reconciles(c)
        heat = entries(hog.pid)
        region = [h for a, (_t, h) in heat.items() if hog.addr <= a < hog.addr + (16 << 20)]
        warm = sum(h > 0 for h in region)
        assert warm >= 0.5 * len(region), f"{warm} of {len(region)} pages warmed by faults"

        run_ctl("disable", "--pid", str(hog.pid))
        wait_until("no fault counter", lambda: fault_counters() == 0, timeout=30)
        taken = stats()["totals"]["samples.fault.total"]
        hog.do("softdirty 1")
        assert stats()["totals"]["samples.fault.total"] == taken, "sampled while unmanaged"
    finally:
        hog.exit()


def test_fault_samples_alone_place_the_pages_they_hit(managing: None) -> None:
    """Samples from the perf path rank pages as the accessed bits do: with
    the accessed-bit sampler off, the range a process keeps faulting on is
    the one promoted."""
    need_soft_dirty()
    run_ctl("config", "fault_samples=1", "abit=0")
    hog = Memhog(64, node=SLOW)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        wait_until("fault counters", lambda: fault_counters() > 0, timeout=30)
        for _ in range(4):
            hog.do("softdirty 2 0 16")  # 8,192 faults a command, on MiB 0..16
        # What the last faults ranked may still be moving.
        wait_until(
            "the faulted range in the fast tier",
            lambda: pages_on_node(hog.pid, hog.addr, 16, FAST) >= 0.9,
            timeout=30,
        )
        cold = pages_on_node(hog.pid, hog.addr + (16 << 20), 48, FAST)
        c = counters(hog.pid)
        seen = {k: v for k, v in c.items() if k.startswith(("samples.fault.", "promoted"))}
        seen.update(histogram(), drains=stats()["totals"]["policy.drains"])
        assert c["samples.abit.total"] == 0, c
        assert cold <= 0.1, f"{cold} {seen}"
        # A ring half full is drained between rounds: most samples count.
        assert seen["drains"] > 0, seen
        assert c["samples.fault.dropped"] < 0.5 * c["samples.fault.total"], seen
    finally:
        hog.exit()


CPU1 = Path("/sys/devices/system/cpu/cpu1/online")


def test_fault_counters_follow_cpu_hotplug(managing: None) -> None:
    """A CPU going offline takes its counters with it; one coming online gets
    them while a process is managed.  The faults are of fresh memory (memhog
    grow, base pages: 256 a MiB), which every kernel takes."""
    if not CPU1.exists():
        pytest.skip("CPU 1 cannot be taken offline in this guest")
    ncpu = os.cpu_count() or 1
    run_ctl("config", "fault_samples=1")
    hog = Memhog(8)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        wait_until(f"{ncpu} fault counters", lambda: fault_counters() == ncpu, timeout=30)
        CPU1.write_text("0")
        try:
            wait_until("CPU 1's counter gone", lambda: fault_counters() == ncpu - 1, timeout=30)
            before = counters(hog.pid)["samples.fault.total"]
            hog.do("grow 1")
            assert counters(hog.pid)["samples.fault.total"] > before
        finally:
            CPU1.write_text("1")
        # A new counter, not the one perf detached when the CPU went away.
        wait_until("CPU 1's counter back", lambda: fault_counters() == ncpu, timeout=30)
        before = counters(hog.pid)["samples.fault.total"]
        subprocess.run(["taskset", "-p", "-c", "1", str(hog.pid)], check=True, capture_output=True)
        hog.do("grow 8")
        assert counters(hog.pid)["samples.fault.total"] >= before + 8 * 256
    finally:
        hog.exit()
    wait_until("no fault counter", lambda: fault_counters() == 0, timeout=30)


@pytest.mark.parametrize("bad", ["0x1000:0", "0x1000:70000", "zz"])
def test_bad_inject_input_is_refused(managing: None, bad: str) -> None:
    hog = Memhog(4)
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        r = run_ctl("inject", "--pid", str(hog.pid), bad, check=False)
        assert r.returncode == ExitCode.USAGE and r.stderr.strip()
    finally:
        hog.exit()


def test_replayed_trace_lands_on_the_rebased_pages(managing: None, tmp_path: Path) -> None:
    # A trace recorded elsewhere (addresses around 0x10000000) replays into
    # this process's region with --rebase; counts arrive exactly.
    hog = Memhog(8, node=SLOW)
    trace = tmp_path / "trace.txt"
    lines = ["# hagent-trace v1"]
    lines += [
        f"{i * 1000} {0x10000000 + (i % 16) * 4096:#x} 2 {'S' if i % 5 == 0 else 'L'}"
        for i in range(1000)
    ]
    trace.write_text("\n".join(lines) + "\n")
    try:
        ctl_json("enable", "--pid", str(hog.pid))
        out = ctl_json(
            "replay",
            str(trace),
            "--pid",
            str(hog.pid),
            "--no-timing",
            "--rebase",
            f"0x10000000:{hog.addr:#x}",
        )
        assert out["samples"] == 1000 and out["accesses"] == 2000
        c = counters(hog.pid)
        assert c["samples.inject.total"] == 2000
        assert c["samples.inject.slow"] == 2000
        reconciles(c)
        heat = entries(hog.pid)
        assert all(heat[hog.addr + i * 4096][1] > 0 for i in range(16))
    finally:
        hog.exit()
