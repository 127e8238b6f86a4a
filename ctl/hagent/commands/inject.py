"""Feed access samples to a managed process, as a hardware sampler would."""

from typing import Annotated

import typer

from hagent.commands import kernel, parse_address, parse_pid
from hagent.errors import usage_error
from hagent.uapi import REPEAT_MAX, SAMPLE_COUNT_MAX

EPILOG = (
    "Each SAMPLE is ADDR[:COUNT[:s]]: a virtual address in hex (0x...) or decimal, "
    f"COUNT accesses (default 1, at most {SAMPLE_COUNT_MAX}), and :s for a store "
    "(else a load). The module counts them as source 'inject' (hagentctl stats).\n\n"
    "Examples:\n\n"
    "hagentctl inject --pid 1234 0x7f3a2c000000\n\n"
    "hagentctl inject --pid 1234 0x7f3a2c000000:64 0x7f3a2c001000:8:s\n\n"
    "hagentctl inject --pid 1234 0x7f3a2c000000:100 --repeat 50"
)

_FORMAT = "expected ADDR[:COUNT[:s]], e.g. 0x7f3a2c000000, 0x7f3a2c000000:8 or 0x7f3a2c000000:8:s"


def parse_sample(text: str) -> tuple[int, int, bool]:
    """ADDR[:COUNT[:s]] -> (addr, count, is_store); ``ADDR:s`` is a store of count 1."""
    parts = text.split(":")
    if len(parts) == 2 and parts[1] in ("s", "S"):
        parts = [parts[0], "1", "s"]
    if not 1 <= len(parts) <= 3 or (len(parts) == 3 and parts[2] not in ("s", "S")):
        raise usage_error(f"bad sample '{text}': {_FORMAT}")
    addr = parse_address(parts[0])
    if addr is None:
        raise usage_error(
            f"bad sample '{text}': address '{parts[0]}' is not hex (0x...) or decimal, "
            "or is larger than 64 bits"
        )
    count = 1
    if len(parts) >= 2:
        if not parts[1].isdecimal() or not 1 <= int(parts[1]) <= SAMPLE_COUNT_MAX:
            raise usage_error(
                f"bad sample '{text}': count '{parts[1]}' must be 1..{SAMPLE_COUNT_MAX}"
            )
        count = int(parts[1])
    return addr, count, len(parts) == 3


def check_repeat(repeat: int) -> int:
    if not 1 <= repeat <= REPEAT_MAX:
        raise usage_error(f"bad --repeat {repeat}: must be 1..{REPEAT_MAX}")
    return repeat


def inject(
    ctx: typer.Context,
    samples: Annotated[
        list[str],
        typer.Argument(
            metavar="SAMPLE...",
            help="ADDR[:COUNT[:s]]: address (0x... or decimal), accesses, :s for a store.",
            show_default=False,
        ),
    ],
    pid: Annotated[
        str,
        typer.Option("--pid", metavar="PID", help="The managed process.", show_default=False),
    ],
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat", metavar="R", help=f"Push the whole list R times (1..{REPEAT_MAX})."
        ),
    ] = 1,
) -> None:
    n = parse_pid(pid)
    parsed = [parse_sample(s) for s in samples]
    check_repeat(repeat)
    kernel(ctx).inject(n, parsed, repeat)
    accesses = sum(count for _, count, _ in parsed) * repeat
    typer.echo(f"injected {len(parsed) * repeat} samples ({accesses} accesses) into pid {n}")
