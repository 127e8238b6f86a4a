"""hagentctl against fake kernels: output, error lines, exit codes, decoding.

Two levels of fake (see fake_kernel.py): FakeKernel replaces the whole kernel
layer; FakeLibkmod/FakeGenlSocket sit under RealKernel so that the real errno
and netlink error mapping is what the CLI prints.
"""

import errno
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from fake_kernel import (
    FAMILY_ID,
    REDIS,
    STATS,
    STATUS,
    STRESS,
    FakeGenlSocket,
    FakeKernel,
    FakeLibkmod,
    enable_reply,
    event_message,
    stats_reply,
    status_reply,
)
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from pyroute2.netlink.exceptions import NetlinkError
from typer.testing import CliRunner, Result

import hagent.kernel
from hagent import jsonout
from hagent.cli import app
from hagent.commands import State
from hagent.commands.load import param_string
from hagent.commands.stats import PAGE_SIZE
from hagent.errors import ExitCode, HagentError
from hagent.kernel import Kernel, RealKernel, Stats, Target, debugfs, genl
from hagent.uapi import NODELIST_MAX, Attr, Cmd, CounterAttr, Event

KO = "/src/build/6.1.0-28-amd64/kmod/hagent/hagent.ko"
INSTALLED = "/lib/modules/6.1.0-28-amd64/extra/hagent.ko"

Invoke = Callable[..., Result]


def one_error(
    result: Result, message: str, hint: str | None = None, code: int = ExitCode.FAILED
) -> None:
    """Exit ``code`` with exactly one error line (plus the hint) on stderr."""
    assert result.exit_code == code, (result.exit_code, result.output)
    expected = f"hagentctl: error: {message}\n"
    if hint is not None:
        expected += f"hagentctl: hint: {hint}\n"
    assert result.stderr == expected
    assert "Traceback" not in result.output


# --- status ------------------------------------------------------------------


def test_status_human(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "status")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "hagent 0.1.0 on kernel 6.1.0-28-amd64" in out
    assert "features: migrate, debugfs" in out
    assert "targets:  2" in out
    lines = out.splitlines()
    (abit,) = [line for line in lines if "abit" in line]
    assert "yes" in abit
    (pebs,) = [line for line in lines if "pebs" in line and "│" in line]
    assert "no" in pebs and "no PMU (virtualized)" in pebs
    assert [c.strip() for c in pebs.split("│")[1:-1]][2] == "0"  # counters running
    assert "  pebs counts: MEM_LOAD_L3_MISS_RETIRED.LOCAL_DRAM (fast)" in lines
    assert "  fault counts: page-faults" in lines
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    # node, tier, cpus, total MiB, free MiB
    assert ["0", "fast", "2", "1024", "512"] in rows
    assert ["1", "slow", "0", "2048", "1536"] in rows


def test_status_human_empty(invoke: Invoke) -> None:
    st = dict(STATUS, features=[], samplers=[], nodes=[])
    result = invoke(FakeKernel(status=st), "status")  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert "features: none" in result.stdout


def test_status_kernel_strings_are_not_markup(invoke: Invoke) -> None:
    st = dict(
        STATUS,
        samplers=[
            {
                "name": "[bold]x[/bold]",
                "available": False,
                "reason": "[red]",
                "counters": 0,
                "events": "[b]",
            }
        ],
    )
    result = invoke(FakeKernel(status=st), "status")  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert "[bold]x[/bold]" in result.stdout and "[red]" in result.stdout


