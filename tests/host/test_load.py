"""hagentctl load refuses a module file that is not hagent, and explains ENOSYS.

With FakeLibkmod (no file needed), and with the real libkmod reading forged
.ko files in tmp; the real library's insert is replaced by a function that
fails the test, so nothing here can load a module into this machine.
"""

import errno
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_kernel import FakeLibkmod
from test_cli import Invoke, one_error

from hagent.errors import ExitCode
from hagent.kernel import RealKernel, kmodlib

HINT = "pass the hagent.ko built from kmod/hagent"


def test_another_module_is_refused(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod], tmp_path: Path
) -> None:
    ko = str(tmp_path / "other.ko")
    lib = libkmod(files=(ko,), name="other")
    one_error(
        invoke(RealKernel(), "load", "--ko", ko),
        f"{ko} is not the hagent module: its modinfo name is 'other'",
        HINT,
        ExitCode.USAGE,
    )
    assert lib.inserted == [] and lib.live_refs == 0


def test_a_module_without_a_name_is_refused(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod], tmp_path: Path
) -> None:
    ko = str(tmp_path / "hagent.ko")
    lib = libkmod(files=(ko,), name=None)
    one_error(
        invoke(RealKernel(), "load", "--ko", ko),
        f"{ko} is not the hagent module: its modinfo has no name",
        HINT,
        ExitCode.USAGE,
    )
    assert lib.inserted == []


def test_a_file_that_is_no_module_is_refused(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod], tmp_path: Path
) -> None:
    ko = str(tmp_path / "notes.txt")
    lib = libkmod(files=(ko,), info_rc=-errno.ENOEXEC)
    one_error(
        invoke(RealKernel(), "load", "--ko", ko),
        f"{ko} is not a kernel module: cannot read its modinfo (Exec format error)",
        code=ExitCode.USAGE,
    )
    assert lib.inserted == []


def test_the_installed_module_is_checked_too(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod]
) -> None:
    lib = libkmod(installed="/lib/modules/6.1.0-28-amd64/extra/hagent.ko", name="hagent_old")
    result = invoke(RealKernel(), "load")
    assert result.exit_code == ExitCode.USAGE
    assert "its modinfo name is 'hagent_old'" in result.stderr
    assert lib.inserted == []


def test_no_module_support(
    invoke: Invoke, libkmod: Callable[..., FakeLibkmod], tmp_path: Path
) -> None:
    ko = str(tmp_path / "hagent.ko")
    libkmod(files=(ko,), insert_rc=-errno.ENOSYS)
    one_error(
        invoke(RealKernel(), "load", "--ko", ko),
        f"cannot load {ko}: this kernel cannot load modules (init_module: function not "
        "implemented; built without CONFIG_MODULES)",
    )


# --- the real libkmod on forged files ---------------------------------------------


def forge_ko(modinfo: bytes) -> bytes:
    """A minimal ELF64 relocatable object whose only section is .modinfo."""
    shstrtab = b"\0.modinfo\0.shstrtab\0"
    data = modinfo + shstrtab
    shoff = (64 + len(data) + 7) & ~7
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian
    # ET_REL, EM_X86_64, version 1, no entry or program headers, 3 sections, names in #2
    header += struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    body = header + data
    body += bytes(shoff - len(body))
    section = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
    body += section.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    body += section.pack(1, 1, 2, 0, 64, len(modinfo), 0, 0, 1, 0)  # PROGBITS, ALLOC
    body += section.pack(10, 3, 0, 0, 64 + len(modinfo), len(shstrtab), 0, 0, 1, 0)  # STRTAB
    return body


@pytest.fixture
def real_libkmod(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real libkmod.so.2, with insertion made impossible."""
    monkeypatch.setattr(kmodlib, "_lib", None)
    lib = kmodlib._libkmod()

    def refuse(*args: object) -> int:
        raise AssertionError("a host test tried to insert a module")

    monkeypatch.setattr(lib, "kmod_module_insert_module", refuse)
    yield
    monkeypatch.setattr(kmodlib, "_lib", None)


def test_real_libkmod_reads_a_forged_modinfo(real_libkmod: None, tmp_path: Path) -> None:
    ko = tmp_path / "other.ko"
    ko.write_bytes(forge_ko(b"license=GPL\0name=other\0parmtype=x:int\0"))
    info = kmodlib.read_modinfo(ko)
    assert info == [("license", "GPL"), ("name", "other"), ("parmtype", "x:int")]
    assert kmodlib.declared_params(info) == {"x": "int"}


def test_real_libkmod_load_refuses_another_module(
    real_libkmod: None, invoke: Invoke, tmp_path: Path
) -> None:
    ko = tmp_path / "hagent.ko"  # the file name says hagent; its modinfo does not
    ko.write_bytes(forge_ko(b"license=GPL\0name=evil\0"))
    one_error(
        invoke(RealKernel(), "load", "--ko", str(ko)),
        f"{ko} is not the hagent module: its modinfo name is 'evil'",
        HINT,
        ExitCode.USAGE,
    )


def test_real_libkmod_load_refuses_a_file_that_is_no_elf(
    real_libkmod: None, invoke: Invoke, tmp_path: Path
) -> None:
    ko = tmp_path / "hagent.ko"
    ko.write_bytes(b"#!/bin/sh\necho not a module\n")
    one_error(
        invoke(RealKernel(), "load", "--ko", str(ko)),
        f"{ko} is not a kernel module: cannot read its modinfo (Exec format error)",
        code=ExitCode.USAGE,
    )


@pytest.mark.parametrize(
    ("euid", "message", "hint"),
    [
        (1000, "must be root to load a kernel module", "run it with sudo"),
        (0, "cannot read {ko}: Permission denied", None),
    ],
)
def test_modinfo_unreadable(
    invoke: Invoke,
    libkmod: Callable[..., FakeLibkmod],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    euid: int,
    message: str,
    hint: str | None,
) -> None:
    monkeypatch.setattr(kmodlib.os, "geteuid", lambda: euid)
    ko = str(tmp_path / "hagent.ko")
    libkmod(files=(ko,), info_rc=-errno.EACCES)
    one_error(invoke(RealKernel(), "load", "--ko", ko), message.format(ko=ko), hint)
