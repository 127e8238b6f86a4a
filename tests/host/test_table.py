# SPDX-License-Identifier: GPL-2.0
"""The vpfn -> entry table: explicit insert/update/delete semantics, growth, iteration."""

from __future__ import annotations

import random
from typing import Any

import core_build as cb
import pytest

BASE = 0x7F0000000


def new_table(variant: str = "", capacity: int = 0) -> tuple[Any, Any, Any]:
    ffi, lib = cb.load(variant)
    return ffi, lib, ffi.gc(lib.hagent_test_table_new(capacity), lib.hagent_test_table_free)


def folio_of(ffi: Any, lib: Any, table: Any, vpfn: int) -> int | None:
    e = lib.hagent_table_lookup(table, vpfn)
    if e == ffi.NULL:
        return None
    out = ffi.new("struct hagent_test_entry *")
    lib.hagent_test_entry_get(table, e, out)
    return int(out.folio)


def check_insert_of_existing_key(variant: str = "") -> None:
    """Regression check: a second insert of a key must fail and leave the first value."""
    ffi, lib, table = new_table(variant)
    assert lib.hagent_table_insert(table, BASE, ffi.cast("void *", 0x1000), 0, ffi.NULL) == 0
    rc = lib.hagent_table_insert(table, BASE, ffi.cast("void *", 0x2000), 3, ffi.NULL)
    assert rc == -cb.EEXIST, f"insert of existing key returned {rc}, not -EEXIST"
    assert folio_of(ffi, lib, table, BASE) == 0x1000
    assert lib.hagent_test_table_count(table) == 1


def test_insert_of_existing_key_fails() -> None:
    check_insert_of_existing_key()


def test_checker_catches_silent_keep_old_value() -> None:
    """The check above must fail against an insert that keeps the old value and returns 0."""
    with pytest.raises(AssertionError, match="not -EEXIST"):
        check_insert_of_existing_key("broken_insert")


def test_update_and_delete_semantics() -> None:
    ffi, lib, table = new_table()
    assert lib.hagent_table_update(table, BASE, ffi.cast("void *", 0x10), 0) == -cb.ENOENT
    assert lib.hagent_table_delete(table, BASE) == -cb.ENOENT
    assert lib.hagent_table_insert(table, BASE, ffi.cast("void *", 0x10), 2, ffi.NULL) == 0
    assert lib.hagent_table_update(table, BASE, ffi.cast("void *", 0x20), 9) == 0
    assert folio_of(ffi, lib, table, BASE) == 0x20
    assert lib.hagent_table_delete(table, BASE) == 0
    assert lib.hagent_table_delete(table, BASE) == -cb.ENOENT
    assert lib.hagent_table_lookup(table, BASE) == ffi.NULL
    assert lib.hagent_test_table_count(table) == 0


def test_order_bounds() -> None:
    ffi, lib, table = new_table()
    assert lib.hagent_table_insert(table, 1, ffi.NULL, 16, ffi.NULL) == -cb.EINVAL
    assert lib.hagent_table_insert(table, 1, ffi.NULL, 15, ffi.NULL) == 0
    assert lib.hagent_table_update(table, 1, ffi.NULL, 16) == -cb.EINVAL


def test_fresh_entry_is_in_no_heap() -> None:
    ffi, lib, table = new_table()
    out = ffi.new("struct hagent_entry **")
    assert lib.hagent_table_insert(table, 5, ffi.NULL, 0, out) == 0
    s = ffi.new("struct hagent_test_entry *")
    lib.hagent_test_entry_get(table, out[0], s)
    assert (s.heap_pos, s.hot, s.flags, s.tier) == (cb.HEAP_NONE, 0, 0, cb.TIER_SLOW)


@pytest.mark.parametrize("keys", ["dense", "strided", "random"])
def test_random_churn_against_dict(keys: str) -> None:
    """Tens of thousands of inserts and deletes from a tiny start: growth,
    wrap-around, backward shift."""
    ffi, lib, table = new_table(capacity=1)
    rng = random.Random(keys)
    pool = {
        "dense": [BASE + i for i in range(3000)],
        "strided": [BASE + 512 * i for i in range(3000)],  # THP-aligned vpfns
        "random": [rng.getrandbits(52) for _ in range(3000)],
    }[keys]
    model: dict[int, int] = {}
    for step in range(30000):
        k = rng.choice(pool)
        if rng.random() < 0.55:
            rc = lib.hagent_table_insert(table, k, ffi.cast("void *", step + 1), 0, ffi.NULL)
            assert rc == (-cb.EEXIST if k in model else 0)
            model.setdefault(k, step + 1)
        else:
            assert lib.hagent_table_delete(table, k) == (0 if model.pop(k, None) else -cb.ENOENT)
        if step % 5000 == 0:
            assert lib.hagent_table_check(table) == 0
    assert lib.hagent_table_check(table) == 0
    assert lib.hagent_test_table_count(table) == len(model)
    for k in pool:
        assert folio_of(ffi, lib, table, k) == model.get(k)


