# SPDX-License-Identifier: GPL-2.0
"""The in-kernel self-test, run on the host build, and the per-page memory budget."""

from __future__ import annotations

import core_build as cb


def test_selftest_passes() -> None:
    ffi, lib = cb.load()
    assert lib.hagent_core_selftest() == 0


def test_selftest_catches_broken_insert() -> None:
    ffi, lib = cb.load("broken_insert")
    assert lib.hagent_core_selftest() == -cb.EINVAL


def test_entry_is_24_bytes() -> None:
    ffi, lib = cb.load()
    assert lib.hagent_test_sizeof_entry() == 24


def test_budget_40_bytes_per_page_at_1m() -> None:
    """Allocation sizes for 2^20 pages, 20% of them in the fast tier."""
    ffi, lib = cb.load()
    pages = 1 << 20
    fast_pages = pages // 5
    table = ffi.gc(lib.hagent_test_table_new(pages), lib.hagent_test_table_free)
    fast = ffi.gc(
        lib.hagent_test_heap_new(table, cb.TIER_FAST, fast_pages), lib.hagent_test_heap_free
    )
    slow = ffi.gc(
        lib.hagent_test_heap_new(table, cb.TIER_SLOW, pages - fast_pages), lib.hagent_test_heap_free
    )
    sk = ffi.gc(lib.hagent_test_sketch_new(pages, 1), lib.hagent_test_sketch_free)
    total = (
        lib.hagent_table_bytes(table)
        + lib.hagent_heap_bytes(fast)
        + lib.hagent_heap_bytes(slow)
        + lib.hagent_sketch_bytes(sk)
    )
    assert total / pages <= 40
