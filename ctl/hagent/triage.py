"""Find what went wrong in a kernel log: text in, findings out (no I/O here).

``parse(text)`` reads a console log, ``dmesg`` output, a journal or a
syslog, or text pasted from a pager, and returns one ``Finding`` per site:
a WARNING at the same file:line twice is one finding with count 2.

What it looks for (``Finding.kind``, severity in brackets):

- ``check`` [panic]: an assertion of the hagent module failed.  The module
  prints exactly one line, values without spaces::

      hagent: CHECK failed: <expr> at <file>:<line> key=value key=value ...

  e.g. ``hagent: CHECK failed: nr_isolated >= 0 at kmod/hagent/migrate.c:212
  pid=1234 nr_isolated=-1``.  The site is ``<expr> at <file>:<line>``.
- ``assert`` [panic]: any other assertion line, the kind a BUG() follows:
  ``<NAME>_CHECK failed at <file>:<line>`` (cwisstable's CWISS_CHECK in the
  in-kernel prototype; also ``_ASSERT`` names and ``failed: <expr> at``),
  and the BUG_ON wrappers' ``assertion failed: <expr>, in <file>:<line>``
  (btrfs) and ``Assertion failed: <expr>, file: <file>, line: <line>``
  (XFS), after an optional ``subsystem: `` prefix.  The site is ``<NAME> at
  <file>:<line>`` or ``<expr> at <file>:<line>``; the lines printed right
  after it (CWISS_CHECK's message) are its ``detail``, and a BUG at the same
  file:line names it as its ``assertion``.
- ``migrate`` [warning]: the migrator's periodic summary of failed
  migrations, one line, reasons in any order, counts that add up to N::

      hagent: migrate: <N> failures in <T>s: reason=count reason=count ...

  e.g. ``hagent: migrate: 12 failures in 10s: busy=7 nomem=3 isolate=2``
  (T may have decimals).  All summaries form one finding whose examples are
  the totals: ``failures``, ``seconds`` and one sum per reason.
- ``warning`` [panic]: ``WARNING: CPU: n PID: n at <file>:<line> <func>``
  (site: file:line, or the function, or the title when neither is given).
- ``bug`` [panic]: ``BUG: ...`` and ``kernel BUG at <file>:<line>!`` (site:
  the file:line if the title has one, else the RIP function, else the title).
- ``oops`` and ``gpf`` [panic]: an ``Oops:`` or ``general protection fault``
  not already announced by a BUG line (site: the RIP function).
- ``panic`` [panic]: ``Kernel panic - not syncing: <message>`` (site: message).
- ``bad_page`` [panic]: ``BUG: Bad page state`` (site: "page dumped because").
- ``soft_lockup`` [panic]: ``watchdog: BUG: soft lockup`` (site: RIP function);
  ``hard_lockup`` [panic]: ``Watchdog detected hard LOCKUP``.
- ``hung_task`` [error]: ``INFO: task <comm>:<pid> blocked for more than``
  (site: the first frame that is not a sleeping primitive).
- ``oom_kill`` [error]: ``Out of memory: Killed process`` (and the memory
  cgroup variant; site: the killed command).

These are the lines the VM harness treats as fatal (tests/vm/runner.py,
BAD_LINES) plus the ones worth a look.  A report's call trace gives
``frames``: every frame in a module (``[hagent]`` ones are what
``Finding.hagent`` is about) and the first few reliable frames; frames
marked ``?`` are left out.

Accepted line decorations, removed before matching: pager gutters
(``1732 │ ``, ``  12| ``, ``7: ``, ``cat -n``'s tab), syslog and journal
prefixes (``Nov 25 12:00:01 host kernel: ``, ISO dates, ``[ 1.0] host
kernel: ``), ``<4>`` priorities and ``[ T123]`` caller ids.  The
timestamp of a finding is the ``[ seconds]`` stamp, or the journal's
date when the log has none.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from hagent.errors import ExitCode

__all__ = [
    "EXIT_CLEAN",
    "EXIT_PANIC",
    "Finding",
    "Line",
    "exit_status",
    "lines",
    "parse",
    "summary",
]

# Severities, most severe first; "panic" is what panics under the VM
# harness's command line (panic_on_warn=1 oops=panic softlockup_panic=1).
SEVERITIES = ("panic", "error", "warning")

# Exit statuses of `hagentctl triage` (hagent.errors.ExitCode): findings of
# severity "error" or "warning" alone (OOM kills, hung tasks, migration
# failures) are reported but exit 0, like a clean log.
EXIT_CLEAN = ExitCode.OK
EXIT_PANIC = ExitCode.FINDINGS  # at least one panic-relevant finding

FIRST_FRAMES = 4  # reliable frames kept from the top of every trace

Example = str | int | float


@dataclass
class Line:
    """One log line without its decorations."""

    number: int  # 1-based, in the input
    ts: str | None  # "97.318296", or the journal's date, or None
    text: str


@dataclass
class Finding:
    """Every occurrence of one kind of problem at one site."""

    kind: str
    site: str
    severity: str
    count: int = 0
    first: str | None = None
    last: str | None = None
    line: int = 0  # input line of the first occurrence
    examples: dict[str, Example] = field(default_factory=dict)
    frames: list[str] = field(default_factory=list)
    hagent: bool = False  # a CHECK/migrate line, or hagent in the RIP or the trace

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "site": self.site,
            "count": self.count,
            "first": self.first,
            "last": self.last,
            "severity": self.severity,
            "line": self.line,
            "hagent": self.hagent,
            "examples": self.examples,
            "frames": self.frames,
        }


# --- line decorations ---------------------------------------------------------

_GUTTER = re.compile(r"^\s*\d+(?:\s*[│|:] ?|\t)")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DATE = (
    rf"{_MONTH} [ \d]\d \d\d:\d\d:\d\d"  # syslog, journalctl short
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"  # ISO
)
_JOURNAL = re.compile(rf"^(?:(?P<date>{_DATE})|\[\s*(?P<mono>\d+\.\d+)\]) \S+ kernel: ")
_PRIORITY = re.compile(r"^<\d+>")
_STAMP = re.compile(r"^\[\s*(?P<ts>\d+\.\d+)\]\s?(?:\[\s*[TC]\d+\]\s?)?")


def lines(text: str) -> Iterator[Line]:
    """The lines of ``text`` with gutters, prefixes and timestamps taken off."""
    for number, raw in enumerate(text.splitlines(), 1):
        s = _GUTTER.sub("", raw, count=1)
        ts: str | None = None
        m = _JOURNAL.match(s)
        if m:
            ts = m["mono"] or m["date"]
            s = s[m.end() :]
        s = _PRIORITY.sub("", s, count=1)
        m = _STAMP.match(s)
        if m:
            ts = m["ts"]
            s = s[m.end() :]
        yield Line(number, ts, s.rstrip())


# --- what starts a finding -------------------------------------------------------

_CHECK = re.compile(
    r"^hagent: CHECK failed: (?P<expr>.+?) at (?P<where>\S+:\d+)(?P<kv>(?:\s+[\w.]+=\S*)*)\s*$"
)
_MIGRATE = re.compile(
    r"^hagent: migrate: (?P<n>\d+) failures in (?P<t>\d+(?:\.\d+)?)s:"
    r"(?P<kv>(?:\s+\w+=\d+)*)\s*$"
)
_KV = re.compile(r"([\w.]+)=(\S*)")
_OOM = re.compile(
    r"^(?P<scope>Out of memory|Memory cgroup out of memory): Killed process (?P<pid>\d+) "
    r"\((?P<comm>[^)]*)\)(?P<rest>.*)$"
)
_COLON_KV = re.compile(r"([\w-]+):(\S+?),?(?=\s|$)")

_WARNING = re.compile(r"^WARNING: (?P<title>.*)$")
_WARNING_AT = re.compile(
    r"^CPU: (?P<cpu>\d+) (?:UID: \d+ )?PID: (?P<pid>\d+) at "
    r"(?:(?P<where>\S+:\d+) )?(?P<func>\S+(?: \[\S+\])?)"
)
_BAD_PAGE = re.compile(r"^BUG: Bad page (?:state|map)(?P<rest>.*)$")
_SOFT_LOCKUP = re.compile(
    r"^(?:watchdog: )?BUG: soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<secs>\d+)s! "
    r"\[(?P<comm>.*):(?P<pid>\d+)\]"
)
_HARD_LOCKUP = re.compile(
    r"^(?:watchdog: |NMI watchdog: )?Watchdog detected hard LOCKUP on cpu (\d+)"
)
_KERNEL_BUG = re.compile(r"^kernel BUG at (?P<where>\S+:\d+)!")
_BUG = re.compile(r"^BUG: (?P<title>.*)$")
_GPF = re.compile(r"^(?:Oops: )?(?P<title>general protection fault.*)$")
_OOPS = re.compile(
    r"^(?:Oops: (?P<title>.*)|(?P<op>invalid opcode: .*)|Internal error: (?P<ie>.*))$"
)
_PANIC = re.compile(r"^Kernel panic - not syncing: ?(?P<msg>.*)$")
_HUNG = re.compile(
    r"^INFO: task (?P<comm>.*):(?P<pid>\d+) blocked for more than (?P<secs>\d+) seconds"
)
_AT_WHERE = re.compile(r" at (\S+:\d+)")
_NAMED_ASSERT = re.compile(
    r"^(?:[\w-]+: )?(?P<name>[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:CHECK|ASSERT)[A-Z0-9_]*) failed"
    r"(?:: (?P<expr>.+?))? at (?P<where>\S+:\d+)(?P<rest>.*)$"
)
_ASSERTION = re.compile(
    r"^(?:[\w-]+: )?[Aa]ssertion failed: (?P<expr>.+?),? "
    r"(?:in (?P<where>\S+:\d+)|file: (?P<file>\S+), line: (?P<line>\d+))\s*$"
)
_DETAIL_MAX = 2  # lines after an assertion kept as its detail
_DETAIL_SECONDS = 1.0  # ... printed within this much of it

# Lines that end whatever report is open without starting a finding: the
# call traces after them belong to something harmless.
_CLOSERS = re.compile(
    r"invoked oom-killer:|^NMI backtrace for cpu|^Sending NMI from CPU|^sysrq: |^Showing "
)

# --- inside a report ---------------------------------------------------------------

_CPU = re.compile(
    r"^CPU: (?P<cpu>\d+) (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: (?P<comm>\S+) "
    r"(?:Not tainted|Tainted: (?P<taint>[A-Z ]+?)) +(?P<release>\S+) #"
)
_TAINT_ONLY = re.compile(r"^\s+(?:Not tainted|Tainted: (?P<taint>[A-Z ]+?)) +(?P<release>\S+) #")
_RIP = re.compile(r"^(?:RIP|pc) ?: (?:[0-9a-f]{4}:)?(?P<sym>\S+(?: \[\S+\])?)")
_MODULES = re.compile(r"^Modules linked in:(?P<mods>.*)$")
_CALL_TRACE = re.compile(r"^Call [Tt]race:")
_FRAME = re.compile(
    r"^\s*(?:\[<[0-9a-f]+>\]\s*)?(?P<unreliable>\? )?"
    r"(?P<sym>[\w.$]+\+0x[0-9a-f]+/0x[0-9a-f]+)(?: \[(?P<mod>[\w-]+)(?: [0-9a-f]+)?\])?\s*$"
)
_MARKER = re.compile(r"^\s*</?(?:TASK|IRQ|NMI|SOFTIRQ|EOE)>\s*$")
_REGISTERS = re.compile(r"^\s*(?:RIP|Code|RSP|R[A-Z0-9]{2}|FS|CS|DS|ES|CR\d|DR\d|PKRU): ")
_END_TRACE = re.compile(r"^-+\[ end (?:trace|Kernel panic)")
_PAGE_REASON = re.compile(r"^page dumped because: (?P<reason>.*)$")
_PAGE_LINE = re.compile(r"^page:(?:[0-9a-f]+)? (?P<rest>.*)$")
_TASK_LINE = re.compile(r"^task:(?P<comm>\S+)\s+state:(?P<state>\S+)")

# Where a task sleeps is not why it hangs: the site of a hung task is the
# first frame after these.
_SLEEPERS = re.compile(
    r"^(?:__schedule|schedule\w*|io_schedule\w*|__?mutex_lock\w*|mutex_lock\w*|"
    r"rwsem_down\w*|down_\w+|__down\w*|msleep\w*|usleep\w*|__?wait_\w+|wait_\w+|"
    r"__?folio_lock\w*|folio_wait\w*|__lock_page\w*|rt_mutex\w*|__rt_mutex\w*|"
    r"percpu_rwsem\w*|__percpu_down\w*|synchronize_\w+|__synchronize_\w+|"
    r"__flush_work\w*|flush_work\w*|kthread_\w*stop\w*)\+"
)

_CUT_HERE = re.compile(r"^-+\[ cut here \]-+$")
_CUT_MAX = 4  # lines of a WARN message kept

_PREAMBLE_MAX = 80  # lines between a report's title and its call trace
_TAIL = re.compile(r"^(?:Modules linked in:|CR2: |Kernel Offset: |---\[ end )")


@dataclass
class _Report:
    """One kernel report (title, then CPU/RIP/trace lines) being read."""

    kind: str
    title: str
    start: Line
    examples: dict[str, Example]
    site: str | None = None  # known from the title
    rip: str | None = None
    frames: list[str] = field(default_factory=list)
    state: str = "preamble"  # -> "trace" -> "tail"
    seen: int = 0


_SEVERITY = {
    "check": "panic",
    "assert": "panic",
    "warning": "panic",
    "bug": "panic",
    "oops": "panic",
    "gpf": "panic",
    "panic": "panic",
    "bad_page": "panic",
    "soft_lockup": "panic",
    "hard_lockup": "panic",
    "hung_task": "error",
    "oom_kill": "error",
    "migrate": "warning",
}


def _strip_offset(sym: str) -> str:
    """``f+0x1a/0x40 [hagent]`` -> ``f [hagent]``: a site that survives rebuilds."""
    return re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "", sym)


def _head(title: str) -> str:
    """A title without its variable tail (``..., address: 0``, ``...: sh/12``)."""
    return re.split(r"[,:]", title, maxsplit=1)[0].strip()


def _taint(m: re.Match[str]) -> str:
    """The taint flags of a CPU/Tainted line, ``G OE`` (or ``none``)."""
    return " ".join((m["taint"] or "").split()) or "none"


def _frame_module(frame: str) -> str | None:
    m = re.search(r" \[([\w-]+)\]$", frame)
    return m[1] if m else None


_HAGENT_PATH = re.compile(r"(?:^|[\s/])hagent/\S*:\d+")


def _in_hagent(site: str) -> bool:
    """A site in hagent's sources (kmod/hagent/, or mm/hagent/ of the in-kernel prototype)."""
    return bool(_HAGENT_PATH.search(site))


