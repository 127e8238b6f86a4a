# SPDX-License-Identifier: GPL-2.0
"""scripts/bench-placement's peers: which systems a kernel supports, their
set-up against a fake sysfs (tier check, DAMON's configuration), and the
per-system figures and table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.vm import bench_placement_host as bp
from tests.vm import bench_systems as bs

CONFIG_612 = {
    "CONFIG_NUMA_BALANCING": "y",
    "CONFIG_DAMON_PADDR": "y",
    "CONFIG_DAMON_SYSFS": "y",
}
CONFIG_61 = {"CONFIG_NUMA_BALANCING": "y"}


def test_which_systems_each_kernel_supports() -> None:
    k612, k61 = "6.12.95+deb12-amd64", "6.1.0-57-amd64"
    assert [s for s in bs.SYSTEMS if bp.unsupported(s, k612, CONFIG_612, True)] == []
    why = {s: bp.unsupported(s, k61, CONFIG_61, True) for s in bs.SYSTEMS}
    assert why["baseline"] is None and why["autonuma"] is None and why["hagent"] is None
    assert why["tpp"] is not None and "6.10" in why["tpp"]
    assert why["damon"] is not None and "DAMON" in why["damon"]
    # DAMON built in but too old for migrate_hot
    assert "6.11" in (bp.unsupported("damon", "6.10.3", CONFIG_612, True) or "")
    assert "NUMA_BALANCING" in (bp.unsupported("tpp", k612, {}, True) or "")
    assert "make module" in (bp.unsupported("hagent", k612, CONFIG_612, False) or "")
    assert bp.kernel_version("6.12.95+deb12-amd64") == (6, 12)
    assert bp.kernel_version("weird") == (0, 0)


def test_kernel_config_reads_set_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bp.kernel_config("no-such-kernel-0") == {}
    # a kernel outside /boot (the debug flavour): its build tree's .config
    real_path = bp.Path
    rel = "0.0.0-hagent-test"

    def fake(p: str) -> Path:
        return real_path(str(p).replace(f"/lib/modules/{rel}/build", str(tmp_path)))

    monkeypatch.setattr(bp, "Path", fake)
    (tmp_path / ".config").write_text("# c\nCONFIG_DAMON=y\n# CONFIG_X is not set\n")
    assert bp.kernel_config(rel) == {"CONFIG_DAMON": "y"}


def fake_tiers(root: Path, tiers: dict[int, str]) -> None:
    for tier, nodelist in tiers.items():
        d = root / f"memory_tier{tier}"
        d.mkdir(parents=True)
        (d / "nodelist").write_text(nodelist + "\n")


def test_tier_check_wants_the_slow_node_in_a_lower_tier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bs, "TIERS", tmp_path)
    fake_tiers(tmp_path, {4: "0", 72: "1"})  # what 6.12 shows with the HMAT recipe
    assert bs.node_tiers() == {0: 4, 1: 72}
    bs.check_tiers(bs.node_tiers())


@pytest.mark.parametrize(
    ("tiers", "why"),
    [
        ({4: "0-1"}, "not in a lower memory tier"),  # 6.1: one tier for both
        ({4: "1", 72: "0"}, "not in a lower memory tier"),
        ({4: "0"}, "no memory tiers"),
    ],
)
def test_tier_check_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiers: dict[int, str], why: str
) -> None:
    monkeypatch.setattr(bs, "TIERS", tmp_path)
    fake_tiers(tmp_path, tiers)
    with pytest.raises(bs.Unavailable, match=why):
        bs.check_tiers(bs.node_tiers())


def test_tpp_prepare_is_unavailable_without_demotion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bs, "DEMOTION", tmp_path / "missing")
    with pytest.raises(bs.Unavailable, match="cannot demote"):
        bs.Tpp().prepare()


def fake_nodes(root: Path) -> None:
    (root / "memory").mkdir()
    (root / "memory" / "block_size_bytes").write_text("8000000\n")  # 128 MiB, in hex
    for nid, blocks in ((0, range(0, 4)), (1, range(4, 16))):
        d = root / "node" / f"node{nid}"
        d.mkdir(parents=True)
        for b in blocks:
            (d / f"memory{b}").mkdir()
        (d / "memory_failure").mkdir()


def test_node_ranges_from_memory_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_nodes(tmp_path)
    monkeypatch.setattr(bs, "NODES", tmp_path / "node")
    monkeypatch.setattr(bs, "MEMORY", tmp_path / "memory")
    assert bs.node_range(0) == (0, 512 << 20)
    assert bs.node_range(1) == (512 << 20, 2048 << 20)


@pytest.fixture(autouse=True)
def no_host_damon_stat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never the host's own DAMON_STAT switch: a test sets up its own."""
    monkeypatch.setattr(bs, "DAMON_STAT", tmp_path / "no-damon-stat")


