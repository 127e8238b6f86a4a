"""Command groups: one module each, no I/O of their own (they ask the Kernel).

Also the argument checks several commands share (pids, node lists).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from hagent.errors import usage_error
from hagent.kernel import Kernel, RealKernel
from hagent.uapi import NODELIST_MAX


@dataclass
class State:
    """Per-invocation state, carried as the Typer context object.

    Tests pass ``obj=State(kernel_factory=lambda: fake)`` to CliRunner.invoke;
    the real CLI builds the RealKernel only when a command first needs it.
    """

    kernel_factory: Callable[[], Kernel] = RealKernel
    debug: bool = False
    _kernel: Kernel | None = field(default=None, repr=False)

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            self._kernel = self.kernel_factory()
        return self._kernel


def state(ctx: typer.Context) -> State:
    """The State of this invocation (created by the app callback)."""
    obj = ctx.find_object(State)
    if obj is None:  # a command invoked without the app callback
        obj = ctx.ensure_object(State)
    return obj


def kernel(ctx: typer.Context) -> Kernel:
    return state(ctx).kernel


# --- arguments checked here, before the kernel is asked ------------------------

PID_MAX = (1 << 31) - 1  # pid_t is an int
_PID = re.compile(r"[0-9]+")
_NODELIST = re.compile(r"[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*")


def parse_pid(text: str) -> int:
    """--pid's value -> a pid, or a HagentError naming what is wrong with it."""
    if not _PID.fullmatch(text) or int(text) == 0:
        raise usage_error(f"bad pid '{text}': expected a process id (a positive integer)")
    pid = int(text)
    if pid > PID_MAX:
        raise usage_error(f"bad pid '{text}': larger than any process id")
    return pid


def check_nodelist(option: str, text: str | None) -> str | None:
    """A node list option (``N`` or ``N-M`` joined by commas), returned unchanged.

    The module parses it again (and knows which nodes exist); this catches
    typos with a clear message instead of the kernel's EINVAL.
    """
    if text is None:
        return None
    if not _NODELIST.fullmatch(text):
        raise usage_error(
            f"bad {option} node list '{text}': expected N or N-M joined by commas, e.g. 0 or 0-1,4"
        )
    for part in text.split(","):
        first, _, last = part.partition("-")
        if last and int(last) < int(first):
            raise usage_error(f"bad {option} node list '{text}': range {part} runs backwards")
    size = len(text.encode()) + 1  # the kernel counts the NUL
    if size > NODELIST_MAX:
        raise usage_error(
            f"{option} node list is too long: {size - 1} characters, "
            f"the module takes at most {NODELIST_MAX - 1}"
        )
    return text


_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]+|[0-9]+")
ADDRESS_MAX = (1 << 64) - 1


def parse_address(text: str) -> int | None:
    """A virtual address in hex (0x...) or decimal, or None when it is not one."""
    if not _ADDRESS.fullmatch(text):
        return None
    value = int(text, 0) if text[:2].lower() == "0x" else int(text, 10)
    return value if value <= ADDRESS_MAX else None


# --pid and --cgroup, as enable and disable take them: exactly one of the two.
def pid_option(help: str) -> Any:
    return typer.Option("--pid", metavar="PID", help=help, show_default=False)


def cgroup_option(help: str) -> Any:
    return typer.Option("--cgroup", metavar="PATH", help=help, show_default=False)


def pid_or_cgroup(pid: str | None, cgroup: str | None) -> int | None:
    """Exactly one of --pid and --cgroup; the pid, or None for a cgroup."""
    if (pid is None) == (cgroup is None):
        raise usage_error("give --pid PID or --cgroup PATH" + (", not both" if pid else ""))
    return parse_pid(pid) if pid is not None else None


# --fast and --slow, as enable and run take them (checked by check_nodelist).
FastNodes = Annotated[
    str | None,
    typer.Option(
        "--fast",
        metavar="NODES",
        help="Fast-tier NUMA nodes, e.g. 0 or 0-1,4. Default: nodes with CPUs.",
        show_default=False,
    ),
]
SlowNodes = Annotated[
    str | None,
    typer.Option(
        "--slow",
        metavar="NODES",
        help="Slow-tier NUMA nodes. Default: memory nodes without CPUs.",
        show_default=False,
    ),
]
