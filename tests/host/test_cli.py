"""hagentctl against fake kernels: output, error lines, exit codes, decoding.

Two levels of fake (see fake_kernel.py): FakeKernel replaces the whole kernel
layer; FakeLibkmod/FakeGenlSocket sit under RealKernel so that the real errno
and netlink error mapping is what the CLI prints.
"""

import errno
import json
import os
import subprocess
import sys
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import pytest
from fake_kernel import (
    FAMILY_ID,
    STATUS,
    FakeGenlSocket,
    FakeKernel,
    FakeLibkmod,
    event_message,
    status_reply,
)
from pyroute2.netlink import NLM_F_REQUEST
from typer.testing import CliRunner, Result

import hagent.kernel
from hagent.cli import app
from hagent.commands import State
from hagent.commands.load import param_string
from hagent.errors import HagentError
from hagent.kernel import Kernel, RealKernel, debugfs, genl, kmodlib
from hagent.uapi import Attr, Cmd, Event

KO = "/src/build/6.1.0-28-amd64/kmod/hagent/hagent.ko"
INSTALLED = "/lib/modules/6.1.0-28-amd64/extra/hagent.ko"

Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def run(kernel: Kernel, *args: str) -> Result:
        return runner.invoke(app, list(args), obj=State(kernel_factory=lambda: kernel))

    return run


@pytest.fixture
def libkmod(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeLibkmod]:
    def install(**kwargs: object) -> FakeLibkmod:
        lib = FakeLibkmod(**kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(kmodlib, "_lib", lib)
        return lib

    return install


@pytest.fixture
def sock(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeGenlSocket]:
    def install(**kwargs: object) -> FakeGenlSocket:
        s = FakeGenlSocket(**kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(genl, "_Socket", s)
        return s

    return install


def one_error(result: Result, message: str, hint: str | None = None) -> None:
    """Exit non-zero with exactly one error line (plus the hint) on stderr."""
    assert result.exit_code != 0
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
    (pebs,) = [line for line in lines if "pebs" in line]
    assert "no" in pebs and "no PMU (virtualized)" in pebs
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
    st = dict(STATUS, samplers=[{"name": "[bold]x[/bold]", "available": False, "reason": "[red]"}])
    result = invoke(FakeKernel(status=st), "status")  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    assert "[bold]x[/bold]" in result.stdout and "[red]" in result.stdout


def test_status_json(invoke: Invoke) -> None:
    result = invoke(FakeKernel(), "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == STATUS
    assert list(data) == ["version", "kernel", "features", "nr_targets", "samplers", "nodes"]
    assert list(data["samplers"][0]) == ["name", "available", "reason"]
    assert list(data["nodes"][0]) == ["id", "tier", "nr_cpus", "mem_total", "mem_free"]


def test_status_through_netlink(invoke: Invoke, sock: Callable[..., FakeGenlSocket]) -> None:
    s = sock(replies=(status_reply(),))
    result = invoke(RealKernel(), "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == STATUS
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
    assert proc.returncode == 1
    assert proc.stdout == ""
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
    sampler = [["HAGENT_A_SAMPLER_NAME", "inject"], ["HAGENT_A_SAMPLER_AVAILABLE", 1]]
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
        "samplers": [{"name": "inject", "available": True, "reason": None}],
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
            event_message(9, 1, "from the future"),
        )
    )
    events = RealKernel().events()
    assert list(islice(events, 3)) == [
        {"type": "loaded", "pid": 0, "msg": "hagent 0.1.0 loaded"},
        {"type": "unloading", "pid": 42, "msg": "bye"},
        {"type": "event9", "pid": 1, "msg": "from the future"},
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
    assert result.exit_code == 1
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
    one_error(invoke(RealKernel(), "load", "--ko", KO), f"module file not found: {KO}")


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
    one_error(invoke(RealKernel(), "unload"), message, hint)
    assert lib.live_refs == 0


# --- error reporting ------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["load"], ["unload"]])
def test_error_is_one_line(invoke: Invoke, command: list[str]) -> None:
    err = HagentError("must be root to do that")
    k = FakeKernel(fail={"status": err, "load": err, "unload": err})
    result = invoke(k, *command)
    one_error(result, "must be root to do that")
    assert result.exit_code == 1
    assert result.stdout == ""


def test_error_exit_code_and_hint(invoke: Invoke) -> None:
    k = FakeKernel(fail={"unload": HagentError("nope", hint="try this", exit_code=3)})
    result = invoke(k, "unload")
    one_error(result, "nope", hint="try this")
    assert result.exit_code == 3


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


@pytest.mark.parametrize("command", ["load", "unload", "status"])
def test_help_has_an_example(invoke: Invoke, command: str) -> None:
    result = invoke(FakeKernel(), command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"hagentctl {command}" in result.stdout


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
    )
    assert lib.inserted == []
