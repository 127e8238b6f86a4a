"""`make install` rebuilds hagent.ko only when a source is newer than it, and
never runs scripts/setup (which installs QEMU and a venv): on a user's
machine it must install what was built, or build what is stale, nothing else.
Run with make -n on a copy of the tree, for a kernel release that does not
exist: a rebuild shows as the build loop's command line."""

import os
import shutil
import subprocess
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
KVER = "0.0.0-hagent-test"


def make_install(tree: Path, mandir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-n", "-C", str(tree), "install", f"KVER={KVER}", f"MANDIR={mandir}"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_install_builds_only_what_is_stale(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("Makefile", "Kbuild"):
        shutil.copy2(TOP / name, tree / name)
    shutil.copytree(TOP / "kmod", tree / "kmod", ignore=shutil.ignore_patterns("*.o", "*.ko", ".*"))
    ko = tree / "build" / KVER / "kmod" / "hagent" / "hagent.ko"
    ko.parent.mkdir(parents=True)
    ko.write_bytes(b"")
    now = time.time()
    os.utime(ko, (now, now))
    for src in (tree / "kmod").rglob("*"):
        os.utime(src, (now - 100, now - 100))
    os.utime(tree / "Kbuild", (now - 100, now - 100))

    fresh = make_install(tree, tmp_path / "man")
    assert f"for v in {KVER};" not in fresh.stdout, fresh.stdout
    assert "modules_install" in fresh.stdout, fresh.stdout
    assert "scripts/setup" not in fresh.stdout + fresh.stderr

    os.utime(tree / "kmod" / "hagent" / "pace.c", (now - 50, now - 50))
    os.utime(ko, (now - 200, now - 200))  # older than one source now
    stale = make_install(tree, tmp_path / "man")
    assert f"for v in {KVER};" in stale.stdout, stale.stdout + stale.stderr
    assert "scripts/setup" not in stale.stdout + stale.stderr


def test_kbuild_runs_its_own_jobs_under_a_parallel_make(tmp_path: Path) -> None:
    """`make -j2 module` runs scripts/kbuild, which make does not take for a
    recursive make: the jobserver's descriptors are closed there, and a
    sub-make told of them warns ("jobserver unavailable"), which fails the
    build.  kbuild drops them from MAKEFLAGS and keeps the other flags."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "make").write_text('#!/bin/sh\nprintf "%s|%s\\n" "$MAKEFLAGS" "$*"\n')
    (fake / "make").chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{fake}:{os.environ['PATH']}",
        MAKEFLAGS="s -j2 --jobserver-auth=3,4 --jobserver-fds=3,4",
    )
    out = subprocess.run(
        [str(TOP / "scripts" / "kbuild"), KVER, "M=/x", "modules"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert out == f"s -j2|-C /lib/modules/{KVER}/build M=/x modules\n"
