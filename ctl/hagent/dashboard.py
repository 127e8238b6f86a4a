"""The `hagentctl top` dashboard: counter snapshots in, figures and a rich frame out.

Pure: no clock, no kernel, no terminal.  A Dashboard is fed successive
(monotonic time, Stats) snapshots; rates come from the deltas between the last
two, the sparklines from a history of the last WINDOW seconds per target.  A
counter missing from a snapshot drops its figure; a counter that went down
(a target re-enabled under the same pid) has no rate for that interval.
"""

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text

from hagent import overhead as ovh
from hagent.commands.stats import PAGE_SIZE, cgroup_names, target_bias, workload_of
from hagent.kernel import Stats, Target

WINDOW = 60.0  # seconds of history behind a sparkline
SPARK_WIDTH = 20  # columns of a sparkline: WINDOW / SPARK_WIDTH seconds each
BLOCKS = "▁▂▃▄▅▆▇█"
MiB = 1 << 20

SOURCES = ("pebs", "ibs", "abit", "inject")  # the module's order; others follow
# placement counters (kmod/hagent/counters.h): rate label, counter name
MIGRATE = (
    ("promoted", "promoted"),
    ("demoted", "demoted"),
    ("exchanges", "exchanges"),
    ("migrate.attempted", "migrate.attempted"),
)
FAIL = "migrate_failed."
# Costs outside overhead.* (which ovh.panel shows), as rates from the totals
# when the module sends them: the TLB flushes of the accessed-bit sampler.
OVERHEAD = ("abit.tlb_flushes",)
TOTALS = (
    ("enabled", "targets.enabled"),
    ("disabled", "targets.disabled"),
    ("exited", "targets.exited"),
)
FOOTNOTE = "* estimated from samples.fast/(fast+slow) in the last interval; sparklines: 60 s"
PACE_WINDOW = 10.0  # at least this many seconds of scan steps behind the pace line
WAKE = "scan.wake."
SETTLED = "settled (idle pace)"


@dataclass
class Pace:
    """hagentd's scan pace over the last PACE_WINDOW seconds (kmod/hagent/policy.c)."""

    seconds: float  # what the figures cover: PACE_WINDOW or a little more (less at first)
    steps: int
    idle: int  # of them at the idle pace (settled: scan_idle_div times slower)
    woken: dict[str, int]  # scan.wake.<reason> -> times, only the ones that happened

    @property
    def state(self) -> str:
        if not self.steps:
            return "no scan step"
        if self.idle == self.steps:
            return SETTLED
        if not self.idle:
            return "full pace"
        return "settling"

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "steps": self.steps,
            "idle_steps": self.idle,
            "state": self.state,
            "woken": self.woken,
        }


@dataclass
class PlacementFigures:
    """A target's migrations since it was enabled (the rates are in TargetFigures.rates)."""

    attempted: int  # pages handed to migrate_pages()
    failed: dict[str, int]  # by reason, in the module's order
    promoted_spark: str = ""  # promoted pages per second over the window

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def failure_rate(self) -> float | None:
        """Failed / attempted since enabled; None before any attempt."""
        return self.failed_total / self.attempted if self.attempted else None

    def as_json(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "failed": self.failed,
            "failure_rate": self.failure_rate,
        }


@dataclass
class TargetFigures:
    """What the dashboard shows for one target (and what --json prints)."""

    pid: int
    comm: str
    managed_fast: int | None
    managed_slow: int | None
    fast_share: float | None  # of managed pages, now
    sampled_fast_share: float | None  # of fast+slow samples in the last interval
    bias: float | None  # as in `stats`: since the target was enabled
    dropped: int | None  # samples.dropped since enabled
    rates: dict[str, float] = field(default_factory=dict)  # per second, last interval
    fast_share_spark: str = ""
    samples_spark: str = ""
    placement: PlacementFigures | None = None  # None: the module sends no placement counters
    workload: str = ""  # what brought it in (stats.workload_of): "" for none

    @property
    def managed(self) -> int:
        return (self.managed_fast or 0) + (self.managed_slow or 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "comm": self.comm,
            "managed_fast": self.managed_fast,
            "managed_slow": self.managed_slow,
            "fast_share": self.fast_share,
            "sampled_fast_share": self.sampled_fast_share,
            "rates": self.rates,
            "bias": self.bias,
            "dropped": self.dropped,
            "workload": self.workload or None,
            "placement": None if self.placement is None else self.placement.as_json(),
        }


