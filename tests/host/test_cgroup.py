"""enable/disable --cgroup: naming a cgroup v2 (kernel/cgroupfs.py), the command
line, and what goes over netlink."""

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_kernel import REDIS, FakeGenlSocket, FakeKernel, enable_reply
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from typer.testing import Result

from hagent.errors import ExitCode, HagentError
from hagent.kernel import RealKernel, Stats, Target, cgroupfs
from hagent.uapi import Cmd

Invoke = Callable[..., Result]


@pytest.fixture
def hierarchy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cgroup v2 tree (app, app/web) mounted, as mountinfo says, at tmp/unified;
    a cgroup v1 tree at tmp/v1 (cpu/batch)."""
    unified = tmp_path / "unified"
    for d in (unified, unified / "app", unified / "app" / "web"):
        d.mkdir(parents=True, exist_ok=True)
        (d / "cgroup.controllers").write_text("cpu memory\n")
        (d / "cgroup.procs").write_text("")
    v1 = tmp_path / "v1" / "batch"
    v1.mkdir(parents=True)
    (v1 / "cgroup.procs").write_text("")
    (v1 / "tasks").write_text("")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
        f"30 22 0:26 / {tmp_path / 'v1'} rw shared:9 - cgroup cgroup rw,cpu\n"
        f"31 22 0:27 / {unified} rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    )
    monkeypatch.setattr(cgroupfs, "MOUNTINFO", mountinfo)
    return unified


@pytest.mark.parametrize("name", ["app/web", "/app/web", "ABS"])
def test_resolve_names_a_cgroup_three_ways(hierarchy: Path, name: str) -> None:
    # Relative to the mount, as /proc/PID/cgroup prints it, or as a directory.
    web = hierarchy / "app" / "web"
    path, ident = cgroupfs.resolve(str(web) if name == "ABS" else name)
    assert path == web
    assert ident == os.stat(web).st_ino


def test_resolve_the_root(hierarchy: Path) -> None:
    assert cgroupfs.resolve("/") == (hierarchy, os.stat(hierarchy).st_ino)


def test_resolve_refuses_cgroup_v1(hierarchy: Path) -> None:
    v1 = hierarchy.parent / "v1" / "batch"
    with pytest.raises(HagentError) as e:
        cgroupfs.resolve(str(v1))
    assert str(e.value) == f"{v1} is a cgroup v1 directory: hagent manages cgroup v2 cgroups only"
    assert e.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("name", ["nosuch", "/app/nosuch", ""])
def test_resolve_refuses_a_missing_cgroup(hierarchy: Path, name: str) -> None:
    with pytest.raises(HagentError) as e:
        cgroupfs.resolve(name)
    assert e.value.exit_code == ExitCode.USAGE
    if name:
        assert str(e.value) == f"no cgroup '{name}' (cgroup v2 is mounted at {hierarchy})"


def test_resolve_without_cgroup2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 0:21 / /proc rw - proc proc rw\n")
    monkeypatch.setattr(cgroupfs, "MOUNTINFO", mountinfo)
    with pytest.raises(HagentError, match="nowhere: cgroup2 is not mounted"):
        cgroupfs.resolve("app")


def test_mounts_with_escaped_spaces(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("31 22 0:27 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n")
    assert cgroupfs.cgroup2_mounts(mountinfo) == [Path("/mnt/my cg")]


# --- the command line -------------------------------------------------------------


def test_enable_cgroup_human_and_json(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "enable", "--cgroup", "app", "--fast", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "managing cgroup /sys/fs/cgroup/app: 2 processes in it now, 200 pages adopted;"
    )
    assert ("enable_cgroup", 4242, "0", None) in k.calls
    result = invoke(FakeKernel(), "enable", "--cgroup", "app", "--json")
    out = json.loads(result.stdout)
    assert (out["cgroup"], out["id"]) == ("/sys/fs/cgroup/app", 4242)
    assert [t["pid"] for t in out["targets"]] == [301, 302]
    assert {t["cgroup"] for t in out["targets"]} == {4242}


@pytest.mark.parametrize("command", ["enable", "disable"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --pid PID or --cgroup PATH"),
        (("--pid", "1", "--cgroup", "app"), "give --pid PID or --cgroup PATH, not both"),
    ],
    ids=["neither", "both"],
)
def test_pid_or_cgroup_exactly_one(
    invoke: Invoke, command: str, args: tuple[str, ...], message: str
) -> None:
    k = FakeKernel()
    result = invoke(k, command, *args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr == f"hagentctl: error: {message}\n"
    assert not [c for c in k.calls if c[0] in ("enable", "enable_cgroup", "disable")]


def test_follow_is_for_a_pid(invoke: Invoke) -> None:
    k = FakeKernel()
    result = invoke(k, "enable", "--cgroup", "app", "--follow")
    assert result.exit_code == ExitCode.USAGE
    assert "--follow is for --pid" in result.stderr
    assert not [c for c in k.calls if c[0] == "enable_cgroup"]


def test_a_missing_cgroup_asks_nothing_of_the_module(
    invoke: Invoke, hierarchy: Path, sock: Callable[..., FakeGenlSocket]
) -> None:
    s = sock()
    result = invoke(RealKernel(), "enable", "--cgroup", "nosuch")
    assert result.exit_code == ExitCode.USAGE
    assert "no cgroup 'nosuch'" in result.stderr
    assert not s.requests


# --- through netlink -------------------------------------------------------------


def test_enable_cgroup_through_netlink(
    invoke: Invoke, hierarchy: Path, sock: Callable[..., FakeGenlSocket]
) -> None:
    # HAGENT_A_CGROUP carries the directory's inode number; the reply lists
    # every target that came in through it, each with the cgroup's id.
    ident = os.stat(hierarchy / "app").st_ino
    members: list[Target] = []
    for pid in (1234, 1235):
        t = copy.copy(REDIS)
        t["pid"], t["cgroup"] = pid, ident
        members.append(t)
    s = sock(replies=(enable_reply(*members),))
    result = invoke(RealKernel(), "enable", "--cgroup", "app", "--slow", "1", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["id"] == ident and out["cgroup"] == str(hierarchy / "app")
    assert [(t["pid"], t["cgroup"]) for t in out["targets"]] == [(1234, ident), (1235, ident)]
    ((request, _, flags),) = s.requests
    assert request["cmd"] == Cmd.ENABLE
    assert [(a.name, a.value) for a in request["attrs"]] == [
        ("HAGENT_A_CGROUP", ident),
        ("HAGENT_A_SLOW_NODES", "1"),
    ]
    assert flags == NLM_F_REQUEST | NLM_F_ACK


def test_enable_an_empty_cgroup_through_netlink(
    invoke: Invoke, hierarchy: Path, sock: Callable[..., FakeGenlSocket]
) -> None:
    sock(replies=(enable_reply(),))
    result = invoke(RealKernel(), "enable", "--cgroup", "app/web")
    assert result.exit_code == 0, result.output
    assert "2 processes" not in result.stdout
    assert result.stdout.startswith(f"managing cgroup {hierarchy / 'app' / 'web'}: 0 processes")


def test_disable_cgroup_through_netlink(
    invoke: Invoke, hierarchy: Path, sock: Callable[..., FakeGenlSocket]
) -> None:
    s = sock()
    result = invoke(RealKernel(), "disable", "--cgroup", "app")
    assert result.exit_code == 0, result.output
    ((request, _, _),) = s.requests
    assert request["cmd"] == Cmd.DISABLE
    assert [(a.name, a.value) for a in request["attrs"]] == [
        ("HAGENT_A_CGROUP", os.stat(hierarchy / "app").st_ino)
    ]


def test_path_of_finds_a_cgroup_by_id(hierarchy: Path) -> None:
    web = hierarchy / "app" / "web"
    assert cgroupfs.path_of(os.stat(web).st_ino) == web
    assert cgroupfs.path_of(1) is None


def test_stats_names_each_targets_workload(invoke: Invoke) -> None:
    # A target that came in through a cgroup names it (its path while it
    # exists); a followed one its workload's root.
    class Grouped(FakeKernel):
        def stats(self, pid: int | None = None) -> Stats:
            st = copy.deepcopy(super().stats(pid))  # not the shared STATS
            a, b = st["targets"][:2]
            a["cgroup"] = 4242
            b["workload"] = 99
            extra = copy.deepcopy(b)
            extra["pid"], extra["cgroup"] = 78, 5150
            del extra["workload"]
            st["targets"] = [a, b, extra]
            return st

    result = invoke(Grouped(), "stats")
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())  # titles wrap in narrow terminals
    assert "pid 1234 (redis-server) fast 0 slow 1 cgroup /sys/fs/cgroup/app" in words
    assert "pid 77 (stress-ng-vm) fast 0-1 slow 2,4 workload of pid 99" in words
    assert "pid 78 (stress-ng-vm) fast 0-1 slow 2,4 cgroup id 5150 (removed)" in words
