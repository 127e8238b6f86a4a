"""Convert `perf script` output into a hagent trace (docs/trace-format.md).

Reads what `perf script` prints for samples that carry a data address, e.g.

    perf mem record -- ./workload          # or: perf record -d -e <event> ...
    perf script -F time,addr | perf2hagent > trace.txt
    perf script | perf2hagent --pid 4242 --event mem-loads > trace.txt

and writes `# hagent-trace v1` and one `<time_ns> 0x<addr> [S]` line per sample
on standard output, for `hagentctl replay`.  Installed with hagentctl as the
`perf2hagent` command.  Standard library only: it imports nothing from hagent,
so scripts/perf2hagent runs this file from a checkout on the machine that
recorded the trace, where hagentctl need not be installed.

The parser is lenient about the fields perf prints, which depend on -F and on
the event.  On each line it takes:
- the time: the first field shaped `<sec>.<fraction>:` (microseconds, or
  nanoseconds with --ns);
- the event: the first field after the time that ends in `:` and is not a
  number (`cpu/mem-loads,ldlat=30/P:`, `mem-stores:`, `ibs_op//:`);
- the data address: the first hex field after the event, or after the time
  when there is no event (`-F time,addr`); a zero address (perf's "none") is
  skipped;
- the pid: the last field before the time shaped `PID/TID` or `N` (comm may
  contain blanks; a lone N is perf's default tid column, taken as the pid);
- a store when the event name contains "store" or perf's data source says
  `OP STORE`, else a load.
Lines without a time and an address (headers, warnings) are skipped.
"""

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

HEADER = "# hagent-trace v1"

_TIME = re.compile(r"(\d+)\.(\d{1,9}):")
_PID = re.compile(r"(\d+)(?:/(\d+))?")
_CPU = re.compile(r"\[\d+\]")
_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]+)")
_NUMBER = re.compile(r"\d+:?")


@dataclass
class Sample:
    time_ns: int
    addr: int
    store: bool
    pid: int | None
    event: str | None


def parse_line(line: str) -> Sample | None:
    """One line of `perf script` output -> a Sample, or None if it has none."""
    fields = line.split()
    at = next((i for i, f in enumerate(fields) if _TIME.fullmatch(f)), None)
    if at is None:
        return None
    m = _TIME.fullmatch(fields[at])
    assert m is not None
    time_ns = int(m.group(1)) * 1_000_000_000 + int(m.group(2).ljust(9, "0"))
    pid = None
    for f in reversed(fields[:at]):
        if _CPU.fullmatch(f):
            continue
        p = _PID.fullmatch(f)
        if p:
            pid = int(p.group(1))
        break
    rest = fields[at + 1 :]
    event = None
    for i, f in enumerate(rest):
        if f.endswith(":") and not _NUMBER.fullmatch(f):
            event, rest = f[:-1], rest[i + 1 :]
            break
    addr = None
    for f in rest:
        h = _HEX.fullmatch(f)
        if h:
            addr = int(h.group(1), 16)
            break
    if addr is None or addr == 0 or addr >= 1 << 64:
        return None
    store = (event is not None and "store" in event.lower()) or "OP STORE" in line
    return Sample(time_ns, addr, store, pid, event)


@dataclass
class Result:
    written: int = 0
    stores: int = 0
    skipped: int = 0  # lines with no sample
    filtered: int = 0  # samples --pid or --event left out
    reordered: int = 0  # samples whose time went backwards
    no_pid: int = 0  # samples kept although --pid could not be checked


def convert(
    lines: Iterable[str], out: TextIO, pid: int | None = None, event: str | None = None
) -> Result:
    """Write the trace of ``lines`` to ``out``; counts what happened."""
    res = Result()
    out.write(HEADER + "\n# converted from perf script output by perf2hagent\n")
    last = 0
    for s in _samples(lines, res):
        if event is not None and (s.event is None or event not in s.event):
            res.filtered += 1
            continue
        if pid is not None and s.pid is None:
            res.no_pid += 1
        elif pid is not None and s.pid != pid:
            res.filtered += 1
            continue
        if s.time_ns < last:
            res.reordered += 1  # replay needs time order: keep the previous time
        last = max(last, s.time_ns)
        out.write(f"{last} {s.addr:#x}{' S' if s.store else ''}\n")
        res.written += 1
        res.stores += s.store
    return res


def _samples(lines: Iterable[str], res: Result) -> Iterator[Sample]:
    for line in lines:
        s = parse_line(line)
        if s is None:
            if line.strip():
                res.skipped += 1
            continue
        yield s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="perf2hagent",
        description="Convert `perf script` output (with data addresses) into a hagent trace.",
        epilog="Example: perf script -F comm,pid,tid,time,event,addr | perf2hagent --pid 4242",
    )
    ap.add_argument("input", nargs="?", default="-", help="perf script output (default: stdin)")
    ap.add_argument("--pid", type=int, help="keep only this process's samples (if pids are shown)")
    ap.add_argument("--event", help="keep only events whose name contains this, e.g. mem-loads")
    args = ap.parse_args(argv)
    try:
        if args.input == "-":
            res = convert(sys.stdin, sys.stdout, args.pid, args.event)
        else:
            with open(args.input, encoding="utf-8", errors="replace") as f:
                res = convert(f, sys.stdout, args.pid, args.event)
    except OSError as err:
        print(f"perf2hagent: error: cannot read {args.input}: {err.strerror}", file=sys.stderr)
        return 1
    if res.no_pid:
        print(
            f"perf2hagent: warning: {res.no_pid} samples show no pid: kept despite --pid",
            file=sys.stderr,
        )
    if res.reordered:
        print(
            f"perf2hagent: warning: {res.reordered} samples were out of time order: "
            "each was given the time of the sample before it",
            file=sys.stderr,
        )
    print(
        f"perf2hagent: {res.written} samples ({res.stores} stores), "
        f"{res.filtered} filtered out, {res.skipped} lines without a sample",
        file=sys.stderr,
    )
    if not res.written:
        print(
            "perf2hagent: error: no samples with a data address "
            "(record with perf mem record or perf record -d)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
