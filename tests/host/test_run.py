"""hagentctl run: CMD starts stopped at its exec, is enabled there, runs, and
hagentctl exits with its status.  Real processes (ptrace on this host), the
kernel layer faked (no module here)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_kernel import FakeKernel
from typer.testing import Result

from hagent.errors import ExitCode, HagentError

Invoke = Callable[..., Result]


def enabled_pids(k: FakeKernel) -> list[int]:
    return [c[1] for c in k.calls if c[0] == "enable"]


def test_the_command_runs_managed_and_its_status_is_hagentctls(invoke: Invoke) -> None:
    k = FakeKernel()
    r = invoke(k, "run", "--", "sh", "-c", "exit 3")
    assert r.exit_code == 3, r.output
    assert len(enabled_pids(k)) == 1
    assert [c[-1] for c in k.calls if c[0] == "enable"] == ["follow"]  # its forks too
    assert "following its forks" in r.stderr


def test_enable_sees_the_command_after_its_exec(invoke: Invoke, tmp_path: Path) -> None:
    # At enable the process is already the new program (its exec ended) and
    # has not run: the file it would write does not exist yet.
    marker = tmp_path / "ran"
    seen: list[str] = []

    class Checking(FakeKernel):
        def enable(  # type: ignore[no-untyped-def]
            self, pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
        ):
            seen.append(Path(f"/proc/{pid}/exe").resolve().name)
            seen.append(str(marker.exists()))
            return super().enable(pid, fast, slow, follow)

    k = Checking()
    r = invoke(k, "run", "--", "/bin/sh", "-c", f"touch {marker}")
    assert r.exit_code == 0, r.output
    assert seen == [Path("/bin/sh").resolve().name, "False"]
    assert marker.exists()


def test_options_after_the_command_are_the_commands(invoke: Invoke) -> None:
    k = FakeKernel()
    r = invoke(k, "run", "--fast", "0", "sh", "-c", "exit 5", "--slow", "1")
    assert r.exit_code == 5, r.output
    assert [c for c in k.calls if c[0] == "enable"][0][2:] == ("0", None, "follow")


def test_a_signal_that_ends_the_command_is_128_plus_it(invoke: Invoke) -> None:
    r = invoke(FakeKernel(), "run", "-q", "--", "sh", "-c", "kill -TERM $$")
    assert r.exit_code == 128 + 15, r.output
    assert "managing pid" not in r.stderr


def test_a_missing_command_is_127_and_nothing_is_enabled(invoke: Invoke) -> None:
    k = FakeKernel()
    r = invoke(k, "run", "--", "/nonexistent/hagent-cmd")
    assert r.exit_code == 127
    assert "command not found" in r.stderr
    assert enabled_pids(k) == []


def test_a_command_that_cannot_be_executed_is_126(invoke: Invoke, tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    r = invoke(FakeKernel(), "run", "--", str(script))
    assert r.exit_code == 126
    assert "Permission denied" in r.stderr


def test_nothing_runs_without_the_module(invoke: Invoke, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    k = FakeKernel(
        fail={"status": HagentError("hagent is not loaded", exit_code=ExitCode.NOT_LOADED)}
    )
    r = invoke(k, "run", "--", "touch", str(marker))
    assert r.exit_code == ExitCode.NOT_LOADED
    assert not marker.exists()


def test_a_refused_enable_kills_the_command_before_it_runs(invoke: Invoke, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    k = FakeKernel(fail={"enable": HagentError("Operation not permitted")})
    r = invoke(k, "run", "--", "touch", str(marker))
    assert r.exit_code == ExitCode.FAILED
    assert "Operation not permitted" in r.stderr
    assert not marker.exists()


@pytest.mark.parametrize("nodes", ["x", "3-1"])
def test_bad_node_lists_are_refused_before_anything_runs(
    invoke: Invoke, tmp_path: Path, nodes: str
) -> None:
    marker = tmp_path / "ran"
    k = FakeKernel()
    r = invoke(k, "run", "--fast", nodes, "--", "touch", str(marker))
    assert r.exit_code == ExitCode.USAGE
    assert not marker.exists()
    assert k.calls == []