def test_status_json(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {"schema_version": 1, "loaded": True, **STATUS}
    keys = [
        "schema_version", "loaded", "version", "kernel", "features", "nr_targets", "samplers",
        "nodes",
    ]  # fmt: skip
    assert list(data) == keys
    assert list(data["samplers"][0]) == ["name", "available", "reason", "counters", "events"]
    assert list(data["nodes"][0]) == ["id", "tier", "nr_cpus", "mem_total", "mem_free"]


def test_status_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(replies=(status_reply(),))
    result = invoke(RealKernel(), "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"schema_version": 1, "loaded": True, **STATUS}
    ((request, msg_type, flags),) = s.requests
    assert (request["cmd"], request["version"], request["attrs"]) == (Cmd.STATUS, 1, [])
    assert msg_type == FAMILY_ID
    assert flags == NLM_F_REQUEST
    assert s.closed


def test_status_family_missing(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(family=False)
    result = invoke(RealKernel(), "status")
    one_error(
        result,
        "hagent module is not loaded (netlink family 'hagent' not found)",
        hint="run: hagentctl load",
        code=ExitCode.NOT_LOADED,
    )
    assert s.closed


def test_status_not_permitted(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    sock(error=errno.EPERM)
    result = invoke(RealKernel(), "status")
    one_error(result, "must be root to run STATUS (the module said: permission denied)")


def test_status_extack(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    sock(error=errno.EINVAL, extack="no memory tiers")
    one_error(invoke(RealKernel(), "status"), "STATUS failed: no memory tiers")


def test_status_malformed_reply(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    sock(replies=(status_reply(skip=(Attr.VERSION,)),))
    result = invoke(RealKernel(), "status")
    one_error(
        result,
        "malformed STATUS reply from the module: no HAGENT_A_VERSION",
        hint="hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
    )


def test_status_version_mismatch(sock: Callable[..., FakeGenlSocket]) -> None:
    sock(replies=(status_reply(version=2),))
    with pytest.raises(HagentError, match="netlink version 2, hagentctl speaks 1"):
        genl.status()


def test_status_wrong_reply_count(sock: Callable[..., FakeGenlSocket]) -> None:
    sock(replies=(status_reply(), status_reply()))
    with pytest.raises(HagentError, match="expected one reply, got 2"):
        genl.status()


def test_status_on_this_host() -> None:
    """The real socket path, end to end: no hagent family on the host."""
    if os.path.exists("/sys/module/hagent"):
        pytest.skip("hagent is loaded here")
    proc = subprocess.run(
        [sys.executable, "-m", "hagent", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == ExitCode.NOT_LOADED
    assert proc.stdout == '{"schema_version": 1, "loaded": false}\n'
    assert proc.stderr == (
        "hagentctl: error: hagent module is not loaded (netlink family 'hagent' not found)\n"
        "hagentctl: hint: run: hagentctl load\n"
    )


# --- genl decoding without a kernel --------------------------------------------


def test_decode_kernel_wire_format() -> None:
    """Bytes laid out like the module's nla_put_*() calls decode to STATUS."""
    assert genl.status_from_msg(genl.decode(status_reply())) == STATUS


def test_decode_pyroute2_roundtrip() -> None:
    msg = genl.hagentmsg()
    msg["cmd"] = Cmd.STATUS
    msg["version"] = 1
    msg["header"]["type"] = FAMILY_ID
    sampler = [
        ["HAGENT_A_SAMPLER_NAME", "inject"],
        ["HAGENT_A_SAMPLER_AVAILABLE", 1],
        ["HAGENT_A_SAMPLER_COUNTERS", 3],
        ["HAGENT_A_SAMPLER_EVENTS", "x"],
    ]
    node = [
        ["HAGENT_A_NODE_ID", 3],
        ["HAGENT_A_NODE_TIER", 7],
        ["HAGENT_A_NODE_NR_CPUS", 4],
        ["HAGENT_A_NODE_MEM_TOTAL", 1 << 40],
        ["HAGENT_A_NODE_MEM_FREE", 0],
    ]
    msg["attrs"] = [
        ["HAGENT_A_VERSION", "9.9"],
        ["HAGENT_A_KERNEL", "6.12.9"],
        ["HAGENT_A_FEATURES", (1 << 0) | (1 << 2) | (1 << 63)],
        ["HAGENT_A_NR_TARGETS", 0],
        ["HAGENT_A_SAMPLERS", {"attrs": [["HAGENT_A_SAMPLER", {"attrs": sampler}]]}],
        ["HAGENT_A_NODES", {"attrs": [["HAGENT_A_NODE", {"attrs": node}]]}],
    ]
    msg.encode()
    assert genl.status_from_msg(genl.decode(msg.data)) == {
        "version": "9.9",
        "kernel": "6.12.9",
        "features": ["migrate", "selftest", "bit63"],
        "nr_targets": 0,
        "samplers": [
            {"name": "inject", "available": True, "reason": None, "counters": 3, "events": "x"}
        ],
        "nodes": [{"id": 3, "tier": "tier7", "nr_cpus": 4, "mem_total": 1 << 40, "mem_free": 0}],
    }


def test_decode_empty_lists() -> None:
    st = dict(STATUS, samplers=[], nodes=[], features=[])
    assert genl.status_from_msg(genl.decode(status_reply(st))) == st  # type: ignore[arg-type]
    no_nests = status_reply(skip=(Attr.SAMPLERS, Attr.NODES))
    decoded = genl.status_from_msg(genl.decode(no_nests))
    assert (decoded["samplers"], decoded["nodes"]) == ([], [])


def test_events(sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(
        events=(
            event_message(Event.LOADED, 0, "hagent 0.1.0 loaded"),
            status_reply(),  # not an event: skipped
            event_message(Event.UNLOADING, 42, "bye"),
            event_message(99, 1, "from the future"),
        )
    )
    events = RealKernel().events()
    assert list(islice(events, 3)) == [
        {"type": "loaded", "pid": 0, "msg": "hagent 0.1.0 loaded"},
        {"type": "unloading", "pid": 42, "msg": "bye"},
        {"type": "event99", "pid": 1, "msg": "from the future"},
    ]
    assert s.groups == ["events"]
    events.close()  # type: ignore[attr-defined]
    assert s.closed


# --- load / unload -----------------------------------------------------------------


def test_load_default_built(invoke: Invoke) -> None:
    k = FakeKernel(loaded=False, built=Path(KO))
    result = invoke(k, "load")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"loaded hagent from {KO}\n"
    assert ("load", Path(KO), "") in k.calls


def test_load_default_installed(invoke: Invoke) -> None:
    k = FakeKernel(loaded=False, built=None)
    result = invoke(k, "load", "selftest=1", "name=a b")
    assert result.exit_code == 0, result.output
    assert result.stdout == f'loaded hagent from {INSTALLED} (selftest=1 name="a b")\n'
    assert ("load", None, 'selftest=1 name="a b"') in k.calls


def test_load_ko_option(invoke: Invoke) -> None:
    k = FakeKernel(loaded=False)
    result = invoke(k, "load", "--ko", "rel/hagent.ko")
    assert result.exit_code == 0, result.output
    assert ("load", Path.cwd() / "rel/hagent.ko", "") in k.calls
    assert ("built_module",) not in k.calls


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("foo", "bad module parameter 'foo': expected PARAM=VALUE"),
        ("=1", "bad module parameter name '' in '=1'"),
        ("a.b=1", "bad module parameter name 'a.b' in 'a.b=1'"),
        ('a=x"y', "bad module parameter 'a=x\"y': the kernel cannot take '\"'"),
    ],
)
def test_load_bad_param_syntax(invoke: Invoke, arg: str, message: str) -> None:
    k = FakeKernel(loaded=False)
    result = invoke(k, "load", "selftest=1", arg)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines()[0] == f"hagentctl: error: {message}"
    assert not [c for c in k.calls if c[0] == "load"]


def test_param_string() -> None:
    assert param_string([]) == ""
    assert param_string(["a=1", "b=", "c-d=x\ty"]) == 'a=1 b= c-d="x\ty"'


def test_unload(invoke: Invoke) -> None:
    k = FakeKernel(loaded=True)
    result = invoke(k, "unload")
    assert result.exit_code == 0, result.output
    assert result.stdout == "unloaded hagent\n"
    assert not k.loaded


def test_real_load_and_unload(invoke: Invoke, libkmod: Callable[..., FakeLibkmod]) -> None:
    lib = libkmod(files=(KO,))
    result = invoke(RealKernel(), "load", "--ko", KO, "selftest=1")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"loaded hagent from {KO} (selftest=1)\n"
    assert lib.inserted == [(KO, "selftest=1")]
    assert RealKernel().is_loaded() and RealKernel().refcount() == 0
    result = invoke(RealKernel(), "unload")
    assert result.exit_code == 0, result.output
    assert not RealKernel().is_loaded() and RealKernel().refcount() is None
    assert lib.live_refs == 0


def test_real_load_by_name(invoke: Invoke, libkmod: Callable[..., FakeLibkmod]) -> None:
    lib = libkmod(installed=INSTALLED)
    result = invoke(RealKernel(), "load")
    assert result.exit_code == 0, result.output
    assert lib.inserted == [(INSTALLED, "")]


def test_real_built_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hagent.kernel, "repo_root", lambda: tmp_path)
    assert RealKernel().built_module() is None
    ko = tmp_path / "build" / os.uname().release / "kmod" / "hagent" / "hagent.ko"
    ko.parent.mkdir(parents=True)
    ko.write_bytes(b"\x7fELF")
    assert RealKernel().built_module() == ko


def test_repo_root() -> None:
    root = hagent.kernel.repo_root()
    assert root is not None and (root / "kmod" / "hagent" / "uapi" / "hagent.h").is_file()


LOAD_ERRORS = [
    pytest.param(
        {"loaded": True}, 0, "hagent is already loaded", "run: hagentctl unload", id="EEXIST",
    ),
    pytest.param(
        {"insert_rc": -errno.EPERM}, 1000, "must be root to load a kernel module",
        "run it with sudo", id="EPERM-user",
    ),
    pytest.param(
        {"insert_rc": -errno.EPERM}, 0,
        "the kernel refused to load the module (operation not permitted: lockdown or "
        "module signing?); see dmesg", None, id="EPERM-root",
    ),
    pytest.param(
        {"insert_rc": -errno.EINVAL}, 0, "bad module parameter in 'selftest=1'; see dmesg", None,
        id="EINVAL",
    ),
    pytest.param(
        {"insert_rc": -errno.ENOENT}, 0,
        f"the kernel rejected {KO}: unknown module parameter or unresolved symbol; see dmesg",
        None, id="ENOENT",
    ),
    pytest.param(
        {"insert_rc": -errno.ENOEXEC}, 0,
        f"invalid module format: {KO} (built for another kernel?); see dmesg", None,
        id="ENOEXEC",
    ),
    pytest.param(
        {"insert_rc": -errno.ENODEV}, 0, f"cannot load {KO}: No such device; see dmesg", None,
        id="init-failed",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lib_kwargs", "euid", "message", "hint"), LOAD_ERRORS)
def test_real_load_errors(
    invoke: Invoke,
    libkmod: Callable[..., FakeLibkmod],
    monkeypatch: pytest.MonkeyPatch,
    lib_kwargs: dict[str, object],
    euid: int,
    message: str,
    hint: str | None,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    lib = libkmod(files=(KO,), **lib_kwargs)
    one_error(invoke(RealKernel(), "load", "--ko", KO, "selftest=1"), message, hint)
    assert lib.live_refs == 0


def test_real_load_missing_file(invoke: Invoke, libkmod: Callable[..., FakeLibkmod]) -> None:
    libkmod()
    one_error(
        invoke(RealKernel(), "load", "--ko", KO),
        f"module file not found: {KO}",
        code=ExitCode.USAGE,
    )


def test_real_load_nothing_installed(invoke: Invoke, libkmod: Callable[..., FakeLibkmod]) -> None:
    libkmod(installed=None)
    release = os.uname().release
    one_error(
        invoke(RealKernel(), "load"),
        f"no hagent.ko for kernel {release}: not built in this repository and not installed "
        f"under /lib/modules/{release}",
        hint="build it, or pass --ko PATH",
    )


UNLOAD_ERRORS = [
    pytest.param({"loaded": False}, 0, "hagent is not loaded", None, id="not-loaded"),
    pytest.param(
        {"loaded": True, "remove_rc": -errno.EBUSY, "refcnt": 2}, 0,
        "hagent is in use (refcount 2)", "stop the processes that hold it, then retry", id="EBUSY",
    ),
    pytest.param(
        {"loaded": True, "remove_rc": -errno.EPERM}, 1000, "must be root to unload a kernel module",
        "run it with sudo", id="EPERM",
    ),
    pytest.param(
        {"loaded": True, "remove_rc": -errno.ENOENT}, 0, "hagent is not loaded", None,
        id="raced",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("lib_kwargs", "euid", "message", "hint"), UNLOAD_ERRORS)
def test_real_unload_errors(
    invoke: Invoke,
    libkmod: Callable[..., FakeLibkmod],
    monkeypatch: pytest.MonkeyPatch,
    lib_kwargs: dict[str, object],
    euid: int,
    message: str,
    hint: str | None,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    lib = libkmod(**lib_kwargs)
    code = ExitCode.NOT_LOADED if "not loaded" in message else ExitCode.FAILED
    one_error(invoke(RealKernel(), "unload"), message, hint, code)
    assert lib.live_refs == 0


# --- error reporting ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["load"],
        ["unload"],
        ["enable", "--pid", "1"],
        ["enable", "--pid", "1", "--json"],
        ["disable", "--pid", "1"],
        ["stats"],
        ["stats", "--json"],
    ],
)
def test_error_is_one_line(invoke: Invoke, command: list[str]) -> None:
    err = HagentError("must be root to do that")
    k = FakeKernel(
        fail={name: err for name in ("status", "load", "unload", "enable", "disable", "stats")}
    )
    result = invoke(k, *command)
    one_error(result, "must be root to do that")
    assert result.exit_code == 1
    assert result.stdout == ""


def test_error_exit_code_and_hint(invoke: Invoke) -> None:
    k = FakeKernel(fail={"unload": HagentError("nope", hint="try this", exit_code=4)})
    result = invoke(k, "unload")
    one_error(result, "nope", hint="try this", code=4)


def test_debug_shows_traceback(invoke: Invoke) -> None:
    k = FakeKernel(fail={"status": HagentError("hagent module is not loaded")})
    result = invoke(k, "--debug", "status")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "hagent.errors.HagentError: hagent module is not loaded" in result.stderr
    assert result.stderr.endswith("hagentctl: error: hagent module is not loaded\n")


def test_unexpected_errors_are_not_hidden(invoke: Invoke) -> None:
    class Broken(FakeKernel):
        def status(self) -> hagent.kernel.Status:
            raise RuntimeError("a bug")

    result = invoke(Broken(), "status")
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize("command", ["load", "unload", "status", "enable", "disable", "stats"])
def test_help_has_an_example(invoke: Invoke, command: str) -> None:
    result = invoke(FakeKernel(), command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"hagentctl {command}" in result.stdout


def no_kernel() -> Kernel:
    raise AssertionError("shell completion must not touch the kernel")


def test_completion_options_are_in_the_help() -> None:
    help_text = CliRunner().invoke(app, ["--help"], obj=State(no_kernel)).stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text


def test_show_completion_prints_a_script_for_hagentctl(monkeypatch: pytest.MonkeyPatch) -> None:
    # Typer's switch for tests: the options take the shell instead of detecting the
    # shell hagentctl runs under (the one running the tests may be sh, which it lacks).
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = CliRunner().invoke(
        app, ["--show-completion", "bash"], prog_name="hagentctl", obj=State(no_kernel)
    )
    assert result.exit_code == 0, result.output
    assert "_HAGENTCTL_COMPLETE=complete_bash" in result.stdout
    assert result.stdout.rstrip().endswith("complete -o default -F _hagentctl_completion hagentctl")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("hagentctl sta", ["status", "stats"]),
        ("hagentctl top --c", ["--count"]),
    ],
)
def test_completion_completes_commands_and_options(words: str, expected: list[str]) -> None:
    """What the installed script asks hagentctl when Tab is pressed."""
    env = {"_HAGENTCTL_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - 1)
    result = CliRunner().invoke(app, [], prog_name="hagentctl", env=env, obj=State(no_kernel))
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == expected


def test_kernel_is_created_lazily(invoke: Invoke) -> None:
    def factory() -> Kernel:
        raise AssertionError("--help must not touch the kernel")

    result = CliRunner().invoke(app, ["status", "--help"], obj=State(kernel_factory=factory))
    assert result.exit_code == 0


# --- debugfs ----------------------------------------------------------------------------


def test_debugfs_counters(tmp_path: Path) -> None:
    (tmp_path / "stats").write_text("samples 10\ndropped 0x10\n\nmode abit\nflag\n")
    (tmp_path / "per_node").mkdir()
    (tmp_path / "per_node" / "0").write_text("promoted\t3\n")
    assert debugfs.read_counters(tmp_path) == {
        "per_node/0": {"promoted": 3},
        "stats": {"samples": 10, "dropped": 16, "mode": "abit", "flag": ""},
    }


def test_debugfs_missing(tmp_path: Path) -> None:
    with pytest.raises(HagentError, match="not found: hagent is not loaded"):
        debugfs.read_counters(tmp_path / "hagent")


def test_debugfs_not_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stats").write_text("a 1\n")

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(HagentError, match=r"^must be root to read .*stats$"):
        debugfs.read_counters(tmp_path)


def test_real_load_refuses_unknown_parameter_before_inserting(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod]
) -> None:
    # The kernel would load the module and only log "unknown parameter ignored".
    lib = libkmod(files=(KO,), params={"selftest": "bool"})
    one_error(
        invoke(RealKernel(), "load", "--ko", KO, "no_such_param=1"),
        "unknown module parameter 'no_such_param' (hagent takes: selftest)",
        None,
        ExitCode.USAGE,
    )
    assert lib.inserted == []


# --- enable / disable / stats ----------------------------------------------------------


def rows(out: str) -> list[list[str]]:
    """The cells of every table row in rich output."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()]


def mib(pages: int) -> str:
    return f"{pages * PAGE_SIZE / (1 << 20):.1f} MiB"


def test_enable_human(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "enable", "--pid", "1234")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "managing pid 1234 (redis-server) fast=0 slow=1: 5120 pages adopted (fast 0, slow 5120)\n"
    )
    assert ("enable", 1234, None, None) in k.calls


def test_enable_nodes_and_json(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "enable", "--pid", "1234", "--fast", "0-1,4", "--slow", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["schema_version", "pid", "comm", "fast_nodes", "slow_nodes", "counters"]
    assert (data["pid"], data["fast_nodes"], data["slow_nodes"]) == (1234, "0-1,4", "2")
    assert data["counters"]["managed_pages.slow"] == 5120
    assert ("enable", 1234, "0-1,4", "2") in k.calls


def test_enable_summary_without_counters(invoke: Invoke) -> None:
    class Bare(FakeKernel):
        def enable(
            self, pid: int, fast: str | None = None, slow: str | None = None, follow: bool = False
        ) -> Target:
            return {"pid": pid, "comm": "x", "fast_nodes": "0", "slow_nodes": "", "counters": {}}

    result = invoke(Bare(), "enable", "--pid", "9")
    assert (
        result.stdout == "managing pid 9 (x) fast=0 slow=none: 0 pages adopted (fast 0, slow 0)\n"
    )


@pytest.mark.parametrize(
    ("args", "said", "call"),
    [
        (("--pid", "1234"), "pid 1234", ("disable", 1234)),
        (("--cgroup", "/app"), "cgroup /sys/fs/cgroup/app", ("disable_cgroup", 4242)),
    ],
    ids=["pid", "cgroup"],
)
def test_disable(invoke: Invoke, args: tuple[str, ...], said: str, call: tuple[Any, ...]) -> None:
    k = FakeKernel()
    result = invoke(k, "disable", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"stopped managing {said}\n"
    assert call in k.calls


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (("--pid", "1234"), {"pid": 1234}),
        (("--cgroup", "/app"), {"cgroup": "/sys/fs/cgroup/app", "id": 4242}),
    ],
    ids=["pid", "cgroup"],
)
def test_disable_json(invoke: Invoke, args: tuple[str, ...], want: dict[str, Any]) -> None:
    k = FakeKernel()
    result = invoke(k, "disable", *args, "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got.pop("schema_version") == jsonout.SCHEMA_VERSION
    assert got == want


def test_stats_human(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "stats")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "pid 1234 (redis-server)  fast 0  slow 1" in out
    assert "pid 77 (stress-ng-vm)  fast 0-1  slow 2,4" in out
    assert "totals since load" in out
    # one table per target, then the totals, in that order
    assert out.index("pid 1234") < out.index("pid 77") < out.index("totals since load")
    redis, stress, totals = (rows(part) for part in _split_tables(out))
    assert ["managed fast", "1024", mib(1024)] in redis
    assert ["managed slow", "5120", mib(5120)] in redis
    assert ["managed folios", "100", ""] in redis
    assert ["adopted", "8192", ""] in redis
    assert ["released", "2048", "unmap 2000, fork 48"] in redis
    assert ["skipped (last scan)", "7", "shared 7"] in redis
    assert ["orphans", "0", ""] in redis and ["scans", "3", ""] in redis
    assert ["released", "0", "-"] in stress and ["orphans", "1", ""] in stress
    assert ["released", "2600", "exit 552, unmap 2000, fork 48"] in totals
    assert ["targets enabled", "3", ""] in totals
    assert ["targets exited", "1", ""] in totals
    assert not any(r and r[0].startswith("other") for r in redis + stress + totals)


def _split_tables(out: str) -> list[str]:
    """rich output -> the text of each table (split at the title lines)."""
    parts: list[str] = []
    for line in out.splitlines():
        if line.startswith(("pid ", "totals ")):
            parts.append("")
        if parts:
            parts[-1] += line + "\n"
    return parts


def test_stats_human_missing_and_new_counters(invoke: Invoke) -> None:
    st: Stats = {
        "totals": {"targets.enabled": 1, "frobbed": 5, "released.future": 2, "scans": 1},
        "targets": [dict(REDIS, counters={"managed_pages.fast": 256, "zswapped.pages": 3})],  # type: ignore[list-item]
    }
    result = invoke(FakeKernel(stats=st), "stats")
    assert result.exit_code == 0, result.output
    target, totals = (rows(t) for t in _split_tables(result.stdout))
    assert ["managed fast", "256", mib(256)] in target
    assert ["other: zswapped.pages", "3", ""] in target
    assert not [r for r in target if r and r[0] in ("managed slow", "released", "adopted")]
    # a new reason joins its group; an unknown name goes to "other", after the known ones
    assert ["released", "2", "future 2"] in totals
    labels = [r[0] for r in totals if r and r[0] != "counter"]
    assert labels == ["released", "scans", "targets enabled", "other: frobbed"]


def test_stats_human_nothing_managed(invoke: Invoke) -> None:
    result = invoke(FakeKernel(stats={"totals": {}, "targets": []}), "stats")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no processes managed\n"


def test_stats_kernel_strings_are_not_markup(invoke: Invoke) -> None:
    st: Stats = {"totals": {"[red]x": 1}, "targets": [dict(REDIS, comm="[bold]evil")]}  # type: ignore[list-item]
    result = invoke(FakeKernel(stats=st), "stats")
    assert "pid 1234 ([bold]evil)" in result.stdout and "other: [red]x" in result.stdout


# stats --json adds a computed "bias" per target: (612/1024) / (356/5120) for
# REDIS's samples.fast/slow and managed_pages.fast/slow; STRESS has no fast page.
BIAS = {REDIS["pid"]: 612 * 5120 / (1024 * 356), STRESS["pid"]: None}


def stats_json(st: Stats) -> dict[str, Any]:
    """What stats --json prints for ``st``."""
    return {
        "schema_version": 1,
        "totals": st["totals"],
        "targets": [{**t, "bias": BIAS[t["pid"]]} for t in st["targets"]],
    }


def test_stats_json(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == stats_json(STATS)
    assert list(data) == ["schema_version", "totals", "targets"]
    assert list(data["targets"][0]) == [
        "pid", "comm", "fast_nodes", "slow_nodes", "counters", "bias"
    ]  # fmt: skip
    # flat, dotted, exactly as the module names them
    assert data["totals"]["managed_pages.fast"] == 1024
    assert data["totals"]["targets.exited"] == 1
    assert data["targets"][0]["counters"]["released.unmap"] == 2000
    assert all(isinstance(v, int) for v in data["totals"].values())


def test_stats_one_pid(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "stats", "--pid", "77")
    assert result.exit_code == 0, result.output
    assert ("stats", 77) in k.calls
    assert "pid 77 (stress-ng-vm)" in result.stdout
    assert "pid 1234" not in result.stdout and "totals" not in result.stdout
    result = invoke(k, "stats", "--pid", "77", "--json")
    assert json.loads(result.stdout)["targets"] == [{**STRESS, "bias": None}]


BAD_PIDS = [
    ("abc", "bad pid 'abc': expected a process id (a positive integer)"),
    ("0", "bad pid '0': expected a process id (a positive integer)"),
    ("-3", "bad pid '-3': expected a process id (a positive integer)"),
    ("1.5", "bad pid '1.5': expected a process id (a positive integer)"),
    ("", "bad pid '': expected a process id (a positive integer)"),
    (" 12", "bad pid ' 12': expected a process id (a positive integer)"),
    ("2147483648", "bad pid '2147483648': larger than any process id"),
]


@pytest.mark.parametrize("command", ["enable", "disable", "stats"])
@pytest.mark.parametrize(("pid", "message"), BAD_PIDS)
def test_bad_pid(command: str, pid: str, message: str) -> None:
    def factory() -> Kernel:
        raise AssertionError("a bad pid must not reach the kernel")

    result = CliRunner().invoke(app, [command, "--pid", pid], obj=State(kernel_factory=factory))
    one_error(result, message, code=ExitCode.USAGE)


def test_largest_pid_is_accepted(invoke: Invoke) -> None:
    k = FakeKernel()
    assert invoke(k, "disable", "--pid", "2147483647").exit_code == 0
    assert ("disable", 2147483647) in k.calls


LONG = ",".join(["1"] * 64)  # 127 characters: with the NUL, HAGENT_NODELIST_MAX

BAD_NODELISTS = [
    ("", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("a", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("0-", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("1,,2", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("0, 1", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("0-1-2", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("all", "expected N or N-M joined by commas, e.g. 0 or 0-1,4"),
    ("1,3-2", "range 3-2 runs backwards"),
]


@pytest.mark.parametrize("option", ["--fast", "--slow"])
@pytest.mark.parametrize(("nodes", "why"), BAD_NODELISTS)
def test_bad_nodelist(invoke: Invoke, option: str, nodes: str, why: str) -> None:
    k = FakeKernel()
    result = invoke(k, "enable", "--pid", "1", option, nodes)
    one_error(result, f"bad {option} node list '{nodes}': {why}", code=ExitCode.USAGE)
    assert not [c for c in k.calls if c[0] == "enable"]


def test_nodelist_length(invoke: Invoke) -> None:
    assert len(LONG) + 1 == NODELIST_MAX
    k = FakeKernel()
    assert invoke(k, "enable", "--pid", "1", "--fast", LONG).exit_code == 0
    result = invoke(k, "enable", "--pid", "1", "--slow", LONG + ",2")
    one_error(
        result,
        f"--slow node list is too long: {NODELIST_MAX + 1} characters, "
        f"the module takes at most {NODELIST_MAX - 1}",
        code=ExitCode.USAGE,
    )
    assert len([c for c in k.calls if c[0] == "enable"]) == 1


# --- enable / disable / stats through netlink ------------------------------------------


def sent_attrs(request: Any) -> list[tuple[str, Any]]:
    """The attributes of a request the fake socket saw, as (name, value) pairs."""
    return [(a.name, a.value) for a in request["attrs"]]


def test_enable_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(replies=(enable_reply(REDIS),))
    result = invoke(RealKernel(), "enable", "--pid", "1234", "--fast", "0", "--slow", "1-2")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "managing pid 1234 (redis-server) fast=0 slow=1: "
        "8192 pages adopted (fast 1024, slow 5120)\n"
    )
    ((request, msg_type, flags),) = s.requests
    assert (request["cmd"], request["version"], msg_type) == (Cmd.ENABLE, 1, FAMILY_ID)
    assert sent_attrs(request) == [
        ("HAGENT_A_PID", 1234),
        ("HAGENT_A_FAST_NODES", "0"),
        ("HAGENT_A_SLOW_NODES", "1-2"),
    ]
    assert flags == NLM_F_REQUEST | NLM_F_ACK
    assert s.closed


def test_enable_through_netlink_defaults_and_json(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket]
) -> None:
    s = sock(replies=(enable_reply(STRESS),))
    result = invoke(RealKernel(), "enable", "--pid", "77", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"schema_version": 1, **STRESS}
    ((request, _, _),) = s.requests
    assert sent_attrs(request) == [("HAGENT_A_PID", 77)]  # the module picks the tiers


def test_enable_follow_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    # The flag goes out; the reply's workload (the root's own pid) comes back.
    followed: Target = {**REDIS, "workload": REDIS["pid"]}
    s = sock(replies=(enable_reply(followed),))
    result = invoke(RealKernel(), "enable", "--pid", "1234", "--follow", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["workload"] == 1234
    ((request, _, _),) = s.requests
    assert [a[0] for a in sent_attrs(request)] == ["HAGENT_A_PID", "HAGENT_A_FOLLOW"]
    result = invoke(FakeKernel(), "enable", "--pid", "1234", "--follow")
    assert "(redis-server) following its forks fast=0" in result.stdout


@pytest.mark.parametrize("targets", [(), (REDIS, STRESS)], ids=["none", "two"])
def test_enable_malformed_reply(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket], targets: tuple[Target, ...]
) -> None:
    sock(replies=(enable_reply(*targets),))
    one_error(
        invoke(RealKernel(), "enable", "--pid", "1234"),
        f"malformed ENABLE reply from the module: {len(targets)} targets, expected 1",
        hint="hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
    )


def test_enable_target_exited_at_once(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    sock()  # success, but only the ack: the target was gone before the reply
    one_error(
        invoke(RealKernel(), "enable", "--pid", "1234"),
        "pid 1234 exited right after it was enabled: nothing is managed",
    )


def test_disable_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock()  # the answer is the kernel's ack alone
    result = invoke(RealKernel(), "disable", "--pid", "1234")
    assert result.exit_code == 0, result.output
    assert result.stdout == "stopped managing pid 1234\n"
    ((request, _, flags),) = s.requests
    assert (request["cmd"], sent_attrs(request)) == (Cmd.DISABLE, [("HAGENT_A_PID", 1234)])
    assert flags == NLM_F_REQUEST | NLM_F_ACK


def test_stats_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(replies=(stats_reply(),))
    result = invoke(RealKernel(), "stats", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == stats_json(STATS)
    ((request, _, flags),) = s.requests
    assert (request["cmd"], request["attrs"], flags) == (Cmd.STATS, [], NLM_F_REQUEST)
    result = invoke(RealKernel(), "stats", "--pid", "77")
    assert result.exit_code == 0, result.output
    assert sent_attrs(s.requests[1][0]) == [("HAGENT_A_PID", 77)]


NETLINK_ERRORS = [
    pytest.param(
        ["enable", "--pid", "4242"], errno.ESRCH, None, "no such process: 4242", None,
        id="enable-ESRCH",
    ),
    pytest.param(
        ["enable", "--pid", "4242"], errno.ESRCH, "process 4242 is exiting",
        "process 4242 is exiting", None, id="enable-ESRCH-extack",
    ),
    pytest.param(
        ["enable", "--pid", "4242"], errno.EEXIST, None, "pid 4242 is already managed", None,
        id="enable-EEXIST",
    ),
    pytest.param(
        ["enable", "--pid", "4242"], errno.EEXIST, "pid 4242 (thread of 4240) is already managed",
        "pid 4242 (thread of 4240) is already managed", None, id="enable-EEXIST-extack",
    ),
    pytest.param(
        ["enable", "--pid", "2"], errno.EINVAL, "pid 2 is a kernel thread",
        "pid 2 is a kernel thread", None, id="enable-EINVAL-extack",
    ),
    pytest.param(
        ["enable", "--pid", "1", "--fast", "7"], errno.EINVAL, "fast node 7 has no memory",
        "fast node 7 has no memory", None, id="enable-EINVAL-nodes",
    ),
    pytest.param(
        ["enable", "--pid", "1"], errno.EINVAL, None, "enable failed: Invalid argument", None,
        id="enable-EINVAL-bare",
    ),
    pytest.param(
        ["enable", "--pid", "1"], errno.EPERM, None, "must be root (CAP_NET_ADMIN) to enable",
        "run it with sudo", id="enable-EPERM",
    ),
    pytest.param(
        ["disable", "--pid", "1"], errno.EPERM, None, "must be root (CAP_NET_ADMIN) to disable",
        "run it with sudo", id="disable-EPERM",
    ),
    pytest.param(
        ["disable", "--pid", "4242"], errno.ENOENT, None, "pid 4242 is not managed",
        "see the managed processes: hagentctl stats", id="disable-ENOENT",
    ),
    pytest.param(
        ["stats", "--pid", "4242"], errno.ENOENT, None, "pid 4242 is not managed",
        "see the managed processes: hagentctl stats", id="stats-ENOENT",
    ),
    pytest.param(
        ["stats"], errno.ENOMEM, None, "stats failed: Cannot allocate memory", None,
        id="stats-ENOMEM",
    ),
    pytest.param(
        ["enable", "--pid", "1"], errno.EOPNOTSUPP, None,
        "the loaded hagent module has no ENABLE command",
        "hagentctl and the module disagree on uapi/hagent.h: rebuild the module",
        id="old-module",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "extack", "message", "hint"), NETLINK_ERRORS)
def test_netlink_errors(
    invoke: Invoke,
    sock: Callable[..., FakeGenlSocket],
    args: list[str],
    code: int,
    extack: str | None,
    message: str,
    hint: str | None,
) -> None:
    s = sock(error=code, extack=extack)
    one_error(invoke(RealKernel(), *args), message, hint)
    assert s.closed


@pytest.mark.parametrize(
    "args", [["enable", "--pid", "1"], ["disable", "--pid", "1"], ["stats"]], ids=str
)
def test_module_not_loaded(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket], args: list[str]
) -> None:
    sock(family=False)
    one_error(
        invoke(RealKernel(), *args),
        "hagent module is not loaded (netlink family 'hagent' not found)",
        hint="run: hagentctl load",
        code=ExitCode.NOT_LOADED,
    )


def test_extack_from_pyroute2() -> None:
    """pyroute2 0.9.7 puts NLMSGERR_ATTR_MSG in args[1], else strerror: tell them apart."""
    assert genl.extack(NetlinkError(errno.EINVAL)) is None
    assert genl.extack(NetlinkError(-errno.EINVAL, None)) is None
    assert genl.extack(NetlinkError(errno.EINVAL, "bad node list")) == "bad node list"
    err = NetlinkError(errno.ESRCH)
    err.extack = "set by a newer pyroute2"  # type: ignore[attr-defined]
    assert genl.extack(err) == "set by a newer pyroute2"


# --- STATS decoding without a kernel ------------------------------------------------


def test_decode_stats_wire_format() -> None:
    """Two targets, totals, and u64 values with and without a PAD before them."""
    msg = genl.decode(stats_reply())
    counters = msg.get_attr("HAGENT_A_COUNTERS").get_attrs("HAGENT_A_COUNTER")
    pads = [c for c in counters if c.get_attr("HAGENT_A_COUNTER_PAD", "absent") != "absent"]
    assert 0 < len(pads) < len(counters)  # both layouts are on the wire
    assert genl.stats_from_msg(msg) == STATS
    assert genl.stats_from_msg(genl.decode(stats_reply(pad=False))) == STATS


def test_decode_stats_empty() -> None:
    empty: Stats = {"totals": {}, "targets": []}
    assert genl.stats_from_msg(genl.decode(stats_reply(empty))) == empty


def test_decode_stats_pyroute2_roundtrip() -> None:
    """What pyroute2 encodes from the same nla maps decodes back (no PADs, big values)."""
    msg = genl.hagentmsg()
    msg["cmd"] = Cmd.STATS
    msg["version"] = 1
    msg["header"]["type"] = FAMILY_ID

    def counter(name: str, value: int) -> list[object]:
        return [
            "HAGENT_A_COUNTER",
            {"attrs": [["HAGENT_A_COUNTER_NAME", name], ["HAGENT_A_COUNTER_VALUE", value]]},
        ]

    target = [
        ["HAGENT_A_TARGET_PID", 5],
        ["HAGENT_A_TARGET_COMM", "a b"],
        ["HAGENT_A_TARGET_FAST_NODES", "0"],
        ["HAGENT_A_TARGET_SLOW_NODES", ""],
        ["HAGENT_A_TARGET_COUNTERS", {"attrs": [counter("adopted", (1 << 64) - 1)]}],
    ]
    msg["attrs"] = [
        ["HAGENT_A_COUNTERS", {"attrs": [counter("targets.enabled", 1)]}],
        ["HAGENT_A_TARGETS", {"attrs": [["HAGENT_A_TARGET", {"attrs": target}]]}],
    ]
    msg.encode()
    assert genl.stats_from_msg(genl.decode(msg.data)) == {
        "totals": {"targets.enabled": 1},
        "targets": [
            {
                "pid": 5,
                "comm": "a b",
                "fast_nodes": "0",
                "slow_nodes": "",
                "counters": {"adopted": (1 << 64) - 1},
            }
        ],
    }


def test_decode_comm_not_utf8() -> None:
    assert genl._text(b"ab\xffc") == "ab\\xffc"
    assert genl._text("caf\u00e9".encode()) == "caf\u00e9"
    assert genl._text("plain") == "plain"


# A process may name itself with any bytes but NUL (prctl PR_SET_NAME).
BAD_COMM = b"caf\xe9\xff"
SHOWN_COMM = "caf\\xe9\\xff"  # as the kernel's log escapes it


def test_events_with_a_comm_that_is_not_utf8(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket]
) -> None:
    msg = b"pid 7 (" + BAD_COMM + b") exited; 12 pages given back"
    sock(events=(event_message(Event.TARGET_EXITED, 7, msg),))
    result = invoke(RealKernel(), "events")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        f"target_exited pid 7: pid 7 ({SHOWN_COMM}) exited; 12 pages given back\n"
    )
    assert "b'" not in result.stdout
    sock(events=(event_message(Event.TARGET_EXITED, 7, msg),))
    result = invoke(RealKernel(), "events", "--json")
    assert json.loads(result.stdout)["msg"] == f"pid 7 ({SHOWN_COMM}) exited; 12 pages given back"


def test_stats_and_enable_with_a_comm_that_is_not_utf8(
    invoke: Invoke, sock: Callable[..., FakeGenlSocket]
) -> None:
    target = dict(REDIS, comm=BAD_COMM)
    sock(replies=(stats_reply({"totals": {}, "targets": [target]}),))  # type: ignore[list-item]
    result = invoke(RealKernel(), "stats")
    assert result.exit_code == 0, result.output
    assert f"pid 1234 ({SHOWN_COMM})" in result.stdout
    sock(replies=(stats_reply({"totals": {}, "targets": [target]}),))  # type: ignore[list-item]
    result = invoke(RealKernel(), "stats", "--json")
    assert json.loads(result.stdout)["targets"][0]["comm"] == SHOWN_COMM
    sock(replies=(enable_reply(target),))  # type: ignore[arg-type]
    result = invoke(RealKernel(), "enable", "--pid", "1234")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"managing pid 1234 ({SHOWN_COMM}) ")


def test_decode_stats_malformed(sock: Callable[..., FakeGenlSocket]) -> None:
    bad = dict(STATS, totals={})
    reply = stats_reply(bad, pad=False)  # type: ignore[arg-type]
    # drop the NAME of the first counter: rename its type to UNSPEC in place
    name = struct.pack("=HH", len("managed_pages.fast") + 5, CounterAttr.COUNTER_NAME)
    assert name in reply
    sock(replies=(reply.replace(name, struct.pack("=HH", len("managed_pages.fast") + 5, 0), 1),))
    with pytest.raises(
        HagentError, match="malformed STATS reply from the module: no HAGENT_A_COUNTER_NAME"
    ):
        genl.stats()


def test_target_events() -> None:
    for kind, name in [
        (Event.TARGET_ENABLED, "target_enabled"),
        (Event.TARGET_DISABLED, "target_disabled"),
        (Event.TARGET_EXITED, "target_exited"),
    ]:
        event = genl.event_from_msg(genl.decode(event_message(kind, 1234, "x")))
        assert event == {"type": name, "pid": 1234, "msg": "x"}


def test_events_stream_human_json_and_count(invoke: Invoke) -> None:
    k = FakeKernel()
    k.event_list = [
        {"type": "target_enabled", "pid": 12, "msg": "managing pid 12 (a)"},
        {"type": "check_failed", "pid": 12, "msg": "CHECK failed: x at y.c:1 pid=12"},
        {"type": "unloading", "pid": 0, "msg": "bye"},
    ]
    r = invoke(k, "events", "--count", "2")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("target_enabled pid 12: managing pid 12 (a)")
    r = invoke(k, "events", "--json")
    evs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [e["type"] for e in evs] == ["target_enabled", "check_failed", "unloading"]
    assert all({"time", "type", "pid", "msg"} <= set(e) for e in evs)
