"""Show what the hagent module reports: version, features, samplers, NUMA nodes."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hagent import jsonout
from hagent.commands import kernel
from hagent.errors import ExitCode, HagentError
from hagent.kernel import Status

EPILOG = (
    '--json prints the status with "schema_version" and "loaded": true first; with the '
    'module not loaded it prints {"schema_version": 1, "loaded": false} (and exits 3, '
    "as without --json).\n\n"
    "Examples:\n\n"
    "hagentctl status\n\n"
    "hagentctl status --json | jq .nodes"
)

MiB = 1 << 20


def render(st: Status, console: Console) -> None:
    """The people's view of a Status."""
    head = Text()
    head.append(f"hagent {st['version']}", style="bold")
    head.append(f" on kernel {st['kernel']}")
    console.print(head)
    console.print(Text(f"features: {', '.join(st['features']) or 'none'}"))
    console.print(Text(f"targets:  {st['nr_targets']}"))

    samplers = Table(title="samplers", title_justify="left")
    samplers.add_column("sampler")
    samplers.add_column("available")
    samplers.add_column("counters", justify="right")
    samplers.add_column("reason")
    for s in st["samplers"]:
        samplers.add_row(
            Text(s["name"]),
            Text("yes", style="green") if s["available"] else Text("no", style="red"),
            Text("-" if s["counters"] is None else str(s["counters"])),
            Text(s["reason"] or "-"),
        )
    console.print(samplers)
    for s in st["samplers"]:
        if s["events"]:
            line = Text(f"  {s['name']} counts: ", style="dim")
            line.append(s["events"])
            console.print(line)

    nodes = Table(title="NUMA nodes", title_justify="left")
    nodes.add_column("node", justify="right")
    nodes.add_column("tier")
    nodes.add_column("cpus", justify="right")
    nodes.add_column("total MiB", justify="right")
    nodes.add_column("free MiB", justify="right")
    for n in st["nodes"]:
        nodes.add_row(
            str(n["id"]),
            n["tier"],
            str(n["nr_cpus"]),
            str(n["mem_total"] // MiB),
            str(n["mem_free"] // MiB),
        )
    console.print(nodes)


def status(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (stable keys) for scripts.")
    ] = False,
) -> None:
    try:
        st = kernel(ctx).status()
    except HagentError as err:
        if as_json and err.exit_code == ExitCode.NOT_LOADED:
            jsonout.echo({"loaded": False}, line=True)
        raise
    if as_json:
        jsonout.echo({"loaded": True, **st})
    else:
        render(st, Console(highlight=False))
