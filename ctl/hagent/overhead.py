"""hagent's overhead counters (``overhead.*`` in the totals): figures and their views.

Pure: counters in, figures, a table and dashboard lines out.  ``hagentctl stats``
shows them since load, ``hagentctl top`` over its last interval.  The names are
the module's (kmod/hagent/overhead.h); a name missing from a reply drops its
figure, an unknown ``overhead.*`` name is shown under "other" by stats.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from hagent import counters

PREFIX = counters.OVERHEAD_PREFIX
HIST = counters.FAULT_HIST.removeprefix(PREFIX)  # + lower bound of the bucket in ns
PARAM = "/sys/module/hagent/parameters/probes"
# short and long label of each reason the module counts (enum tlb_flush_reason)
_TLB_LABELS = {
    "task_switch": ("switch", "task switch"),
    "remote_shootdown": ("remote", "remote shootdown"),
    "local_shootdown": ("local", "local shootdown"),
    "local_mm_shootdown": ("mm", "local mm shootdown"),
    "remote_send_ipi": ("ipi", "IPI sent"),
}
# reason, short label, long label, in the module's order (a reason without
# labels fails at import)
TLB_REASONS = tuple((r, *_TLB_LABELS[r]) for r in counters.TLB_FLUSH_REASONS)
TLB = tuple(f"tlb_flush.{r}" for r, _, _ in TLB_REASONS)
MMAP = ("mmap_lock.read", "mmap_lock.read_fail", "mmap_lock.write", "mmap_lock.write_fail")
# what the probes count: these move only while overhead.probes is 1
PROBED = (*TLB, "tlb_flush.pages", "tlb_flush.full", *MMAP, "fault.count", "fault.ns")
# shown by name in the stats table (every name but the histogram's); the rest
# goes under "other"
KNOWN = tuple(
    n.removeprefix(PREFIX) for n in counters.OVERHEAD if not n.startswith(counters.FAULT_HIST)
)


def present(counters: Mapping[str, int]) -> bool:
    """Whether the module sends overhead counters."""
    return any(k.startswith(PREFIX) for k in counters)


def without(counters: Mapping[str, int]) -> dict[str, int]:
    """The counters that are not overhead.* (for the main totals table)."""
    return {k: v for k, v in counters.items() if not k.startswith(PREFIX)}


def histogram(counts: Mapping[str, int]) -> list[tuple[int, int]]:
    """(lower bound in ns, faults) per fault-time bucket, in order."""
    out = []
    for name, n in counts.items():
        if name.startswith(HIST):
            try:
                out.append((int(name.removeprefix(HIST)), n))
            except ValueError:
                continue
    return sorted(out)


def quantile(buckets: list[tuple[int, int]], q: float) -> float | None:
    """An upper bound of the ``q`` quantile: the upper edge of the bucket it
    falls in (inf for the last, open bucket); None without faults."""
    total = sum(n for _, n in buckets)
    if total <= 0:
        return None
    seen = 0
    for i, (_, n) in enumerate(buckets):
        seen += n
        if n and seen >= q * total:
            return float(buckets[i + 1][0]) if i + 1 < len(buckets) else math.inf
    return math.inf


@dataclass
class Overhead:
    """The overhead over a span: since load (``seconds`` None) or an interval."""

    probes: bool | None  # the probes are on now; None: not reported
    seconds: float | None
    counts: dict[str, int]  # names without "overhead.", counted over the span

    def rate(self, name: str) -> float | None:
        n = self.counts.get(name)
        if n is None or not self.seconds:
            return None
        return n / self.seconds

    @property
    def tlb_flushes(self) -> int | None:
        parts = [self.counts[k] for k in TLB if k in self.counts]
        return sum(parts) if parts else None

    @property
    def fault_mean_ns(self) -> float | None:
        n, ns = self.counts.get("fault.count"), self.counts.get("fault.ns")
        return ns / n if n and ns is not None else None

    def fault_quantile_ns(self, q: float) -> float | None:
        return quantile(histogram(self.counts), q)

    @property
    def policy_cpu_share(self) -> float | None:
        """hagentd's CPU time over the span's wall time (1.0: one CPU)."""
        ns = self.counts.get("policy_cpu_ns")
        return ns / (self.seconds * 1e9) if ns is not None and self.seconds else None

    @property
    def migrate_ns_per_page(self) -> float | None:
        ns, pages = self.counts.get("migrate_ns"), self.counts.get("migrate_pages")
        return ns / pages if pages and ns is not None else None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"probes": self.probes, "seconds": self.seconds}
        if self.seconds:
            out["rates"] = {k: v / self.seconds for k, v in self.counts.items()}
        else:
            out["counts"] = self.counts
        p50, p99 = self.fault_quantile_ns(0.5), self.fault_quantile_ns(0.99)
        out.update(
            tlb_flushes=self.tlb_flushes,
            fault_mean_ns=self.fault_mean_ns,
            fault_p50_ns_at_most=None if p50 is None or math.isinf(p50) else p50,
            fault_p99_ns_at_most=None if p99 is None or math.isinf(p99) else p99,
            policy_cpu_share=self.policy_cpu_share,
            migrate_ns_per_page=self.migrate_ns_per_page,
        )
        return out


def since_load(totals: Mapping[str, int]) -> Overhead | None:
    """The overhead counted since the module was loaded; None when not reported."""
    if not present(totals):
        return None
    counts = {k.removeprefix(PREFIX): v for k, v in totals.items() if k.startswith(PREFIX)}
    probes = counts.pop("probes", None)
    return Overhead(None if probes is None else bool(probes), None, counts)


def interval(
    prev: Mapping[str, int] | None, cur: Mapping[str, int], seconds: float | None
) -> Overhead | None:
    """The overhead between two snapshots of the totals; None when not reported.

    A counter missing from either snapshot, or that went down (the module
    was reloaded), is left out.
    """
    now = since_load(cur)
    if now is None:
        return None
    if prev is None or not seconds or seconds <= 0:
        return Overhead(now.probes, seconds, {})
    counts = {}
    for name, v in now.counts.items():
        before = prev.get(PREFIX + name)
        if before is not None and v >= before:
            counts[name] = v - before
    return Overhead(now.probes, seconds, counts)


# --- how it looks --------------------------------------------------------------


def ns(x: float | None) -> str:
    """A duration in ns as 812 ns, 3.4 µs, 12 ms, 2.3 s; '-' when unknown."""
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if x >= div:
            v = x / div
            return f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{x:.0f} ns"


def num(x: float | None, wide: bool = False) -> str:
    """A count or rate in at most 4 characters: 0, 1.5, 12, 123, 1.2k, 34M; '-' when unknown.

    wide: at most 5, with one decimal below 100 (12.5), as the dashboard shows rates.
    """
    if x is None:
        return "-"
    if x == 0:
        return "0"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.1f}{unit}" if x < 10 * div else f"{x / div:.0f}{unit}"
    if wide:
        return f"{x:.1f}" if round(x, 1) < 100 else f"{x:.0f}"
    return f"{x:.1f}" if round(x, 1) < 10 and x != int(x) else f"{x:.0f}"


def _at_most(ov: Overhead, q: float) -> str:
    """The ``q`` fault-time quantile as "≤ 4.1 µs" ("≥ 134 ms" in the open bucket)."""
    buckets = histogram(ov.counts)
    x = quantile(buckets, q)
    if x is None:
        return "-"
    return f"≥ {ns(buckets[-1][0])}" if math.isinf(x) else f"≤ {ns(x)}"


def _probes(on: bool | None) -> str:
    return "-" if on is None else ("on" if on else "off")


def _pairs(items: Iterable[tuple[str, int | None]]) -> str:
    return ", ".join(f"{label} {v}" for label, v in items if v is not None)


def _share(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def table(ov: Overhead, title: str = "overhead since load") -> Table:
    """The ``hagentctl stats`` view: one row per kind of cost."""
    c = ov.counts
    t = Table(title=Text(title), title_justify="left")
    t.add_column("cost")
    t.add_column("value", justify="right")
    t.add_column("detail")
    t.add_row(
        "probes",
        _probes(ov.probes),
        Text(f"TLB, mmap_lock and fault counters move only while on ({PARAM})"),
    )
    if ov.tlb_flushes is not None:
        detail = _pairs((label, c.get(f"tlb_flush.{r}")) for r, _, label in TLB_REASONS)
        extra = _pairs((("pages", c.get("tlb_flush.pages")), ("full", c.get("tlb_flush.full"))))
        detail = "; ".join(part for part in (detail, extra) if part)
        t.add_row("TLB flushes", str(ov.tlb_flushes), Text(detail))
    if any(k in c for k in MMAP):
        t.add_row(
            "mmap_lock (managed)",
            str(sum(c.get(k, 0) for k in MMAP)),
            Text(
                f"read {c.get('mmap_lock.read', '-')} (failed {c.get('mmap_lock.read_fail', '-')})"
                f", write {c.get('mmap_lock.write', '-')}"
                f" (failed {c.get('mmap_lock.write_fail', '-')})"
            ),
        )
    if "fault.count" in c:
        parts = [
            f"mean {ns(ov.fault_mean_ns)}",
            f"p50 {_at_most(ov, 0.5)}",
            f"p99 {_at_most(ov, 0.99)}",
            f"total {ns(c.get('fault.ns'))}",
        ]
        if c.get("fault.retry"):
            parts.append(f"retried {c['fault.retry']}")
        if c.get("fault.missed"):
            parts.append(f"not timed {c['fault.missed']}")
        t.add_row("page faults (managed)", str(c["fault.count"]), Text(", ".join(parts)))
    if "policy_cpu_ns" in c:
        t.add_row("hagentd CPU", ns(c["policy_cpu_ns"]), "")
    if "trylock_fail" in c:
        t.add_row("mmap_lock tries failed (hagent)", str(c["trylock_fail"]), "")
    if "migrate_pages" in c:
        per = ov.migrate_ns_per_page
        detail = "-" if per is None else f"{ns(per)} per page, total {ns(c.get('migrate_ns'))}"
        t.add_row("migrated pages", str(c["migrate_pages"]), detail)
    other = [k for k in sorted(c) if k not in KNOWN and not k.startswith(HIST)]
    for i, name in enumerate(other):
        if i == 0:
            t.add_section()
        t.add_row(Text(f"other: {PREFIX}{name}"), str(c[name]), "")
    return t


def panel(ov: Overhead | None) -> list[Text]:
    """The ``hagentctl top`` lines: rates over the interval, each within 80 columns.

    One line with the probes off, four with them on; nothing when the module
    does not report overhead.  TLB flush reasons that did not happen are left
    out (the line can only overflow, and then be cut, when all five did).
    """
    if ov is None:
        return []
    share = ov.policy_cpu_share
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("overhead", style="bold")
    head.append(f"  probes {_probes(ov.probes)}")
    head.append(f"  hagentd CPU {_share(share)}")
    head.append(f"  trylock fail/s {num(ov.rate('trylock_fail'))}")
    per = ov.migrate_ns_per_page
    if per is not None:
        head.append(f"  migrate {ns(per)}/page")
    lines = [head]
    if not ov.probes:
        return lines
    total = ov.tlb_flushes
    per_s = None if total is None or not ov.seconds else total / ov.seconds
    reasons = " ".join(
        f"{label} {num(ov.rate(f'tlb_flush.{r}'))}"
        for r, label, _ in TLB_REASONS
        if ov.counts.get(f"tlb_flush.{r}")
    )
    lines.append(
        _text(
            f"  TLB flushes/s {num(per_s)}"
            f" (pages/s {num(ov.rate('tlb_flush.pages'))})" + (f": {reasons}" if reasons else "")
        )
    )
    lines.append(
        _text(
            f"  managed: mmap_lock/s read {num(ov.rate('mmap_lock.read'))}"
            f" ({num(ov.rate('mmap_lock.read_fail'))} failed)"
            f"  write {num(ov.rate('mmap_lock.write'))}"
            f" ({num(ov.rate('mmap_lock.write_fail'))} failed)"
        )
    )
    missed = ov.rate("fault.missed")
    lines.append(
        _text(
            f"  managed: faults/s {num(ov.rate('fault.count'))}  mean {ns(ov.fault_mean_ns)}"
            f"  p99 {_at_most(ov, 0.99)}" + (f"  untimed/s {num(missed)}" if missed else "")
        )
    )
    return lines


def _text(s: str) -> Text:
    return Text(s, no_wrap=True, overflow="ellipsis")
