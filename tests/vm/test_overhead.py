# SPDX-License-Identifier: GPL-2.0
"""Overhead counters: TLB flushes, mmap_lock tries, page-fault time, hagentd's CPU.

The probes (tracepoints tlb:tlb_flush and mmap_lock:mmap_lock_acquire_returned,
a kretprobe on handle_mm_fault) are off by default and switched by the module
parameter ``probes``.  Each test provokes a known workload with tests/vm/progs/churn.c
and checks the counters moved by what it did, or not at all with the probes off.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vm.churn import Churn
from tests.vm.conftest import KO, ctl_json, module_loaded, run_ctl, stats

PARAM = Path("/sys/module/hagent/parameters/probes")
NUMA_BALANCING = Path("/proc/sys/kernel/numa_balancing")
TLB_REASONS = (
    "task_switch",
    "remote_shootdown",
    "local_shootdown",
    "local_mm_shootdown",
    "remote_send_ipi",
)
# What the probes count; with them off none of these may move.
PROBED = (
    *(f"overhead.tlb_flush.{r}" for r in TLB_REASONS),
    "overhead.tlb_flush.pages",
    "overhead.tlb_flush.full",
    "overhead.mmap_lock.read",
    "overhead.mmap_lock.read_fail",
    "overhead.mmap_lock.write",
    "overhead.mmap_lock.write_fail",
    "overhead.fault.count",
    "overhead.fault.ns",
    "overhead.fault.retry",
)


def record(test: str, **figures: object) -> None:
    """Keep a test's figures in the results directory, for people to look at."""
    with (Path(os.environ["HAGENT_RESULTS"]) / "overhead.jsonl").open("a") as f:
        f.write(json.dumps({"test": test, **figures}) + "\n")


def overhead() -> dict[str, int]:
    return {k: v for k, v in stats()["totals"].items() if k.startswith("overhead.")}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


def hist(c: dict[str, int]) -> int:
    return sum(v for k, v in c.items() if k.startswith("overhead.fault.hist."))


def tlb_flushes(c: dict[str, int]) -> int:
    return sum(c[f"overhead.tlb_flush.{r}"] for r in TLB_REASONS)


def set_probes(on: bool) -> None:
    PARAM.write_text("1\n" if on else "0\n")
    assert PARAM.read_text().strip() == ("Y" if on else "N")


def enable(pid: int) -> None:
    assert ctl_json("enable", "--pid", str(pid))["pid"] == pid


@pytest.fixture
def no_numa_balancing() -> Iterator[None]:
    """NUMA balancing's hinting faults would add faults the test did not make."""
    old = NUMA_BALANCING.read_text()
    NUMA_BALANCING.write_text("0\n")
    try:
        yield
    finally:
        NUMA_BALANCING.write_text(old)


def test_counters_everywhere_probes_off_by_default(managing: None) -> None:
    t = stats()["totals"]
    names = [k for k in t if k.startswith("overhead.")]
    assert t["overhead.probes"] == 0 and PARAM.read_text().strip() == "N"
    always = ("policy_cpu_ns", "trylock_fail", "migrate_ns", "migrate_pages", "fault.missed")
    for name in (*PROBED, *(f"overhead.{n}" for n in always)):
        assert name in t, name
    assert len([k for k in names if k.startswith("overhead.fault.hist.")]) == 20
    assert all(t[k] == 0 for k in PROBED), {k: t[k] for k in PROBED}
    debugfs = dict(
        ln.split() for ln in Path("/sys/kernel/debug/hagent/totals").read_text().splitlines()
    )
    assert [k for k in debugfs if k.startswith("overhead.")] == names
    human = run_ctl("stats").stdout
    assert "overhead since load" in human and re.search(r"probes\s*│\s*off", human), human


def test_probes_switch_at_load_and_at_runtime() -> None:
    assert not module_loaded()
    run_ctl("load", "--ko", str(KO), "probes=1")
    try:
        assert PARAM.read_text().strip() == "Y"
        assert overhead()["overhead.probes"] == 1
        set_probes(False)
        assert overhead()["overhead.probes"] == 0
        set_probes(True)
        set_probes(True)  # no change, no error
        assert overhead()["overhead.probes"] == 1
        with pytest.raises(OSError):
            PARAM.write_text("maybe\n")
        assert overhead()["overhead.probes"] == 1
    finally:
        run_ctl("unload")  # with the probes on