def _assertion(s: str) -> tuple[str, str, dict[str, Example]] | None:
    """(site, file:line, examples) of an assertion line other than hagent's CHECK."""
    if m := _NAMED_ASSERT.match(s):
        ex: dict[str, Example] = {"assertion": m["name"]}
        if m["expr"]:
            ex["expr"] = m["expr"]
        ex.update(_KV.findall(m["rest"]))
        what = f"{m['name']}: {m['expr']}" if m["expr"] else m["name"]
        return f"{what} at {m['where']}", m["where"], ex
    if m := _ASSERTION.match(s):
        where = m["where"] or f"{m['file']}:{m['line']}"
        return f"{m['expr']} at {where}", where, {"expr": m["expr"]}
    return None


def _near(a: str | None, b: str | None) -> bool:
    """Whether two timestamps are within _DETAIL_SECONDS (true when either is not a number)."""
    try:
        return a is None or b is None or abs(float(a) - float(b)) <= _DETAIL_SECONDS
    except ValueError:
        return True


class _Collector:
    def __init__(self) -> None:
        self.findings: dict[tuple[str, str], Finding] = {}
        self.migrate_reasons: dict[str, int] = {}
        self.last_assert: tuple[str, str] | None = None  # (file:line, site)

    def add(
        self,
        kind: str,
        site: str,
        at: Line,
        examples: dict[str, Example],
        frames: Iterable[str] = (),
        hagent: bool = False,
    ) -> Finding:
        key = (kind, site)
        f = self.findings.get(key)
        if f is None:
            f = Finding(kind, site, _SEVERITY[kind], first=at.ts, line=at.number)
            f.examples = examples
            f.frames = list(frames)
            self.findings[key] = f
        f.count += 1
        f.last = at.ts
        f.hagent = f.hagent or hagent
        return f

    def report(self, r: _Report) -> None:
        if r.kind == "skip":
            return
        site = r.site or (_strip_offset(r.rip) if r.rip else None)
        if site is None and r.kind == "hung_task":
            awake = [f for f in r.frames if not _SLEEPERS.match(f)]
            site = _strip_offset(awake[0]) if awake else str(r.examples.get("comm", "?"))
        if site is None:
            site = _head(r.title) or r.kind
        if r.rip:
            r.examples["rip"] = r.rip
        if r.kind == "bug" and self.last_assert and self.last_assert[0] == site:
            r.examples["assertion"] = self.last_assert[1]
        hagent = any(_frame_module(f) == "hagent" for f in [*r.frames, r.rip or ""])
        hagent = hagent or _in_hagent(site)
        keep = [f for i, f in enumerate(r.frames) if i < FIRST_FRAMES or _frame_module(f)]
        self.add(r.kind, site, r.start, r.examples, keep, hagent)

    def migrate(self, at: Line, m: re.Match[str]) -> None:
        f = self.add("migrate", "migrate", at, {}, hagent=True)
        totals = f.examples
        totals["failures"] = int(totals.get("failures", 0)) + int(m["n"])
        seconds = float(totals.get("seconds", 0)) + float(m["t"])
        totals["seconds"] = int(seconds) if seconds.is_integer() else round(seconds, 3)
        for key, value in _KV.findall(m["kv"]):
            totals[key] = int(totals.get(key, 0)) + int(value)


