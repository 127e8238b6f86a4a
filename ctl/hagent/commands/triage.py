"""Find kernel problems in a log: hagent CHECK failures, WARNINGs, BUGs, panics, OOM kills."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hagent import jsonout
from hagent import triage as parser
from hagent.commands import kernel
from hagent.errors import HagentError, usage_error

EPILOG = (
    "Examples:\n\n"
    "hagentctl triage results/vm/6.1.0-56-amd64/tests/console.log\n\n"
    "journalctl -k -b -1 | hagentctl triage -\n\n"
    "sudo hagentctl triage --dmesg --json | jq '.findings[] | select(.hagent)'\n\n"
    "Finds hagent CHECK failures and migration-failure summaries, other assertions "
    "(NAME_CHECK failed at FILE:LINE with the lines after it, BUG_ON-style 'assertion "
    "failed'), WARNING, BUG, Oops, general protection faults, panics, bad page state, "
    "soft lockups, "
    "hung tasks and OOM kills, once per site, with the hagent frames of their "
    "call traces. Pager gutters (1732 │ ...), journal and syslog prefixes are "
    "accepted.\n\n"
    "Exit status: 4 when a finding is panic-relevant (WARNING, BUG, Oops, panic, "
    "CHECK failed, assertion, bad page, lockup); 0 when none is, even with other findings "
    "(migration failures, OOM kills, hung tasks); 1 the log cannot be read; "
    "2 usage error."
)

_SEVERITY_STYLE = {"panic": "bold red", "error": "red", "warning": "yellow"}


def read_source(ctx: typer.Context, source: str | None, dmesg: bool) -> tuple[str, str]:
    """(name, text) of the log to triage."""
    if dmesg and source is not None:
        raise usage_error("give either a FILE (or -) or --dmesg, not both")
    if dmesg:
        return "dmesg", kernel(ctx).dmesg()
    if source is None:
        raise usage_error("nothing to read: give a log FILE, - for standard input, or --dmesg")
    if source == "-":
        data = typer.get_binary_stream("stdin").read()
        return "stdin", data.decode(errors="backslashreplace")
    try:
        data = Path(source).read_bytes()
    except OSError as err:
        raise HagentError(f"cannot read {source}: {err.strerror or err}") from err
    return source, data.decode(errors="backslashreplace")


def details(f: parser.Finding) -> Text:
    """The site, then the examples (an assertion's detail on lines of its own), then frames."""
    text = Text(f.site, style="bold magenta" if f.hagent else "bold")
    pairs = [f"{k}={v}" for k, v in f.examples.items() if k != "detail"]
    if pairs:
        text.append("\n" + "  ".join(pairs))
    if "detail" in f.examples:
        text.append("\n" + str(f.examples["detail"]), style="italic")
    for frame in f.frames:
        text.append("\n")
        text.append(frame, style="magenta" if frame.endswith(" [hagent]") else "dim")
    return text


def seen(f: parser.Finding) -> Text:
    """When: the first occurrence and, if later, the last."""
    if f.last and f.last != f.first:
        return Text(f"{f.first or '-'}\n{f.last}")
    return Text(f.first or "-")


def render(name: str, findings: list[parser.Finding], console: Console) -> None:
    """The people's view: one row per finding, then a one-line summary.

    Three columns, so that it reads at 80 columns: kind and count, when, and
    a wide one with the site, the examples and the frames, folded rather
    than cut.
    """
    if not findings:
        console.print(Text(f"no kernel problems found in {name}"))
        return
    table = Table(title=Text(f"kernel problems in {name}"), title_justify="left", show_lines=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("seen", no_wrap=True)
    table.add_column("site, examples, frames", overflow="fold", ratio=1)
    for f in findings:
        kind = Text(f.kind, style=_SEVERITY_STYLE.get(f.severity, ""))
        kind.append(f"\n×{f.count}", style="")
        table.add_row(kind, seen(f), details(f))
    console.print(table)
    s = parser.summary(findings)
    sev = s["by_severity"]
    assert isinstance(sev, dict)
    parts = [f"{n} {k}" for k, n in sev.items() if n]
    line = Text(f"{s['events']} events at {s['findings']} sites: {', '.join(parts)}")
    if s["hagent"]:
        line.append(f"; {s['hagent']} involve hagent", style="bold magenta")
    console.print(line)


def triage(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE|-",
            help="A saved kernel log (console log, dmesg, journal); - reads standard input.",
            show_default=False,
        ),
    ] = None,
    dmesg: Annotated[
        bool, typer.Option("--dmesg", help="Read the running kernel's log (/dev/kmsg).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (stable keys) for scripts.")
    ] = False,
) -> None:
    name, text = read_source(ctx, source, dmesg)
    findings = parser.parse(text)
    if as_json:
        doc = {
            "source": name,
            "findings": [f.to_json() for f in findings],
            "summary": parser.summary(findings),
        }
        jsonout.echo(doc)
    else:
        render(name, findings, Console(highlight=False))
    status = parser.exit_status(findings)
    if status:
        raise typer.Exit(status)
