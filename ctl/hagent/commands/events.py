"""Stream events until interrupted: failed checks, fail-safe shutdowns, exits, failed migrations."""

import time
from typing import Annotated

import typer

from hagent import jsonout
from hagent.commands import kernel

EPILOG = (
    "Examples:\n\n"
    "hagentctl events\n\n"
    "hagentctl events --json | jq 'select(.type == \"check_failed\")'\n\n"
    "hagentctl events --json | jq 'select(.type == \"migrate_failures\")'\n\n"
    "hagentctl events --count 1    # wait for one event, then exit"
)


def events(
    ctx: typer.Context,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="One JSON object per line: schema_version, time, type, pid, msg."
        ),
    ] = False,
    count: Annotated[
        int,
        typer.Option(
            "--count", min=0, help="Exit after this many events (0: never).", show_default=False
        ),
    ] = 0,
) -> None:
    seen = 0
    try:
        for ev in kernel(ctx).events():
            now = time.time()
            if as_json:
                jsonout.echo({"time": round(now, 3), **ev}, line=True)
            else:
                stamp = time.strftime("%H:%M:%S", time.localtime(now))
                pid = f" pid {ev['pid']}" if ev["pid"] else ""
                typer.echo(f"{stamp} {ev['type']}{pid}: {ev['msg']}")
            seen += 1
            if count and seen >= count:
                return
    except KeyboardInterrupt:
        return
