# SPDX-License-Identifier: GPL-2.0
"""Build the core structures (kmod/hagent table, sketch, heap, planner, selftest) as a
host library and load it with cffi.

The module's own C files are compiled unchanged, with core.h mapping the
kernel names onto libc, plus tests/host/core_helper.c for allocation, flat
accessors and the Zipf/accuracy/throughput loops.  The .so is cached under
build/host/ and rebuilt when any source or header is newer, or the flags
differ (each variant gets its own file).
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import cffi

from hagent.uapi import Tier

TOP = Path(__file__).resolve().parents[2]
KMOD = TOP / "kmod" / "hagent"
HOST = Path(__file__).resolve().parent
OUT = TOP / "build" / "host"

SOURCES = [KMOD / n for n in ("table.c", "sketch.c", "heap.c", "plan.c", "selftest.c")] + [
    HOST / "core_helper.c"
]
HEADERS = [
    KMOD / n
    for n in ("core.h", "table.h", "sketch.h", "heap.h", "plan.h", "selftest.h", "uapi/hagent.h")
] + [HOST / "core_helper.h"]
# Kernel-like code generation: the module relies on these semantics too.
CFLAGS = [
    "-O2", "-g", "-std=gnu11", "-shared", "-fPIC",
    "-fno-strict-aliasing", "-fno-strict-overflow",
    "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror",
    f"-I{KMOD}", f"-I{HOST}",
]  # fmt: skip

# -DHAGENT_TEST_BROKEN_INSERT: insert keeps the old value and reports success,
# to prove the tests catch exactly that bug.
VARIANTS = {"": [], "broken_insert": ["-DHAGENT_TEST_BROKEN_INSERT"]}


def build(variant: str = "") -> Path:
    """Compile the library for a variant if stale; return its path."""
    flags = CFLAGS + VARIANTS[variant]
    tag = hashlib.sha256(" ".join(flags).encode()).hexdigest()[:10]
    lib = OUT / f"libhagent_core{'-' + variant if variant else ''}-{tag}.so"
    newest = max(p.stat().st_mtime for p in SOURCES + HEADERS)
    if lib.exists() and lib.stat().st_mtime >= newest:
        return lib
    OUT.mkdir(parents=True, exist_ok=True)
    # Build to a private name and rename: parallel test runs never see half a file.
    fd, tmp = tempfile.mkstemp(dir=OUT, suffix=".so")
    os.close(fd)
    try:
        subprocess.run(
            ["gcc", *flags, "-o", tmp, *map(str, SOURCES), "-lm"],
            check=True,
            capture_output=True,
            text=True,
        )
        os.replace(tmp, lib)
    except subprocess.CalledProcessError as e:
        os.unlink(tmp)
        raise RuntimeError(f"building {lib.name} failed:\n{e.stderr}") from e
    return lib


def _cdef() -> str:
    text = (HOST / "core_helper.h").read_text()
    return text.split("/* CDEF BEGIN */")[1].split("/* CDEF END */")[0]


@cache
def load(variant: str = "") -> tuple[cffi.FFI, Any]:
    """Return (ffi, lib) for a variant, building it first if needed."""
    ffi = cffi.FFI()
    ffi.cdef(_cdef())
    return ffi, ffi.dlopen(str(build(variant)))


# Mirrors of the C constants the tests need (checked against C by test_core.py).
# enum hagent_tier comes from uapi/hagent.h, mirrored (and checked) in hagent.uapi.
TIER_FAST = int(Tier.FAST)
TIER_SLOW = int(Tier.SLOW)
HEAP_NONE = 0xFFFFFFFF
SKETCH_MAX = 255
# The shim returns libc's errno values, which on Linux are the kernel's.
EEXIST = errno.EEXIST
ENOENT = errno.ENOENT
EBUSY = errno.EBUSY
EINVAL = errno.EINVAL
