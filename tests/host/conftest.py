"""Fixtures every host test shares: the CLI run against a given kernel layer,
the fake netlink socket and libkmod under the real kernel layer, and a
/sys/module/hagent of their own (the real one may exist here or not)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_kernel import FakeGenlSocket, FakeLibkmod
from typer.testing import CliRunner, Result

from hagent.cli import State, app
from hagent.kernel import Kernel, genl, kmodlib


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """invoke(kernel, *args): hagentctl ARGS against the kernel layer @kernel."""
    runner = CliRunner()

    def run(kernel: Kernel, *args: str) -> Result:
        return runner.invoke(app, list(args), obj=State(kernel_factory=lambda: kernel))

    return run


@pytest.fixture
def sock(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeGenlSocket]:
    """sock(**kwargs): a FakeGenlSocket that RealKernel's netlink layer then uses."""

    def install(**kwargs: object) -> FakeGenlSocket:
        s = FakeGenlSocket(**kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(genl, "_Socket", s)
        return s

    return install


@pytest.fixture
def libkmod(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeLibkmod]:
    """libkmod(**kwargs): a FakeLibkmod that RealKernel's module layer then uses."""

    def install(**kwargs: object) -> FakeLibkmod:
        lib = FakeLibkmod(**kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(kmodlib, "_lib", lib)
        return lib

    return install


@pytest.fixture(autouse=True)
def sys_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """kmodlib.SYS_MODULE in a temporary directory, missing (not loaded) until a test makes it."""
    path = tmp_path_factory.mktemp("sys_module") / "hagent"
    saved = kmodlib.SYS_MODULE
    kmodlib.SYS_MODULE = path
    yield path
    kmodlib.SYS_MODULE = saved