def fake_kdamonds(root: Path) -> None:
    """The sysfs tree DAMON's admin interface shows for two kdamonds, one
    context, target, region, scheme and filter each (6.12)."""
    root.mkdir(parents=True)
    (root / "nr_kdamonds").write_text("0\n")
    for k in ("0", "1"):
        c = root / k / "contexts" / "0"
        for d in (
            "monitoring_attrs/intervals",
            "monitoring_attrs/nr_regions",
            "targets/0/regions/0",
            "schemes/0/access_pattern/sz",
            "schemes/0/access_pattern/nr_accesses",
            "schemes/0/access_pattern/age",
            "schemes/0/quotas/weights",
            "schemes/0/watermarks",
            "schemes/0/filters/0",
            "schemes/0/stats",
        ):
            (c / d).mkdir(parents=True, exist_ok=True)
        (root / k / "state").write_text("off\n")
        (root / k / "pid").write_text("-1\n")
        for f, v in (("sz_applied", 1 << 20), ("nr_applied", 256), ("nr_tried", 300)):
            (c / "schemes" / "0" / "stats" / f).write_text(f"{v}\n")
        for f in ("sz_tried", "qt_exceeds"):
            (c / "schemes" / "0" / "stats" / f).write_text("0\n")


def test_damon_configures_promotion_and_demotion_as_the_kernel_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_nodes(tmp_path)
    kd = tmp_path / "kdamonds"
    fake_kdamonds(kd)
    monkeypatch.setattr(bs, "NODES", tmp_path / "node")
    monkeypatch.setattr(bs, "MEMORY", tmp_path / "memory")
    monkeypatch.setattr(bs, "KDAMONDS", kd)
    d = bs.Damon()
    d.prepare()
    with pytest.raises(RuntimeError, match="did not start"):  # a fake kdamond has no pid
        d.start([123])

    def read(path: str) -> str:
        return (kd / path).read_text().strip()

    hot, cold = "0/contexts/0/", "1/contexts/0/"
    assert read("nr_kdamonds") == "2" and read("0/state") == "on" and read("1/state") == "on"
    assert read(hot + "operations") == "paddr" and read(cold + "operations") == "paddr"
    # promotion watches node 1, demotion node 0
    assert read(hot + "targets/0/regions/0/start") == str(512 << 20)
    assert read(hot + "targets/0/regions/0/end") == str(2048 << 20)
    assert read(cold + "targets/0/regions/0/start") == "0"
    assert read(cold + "targets/0/regions/0/end") == str(512 << 20)
    assert read(hot + "schemes/0/action") == "migrate_hot"
    assert read(hot + "schemes/0/target_nid") == "0"
    assert read(cold + "schemes/0/action") == "migrate_cold"
    assert read(cold + "schemes/0/target_nid") == "1"
    # hot: accessed at least once per aggregation; cold: never
    assert read(hot + "schemes/0/access_pattern/nr_accesses/min") == "1"
    assert read(cold + "schemes/0/access_pattern/nr_accesses/max") == "0"
    assert read(hot + "schemes/0/quotas/bytes") == str(200 << 20)
    # 6.12 filters exclude what matches: promote young pages, demote the others
    assert read(hot + "schemes/0/filters/0/type") == "young"
    assert read(hot + "schemes/0/filters/0/matching") == "N"
    assert read(cold + "schemes/0/filters/0/matching") == "Y"
    assert read(hot + "monitoring_attrs/intervals/aggr_us") == "100000"
    counters = d.counters()
    assert counters["migrate_hot"]["sz_applied"] == 1 << 20
    assert counters["migrate_cold"]["nr_applied"] == 256
    d.stop()
    assert read("0/state") == "off" and read("nr_kdamonds") == "0"


