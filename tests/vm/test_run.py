# SPDX-License-Identifier: GPL-2.0
"""hagentctl run: the command managed from its exec, its status hagentctl's,
and what it forks and execs followed (follow.c)."""

from __future__ import annotations

import signal
import subprocess
import time
from typing import Any

from tests.vm.conftest import counters, run_ctl, stats, wait_until
from tests.vm.memhog import MEMHOG, Memhog


def targets_by_comm(comm: str) -> list[dict[str, Any]]:
    return [t for t in stats()["targets"] if t["comm"] == comm]


def target_by_comm(comm: str) -> dict[str, Any]:
    found = targets_by_comm(comm)
    assert len(found) == 1, stats()["targets"]
    return found[0]


def start_run(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["hagentctl", "run", "--", *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ask(ctl: subprocess.Popen[str], command: str) -> str:
    """One memhog command through hagentctl run's pipes."""
    assert ctl.stdin is not None and ctl.stdout is not None
    ctl.stdin.write(command + "\n")
    ctl.stdin.flush()
    reply = ctl.stdout.readline().strip()
    assert reply.startswith("ok"), (command, reply)
    return reply


def test_run_manages_the_command_from_its_exec_and_passes_sigterm_on(managing: None) -> None:
    # hagentctl as a real process (it waits for the command and forwards
    # signals); memhog writes its 32 MiB first thing, so hagent saw every
    # page of it from its first allocation on.  memhog then waits on stdin,
    # however long hagentctl took to start.
    ctl = subprocess.Popen(
        ["hagentctl", "run", "--", str(MEMHOG), "32"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert ctl.stdout is not None and ctl.stderr is not None
        line = ctl.stdout.readline()
        assert line.startswith("ready"), (line, ctl.poll())
        pid = target_by_comm("memhog")["pid"]
        deadline = time.monotonic() + 60
        while counters(pid)["adopted"] < 30 * 256:
            assert time.monotonic() < deadline, counters(pid)
            time.sleep(0.5)
        ctl.send_signal(signal.SIGTERM)
        assert ctl.wait(timeout=120) == 128 + signal.SIGTERM
        assert f"managing pid {pid} (memhog)" in ctl.stderr.read()
        assert all(t["pid"] != pid for t in stats()["targets"])
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()


def test_run_exits_with_the_commands_status(managing: None) -> None:
    before = stats()["totals"]["targets.enabled"]
    r = subprocess.run(
        ["hagentctl", "run", "-q", "--", "sh", "-c", "exit 7"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 7, r.stderr
    assert stats()["totals"]["targets.enabled"] == before + 1


def test_run_follows_exec_and_fork(managing: None) -> None:
    # sh is enabled at its exec and follows itself into memhog (exec: a new
    # address space, enabled again); memhog's forked child is managed as part
    # of the same workload; a storm of short-lived children leaves nothing
    # behind (the managing fixture checks every counter and nr_isolated_anon).
    ctl = start_run("sh", "-c", f"exec {MEMHOG} 16")
    try:
        assert ctl.stdout is not None
        line = ctl.stdout.readline()
        assert line.startswith("ready"), (line, ctl.poll())
        wait_until("memhog managed after its exec", lambda: len(targets_by_comm("memhog")) == 1)
        root = target_by_comm("memhog")
        assert root["workload"] == root["pid"], root
        wait_until("memhog's pages adopted", lambda: counters(root["pid"])["adopted"] >= 15 * 256)
        child = int(ask(ctl, "fork").split()[1])
        wait_until(
            "the forked child managed",
            lambda: any(t["pid"] == child for t in stats()["targets"]),
        )
        (t,) = [t for t in stats()["targets"] if t["pid"] == child]
        assert t["workload"] == root["pid"], t
        # The child wrote every page (COW): its own copies, adopted.
        wait_until("the child's pages adopted", lambda: counters(child)["adopted"] > 0)
        ask(ctl, "reap")
        wait_until("the child's target gone", lambda: len(targets_by_comm("memhog")) == 1)
        before = stats()["totals"]
        ask(ctl, "storm 10")
        after = stats()["totals"]
        assert after["follow.enabled"] > before["follow.enabled"], after
        assert after["follow.missed"] == 0, after
        ctl.send_signal(signal.SIGTERM)
        assert ctl.wait(timeout=120) == 128 + signal.SIGTERM
        wait_until("every target gone", lambda: not stats()["targets"])
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()


def test_a_fork_and_exec_child_is_managed_in_the_workload(managing: None) -> None:
    # As a shell runs a command: sh forks, the child execs memhog.
    ctl = start_run("sh", "-c", f"{MEMHOG} 16; exit 9")
    try:
        assert ctl.stdout is not None
        line = ctl.stdout.readline()
        assert line.startswith("ready"), (line, ctl.poll())
        wait_until("memhog managed", lambda: len(targets_by_comm("memhog")) == 1)
        hog = target_by_comm("memhog")
        (sh,) = [t for t in stats()["targets"] if t["comm"] == "sh"]
        assert hog["workload"] == sh["pid"] == sh["workload"], (hog, sh)
        wait_until("memhog's pages adopted", lambda: counters(hog["pid"])["adopted"] >= 15 * 256)
        assert ctl.stdin is not None
        ctl.stdin.write("exit\n")  # memhog exits without a reply; then sh exits 9
        ctl.stdin.flush()
        assert ctl.wait(timeout=120) == 9
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()


def test_disable_stops_following(managing: None) -> None:
    # enable --follow, then disable: what it forks afterwards stays unmanaged.
    hog = Memhog(8)
    try:
        run_ctl("enable", "--pid", str(hog.pid), "--follow")
        child = int(hog.do("fork").split()[1])
        wait_until("the child managed", lambda: any(t["pid"] == child for t in stats()["targets"]))
        hog.do("reap")
        run_ctl("disable", "--pid", str(hog.pid))
        child = int(hog.do("fork").split()[1])
        time.sleep(3)
        assert all(t["pid"] != child for t in stats()["targets"]), stats()["targets"]
        hog.do("reap")
    finally:
        hog.exit()
