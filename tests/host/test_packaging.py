"""The package as pip sees it: pyproject.toml's dependencies are bounded on both
sides and the interpreter running the tests has versions inside those bounds."""

import importlib
import inspect
import tomllib
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
