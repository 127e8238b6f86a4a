# SPDX-License-Identifier: GPL-2.0
"""The module installed the ways a user installs it -- `make install` and
DKMS -- then loaded by name: modprobe, and `hagentctl load` with no --ko run
from a package that has no source tree around it (as pipx installs it).

The guest's /usr/lib/modules and build/ are overlays (tests/vm/run.py):
what these tests install vanishes with the guest.  The DKMS tree is built on
the host (`make dkms-tree`: compiling under TCG takes minutes); the guest
registers and installs from it with the Makefile's own targets.

Each test installs into the running kernel's module directory cut down to
the modules loaded (`small_module_tree`): every install and uninstall runs
depmod, which reads every module of the tree, and under TCG that took 80 to
90 s a run for 6.12's 4,228 xz-compressed modules -- four runs, most of the
two tests' seven minutes.  The targets, depmod, modprobe and DKMS are the
real ones; what they find besides hagent is what is loaded.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vm.conftest import ctl_json, module_loaded, run_ctl

TOP = Path(__file__).resolve().parents[2]
KVER = platform.release()
MODULES = Path("/lib/modules") / KVER
DKMS_ROOT = TOP / "build" / "dkms"


def version() -> str:
    for line in (TOP / "kmod/hagent/version.h").read_text().splitlines():
        if line.startswith("#define HAGENT_VERSION"):
            return line.split('"')[1]
    raise AssertionError("no HAGENT_VERSION in version.h")


def make(*args: str) -> str:
    proc = subprocess.run(
        ["make", "-s", "-C", str(TOP), *args], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, (
        f"make {' '.join(args)}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
    )
    return proc.stdout + proc.stderr


def in_build_root() -> bool:
    """The kernel's headers live in a build root (scripts/newest-kernel): the
    host's DKMS cannot build for it, so `make dkms-tree` left it out."""
    proc = subprocess.run(
        [str(TOP / "scripts" / "kbuild"), "--root", KVER], capture_output=True, text=True
    )
    return proc.returncode == 0


def installed_path() -> Path | None:
    """Where modprobe finds hagent (modinfo -n), or None."""
    proc = subprocess.run(["modinfo", "-n", "hagent"], capture_output=True, text=True)
    return Path(proc.stdout.strip()).resolve() if proc.returncode == 0 else None


def packaged_ctl_load(tmp_path: Path) -> Path:
    """`hagentctl load` from a copy of the package with no source tree around
    it, in a fresh interpreter: the lookup a pipx install does.  Returns the
    file it says it loaded."""
    site = tmp_path / "site"
    shutil.copytree(
        TOP / "ctl" / "hagent", site / "hagent", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run(
        [sys.executable, "-m", "hagent", "load"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, f"hagentctl load: {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert proc.stdout.startswith("loaded hagent from /"), proc.stdout
    return Path(proc.stdout.split()[3]).resolve()


@pytest.fixture
def small_module_tree(tmp_path: Path) -> Iterator[None]:
    """MODULES, for the test, as a copy holding its index files, its build
    and source links and the modules now loaded (bind-mounted over it, on
    the guest's tmpfs); the whole tree again afterwards."""
    tree = tmp_path / "modules"
    tree.mkdir()
    for entry in MODULES.iterdir():
        if entry.is_symlink():
            (tree / entry.name).symlink_to(os.readlink(entry))
        elif entry.is_file():
            shutil.copy2(entry, tree / entry.name)
    loaded = [line.split()[0] for line in Path("/proc/modules").read_text().splitlines()]
    paths = subprocess.run(
        ["modinfo", "-F", "filename", *loaded], capture_output=True, text=True, check=True
    ).stdout.split()
    for path in (Path(p) for p in paths if p.startswith("/")):
        rel = path.resolve().relative_to(MODULES.resolve())
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, tree / rel)

    def dep() -> tuple[int, int, int]:
        st = (MODULES / "modules.dep").stat()
        return st.st_dev, st.st_ino, st.st_size

    whole = dep()
    subprocess.run(["mount", "--bind", str(tree), str(MODULES)], check=True)
    try:
        yield
    finally:
        # Lazily: the guest still held a file of the copy when the tests
        # ended ("target is busy"); whatever it is keeps the copy, and
        # everything after the test sees the whole tree.
        subprocess.run(["umount", "--lazy", str(MODULES)], check=True)
        assert dep() == whole, "the whole tree is not back"


@pytest.fixture
def unloaded_after(small_module_tree: None) -> object:
    assert not module_loaded(), "hagent was left loaded by an earlier test"
    assert installed_path() is None, "a hagent module is already installed in the guest"
    yield
    if module_loaded():
        subprocess.run(["rmmod", "hagent"], check=False)


def test_make_install_then_modprobe(unloaded_after: None, tmp_path: Path) -> None:
    mandir = tmp_path / "man1"
    out = make("install", f"KVER={KVER}", f"MANDIR={mandir}")
    assert f"installed hagent {version()} for {KVER}" in out, out
    where = installed_path()
    assert where is not None and where.is_relative_to((MODULES / "updates").resolve()), where
    assert (mandir / "hagentctl.1").read_text().startswith(".TH HAGENTCTL 1")

    subprocess.run(["modprobe", "hagent"], check=True, capture_output=True, timeout=300)
    st = ctl_json("status")
    assert st["loaded"] and st["version"] == version(), st
    run_ctl("unload")

    # (hagentctl load by name is the DKMS test's: each fresh interpreter
    # costs 10-20 s under TCG)
    make("uninstall", f"KVER={KVER}", f"MANDIR={mandir}")
    assert installed_path() is None
    assert not (mandir / "hagentctl.1").exists()


def test_dkms_install_then_load(unloaded_after: None, tmp_path: Path) -> None:
    if in_build_root():
        pytest.skip(f"{KVER} builds in a Debian 13 root: no DKMS build on this host")
    built = DKMS_ROOT / "tree" / "hagent" / version() / KVER
    assert built.is_dir(), f"no DKMS build for {KVER} under {DKMS_ROOT}: run make dkms-tree"
    dkms = f"DKMS_ROOT={DKMS_ROOT}"
    make("dkms-install", dkms, f"KVERS={KVER}")
    status = subprocess.run(
        ["dkms", "status", "--sourcetree", f"{DKMS_ROOT}/src", "--dkmstree", f"{DKMS_ROOT}/tree"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"hagent/{version()}, {KVER}, x86_64: installed" in status, status
    where = installed_path()
    assert where is not None and where.is_relative_to((MODULES / "updates" / "dkms").resolve()), (
        where
    )

    assert packaged_ctl_load(tmp_path) == where
    st = ctl_json("status")
    assert st["loaded"] and st["version"] == version(), st
    run_ctl("unload")

    make("dkms-remove", dkms)
    assert installed_path() is None
    assert not (DKMS_ROOT / "src" / f"hagent-{version()}").exists()