def _start(line: Line) -> _Report | None:
    """The report that ``line`` opens, if it is a report's title."""
    s = line.text
    if m := _BAD_PAGE.match(s):
        ex: dict[str, Example] = {"title": s.removeprefix("BUG: ")}
        if p := re.search(r"in process (\S+)", m["rest"]):
            ex["comm"] = p[1]
        return _Report("bad_page", s, line, ex)
    if m := _SOFT_LOCKUP.match(s):
        ex = {"cpu": m["cpu"], "seconds": m["secs"], "comm": m["comm"], "pid": m["pid"]}
        return _Report("soft_lockup", s, line, ex)
    if m := _HARD_LOCKUP.match(s):
        return _Report("hard_lockup", s, line, {"cpu": m[1]})
    if m := _WARNING.match(s):
        title = m["title"]
        ex = {}
        site = None
        if w := _WARNING_AT.match(title):
            ex = {"cpu": w["cpu"], "pid": w["pid"], "function": w["func"]}
            site = w["where"] or _strip_offset(w["func"])
        else:
            site = _head(title)
            ex["title"] = title
        return _Report("warning", s, line, ex, site)
    if m := _KERNEL_BUG.match(s):
        return _Report("bug", s, line, {"title": s}, m["where"])
    if m := _BUG.match(s):
        where = _AT_WHERE.search(m["title"])
        return _Report("bug", s, line, {"title": m["title"]}, where[1] if where else None)
    if m := _GPF.match(s):
        return _Report("gpf", s, line, {"title": m["title"]})
    if m := _OOPS.match(s):
        return _Report("oops", s, line, {"title": m["title"] or m["op"] or m["ie"]})
    if m := _PANIC.match(s):
        return _Report("panic", s, line, {"message": m["msg"]}, m["msg"] or "(no message)")
    if m := _HUNG.match(s):
        ex = {"comm": m["comm"], "pid": m["pid"], "seconds": m["secs"]}
        return _Report("hung_task", s, line, ex)
    if _CLOSERS.search(s):
        return _Report("skip", s, line, {})
    return None