def test_munmap_churn_raises_tlb_flushes(managing: None) -> None:
    iterations, pages = 300, 16
    churn = Churn()
    try:
        set_probes(True)
        before = overhead()
        churn.munmap(iterations, pages)
        d = delta(before, overhead())
        record("tlb", iterations=iterations, pages=pages, delta=d)
        # Every munmap of written pages flushes this CPU's TLB, and other
        # CPUs' when the mm was active there: the range (16 pages, below the
        # 33-page ceiling for ranged flushes), or all of it when this CPU's
        # TLB is more than one generation behind the mm's (seen on 6.1).
        assert (
            d["overhead.tlb_flush.local_mm_shootdown"] + d["overhead.tlb_flush.remote_send_ipi"]
            >= iterations
        ), d
        full = d["overhead.tlb_flush.full"]
        assert d["overhead.tlb_flush.pages"] + pages * full >= iterations * pages, d
        assert tlb_flushes(d) >= iterations
    finally:
        churn.exit()


def test_fault_time_counts_every_fault_of_a_managed_process(
    managing: None, no_numa_balancing: None
) -> None:
    n = 2000
    churn = Churn()
    other = Churn()  # not managed: its faults are not timed
    try:
        churn.prep(n)
        other.prep(n)
        enable(churn.pid)
        set_probes(True)
        before = overhead()
        churn.touch()
        other.touch()
        d = delta(before, overhead())
        record("fault", n=n, delta=d)
        # handle_mm_fault() runs once per fault, twice when it asks for a
        # retry (none expected for fresh anonymous pages, counted if any).
        assert d["overhead.fault.count"] - d["overhead.fault.retry"] == n, d
        assert d["overhead.fault.missed"] == 0, d
        assert hist(d) == d["overhead.fault.count"]
        assert d["overhead.fault.ns"] >= d["overhead.fault.count"] * 100, d
        c = overhead()
        assert hist(c) == c["overhead.fault.count"]
    finally:
        churn.exit()
        other.exit()


def test_munmap_loops_contend_for_mmap_lock_while_hagent_scans(managing: None) -> None:
    churn = Churn()
    try:
        churn.prep(16384)  # 64 MiB for hagentd to walk every 200 ms
        churn.touch()
        enable(churn.pid)
        set_probes(True)
        before = overhead()
        loops = churn.threads(2, 4, 16)
        d = delta(before, overhead())
        record("mmap_lock", loops=loops, delta=d)
        assert loops > 0
        assert d["overhead.mmap_lock.write"] >= 2 * loops, (loops, d)  # mmap + munmap
        assert d["overhead.mmap_lock.read"] > 0, d  # hagentd's passes, faults
        # A page fault tries mmap_lock for reading first; it fails while the
        # other thread holds it for writing or waits for hagentd's pass.
        assert d["overhead.mmap_lock.read_fail"] > 0, (loops, d)
        assert d["overhead.tlb_flush.remote_send_ipi"] > 0, d  # two threads, two CPUs
    finally:
        churn.exit()


def test_probes_off_nothing_moves(managing: None, no_numa_balancing: None) -> None:
    churn = Churn()
    try:
        churn.prep(1000)
        enable(churn.pid)
        set_probes(True)
        set_probes(False)
        before = overhead()
        churn.touch()
        churn.munmap(100, 16)
        churn.threads(2, 1, 16)
        after = overhead()
        assert after["overhead.probes"] == 0
        assert {k: after[k] for k in PROBED} == {k: before[k] for k in PROBED}
        assert hist(after) == hist(before)
    finally:
        churn.exit()


def test_policy_thread_cpu_time(managing: None) -> None:
    churn = Churn()
    try:
        churn.prep(16384)
        churn.touch()
        enable(churn.pid)
        before = overhead()
        time.sleep(3)  # about 15 passes over 64 MiB
        d = delta(before, overhead())
        record("policy", delta=d)
        assert d["overhead.policy_cpu_ns"] > 0, d
        assert d["overhead.policy_cpu_ns"] < 3 * 2 * 10**9  # two CPUs at most
        # Counted by the scan's and the migrations' own code paths, always.
        for name in ("trylock_fail", "migrate_ns", "migrate_pages"):
            assert f"overhead.{name}" in d
    finally:
        churn.exit()


@pytest.mark.tcg_single  # unloading unpatches handle_mm_fault() while it runs (tests/vm/run.py)
@pytest.mark.parametrize("after", [0.3, 0.7, 2.0])
def test_unload_with_probes_on_while_faulting(after: float) -> None:
    """Unloading takes the kretprobe off handle_mm_fault() while two threads
    fault through it: at different points of a fault's life, nothing may
    crash, and the threads go on."""
    assert not module_loaded()
    run_ctl("load", "--ko", str(KO), "probes=1", "scan_interval_ms=200")
    churn = Churn()
    try:
        churn.prep(4096)
        churn.touch()
        enable(churn.pid)
        churn.send("threads 2 4 64")  # faulting and unmapping while hagent goes
        time.sleep(after)
        assert overhead()["overhead.fault.count"] > 0
        run_ctl("unload")
        assert not module_loaded()
        assert int(churn.reply("threads")[0]) > 0
    finally:
        churn.exit()
        if module_loaded():
            run_ctl("unload")
