# SPDX-License-Identifier: GPL-2.0
"""The benchmark's peers set up for real: a broken peer must fail here, not
report zeros in scripts/bench-placement's table.

These run in a guest of their own, booted with the benchmark's recipe (ACPI
HMAT describing node 1 as slower: tests/vm/run.py), through the benchmark's
own guest code (tests/vm/bench_placement.run) with a small, short scenario:
the fast node filled with the workload's own cold data, its hot set on the
slow node.  A system the host says this kernel cannot run
(bench_placement_host.unsupported) must say so in the guest too, with a
reason; one it can run must show that it acted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.vm import bench_placement as guest
from tests.vm import bench_systems
from tests.vm.bench_placement_host import kernel_config, summarize, unsupported

pytestmark = pytest.mark.peers

KERNEL = os.uname().release
# Big enough to fill the 512 MiB fast node; small enough to place quickly.
SMALL = guest.Scenario(
    "smoke",
    "fast node full of the workload's own data, a 32 MiB hot set on the slow node",
    workloads=(guest.Shape(640, 32),),
    layout="fill-fast",
)
SECONDS = 20.0


def why_not(system: str) -> str | None:
    return unsupported(
        system, KERNEL, kernel_config(KERNEL), Path(os.environ["HAGENT_KO"]).exists()
    )


def run_small(system: str) -> dict[str, Any]:
    record: dict[str, Any] = {}
    guest.run(SMALL, system, SECONDS, [], 1, "system", record)
    return record


def test_the_guest_recipe_puts_the_slow_node_in_a_lower_tier_where_the_kernel_can() -> None:
    if why_not("tpp") is None:
        bench_systems.check_tiers(bench_systems.node_tiers())
    else:  # 6.1: one tier for both nodes, as the host predicted
        with pytest.raises(bench_systems.Unavailable, match="lower memory tier|no memory tiers"):
            bench_systems.check_tiers(bench_systems.node_tiers())


@pytest.mark.parametrize("system", ["tpp", "damon"])
def test_peer_is_unavailable_with_a_reason_or_really_moves_pages(system: str) -> None:
    expected_reason = why_not(system)
    numa_balancing = bench_systems.NUMA_BALANCING.read_text()
    record = run_small(system)
    assert not record.get("error"), record.get("error")
    if expected_reason is not None:
        assert record.get("unavailable"), (
            f"{system} ran on {KERNEL}, but the host says: {expected_reason}"
        )
        return
    assert not record.get("unavailable"), record["unavailable"]
    s = summarize(record)
    assert s["samples"] >= SECONDS - 2, s
    delta = record["vmstat_delta"]
    if system == "tpp":
        assert record["system_status"]["demotion_enabled"] == "true"
        assert (
            delta.get("pgpromote_success", 0)
            + sum(v for k, v in delta.items() if k.startswith("pgdemote_"))
            > 0
        ), delta
    else:
        counters = record["system_counters"]
        assert counters["migrate_hot"]["sz_applied"] + counters["migrate_cold"]["sz_applied"] > 0
        assert any(name.startswith("kdamond") for name in record["workers"])
    assert s["pages_migrated"]["success"] > 0, s
    # and turned off again
    assert bench_systems.NUMA_BALANCING.read_text() == numa_balancing
    if system == "damon":
        assert (bench_systems.KDAMONDS / "nr_kdamonds").read_text().strip() == "0"
        assert not bench_systems.thread_pids(("kdamond",))
    else:
        assert bench_systems.DEMOTION.read_text().strip() == "false"


def test_hagent_runs_in_the_benchmark_and_is_unloaded() -> None:
    record = run_small("hagent")
    assert not record.get("error") and not record.get("unavailable"), record
    assert record["hagent_status"]
    assert "hagentd" in record["workers"]
    assert any(st.get("totals") for st in record["stats"])
    assert not Path("/sys/module/hagent").exists()