def test_damon_stat_is_turned_off_while_damon_runs_and_back_on_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian's 7.3 starts DAMON_STAT at boot, exclusively: a kdamond of the
    sysfs interface then fails to start with EBUSY."""
    fake_nodes(tmp_path)
    kd = tmp_path / "kdamonds"
    fake_kdamonds(kd)
    stat = tmp_path / "damon_stat_enabled"
    stat.write_text("Y\n")
    monkeypatch.setattr(bs, "NODES", tmp_path / "node")
    monkeypatch.setattr(bs, "MEMORY", tmp_path / "memory")
    monkeypatch.setattr(bs, "KDAMONDS", kd)
    monkeypatch.setattr(bs, "DAMON_STAT", stat)
    d = bs.Damon()
    d.prepare()
    assert stat.read_text().strip() == "N"
    d.stop()
    assert stat.read_text().strip() == "Y"
    # off already (6.12, or turned off by the user): left off
    stat.write_text("N\n")
    d = bs.Damon()
    d.prepare()
    d.stop()
    assert stat.read_text().strip() == "N"


def test_damon_unavailable_without_sysfs_or_when_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bs, "KDAMONDS", tmp_path / "missing")
    with pytest.raises(bs.Unavailable, match="no DAMON sysfs"):
        bs.Damon().prepare()
    kd = tmp_path / "kdamonds"
    kd.mkdir()
    (kd / "nr_kdamonds").write_text("1\n")
    monkeypatch.setattr(bs, "KDAMONDS", kd)
    with pytest.raises(bs.Unavailable, match="already in use"):
        bs.Damon().prepare()


# --- per-system figures ---------------------------------------------------------


def run_record(system: str, shares: list[float], **extra: Any) -> dict[str, Any]:
    samples = [
        {
            "elapsed": float(i + 1),
            "updates_per_s": 1e6,
            "hot_fast_share": s,
            "region_fast_share": 0.4,
        }
        for i, s in enumerate(shares)
    ]
    return {
        "scenario": "full-own",
        "system": system,
        "config": {"move_at": None, "thp": "system", "duration": len(shares)},
        "kernel": "6.12.95+deb12-amd64",
        "thp_enabled": "[always] madvise never",
        "workloads": [{"pid": 100, "samples": samples}],
        **extra,
    }


def test_shares_at_fixed_times() -> None:
    s = bp.summarize(run_record("tpp", [min(1.0, i / 100) for i in range(130)]))
    # the share at elapsed t is (t - 1) / 100
    assert s["hot_share_at_30"] == pytest.approx(0.29)
    assert s["hot_share_at_60"] == pytest.approx(0.59)
    assert s["hot_share_at_120"] == pytest.approx(1.0)
    short = bp.summarize(run_record("tpp", [0.5] * 40))
    assert short["hot_share_at_30"] == 0.5 and short["hot_share_at_120"] is None


def test_workers_cpu_per_thread_total_and_workload_sys() -> None:
    kthreads = [
        {"t": 0.0, "cpu_ns": {"kswapd0": 0, "kdamond.0": 0}, "workload_sys_ns": 0},
        {"t": 5.0, "cpu_ns": {"kswapd0": None, "kdamond.0": 10**8}, "workload_sys_ns": 10**8},
        {
            "t": 10.0,
            "cpu_ns": {"kswapd0": 10**8, "kdamond.0": 4 * 10**8},
            "workload_sys_ns": 5 * 10**8,
        },
    ]
    cpu = bp.workers_cpu(kthreads)
    assert cpu is not None
    assert cpu["threads"] == pytest.approx({"kswapd0": 1.0, "kdamond.0": 4.0})
    assert cpu["total"] == pytest.approx(5.0) and cpu["workload_sys"] == pytest.approx(5.0)
    last = bp.workers_cpu(kthreads, last=5.0)
    assert last is not None and last["threads"]["kdamond.0"] == pytest.approx(6.0)
    assert bp.workers_cpu(kthreads[:1]) is None


def test_pages_migrated_over_the_run_and_the_last_30s() -> None:
    vm = [
        {"t": float(t), "pgmigrate_success": 100 * t, "pgmigrate_fail": t // 10}
        for t in range(1, 91)
    ]
    assert bp.vm_moved(vm) == {"success": 9000, "fail": 9}
    assert bp.vm_moved(vm, last=30.0) == {"success": 3000, "fail": 3}
    assert bp.vm_moved([]) is None and bp.vm_moved(vm[:1], last=30.0) is None


def test_evidence_that_each_system_acted() -> None:
    tpp = run_record(
        "tpp",
        [0.1],
        vmstat_delta={"pgpromote_success": 12, "pgdemote_kswapd": 30, "pgdemote_direct": 4},
    )
    assert bp.evidence(tpp) == "promote 12 demote 34 pages"
    damon = run_record(
        "damon",
        [0.1],
        system_counters={
            "migrate_hot": {"sz_applied": 64 << 20},
            "migrate_cold": {"sz_applied": 0},
        },
    )
    assert bp.evidence(damon) == "applied hot 64 MiB, cold 0 MiB"
    hagent = run_record(
        "hagent", [0.1], stats=[{"t": 1.0, "totals": {"promoted": 5, "demoted": 2}}]
    )
    assert bp.evidence(hagent) == "promoted 5 demoted 2 pages"
    auto = run_record("autonuma", [0.1], vmstat_delta={"numa_pages_migrated": 7})
    assert bp.evidence(auto) == "numa_pages_migrated 7"
    assert bp.evidence(run_record("baseline", [0.0])) == "-"


def test_table_has_a_row_per_system_and_says_why_one_could_not_run() -> None:
    tpp = run_record(
        "tpp",
        [min(1.0, i / 50) for i in range(130)],
        vmstat=[
            {"t": float(t), "pgmigrate_success": 10 * t, "pgmigrate_fail": 0} for t in range(1, 131)
        ],
        vmstat_delta={"pgpromote_success": 1300, "pgdemote_kswapd": 900},
    )
    summaries = {
        "tpp": bp.summarize(tpp),
        "damon": bp.summarize({"unavailable": "kernel built without DAMON"}),
        "hagent": {"samples": 0, "error": "VM: VM did not return status"},
    }
    text = bp.table(
        "full-own", summaries, "6.12.95+deb12-amd64; THP system (kernel: always); 130 s"
    )
    lines = text.splitlines()
    assert lines[0].startswith("full-own: the fast node starts full")
    assert "THP system (kernel: always)" in lines[0]
    assert lines[1].split()[:4] == ["system", "@30s", "@60s", "@120s"]
    row = lines[2].split()
    assert row[0] == "tpp" and row[1:4] == ["0.58", "1.00", "1.00"]
    assert row[4] == "46"  # t(0.90): (t - 1) / 50 >= 0.9 at t = 46
    assert "1,300" in lines[2] and "900" in lines[2]
    assert "damon: unavailable: kernel built without DAMON" in text
    assert "hagent: failed: VM: VM did not return status" in text
    assert not any(ln.startswith("damon ") for ln in lines)  # no row of zeros


def test_header_names_kernel_thp_and_duration() -> None:
    recs = {
        "tpp": run_record("tpp", [0.0] * 10),
        "damon": {"kernel": "6.12.95+deb12-amd64", "unavailable": "x"},
    }
    assert bp.header_of(recs) == "6.12.95+deb12-amd64; THP system (kernel: always); 10 s"