def _absorb(r: _Report, line: Line) -> bool:
    """Read ``line`` into the open report; False when it is not the report's."""
    s = line.text
    r.seen += 1
    if r.state == "preamble":
        if _CALL_TRACE.match(s):
            r.state = "trace"
        elif r.seen > _PREAMBLE_MAX:
            return False
        elif m := _CPU.match(s):
            r.examples.update(cpu=m["cpu"], pid=m["pid"], comm=m["comm"])
            r.examples.update(tainted=_taint(m), kernel=m["release"])
        elif m := _TAINT_ONLY.match(s):
            r.examples.update(tainted=_taint(m), kernel=m["release"])
        elif (m := _RIP.match(s)) and r.rip is None and "+0x" in m["sym"]:
            r.rip = m["sym"]  # a kernel RIP; user space's is a bare address
        elif m := _PAGE_REASON.match(s):
            r.site = m["reason"]
        elif m := _PAGE_LINE.match(s):
            for key, value in _COLON_KV.findall(m["rest"]):
                r.examples.setdefault(key, value)
        elif m := _TASK_LINE.match(s):
            r.examples["state"] = m["state"]
        return True
    if r.state == "trace":
        if m := _FRAME.match(s):
            if not m["unreliable"]:
                r.frames.append(f"{m['sym']} [{m['mod']}]" if m["mod"] else m["sym"])
            return True
        if _MARKER.match(s) or _REGISTERS.match(s):
            if s.strip() == "</TASK>":
                r.state = "tail"
            return True
        r.state = "tail"
    # What follows the trace of an oops, up to and including its end marker.
    if _END_TRACE.match(s):
        r.state = "done"
        return True
    return bool(_TAIL.match(s))


