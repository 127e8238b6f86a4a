"""hagentctl: the Typer app, global options and the mapping of HagentError."""

import sys
import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from hagent import __version__
from hagent.commands import (
    State,
    config,
    disable,
    enable,
    events,
    inject,
    load,
    replay,
    stats,
    status,
    top,
    triage,
    unload,
)
from hagent.errors import HagentError


class _Group(TyperGroup):
    """Turns a HagentError from any command into one line on stderr."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except HagentError as err:
            if ctx.params.get("debug"):
                traceback.print_exc(file=sys.stderr)
            typer.echo(f"hagentctl: error: {err.message}", err=True)
            if err.hint:
                typer.echo(f"hagentctl: hint: {err.hint}", err=True)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="hagentctl",
    help=f"Control plane for the hagent memory-tiering kernel module ({__version__}).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show Python tracebacks for errors.")
    ] = False,
) -> None:
    if not isinstance(ctx.obj, State):
        ctx.obj = State()
    ctx.obj.debug = debug


for _module, _command in (
    (load, load.load),
    (unload, unload.unload),
    (status, status.status),
    (config, config.config),
    (enable, enable.enable),
    (disable, disable.disable),
    (stats, stats.stats),
    (inject, inject.inject),
    (replay, replay.replay),
    (events, events.events),
    (triage, triage.triage),
    (top, top.top),
):
    app.command(help=_module.__doc__, epilog=_module.EPILOG)(_command)


def main() -> None:
    app(prog_name="hagentctl")
