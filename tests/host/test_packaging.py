"""The package as pip sees it: pyproject.toml's dependencies are bounded on both
sides and the interpreter running the tests has versions inside those bounds."""

import importlib
import inspect
import os
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

TOP = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((TOP / "pyproject.toml").read_text())


def test_dependencies_are_bounded_and_installed_inside_the_bounds() -> None:
    dependencies = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    assert dependencies
    for req in dependencies:
        operators = {spec.operator for spec in req.specifier}
        assert operators & {">=", ">"}, f"{req}: no lower bound"
        assert "<" in operators, f"{req}: no upper bound below an untested release"
        installed = version(req.name)
        assert req.specifier.contains(installed, prereleases=True), (
            f"{req.name} {installed} is installed, outside {req}: test it, then move the bound"
        )


def test_every_command_resolves_to_a_callable() -> None:
    """What pip writes for [project.scripts]: `module:function`, called with no arguments."""
    scripts = PYPROJECT["project"]["scripts"]
    assert set(scripts) == {"hagentctl", "perf2hagent"}
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        function = getattr(importlib.import_module(module), attr)
        assert callable(function), name
        inspect.signature(function).bind()  # TypeError unless it runs with no arguments


def test_the_wheel_carries_the_whole_tool(tmp_path: Path) -> None:
    """What `pipx install .` builds: every module of the package, both commands,
    the bounded dependencies and the licence; installed alone it runs."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(TOP)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("hagent-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        dist = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{dist}/METADATA").decode()
        entry_points = z.read(f"{dist}/entry_points.txt").decode()
    package = {
        p.relative_to(TOP / "ctl").as_posix()
        for p in (TOP / "ctl" / "hagent").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert package <= names, sorted(package - names)
    assert "hagentctl = hagent.cli:main" in entry_points
    assert "perf2hagent = hagent.perf2hagent:main" in entry_points
    for text in PYPROJECT["project"]["dependencies"]:
        assert f"Requires-Dist: {Requirement(text)}" in metadata, text
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
    # Installed on its own (the dependencies are this interpreter's), it runs.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hagent; print(hagent.__file__, file=sys.stderr); "
            "from hagent.cli import main; sys.argv[0] = 'hagentctl'; main()",
            "--version",
        ],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.startswith(f"hagentctl {PYPROJECT['project']['version']}\n"), proc
    assert proc.stderr.startswith(str(target / "hagent")), "ran another copy, not the wheel's"


def test_a_fresh_hagentctl_imports_only_the_generic_netlink_part_of_pyroute2() -> None:
    # hagent/kernel/bare_pyroute2.py: under TCG every module imported costs a
    # test that starts hagentctl about 30 ms.  A fresh interpreter, as the
    # installed command starts (test_cli.py builds and parses messages with
    # the same classes, in a process where pyroute2 came whole).
    code = (
        "import sys, hagent.cli\n"
        "from hagent.kernel import genl\n"
        "import pyroute2.netlink\n"
        "print(len(sys.modules), 'pyroute2.iproute' in sys.modules,"
        " 'pyroute2.ndb.main' in sys.modules, pyroute2.netlink.NLM_F_REQUEST == 1)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "ctl"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out[1:] == ["False", "False", "True"], out
    assert int(out[0]) < 350, out  # 460 with pyroute2's __init__