def parse(text: str) -> list[Finding]:
    """The findings in a kernel log, in the order of their first occurrence."""
    c = _Collector()
    report: _Report | None = None
    cut: list[str] | None = None  # WARN's message, between "cut here" and "WARNING:"
    detail: tuple[Line, dict[str, Example]] | None = None  # an assertion's, being read
    for line in lines(text):
        s = line.text
        if detail is not None:
            at, examples = detail
            if s and _near(at.ts, line.ts) and not _starts_anything(line):
                kept = [*str(examples.get("detail", "")).splitlines(), s]
                examples["detail"] = "\n".join(kept)
                if len(kept) >= _DETAIL_MAX:
                    detail = None
                continue
            detail = None
        if _CUT_HERE.match(s):
            cut = []
            continue
        if a := _assertion(s):
            site, where, found = a
            f = c.add("assert", site, line, found, hagent=_in_hagent(site))
            c.last_assert = (where, site)
            detail = (line, f.examples) if f.count == 1 else None
            continue
        if m := _CHECK.match(s):
            ex: dict[str, Example] = dict(_KV.findall(m["kv"]))
            c.add("check", f"{m['expr']} at {m['where']}", line, ex, hagent=True)
            continue
        if m := _MIGRATE.match(s):
            c.migrate(line, m)
            continue
        if m := _OOM.match(s):
            ex = {"pid": m["pid"], "comm": m["comm"]}
            if m["scope"].startswith("Memory cgroup"):
                ex["scope"] = "memcg"
            for key, value in _COLON_KV.findall(m["rest"]):
                ex.setdefault(key, value)
            c.add("oom_kill", m["comm"], line, ex)
            continue
        # "BUG: ..." or "kernel BUG at" is followed by its "Oops: ..." line
        if (
            report is not None
            and report.kind in ("bug", "gpf")
            and "comm" not in report.examples
            and (_OOPS.match(s) or _GPF.match(s))
        ):
            report.examples.setdefault("oops", s.removeprefix("Oops: "))
            continue
        new = _start(line)
        if new is not None and new.kind == "warning" and cut:
            new.examples["message"] = " ".join(cut)
        if cut is not None:
            cut = cut + [s] if new is None and len(cut) < _CUT_MAX else None
        if new is not None:
            if report is not None:
                c.report(report)
            report = new
        elif report is not None and (not _absorb(report, line) or report.state == "done"):
            c.report(report)
            report = None
    if report is not None:
        c.report(report)
    return sorted(c.findings.values(), key=lambda f: f.line)


def _starts_anything(line: Line) -> bool:
    """Whether ``line`` is one parse() reads as the start of something."""
    s = line.text
    return bool(
        _CUT_HERE.match(s)
        or _CHECK.match(s)
        or _MIGRATE.match(s)
        or _OOM.match(s)
        or _assertion(s)
        or _start(line)
    )


def exit_status(findings: Iterable[Finding]) -> int:
    """EXIT_PANIC when a finding is panic-relevant, else EXIT_CLEAN."""
    return int(EXIT_PANIC if any(f.severity == "panic" for f in findings) else EXIT_CLEAN)


def summary(findings: list[Finding]) -> dict[str, object]:
    """Totals for the JSON output and the people's last line."""
    by_kind: dict[str, int] = {}
    by_severity = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + f.count
        by_severity[f.severity] += f.count
    return {
        "findings": len(findings),
        "events": sum(f.count for f in findings),
        "by_kind": by_kind,
        "by_severity": by_severity,
        "hagent": sum(1 for f in findings if f.hagent),
        "panic": by_severity["panic"] > 0,
        "exit_status": exit_status(findings),
    }
