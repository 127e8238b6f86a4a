"""Unload the hagent kernel module."""

import typer

from hagent.commands import kernel

EPILOG = "Example:\n\nhagentctl unload"


def unload(ctx: typer.Context) -> None:
    kernel(ctx).unload()
    typer.echo("unloaded hagent")
