"""One version everywhere: pyproject.toml, hagentctl and the module agree.

The version is written in four places that cannot read each other at build
time (setuptools, Python, Kbuild, DKMS); kmod/hagent/version.h and dkms.conf
name this test as what keeps them equal (the Makefile reads version.h).
The licence travels with the package.
"""

import re
import tomllib
from pathlib import Path

import hagent

TOP = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((TOP / "pyproject.toml").read_text())
_VERSION_H = re.compile(r'^#define[ \t]+HAGENT_VERSION[ \t]+"([^"]*)"[ \t]*$', re.M)


def version_h(text: str) -> str:
    (version,) = _VERSION_H.findall(text)  # exactly one definition
    return version


def test_one_version() -> None:
    project = PYPROJECT["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", project), project
    assert hagent.__version__ == project, "ctl/hagent/__init__.py"
    assert version_h((TOP / "kmod/hagent/version.h").read_text()) == project, "version.h"
    assert dkms_conf((TOP / "dkms.conf").read_text())["PACKAGE_VERSION"] == project, "dkms.conf"


def dkms_conf(text: str) -> dict[str, str]:
    """dkms.conf's plain NAME="value" lines (DKMS sources it as bash)."""
    out = {}
    for m in re.finditer(r'^([A-Z_]+(?:\[\d+\])?)="([^"]*)"$', text, re.M):
        out[m.group(1)] = m.group(2)
    return out


def test_dkms_conf_builds_this_module() -> None:
    conf = dkms_conf((TOP / "dkms.conf").read_text())
    assert conf["PACKAGE_NAME"] == "hagent"
    assert conf["BUILT_MODULE_NAME[0]"] == "hagent"
    # where Kbuild's obj-m puts the module, relative to the tree's root
    assert (TOP / conf["BUILT_MODULE_LOCATION[0]"] / "Kbuild").is_file()
    assert "obj-m += kmod/hagent/" in (TOP / "Kbuild").read_text()
    assert conf["AUTOINSTALL"] == "yes"


def test_version_h_parser() -> None:
    assert version_h('/* x */\n#define HAGENT_VERSION "1.2.3"\n') == "1.2.3"
    for bad in ("#define HAGENT_VERSION 1.2.3\n", "", '#define HAGENT_VERSION "1"\n' * 2):
        try:
            version_h(bad)
        except ValueError:
            continue
        raise AssertionError(f"parsed {bad!r}")


def test_the_version_is_not_dynamic() -> None:
    # tests/vm/test_foundation.py reads project.version from pyproject.toml.
    assert "version" not in PYPROJECT["project"].get("dynamic", [])


def test_license_files() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "GPL-2.0-only"
    assert project["license-files"] == ["LICENSE"]
    text = (TOP / "LICENSE").read_text()
    assert "SPDX-License-Identifier: GPL-2.0-only" in text
    assert "GNU GENERAL PUBLIC LICENSE\n                       Version 2, June 1991" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole text, not a stub
