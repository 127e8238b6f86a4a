"""Show or change the module's tunables while it runs (all or none)."""

import re
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hagent import jsonout
from hagent.commands import kernel
from hagent.errors import usage_error
from hagent.kernel.genl import SETTING_NAME_MAX

EPILOG = (
    "Without NAME=VALUE: every tunable and its value. With NAME=VALUE arguments: the "
    "module checks every one against its range and applies all of them or none, then "
    "the result is shown. Values are non-negative integers (decimal or 0x hex); the "
    "switches (abit, placement, fair_share, fault_samples) also take on/off, true/false, "
    "yes/no. Changing settings needs root (CAP_NET_ADMIN); reading them does not. The "
    "tunables are the module parameters of the same names (/sys/module/hagent/parameters "
    "shows the same values): a change lasts until the module is unloaded.\n\n"
    "Examples:\n\n"
    "hagentctl config\n\n"
    "hagentctl config migrate_mbps=128 hysteresis=2\n\n"
    "hagentctl config placement=off\n\n"
    "hagentctl config --json | jq .interval_ms"
)

# The tunables kmod/hagent/config.c gives the range 0..1 (bool module
# parameters): only these take words.  tests/host/test_config.py checks this
# set against config.c.
SWITCHES = frozenset({"abit", "placement", "fair_share", "fault_samples"})
_WORDS = {"on": 1, "off": 0, "true": 1, "false": 0, "yes": 1, "no": 0}

_NAME = re.compile(r"[A-Za-z0-9_.]+")
_VALUE = re.compile(r"0[xX][0-9a-fA-F]+|[0-9]+")
U64_MAX = (1 << 64) - 1


def parse_value(name: str, text: str) -> int:
    """One VALUE -> a u64, or a HagentError naming what is wrong with it."""
    if name in SWITCHES and text.lower() in _WORDS:
        return _WORDS[text.lower()]
    expected = "0 or 1, on or off" if name in SWITCHES else "a non-negative integer"
    if not _VALUE.fullmatch(text):
        raise usage_error(f"bad value '{text}' for {name}: expected {expected}")
    value = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    if value > U64_MAX:
        raise usage_error(f"bad value '{text}' for {name}: larger than 2^64 - 1")
    return value


def parse_settings(args: Sequence[str]) -> dict[str, int]:
    """NAME=VALUE arguments -> {name: value}, checked before the module is asked.

    Names and ranges are the module's to check (it knows them); this catches
    what cannot be sent at all.
    """
    settings: dict[str, int] = {}
    for arg in args:
        name, eq, text = arg.partition("=")
        if not eq:
            raise usage_error(
                f"bad setting '{arg}': expected NAME=VALUE",
                hint="see the settings: hagentctl config",
            )
        if not _NAME.fullmatch(name) or len(name) > SETTING_NAME_MAX:
            raise usage_error(f"bad setting name '{name}' in '{arg}'")
        if name in settings:
            raise usage_error(f"setting {name} given twice")
        settings[name] = parse_value(name, text)
    return settings


def render(config: Mapping[str, int], console: Console) -> None:
    table = Table(title=Text("hagent settings"), title_justify="left")
    table.add_column("setting")
    table.add_column("value", justify="right")
    for name, value in config.items():
        table.add_row(Text(name), str(value))
    console.print(table)


def config(
    ctx: typer.Context,
    settings: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME=VALUE",
            help="Tunables to set, all or none (e.g. migrate_mbps=128). None: show them.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print the settings as one JSON object {name: value}, after "schema_version".',
        ),
    ] = False,
) -> None:
    wanted = parse_settings(settings or [])
    k = kernel(ctx)
    current = k.set_config(wanted) if wanted else k.get_config()
    if as_json:
        jsonout.echo(current)
        return
    if wanted:
        typer.echo("set " + " ".join(f"{n}={current.get(n, v)}" for n, v in wanted.items()))
    render(current, Console(highlight=False))
