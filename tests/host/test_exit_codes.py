"""hagentctl's exit statuses (hagent.errors.ExitCode), --version and -h."""

import errno
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_kernel import STATUS, FakeGenlSocket, FakeKernel
from test_cli import Invoke, one_error
from typer.testing import CliRunner

from hagent.cli import app
from hagent.commands import State
from hagent.errors import EXIT_CODES_MEANING, ExitCode, HagentError
from hagent.kernel import Kernel, RealKernel, debugfs

NOT_LOADED = HagentError(
    "hagent module is not loaded (netlink family 'hagent' not found)",
    "run: hagentctl load",
    ExitCode.NOT_LOADED,
)


def test_every_code_is_in_the_top_level_help(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert list(ExitCode) == [0, 1, 2, 3, 4]
    assert set(EXIT_CODES_MEANING) == set(ExitCode)
    for code, meaning in EXIT_CODES_MEANING.items():
        assert f"{int(code)} {' '.join(meaning.split())}" in text


@pytest.mark.parametrize("args", [["-h"], ["status", "-h"], ["enable", "-h"], ["triage", "-h"]])
def test_h_is_help(args: list[str]) -> None:
    def factory() -> Kernel:
        raise AssertionError("-h must not touch the kernel")

    result = CliRunner().invoke(app, args, obj=State(kernel_factory=factory))
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout
    long = CliRunner().invoke(app, [*args[:-1], "--help"], obj=State(kernel_factory=factory))
    assert result.stdout == long.stdout


def test_version_with_the_module_loaded(invoke: Invoke) -> None:
    k = FakeKernel(status=dict(STATUS, version="0.9.9"))  # type: ignore[arg-type]
    result = invoke(k, "--version")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hagentctl 0.1.0\nhagent module 0.9.9\n"


def test_version_without_the_module(invoke: Invoke) -> None:
    result = invoke(FakeKernel(loaded=False, fail={"status": NOT_LOADED}), "--version")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hagentctl 0.1.0\nhagent module: not loaded\n"
    assert result.stderr == ""


def test_version_when_status_fails(invoke: Invoke) -> None:
    k = FakeKernel(fail={"status": HagentError("STATUS failed: no memory tiers")})
    result = invoke(k, "--version", "status")  # eager: no command runs
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "hagentctl 0.1.0\nhagent module: unknown (STATUS failed: no memory tiers)\n"
    )
    assert k.calls == [("status",)]


def test_status_json_not_loaded(invoke: Invoke) -> None:
    result = invoke(FakeKernel(loaded=False, fail={"status": NOT_LOADED}), "status", "--json")
    assert result.exit_code == ExitCode.NOT_LOADED
    assert json.loads(result.stdout) == {"schema_version": 1, "loaded": False}
    assert (
        result.stderr
        == f"hagentctl: error: {NOT_LOADED.message}\nhagentctl: hint: run: hagentctl load\n"
    )


def test_status_json_other_failure_prints_no_json(invoke: Invoke) -> None:
    k = FakeKernel(fail={"status": HagentError("must be root to run STATUS")})
    result = invoke(k, "status", "--json")
    one_error(result, "must be root to run STATUS")
    assert result.stdout == ""


def test_status_human_not_loaded(invoke: Invoke) -> None:
    result = invoke(FakeKernel(loaded=False, fail={"status": NOT_LOADED}), "status")
    one_error(result, NOT_LOADED.message, NOT_LOADED.hint, ExitCode.NOT_LOADED)
    assert result.stdout == ""


def test_loaded_but_in_another_network_namespace(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket], sys_module: Path
) -> None:
    sock(family=False)
    sys_module.mkdir()
    (sys_module / "initstate").write_text("live\n")
    one_error(
        invoke(RealKernel(), "status"),
        "hagent module is loaded (/sys/module/hagent exists) but netlink family 'hagent' is "
        "not visible from this network namespace: the module answers only in the initial one",
        "run hagentctl in the initial network namespace (e.g. nsenter -t 1 -n hagentctl ...)",
        ExitCode.NOT_LOADED,
    )


def test_module_still_loading(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket], sys_module: Path
) -> None:
    sock(family=False)
    sys_module.mkdir()
    (sys_module / "initstate").write_text("coming\n")
    result = invoke(RealKernel(), "stats")
    assert result.exit_code == ExitCode.NOT_LOADED
    assert "hagent module is still loading" in result.stderr


def test_netlink_errors_other_than_enoent_are_failures(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket]
) -> None:
    sock(error=errno.EINVAL, extack="no memory tiers")
    one_error(invoke(RealKernel(), "status", "--json"), "STATUS failed: no memory tiers")


def test_debugfs_not_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(debugfs, "DEBUGFS_MOUNT", tmp_path)
    monkeypatch.setattr(debugfs, "DEBUGFS_DIR", tmp_path / "hagent")
    monkeypatch.setattr(debugfs.os.path, "ismount", lambda p: True)
    with pytest.raises(HagentError) as err:
        debugfs.read_counters(tmp_path / "hagent")
    assert err.value.exit_code == ExitCode.NOT_LOADED


def test_debugfs_loaded_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sys_module: Path
) -> None:
    monkeypatch.setattr(debugfs, "DEBUGFS_MOUNT", tmp_path)
    monkeypatch.setattr(debugfs, "DEBUGFS_DIR", tmp_path / "hagent")
    monkeypatch.setattr(debugfs.os.path, "ismount", lambda p: True)
    sys_module.mkdir()
    with pytest.raises(HagentError, match="loaded but built without debugfs") as err:
        debugfs.read_counters(tmp_path / "hagent")
    assert err.value.exit_code == ExitCode.FAILED


# Every check hagentctl makes itself exits USAGE, like Typer's own; none reaches the kernel.
OWN_USAGE_ERRORS = [
    ["enable", "--pid", "x"],
    ["enable", "--pid", "1", "--fast", "0-"],
    ["disable", "--pid", "0"],
    ["stats", "--pid", "-1"],
    ["inject", "--pid", "1", "0x1000", "--repeat", "0"],
    ["inject", "--pid", "1", "zz"],
    ["replay", "-", "--pid", "1", "--speed", "0"],
    ["replay", "-", "--pid", "1", "--rebase", "1"],
    ["config", "migrate_mbps"],
    ["config", "placement=maybe"],
    ["load", "selftest"],
    ["top", "--once", "--count", "2"],
    ["triage"],
    ["triage", "--dmesg", "x.log"],
]
TYPER_USAGE_ERRORS = [
    ["enable"],
    ["no-such-command"],
    ["status", "--no-such-option"],
    ["inject", "--pid", "1", "0x1000", "--repeat", "x"],
    ["events", "--count", "-1"],
    ["top", "--count", "-1"],
]


@pytest.mark.parametrize("args", OWN_USAGE_ERRORS + TYPER_USAGE_ERRORS, ids=" ".join)
def test_usage_errors_exit_2(args: list[str]) -> None:
    def factory() -> Kernel:
        raise AssertionError("a usage error must not reach the kernel")

    result = CliRunner().invoke(app, args, obj=State(kernel_factory=factory))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Traceback" not in result.output
