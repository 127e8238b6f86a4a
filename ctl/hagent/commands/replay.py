"""Replay a recorded access trace (hagent trace format) into a managed process."""

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hagent import jsonout, trace
from hagent.commands import kernel, parse_address, parse_pid
from hagent.errors import HagentError, usage_error

EPILOG = (
    "The trace is text: a first line '# hagent-trace v1', then one sample per line, "
    "'<time_ns> <vaddr_hex> \\[count] [L|S]' ('#' starts a comment); see "
    "docs/trace-format.md. The perf2hagent command (installed with hagentctl) converts "
    "'perf script' output.\n\n"
    "Samples go in batches that keep the trace's relative timing, scaled by --speed; "
    "--no-timing sends them as fast as the module takes them.\n\n"
    "Examples:\n\n"
    "hagentctl replay trace.txt --pid 1234\n\n"
    "hagentctl replay trace.txt --pid 1234 --speed 10 --rebase 0x7f3a2c000000:0x7f11e0000000\n\n"
    "perf script -F time,addr | perf2hagent | hagentctl replay - --pid 1234 --no-timing"
)

# With timing, one batch covers this much wall-clock time (at most ~100
# requests a second whatever the speed); batches never exceed BATCH_MAX
# samples, one HAGENT_A_SAMPLES attribute and less than a per-CPU ring.
WINDOW_S = 0.01
BATCH_MAX = 4095

# The clock and sleep of a replay; tests replace them with a fake clock.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


def progress_console() -> Console:
    """Where the progress bar goes: stderr, so stdout keeps only the summary."""
    return Console(stderr=True)


@contextmanager
def progress(total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, nothing otherwise; yields advance(n)."""
    console = progress_console()
    if not console.is_terminal:
        yield lambda n: None
        return
    columns = (
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("samples"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("replay", total=total)
        yield lambda n: bar.advance(task, n)


def parse_rebase(text: str) -> int:
    """--rebase OLD:NEW -> the shift NEW - OLD."""
    old, sep, new = text.partition(":")
    a, b = parse_address(old), parse_address(new)
    if not sep or a is None or b is None:
        raise usage_error(
            f"bad --rebase '{text}': expected OLD:NEW, two addresses in hex (0x...) or decimal"
        )
    return b - a


def read_trace(path: str, shift: int) -> trace.Trace:
    """The trace at ``path`` ("-": standard input), rebased by ``shift``."""
    if path == "-":
        return trace.parse(sys.stdin, "<stdin>", shift)
    try:
        with open(path, encoding="utf-8") as f:
            return trace.parse(f, path, shift)
    except OSError as err:
        raise HagentError(f"cannot read trace {path}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise HagentError(f"{path} is not a hagent trace: not UTF-8 text") from err


def replay(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="The trace; - reads standard input.", show_default=False
        ),
    ],
    pid: Annotated[
        str,
        typer.Option("--pid", metavar="PID", help="The managed process.", show_default=False),
    ],
    rebase: Annotated[
        str | None,
        typer.Option(
            "--rebase",
            metavar="OLD:NEW",
            help="Shift every address by NEW-OLD (a trace recorded in another run or machine).",
            show_default=False,
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            metavar="X",
            help="Replay X times faster than recorded (default 1.0).",
            show_default=False,
        ),
    ] = None,
    no_timing: Annotated[
        bool, typer.Option("--no-timing", help="Ignore the timestamps: inject as fast as possible.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON for scripts.")
    ] = False,
) -> None:
    n = parse_pid(pid)
    if speed is not None and no_timing:
        raise usage_error("--speed and --no-timing exclude each other")
    if speed is not None and not (math.isfinite(speed) and speed > 0):
        raise usage_error(f"bad --speed {speed}: must be a positive number")
    shift = parse_rebase(rebase) if rebase is not None else 0
    tr = read_trace(file, shift)
    window = None if no_timing else max(1, round(WINDOW_S * (speed or 1.0) * 1e9))
    k = kernel(ctx)
    done = sent = 0
    start = clock()
    with progress(len(tr)) as advance:
        for offset_ns, lo, hi in trace.batches(tr.times, window, BATCH_MAX):
            wait = start + offset_ns / 1e9 / (speed or 1.0) - clock()
            if wait > 0:
                sleep(wait)
            try:
                k.inject(n, tr.samples(lo, hi))
            except HagentError as err:
                if done:
                    err.message += f" (replay stopped after {done} of {len(tr)} samples)"
                raise
            done, sent = hi, sent + 1
            advance(hi - lo)
    summary: dict[str, Any] = {
        "pid": n,
        "samples": len(tr),
        "accesses": tr.accesses,
        "batches": sent,
        "seconds": round(clock() - start, 6),
    }
    if as_json:
        jsonout.echo(summary)
    else:
        typer.echo(
            f"replayed {summary['samples']} samples ({summary['accesses']} accesses) "
            f"into pid {n}: {sent} batches in {summary['seconds']:.2f} s"
        )
