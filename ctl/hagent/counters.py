"""The names of the counters the module sends: one Python model of its X-macro lists.

Plain data, in the module's order, read nowhere at run time from C:
tests/host/test_counters.py parses kmod/hagent/counters.h and overhead.h and
fails when a name, a kind or the order here differs.  Commands and the host
fake kernel take their names from here, never spell them anew.
"""

# HAGENT_COUNTERS (counters.h): per target and in total, name -> kind.
#   G gauge (current value), C cumulative since enable (totals: since load),
#   P measured over the most recent complete scan pass.
TARGET: dict[str, str] = {
    "managed_pages.fast": "G",
    "managed_pages.slow": "G",
    "managed_folios": "G",
    "adopted": "C",
    "released.disable": "C",
    "released.exit": "C",
    "released.unmap": "C",
    "released.fork": "C",
    "released.orphan": "C",
    "released.shrinker": "C",
    "released.unload": "C",
    "released.failsafe": "C",
    "released.migrate": "C",
    "skipped.locked": "P",
    "skipped.hugetlb": "P",
    "skipped.ksm": "P",
    "skipped.shared": "P",
    "skipped.large_pte": "P",
    "skipped.not_lru": "P",
    "skipped.node": "P",
    "skipped.cap": "P",
    "skipped.pressure": "P",
    "orphans": "C",
    "scans": "C",
    "abit.tlb_flushes": "C",
    "abit.windows": "C",
    "abit.window_us": "C",
    "abit.primed": "C",
    "promoted": "C",
    "demoted": "C",
    "exchanges": "C",
    "migrate.attempted": "C",
    "migrate_failed.isolation": "C",
    "migrate_failed.alloc": "C",
    "migrate_failed.eagain": "C",
    "migrate_failed.ebusy": "C",
    "migrate_failed.enomem": "C",
    "migrate_failed.other": "C",
    "abit.huge_windows": "C",
    "abit.huge_window_us": "C",
    "abit.huge_primed": "C",
    "released.memcg": "C",
    "skipped.memcg": "P",
    "released.offline": "C",
    "skipped.offline": "P",
    "released.pinned": "C",
    "skipped.pinned": "P",
    "released.memcg_reclaim": "C",
}

# HAGENT_GLOBAL_COUNTERS (counters.h): module-wide, totals only.
GLOBAL: tuple[str, ...] = (
    "targets.enabled",
    "targets.disabled",
    "targets.exited",
    "targets.failsafe",
    "checks.failed",
    "policy.drain_ns",
    "policy.scan_ns",
    "policy.decay_ns",
    "policy.place_ns",
    "policy.migrate_ns",
    "policy.settle_ns",
    "policy.rounds",
    "policy.drains",
    "scan.steps",
    "scan.idle_steps",
    "scan.wake.moved",
    "scan.wake.size",
    "scan.wake.slow_touched",
    "scan.wake.above_bar",
    "policy.migrate_cpu_ns",
    "follow.enabled",
    "follow.missed",
    "follow.over_limit",
    "shrinker.scans",
    "shrinker.memcg_scans",
    "shrinker.memcg_counts",
    "shrinker.busy",
)

OVERHEAD_PREFIX = "overhead."
FAULT_HIST = "overhead.fault.hist."  # + the bucket's lower bound in ns
# HAGENT_FAULT_HIST_NR and _SHIFT (overhead.h): bucket 0 from 0 ns, bucket
# k >= 1 from 2^(k + SHIFT) ns.
FAULT_HIST_NR = 20
FAULT_HIST_SHIFT = 8
FAULT_HIST_BOUNDS: tuple[int, ...] = (0,) + tuple(
    1 << (k + FAULT_HIST_SHIFT) for k in range(1, FAULT_HIST_NR)
)

# HAGENT_OVERHEAD_COUNTERS (overhead.h): module-wide, totals only.
OVERHEAD: tuple[str, ...] = (
    "overhead.probes",
    "overhead.tlb_flush.task_switch",
    "overhead.tlb_flush.remote_shootdown",
    "overhead.tlb_flush.local_shootdown",
    "overhead.tlb_flush.local_mm_shootdown",
    "overhead.tlb_flush.remote_send_ipi",
    "overhead.tlb_flush.pages",
    "overhead.tlb_flush.full",
    "overhead.mmap_lock.read",
    "overhead.mmap_lock.read_fail",
    "overhead.mmap_lock.write",
    "overhead.mmap_lock.write_fail",
    "overhead.fault.count",
    "overhead.fault.ns",
    "overhead.fault.retry",
    "overhead.fault.missed",
    "overhead.policy_cpu_ns",
    "overhead.trylock_fail",
    "overhead.migrate_ns",
    "overhead.migrate_pages",
    *(f"{FAULT_HIST}{lo}" for lo in FAULT_HIST_BOUNDS),
)

# Every name the module's STATS totals may carry that is not a samples.* one
# (those are built from sample.c's source and kind names).
TOTALS: tuple[str, ...] = (*TARGET, *GLOBAL, *OVERHEAD)


def group(prefix: str, names: tuple[str, ...] | dict[str, str] = TOTALS) -> tuple[str, ...]:
    """The parts after ``prefix`` of the names that start with it, in order."""
    return tuple(n.removeprefix(prefix) for n in names if n.startswith(prefix))


RELEASE_REASONS = group("released.")
SKIP_REASONS = group("skipped.")
MIGRATE_FAIL_REASONS = group("migrate_failed.")
TLB_FLUSH_REASONS = tuple(
    r for r in group("overhead.tlb_flush.") if r not in ("pages", "full")
)  # enum tlb_flush_reason; pages and full are not reasons
