"""Command groups: one module each, no I/O of their own (they ask the Kernel)."""

from collections.abc import Callable
from dataclasses import dataclass, field

import typer

from hagent.kernel import Kernel, RealKernel


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