@dataclass
class Figures:
    """One frame's worth of numbers."""

    interval: float | None  # seconds between the last two snapshots (None: only one)
    targets: list[TargetFigures]
    totals: dict[str, int]  # targets.*, checks.failed as sent, plus "targets" (now)
    overhead: dict[str, float]  # per second
    costs: ovh.Overhead | None = None  # the module's overhead.* over the interval
    pace: Pace | None = None  # None: one snapshot, or a module without scan.* counters

    def as_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "totals": self.totals,
            "overhead": self.overhead,
            "costs": None if self.costs is None else self.costs.as_json(),
            "pace": None if self.pace is None else self.pace.as_json(),
            "targets": [t.as_json() for t in self.targets],
        }


def _rate(
    prev: Mapping[str, int] | None, cur: Mapping[str, int], name: str, dt: float
) -> float | None:
    if prev is None or dt <= 0 or name not in cur or name not in prev:
        return None
    delta = cur[name] - prev[name]
    return delta / dt if delta >= 0 else None


def _delta(prev: Mapping[str, int] | None, cur: Mapping[str, int], name: str) -> int | None:
    if prev is None or name not in cur or name not in prev:
        return None
    delta = cur[name] - prev[name]
    return delta if delta >= 0 else None


def _sum(counters: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The sum of the ``prefix*`` counters under the name ``prefix`` (if any)."""
    parts = [v for k, v in counters.items() if k.startswith(prefix)]
    return {prefix: sum(parts)} if parts else {}


def _sources(counters: Mapping[str, int]) -> list[str]:
    found = {
        k.split(".")[1]
        for k in counters
        if k.startswith("samples.") and k.count(".") == 2 and k.endswith(".total")
    }
    return [s for s in SOURCES if s in found] + sorted(found - set(SOURCES))


def target_rates(
    prev: Mapping[str, int] | None, cur: Mapping[str, int], dt: float
) -> dict[str, float]:
    """Per-second rates of one target's counters over the interval ``dt``.

    Keys: adopted, released (all reasons), samples, samples.<source>, dropped,
    promoted/demoted/exchanges, migrate.attempted and migrate_failed.<reason>
    -- each only when the module sends the counter and the interval has a
    rate for it.
    """
    released_prev = _sum(prev, "released.") if prev is not None else None
    names: list[tuple[str, str, Mapping[str, int] | None, Mapping[str, int]]] = [
        ("adopted", "adopted", prev, cur),
        ("released", "released.", released_prev, _sum(cur, "released.")),
        ("samples", "samples.total", prev, cur),
    ]
    names += [(f"samples.{s}", f"samples.{s}.total", prev, cur) for s in _sources(cur)]
    names.append(("dropped", "samples.dropped", prev, cur))
    names += [(label, name, prev, cur) for label, name in MIGRATE]
    names += [(k, k, prev, cur) for k in cur if k.startswith(FAIL)]
    rates: dict[str, float] = {}
    for label, name, p, c in names:
        r = _rate(p, c, name, dt)
        if r is not None:
            rates[label] = r
    return rates


def sampled_fast_share(prev: Mapping[str, int] | None, cur: Mapping[str, int]) -> float | None:
    """samples.fast / (samples.fast + samples.slow) over the interval; None without samples."""
    fast, slow = _delta(prev, cur, "samples.fast"), _delta(prev, cur, "samples.slow")
    if fast is None or slow is None or fast + slow == 0:
        return None
    return fast / (fast + slow)


def sparkline(
    points: Iterable[tuple[float, float | None]],
    now: float,
    top: float | None = None,
    width: int = SPARK_WIDTH,
    window: float = WINDOW,
) -> str:
    """The last ``window`` seconds as ``width`` columns (mean per column, blank: no data).

    Scaled to ``top`` (None: the largest value shown); the oldest column is left.
    """
    step = window / width
    sums = [0.0] * width
    counts = [0] * width
    for t, v in points:
        if v is None or t <= now - window or t > now:
            continue
        col = min(width - 1, int((t - (now - window)) / step))
        sums[col] += v
        counts[col] += 1
    means = [s / n if n else None for s, n in zip(sums, counts, strict=True)]
    scale = top if top is not None else max((m for m in means if m is not None), default=0.0)
    out = []
    for m in means:
        if m is None:
            out.append(" ")
        elif scale <= 0:
            out.append(BLOCKS[0])
        else:
            level = round(max(0.0, min(1.0, m / scale)) * (len(BLOCKS) - 1))
            out.append(BLOCKS[level])
    return "".join(out)


@dataclass
class _History:
    comm: str
    points: deque[tuple[float, float | None, float | None]] = field(default_factory=deque)
    promoted: deque[tuple[float, float | None]] = field(default_factory=deque)  # pages/s


class Dashboard:
    """Successive snapshots in (update), figures and frames out."""

    def __init__(
        self, window: float = WINDOW, cgroup_path: Callable[[int], Path | None] | None = None
    ) -> None:
        self.window = window
        self._cgroup_path = cgroup_path  # names a cgroup workload by its path
        self._cgroups: dict[int, str] = {}  # id -> path, asked once each
        self._prev: tuple[float, Stats] | None = None
        self._cur: tuple[float, Stats] | None = None
        self._history: dict[int, _History] = {}
        self._scan: deque[tuple[float, Mapping[str, int]]] = deque()  # totals behind the pace

    def update(self, now: float, stats: Stats) -> None:
        """Take a snapshot taken at monotonic time ``now``."""
        self._prev, self._cur = self._cur, (now, stats)
        self._scan.append((now, stats["totals"]))
        while len(self._scan) > 2 and self._scan[1][0] <= now - PACE_WINDOW:
            self._scan.popleft()
        prev_targets = self._prev_targets()
        dt = self._interval()
        seen = set()
        for t in stats["targets"]:
            seen.add(t["pid"])
            h = self._history.get(t["pid"])
            if h is None or h.comm != t["comm"]:  # new, or the pid was reused
                h = self._history[t["pid"]] = _History(t["comm"])
            prev = prev_targets.get(t["pid"])
            rate = _rate(prev, t["counters"], "samples.total", dt or 0.0)
            h.points.append((now, _fast_share(t["counters"]), rate))
            while h.points and h.points[0][0] <= now - self.window:
                h.points.popleft()
            _record_placement(h, now, prev, t["counters"], dt, self.window)
        for pid in set(self._history) - seen:
            del self._history[pid]

    def _interval(self) -> float | None:
        if self._prev is None or self._cur is None:
            return None
        return self._cur[0] - self._prev[0]

    def _prev_targets(self) -> dict[int, Mapping[str, int]]:
        if self._prev is None:
            return {}
        return {t["pid"]: t["counters"] for t in self._prev[1]["targets"]}

    def figures(self) -> Figures:
        """The numbers of the last snapshot (rates need two)."""
        if self._cur is None:
            return Figures(None, [], {}, {})
        now, stats = self._cur
        dt = self._interval()
        prev_targets = self._prev_targets()
        if self._cgroup_path is not None:
            cgroup_names(self._cgroup_path, stats["targets"], self._cgroups)
        targets = [self._target(t, prev_targets.get(t["pid"]), dt, now) for t in stats["targets"]]
        targets = grouped(targets)
        totals = {"targets": len(stats["targets"])}
        totals.update({k: v for k, v in stats["totals"].items() if k.startswith("targets.")})
        if "checks.failed" in stats["totals"]:
            totals["checks.failed"] = stats["totals"]["checks.failed"]
        overhead: dict[str, float] = {}
        prev_totals = self._prev[1]["totals"] if self._prev is not None else None
        for name in OVERHEAD:
            if name in stats["totals"]:
                r = _rate(prev_totals, stats["totals"], name, dt or 0.0)
                if r is not None:
                    overhead[name] = r
        return Figures(
            dt,
            targets,
            totals,
            overhead,
            ovh.interval(prev_totals, stats["totals"], dt),
            self._pace(),
        )

    def _pace(self) -> Pace | None:
        """Scan steps since the newest snapshot at least PACE_WINDOW old (or the oldest)."""
        if len(self._scan) < 2:
            return None
        (t0, a), (t1, b) = self._scan[0], self._scan[-1]
        steps, idle = _delta(a, b, "scan.steps"), _delta(a, b, "scan.idle_steps")
        if steps is None or idle is None:
            return None
        woken = {k.removeprefix(WAKE): _delta(a, b, k) for k in b if k.startswith(WAKE)}
        return Pace(t1 - t0, steps, idle, {k: n for k, n in woken.items() if n})

    def _target(
        self, t: Target, prev: Mapping[str, int] | None, dt: float | None, now: float
    ) -> TargetFigures:
        c = t["counters"]
        fig = TargetFigures(
            pid=t["pid"],
            comm=t["comm"],
            managed_fast=c.get("managed_pages.fast"),
            managed_slow=c.get("managed_pages.slow"),
            fast_share=_fast_share(c),
            sampled_fast_share=sampled_fast_share(prev, c),
            bias=target_bias(t),
            dropped=c.get("samples.dropped"),
            rates=target_rates(prev, c, dt) if dt is not None else {},
            workload=workload_of(t, self._cgroups),
        )
        h = self._history.get(t["pid"])
        if h is not None:
            fig.fast_share_spark = sparkline(
                ((p[0], p[1]) for p in h.points), now, top=1.0, window=self.window
            )
            fig.samples_spark = sparkline(((p[0], p[2]) for p in h.points), now, window=self.window)
        fig.placement = placement_figures(c, h, now, self.window)
        return fig

    def frame(self, width: int = 80, height: int = 24) -> Group:
        """A frame of at most ``width`` columns and ``height - 1`` lines.

        One line is left free so that a frame printed to a terminal of that
        height keeps its header on screen.  Targets with the most managed pages
        come first; those that do not fit are counted in "+K more".
        """
        return render(self.figures(), width, height)


def _is_source(rate: str) -> bool:
    """samples.<source>, not samples or another counter's rate."""
    return rate.startswith("samples.") and rate.count(".") == 1


# --- placement: promotions, demotions, exchanges, failed migrations ---------------


def _record_placement(
    h: _History,
    now: float,
    prev: Mapping[str, int] | None,
    cur: Mapping[str, int],
    dt: float | None,
    window: float,
) -> None:
    """Add this snapshot's promotion rate to the history behind its sparkline."""
    if "promoted" not in cur:
        return
    h.promoted.append((now, _rate(prev, cur, "promoted", dt or 0.0)))
    while h.promoted and h.promoted[0][0] <= now - window:
        h.promoted.popleft()


def placement_figures(
    c: Mapping[str, int], h: _History | None, now: float, window: float
) -> PlacementFigures | None:
    """The placement figures of one target's counters; None without them (an older module)."""
    if "promoted" not in c:
        return None
    fig = PlacementFigures(
        attempted=c.get("migrate.attempted", 0),
        failed={k.removeprefix(FAIL): v for k, v in c.items() if k.startswith(FAIL)},
    )
    if h is not None:
        fig.promoted_spark = sparkline(h.promoted, now, window=window)
    return fig


def _fast_share(c: Mapping[str, int]) -> float | None:
    fast, slow = c.get("managed_pages.fast"), c.get("managed_pages.slow")
    if fast is None or slow is None or fast + slow == 0:
        return None
    return fast / (fast + slow)


# --- the frame -------------------------------------------------------------------


def num(x: float | None) -> str:
    """A rate in at most 5 characters: 0, 1.5, 12.5, 123, 1.2k, 34M; '-' when unknown."""
    return ovh.num(x, wide=True)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def mib(pages: int | None) -> str:
    return "-" if pages is None else f"{pages * PAGE_SIZE / MiB:.1f} MiB"


def _line(*parts: str | tuple[str, str]) -> Text:
    """Plain or (text, style) parts; kernel strings are never markup."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for p in parts:
        if isinstance(p, tuple):
            text.append(p[0], style=p[1])
        else:
            text.append(p)
    return text


def _pairs(items: Iterable[tuple[str, float]], unit: str = "") -> str:
    return "  ".join(f"{k} {num(v)}{unit}" for k, v in items)


def grouped(targets: list[TargetFigures]) -> list[TargetFigures]:
    """Each workload's processes together, the workload with most managed pages
    first (a process on its own is a workload of one); inside, by pages."""
    size: dict[str, int] = {}
    for f in targets:
        key = f.workload or f"pid {f.pid}"
        size[key] = size.get(key, 0) + f.managed
    return sorted(
        targets,
        key=lambda f: (
            -size[f.workload or f"pid {f.pid}"],
            f.workload or f"pid {f.pid}",
            -f.managed,
            f.pid,
        ),
    )


def target_lines(f: TargetFigures) -> list[Text]:
    """The lines of one target, each meant to fit 80 columns."""
    r = f.rates
    lines = [
        _line(
            (f"{f.pid:>7} ", "bold"),
            (f.comm, "bold cyan"),
            f"   fast {f.managed_fast if f.managed_fast is not None else '-'} pg "
            f"({mib(f.managed_fast)})"
            f"   slow {f.managed_slow if f.managed_slow is not None else '-'} pg "
            f"({mib(f.managed_slow)})",
            (f"   {f.workload}" if f.workload else "", "dim"),
        ),
        _line(
            f"  fast share {pct(f.fast_share):>6} ",
            (f.fast_share_spark, "green"),
            "  sampled accesses in fast tier* ",
            (pct(f.sampled_fast_share), "bold"),
        ),
        _line(
            f"  samples/s  {num(r.get('samples')):>6} ",
            (f.samples_spark, "yellow"),
            "  ",
            _pairs((k.removeprefix("samples."), v) for k, v in r.items() if _is_source(k))
            or "no sources",
        ),
        _line(
            f"  adopted {num(r.get('adopted'))}/s  released {num(r.get('released'))}/s"
            f"  bias {'-' if f.bias is None else f'{f.bias:.2f}'}"
            f"  dropped {num(r.get('dropped'))}/s ({f.dropped if f.dropped is not None else '-'})"
        ),
    ]
    return lines + placement_lines(f)


def placement_lines(f: TargetFigures) -> list[Text]:
    """Promotions (with their sparkline), demotions and exchanges per second; then,
    once some migration failed, the failures: now per second, since enabled, and
    by reason (only the reasons that happened)."""
    p, r = f.placement, f.rates
    if p is None:
        return []
    lines = [
        _line(
            f"  promoted/s {num(r.get('promoted')):>6} ",
            (p.promoted_spark, "magenta"),
            f"  demoted {num(r.get('demoted'))}/s  exchanges {num(r.get('exchanges'))}/s",
        )
    ]
    if p.failed_total:
        fail_rates = [v for k, v in r.items() if k.startswith(FAIL)]
        now = sum(fail_rates) if fail_rates else None
        reasons = "  ".join(f"{k} {v}" for k, v in p.failed.items() if v)
        lines.append(
            _line(
                ("  failed migrations ", "red"),
                (f"{num(now)}/s", "bold red" if now else ""),
                f", {p.failed_total} since enabled ({pct(p.failure_rate)}): {reasons}",
            )
        )
    return lines


def pace_line(p: Pace) -> Text:
    """scan: the state, the steps behind it, and what woke the full pace."""
    woken = "  ".join(f"{k} {v}" for k, v in p.woken.items())
    return _line(
        "scan: ",
        (p.state, "bold green" if p.state == SETTLED else "bold yellow"),
        f", {p.steps} steps ({p.idle} idle) in {p.seconds:.0f} s",
        f"; woken by {woken}" if woken else "",
    )


def render(fig: Figures, width: int = 80, height: int = 24) -> Group:
    """Figures as a frame: header, totals, targets that fit, +K more, overhead, footnote."""
    t = fig.totals
    interval = "-" if fig.interval is None else f"{fig.interval:.2f} s"
    header = _line(("hagent top", "bold reverse"), f"  {t.get('targets', 0)} managed")
    managed_fast = sum(f.managed_fast or 0 for f in fig.targets)
    managed_slow = sum(f.managed_slow or 0 for f in fig.targets)
    header.append(f"  fast {mib(managed_fast)}  slow {mib(managed_slow)}  interval {interval}")
    since = [f"{label} {t[name]}" for label, name in TOTALS if name in t]
    totals = _line("since load: " + (", ".join(since) or "-"))
    for label, name in (("checks failed", "checks.failed"), ("failsafe", "targets.failsafe")):
        if name in t:
            totals.append(f"  {label} ")
            totals.append(str(t[name]), style="bold red" if t[name] else "")
    top: list[Text] = [header, totals]
    if fig.pace is not None:
        top.append(pace_line(fig.pace))
    bottom: list[Text] = ovh.panel(fig.costs)
    if fig.overhead:
        bottom.append(_line("overhead/s: " + _pairs(fig.overhead.items())))
    bottom.append(_line((FOOTNOTE, "dim")))

    budget = height - 1 - len(top) - len(bottom)
    body: list[Text] = []
    if not fig.targets:
        body.append(_line("no processes managed"))
    for i, f in enumerate(fig.targets):
        lines = target_lines(f)
        rest = len(fig.targets) - i - 1
        if len(body) + len(lines) + (1 if rest else 0) > budget:
            hidden = fig.targets[i:]
            pages = sum(h.managed for h in hidden)
            body.append(_line((f"+{len(hidden)} more ({mib(pages)} managed)", "bold")))
            break
        body.extend(lines)
    lines = (top + body + bottom)[: max(1, height - 1)]
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return Group(*lines)