def test_iterate_and_delete_while_iterating() -> None:
    ffi, lib, table = new_table()
    for k in range(200):
        assert lib.hagent_table_insert(table, BASE + k, ffi.NULL, 0, ffi.NULL) == 0
    for k in range(0, 200, 3):
        assert lib.hagent_table_delete(table, BASE + k) == 0
    cursor = ffi.new("uint32_t *")
    seen = []
    s = ffi.new("struct hagent_test_entry *")
    while (e := lib.hagent_table_next(table, cursor)) != ffi.NULL:
        lib.hagent_test_entry_get(table, e, s)
        seen.append(s.vpfn - BASE)
        assert lib.hagent_table_delete(table, s.vpfn) == 0  # allowed mid-iteration
    assert sorted(seen) == [k for k in range(200) if k % 3]
    assert lib.hagent_test_table_count(table) == 0
    assert lib.hagent_table_check(table) == 0


def test_reserve_makes_inserts_allocation_free() -> None:
    # The module inserts under a page table lock, after reserving outside it:
    # an insert after reserve(n) must never reallocate (it would sleep).
    ffi, lib, table = new_table(capacity=4)
    tier_heap = ffi.gc(lib.hagent_test_heap_new(table, cb.TIER_FAST, 4), lib.hagent_test_heap_free)
    for start in (0, 1000):
        assert lib.hagent_table_reserve(table, 700) == 0
        assert lib.hagent_heap_reserve(tier_heap, 700) == 0
        tbytes, hbytes = lib.hagent_table_bytes(table), lib.hagent_heap_bytes(tier_heap)
        out = ffi.new("struct hagent_entry **")
        for k in range(start, start + 700):
            assert lib.hagent_table_insert(table, k, ffi.NULL, 0, out) == 0
            assert lib.hagent_heap_insert(tier_heap, out[0]) == 0
        assert lib.hagent_table_bytes(table) == tbytes
        assert lib.hagent_heap_bytes(tier_heap) == hbytes
        assert lib.hagent_table_check(table) == 0
        assert lib.hagent_heap_check(tier_heap) == 0


@pytest.mark.parametrize("remove", [0, 1, 350])
def test_reserve_in_steps_keeps_every_entry_and_makes_inserts_allocation_free(
    remove: int,
) -> None:
    # adopt.c allocates with the target's lock dropped (reclaim may re-enter
    # its notifier, which takes that lock), and the notifier may remove
    # entries before the new arrays go in.
    ffi, lib, table = new_table(capacity=16)
    heap = ffi.gc(lib.hagent_test_heap_new(table, cb.TIER_SLOW, 16), lib.hagent_test_heap_free)
    out = ffi.new("struct hagent_entry **")
    for k in range(500):
        assert lib.hagent_table_reserve(table, 1) == 0
        assert lib.hagent_heap_reserve(heap, 1) == 0
        assert lib.hagent_table_insert(table, BASE + k, ffi.NULL, 0, out) == 0
        lib.hagent_test_entry_set_hot(out[0], k % 256)
        assert lib.hagent_heap_insert(heap, out[0]) == 0
    assert lib.hagent_test_install_refuses_smaller(table, heap) == 0
    assert lib.hagent_test_reserve_in_steps(table, heap, 2000, remove) == 0
    assert lib.hagent_table_check(table) == 0
    assert lib.hagent_heap_check(heap) == 0
    left = 500 - remove
    assert lib.hagent_test_table_count(table) == left == lib.hagent_test_heap_count(heap)
    s = ffi.new("struct hagent_test_entry *")
    cursor = ffi.new("uint32_t *")
    seen = set()
    while (e := lib.hagent_table_next(table, cursor)) != ffi.NULL:
        lib.hagent_test_entry_get(table, e, s)
        assert lib.hagent_table_lookup(table, s.vpfn) == e
        seen.add(s.vpfn - BASE)
    assert len(seen) == left and seen <= set(range(500))
    tbytes, hbytes = lib.hagent_table_bytes(table), lib.hagent_heap_bytes(heap)
    for k in range(1000, 3000):
        assert lib.hagent_table_insert(table, BASE + k, ffi.NULL, 0, out) == 0
        assert lib.hagent_heap_insert(heap, out[0]) == 0
    assert (lib.hagent_table_bytes(table), lib.hagent_heap_bytes(heap)) == (tbytes, hbytes)
    assert lib.hagent_table_check(table) == 0 and lib.hagent_heap_check(heap) == 0
    # room already: nothing is allocated, nothing changes
    assert lib.hagent_test_reserve_in_steps(table, heap, 1, 0) == 0
    assert (lib.hagent_table_bytes(table), lib.hagent_heap_bytes(heap)) == (tbytes, hbytes)
