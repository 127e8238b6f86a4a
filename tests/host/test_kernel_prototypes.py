"""scripts/kernel-prototypes: prototypes read back from a vmlinux's BTF.

The vmlinux here is built by hand: an ELF64 file whose one section, .BTF,
holds a few types laid out as include/uapi/linux/btf.h says, for a function
and a tracepoint typedef shaped like 7.3's (docs/kernel-7.md)."""

import struct
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kernel-prototypes"


class BtfBuilder:
    def __init__(self) -> None:
        self.strings = b"\0"
        self.types = b""
        self.next_id = 1

    def name(self, s: str) -> int:
        if not s:
            return 0
        off = len(self.strings)
        self.strings += s.encode() + b"\0"
        return off

    def add(self, kind: int, name: str, vlen: int, st: int, extra: bytes = b"") -> int:
        self.types += struct.pack("<III", self.name(name), (kind << 24) | vlen, st) + extra
        self.next_id += 1
        return self.next_id - 1

    def blob(self) -> bytes:
        hdr = struct.pack(
            "<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(self.types), len(self.types), len(self.strings)
        )
        return hdr + self.types + self.strings


def elf_with(section: str, data: bytes) -> bytes:
    names = b"\0" + section.encode() + b"\0.shstrtab\0"
    body_off = 64
    names_off = body_off + len(data)
    shoff = names_off + len(names)
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    null = bytes(64)
    sec = struct.pack("<IIQQQQIIQQ", 1, 1, 0, 0, body_off, len(data), 0, 0, 1, 0)
    shstr = struct.pack(
        "<IIQQQQIIQQ", 1 + len(section) + 1, 3, 0, 0, names_off, len(names), 0, 0, 1, 0
    )
    return header + data + names + null + sec + shstr


def vmlinux(tmp_path: Path) -> Path:
    b = BtfBuilder()
    int_t = b.add(1, "int", 0, 4, struct.pack("<I", 32 | (1 << 24)))  # signed 32-bit
    bool_t = b.add(1, "_Bool", 0, 1, struct.pack("<I", 8 | (4 << 24)))
    mm = b.add(4, "mm_struct", 0, 0)  # struct, no members kept here
    mm_p = b.add(2, "", 0, mm)
    reason = b.add(6, "migrate_reason", 0, 4)
    # int f(struct mm_struct *mm, enum migrate_reason reason)
    params = struct.pack("<IIII", b.name("mm"), mm_p, b.name("reason"), reason)
    proto = b.add(13, "", 2, int_t, params)
    b.add(12, "migrate_pages", 1, proto)
    # typedef void (*btf_trace_x)(void *, struct mm_struct *, bool, bool)
    void_p = b.add(2, "", 0, 0)
    tp_params = b"".join(struct.pack("<II", 0, t) for t in (void_p, mm_p, bool_t, bool_t))
    tp = b.add(13, "", 4, 0, tp_params)
    tp_p = b.add(2, "", 0, tp)
    b.add(8, "btf_trace_mmap_lock_acquire_returned", 0, tp_p)
    path = tmp_path / "vmlinux"
    path.write_bytes(elf_with(".BTF", b.blob()))
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_prints_function_and_tracepoint_prototypes(tmp_path: Path) -> None:
    proc = run(str(vmlinux(tmp_path)), "migrate_pages", "-t", "mmap_lock_acquire_returned")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "int migrate_pages(struct mm_struct *mm, enum migrate_reason reason);",
        "tracepoint mmap_lock_acquire_returned: "
        "void probe(void *, struct mm_struct *, _Bool, _Bool);",
    ]


def test_a_missing_name_fails(tmp_path: Path) -> None:
    proc = run(str(vmlinux(tmp_path)), "__pte_offset_map_lock", "-t", "nosuch")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "missing: __pte_offset_map_lock",
        "missing: tracepoint nosuch",
    ]
