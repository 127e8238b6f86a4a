# SPDX-License-Identifier: GPL-2.0
"""enable --cgroup (cgroup.c): the processes in a cgroup v2, those that start
there or move in, managed; those that move out, and all of them on disable or
unload, given back."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.vm.conftest import counters, ctl_json, run_ctl, stats, wait_until
from tests.vm.memhog import Memhog

ROOT = Path("/sys/fs/cgroup")


@contextmanager
def plain_cgroup(name: str) -> Iterator[Path]:
    """A child of the root cgroup; afterwards its processes go back to the root."""
    cg = ROOT / name
    cg.mkdir()
    try:
        yield cg
    finally:
        for pid in (cg / "cgroup.procs").read_text().split():
            with suppress(ProcessLookupError):
                (ROOT / "cgroup.procs").write_text(pid)
        cg.rmdir()


def in_cgroup(ident: int) -> dict[int, dict[str, Any]]:
    """The targets that came in through cgroup @ident, by pid."""
    return {t["pid"]: t for t in stats()["targets"] if t.get("cgroup") == ident}


def test_a_cgroup_is_managed_as_processes_enter_and_leave_it(managing: None) -> None:
    with plain_cgroup("hagent-cg") as cg:
        ident = os.stat(cg).st_ino
        inside = Memhog(16, cgroup=cg)  # in it before the enable
        outside = Memhog(16)
        late: Memhog | None = None
        try:
            out = ctl_json("enable", "--cgroup", str(cg))
            assert out["id"] == ident
            assert [t["pid"] for t in out["targets"]] == [inside.pid], out
            assert out["targets"][0]["cgroup"] == ident
            assert outside.pid not in in_cgroup(ident)
            wait_until("its pages adopted", lambda: counters(inside.pid)["adopted"] >= 15 * 256)

            # What a member forks is in the cgroup, so managed.
            child = int(inside.do("fork").split()[1])
            wait_until("the forked child managed", lambda: child in in_cgroup(ident))
            inside.do("reap")
            wait_until("the child's target gone", lambda: child not in in_cgroup(ident))

            # A process moved in is managed; one started in it (sh joins, then
            # execs memhog) is managed from its exec on.
            (cg / "cgroup.procs").write_text(str(outside.pid))
            wait_until("the process moved in managed", lambda: outside.pid in in_cgroup(ident))
            late = Memhog(8, cgroup=cg)
            pid = late.pid
            wait_until(
                "the process started in it managed after its exec",
                lambda: in_cgroup(ident).get(pid, {}).get("comm") == "memhog",
            )

            # Moved out: given back, whole.
            (ROOT / "cgroup.procs").write_text(str(inside.pid))
            wait_until(
                "the process moved out given back", lambda: inside.pid not in in_cgroup(ident)
            )
            assert all(t["pid"] != inside.pid for t in stats()["targets"])

            # Managed already, or a cgroup inside it: refused, with the reason.
            again = run_ctl("enable", "--cgroup", str(cg), check=False)
            assert again.returncode == 1 and "is managed already" in again.stderr, again.stderr
            (cg / "sub").mkdir()
            try:
                nested = run_ctl("enable", "--cgroup", str(cg / "sub"), check=False)
                assert nested.returncode == 1, nested.stderr
                assert "inside or above" in nested.stderr, nested.stderr
            finally:
                (cg / "sub").rmdir()

            before = stats()["totals"]["targets.disabled"]
            run_ctl("disable", "--cgroup", str(cg))
            assert not stats()["targets"], stats()["targets"]
            assert stats()["totals"]["targets.disabled"] == before + 2
            # Not managed any more: joining it does nothing.
            (cg / "cgroup.procs").write_text(str(inside.pid))
            time.sleep(3)
            assert not stats()["targets"], stats()["targets"]
            gone = run_ctl("disable", "--cgroup", str(cg), check=False)
            assert gone.returncode == 1 and "is not managed" in gone.stderr, gone.stderr
        finally:
            for hog in (inside, outside, late):
                if hog is not None:
                    hog.exit()


def test_unload_gives_a_managed_cgroup_back(managing: None) -> None:
    # The managing fixture unloads with the cgroup still managed and a member
    # in it: nothing may stay isolated, the counters must balance.
    with plain_cgroup("hagent-cg-unload") as cg:
        hog = Memhog(8, cgroup=cg)
        try:
            (target,) = ctl_json("enable", "--cgroup", str(cg))["targets"]
            assert target["pid"] == hog.pid
            wait_until("its pages adopted", lambda: counters(hog.pid)["adopted"] >= 7 * 256)
            run_ctl("unload")
            hog.do("verify")  # every page still holds what it wrote
        finally:
            hog.exit()


def test_bad_cgroups_are_refused() -> None:
    # Checked by hagentctl before the module is asked (it need not be loaded).
    missing = run_ctl("enable", "--cgroup", "no-such-cgroup", check=False)
    assert missing.returncode == 2, missing.stderr
    assert "no cgroup 'no-such-cgroup'" in missing.stderr
    both = run_ctl("enable", "--cgroup", "/", "--pid", "1", check=False)
    assert both.returncode == 2 and "not both" in both.stderr


def test_a_workload_stops_at_workload_max(managing: None) -> None:
    # workload_max=1: a followed root is its whole workload, so what it forks
    # is not managed (follow.over_limit); of a cgroup's two processes one is.
    run_ctl("config", "workload_max=1")
    hog = Memhog(8)
    try:
        run_ctl("enable", "--pid", str(hog.pid), "--follow")
        child = int(hog.do("fork").split()[1])
        wait_until(
            "the fork refused over the limit",
            lambda: stats()["totals"]["follow.over_limit"] == 1,
        )
        assert all(t["pid"] != child for t in stats()["targets"])
        hog.do("reap")
    finally:
        hog.exit()
    with plain_cgroup("hagent-cg-limit") as cg:
        first, second = Memhog(8, cgroup=cg), Memhog(8, cgroup=cg)
        try:
            (target,) = ctl_json("enable", "--cgroup", str(cg))["targets"]
            assert target["pid"] in (first.pid, second.pid)
            assert stats()["totals"]["follow.over_limit"] == 2
        finally:
            first.exit()
            second.exit()


def test_a_move_in_a_cgroup_v1_hierarchy_changes_nothing(managing: None, tmp_path: Path) -> None:
    # Hybrid systems still move processes in v1 hierarchies; only the unified
    # one says which cgroup a process is in.
    v1 = tmp_path / "v1"
    v1.mkdir()
    subprocess.run(
        ["mount", "-t", "cgroup", "-o", "none,name=hagent-test", "cgroup", str(v1)], check=True
    )
    try:
        with plain_cgroup("hagent-cg-hybrid") as cg:
            hog = Memhog(8, cgroup=cg)
            try:
                ident = ctl_json("enable", "--cgroup", str(cg))["id"]
                (v1 / "child").mkdir()
                (v1 / "child" / "cgroup.procs").write_text(str(hog.pid))
                time.sleep(3)
                assert hog.pid in in_cgroup(ident), stats()["targets"]
                (v1 / "cgroup.procs").write_text(str(hog.pid))
            finally:
                hog.exit()
                if (v1 / "child").exists():
                    (v1 / "child").rmdir()
    finally:
        subprocess.run(["umount", str(v1)], check=True)
