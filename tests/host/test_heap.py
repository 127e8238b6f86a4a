# SPDX-License-Identifier: GPL-2.0
"""Table + tier heaps against a Python model: random operation sequences,
every invariant after every step."""

from __future__ import annotations

from typing import Any

import core_build as cb
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

KEYS = st.integers(min_value=0, max_value=23)  # small: existing keys recur
HOT = st.integers(min_value=0, max_value=40)  # small: ties recur
BASE = 0x7F0000000


def snapshot(ffi: Any, lib: Any, table: Any, e: Any) -> Any:
    out = ffi.new("struct hagent_test_entry *")
    lib.hagent_test_entry_get(table, e, out)
    return out


def heap_entries(ffi: Any, lib: Any, table: Any, heap: Any) -> list[Any]:
    ids = [lib.hagent_test_heap_id(heap, i) for i in range(lib.hagent_test_heap_count(heap))]
    return [snapshot(ffi, lib, table, lib.hagent_test_table_entry(table, i)) for i in ids]


def check_all(
    ffi: Any,
    lib: Any,
    table: Any,
    fast: Any,
    slow: Any,
    model: dict[int, dict[str, Any]],
    warnings: int,
) -> None:
    """Independent of the C checkers: heap order, heap_pos == index, tier, membership, counts."""
    for heap, tier in ((fast, cb.TIER_FAST), (slow, cb.TIER_SLOW)):
        ents = heap_entries(ffi, lib, table, heap)
        sign = 1 if tier == cb.TIER_FAST else -1  # fast: min-heap, slow: max-heap
        for i, e in enumerate(ents):
            assert e.heap_pos == i, f"heap_pos {e.heap_pos} at index {i}"
            assert e.tier == tier
            m = model[e.vpfn - BASE]
            assert m["heap"] == tier and m["hot"] == e.hot
            if i:
                assert sign * ents[(i - 1) // 2].hot <= sign * e.hot, "heap order"
        assert len(ents) == sum(m["heap"] == tier for m in model.values())
        want = [0] * 256
        for m in model.values():
            if m["heap"] == tier:
                want[m["hot"]] += 1 << m["order"]
        got = [lib.hagent_test_heap_pages_at(heap, h) for h in range(256)]
        assert got == want, "pages per hot value"
        assert lib.hagent_heap_check(heap) == 0
    assert lib.hagent_test_table_count(table) == len(model)
    assert lib.hagent_table_check(table) == 0
    for k, m in model.items():
        e = lib.hagent_table_lookup(table, BASE + k)
        assert e != ffi.NULL, f"key {k} lost"
        s = snapshot(ffi, lib, table, e)
        assert s.folio == m["folio"], f"key {k}: folio {s.folio:#x}, expected {m['folio']:#x}"
        assert s.order == m["order"]
        if m["heap"] is None:
            assert s.heap_pos == cb.HEAP_NONE
    cursor = ffi.new("uint32_t *")
    seen = set()
    while (e := lib.hagent_table_next(table, cursor)) != ffi.NULL:
        seen.add(snapshot(ffi, lib, table, e).vpfn - BASE)
    assert seen == set(model)
    assert lib.hagent_test_warnings() == warnings, "the library warned"


def make_machine(variant: str = "") -> type[RuleBasedStateMachine]:
    ffi, lib = cb.load(variant)

    class Core(RuleBasedStateMachine):
        @initialize(cap=st.integers(min_value=0, max_value=20))
        def setup(self, cap: int) -> None:
            # tiny capacities: arena and heap growth happen mid-sequence
            self.table = ffi.gc(lib.hagent_test_table_new(cap), lib.hagent_test_table_free)
            self.fast = ffi.gc(
                lib.hagent_test_heap_new(self.table, cb.TIER_FAST, cap), lib.hagent_test_heap_free
            )
            self.slow = ffi.gc(
                lib.hagent_test_heap_new(self.table, cb.TIER_SLOW, cap), lib.hagent_test_heap_free
            )
            self.model: dict[int, dict[str, Any]] = {}
            self.gen = 0
            self.warnings = lib.hagent_test_warnings()

        def heap(self, tier: int) -> Any:
            return self.fast if tier == cb.TIER_FAST else self.slow

        def entry(self, k: int) -> Any:
            return lib.hagent_table_lookup(self.table, BASE + k)

        @rule(
            k=KEYS, order=st.integers(min_value=0, max_value=9), into=st.sampled_from([None, 0, 1])
        )
        def insert(self, k: int, order: int, into: int | None) -> None:
            self.gen += 1
            folio = (k << 20) | (self.gen << 4) | 8
            out = ffi.new("struct hagent_entry **")
            rc = lib.hagent_table_insert(
                self.table, BASE + k, ffi.cast("void *", folio), order, out
            )
            if k in self.model:
                assert rc == -cb.EEXIST, f"insert of existing key {k} returned {rc}"
                return
            assert rc == 0
            self.model[k] = {"folio": folio, "order": order, "hot": 0, "heap": None}
            if into is not None:
                assert lib.hagent_heap_insert(self.heap(into), out[0]) == 0
                self.model[k]["heap"] = into

        @rule(k=KEYS, order=st.integers(min_value=0, max_value=9))
        def update(self, k: int, order: int) -> None:
            self.gen += 1
            folio = (k << 20) | (self.gen << 4) | 8
            rc = lib.hagent_table_update(self.table, BASE + k, ffi.cast("void *", folio), order)
            if k not in self.model:
                assert rc == -cb.ENOENT
                return
            m = self.model[k]
            if m["heap"] is not None and m["order"] != order:
                assert rc == -cb.EBUSY  # the heap counts the entry's pages
                return
            assert rc == 0
            m.update(folio=folio, order=order)

        @rule(k=KEYS)
        def delete(self, k: int) -> None:
            m = self.model.pop(k, None)
            if m is None:
                assert lib.hagent_table_delete(self.table, BASE + k) == -cb.ENOENT
                return
            if m["heap"] is not None:
                assert lib.hagent_heap_delete(self.heap(1 - m["heap"]), self.entry(k)) == -cb.ENOENT
                assert lib.hagent_heap_delete(self.heap(m["heap"]), self.entry(k)) == 0
            assert lib.hagent_table_delete(self.table, BASE + k) == 0

        @rule(k=KEYS, hot=HOT)
        def change_priority(self, k: int, hot: int) -> None:
            m = self.model.get(k)
            if m is None:
                return
            e = self.entry(k)
            if m["heap"] is None:
                assert lib.hagent_heap_update(self.fast, e, hot) == -cb.ENOENT
                assert lib.hagent_heap_update(self.slow, e, hot) == -cb.ENOENT
                lib.hagent_test_entry_set_hot(e, hot)
            else:
                assert lib.hagent_heap_update(self.heap(1 - m["heap"]), e, hot + 1) == -cb.ENOENT
                assert lib.hagent_heap_update(self.heap(m["heap"]), e, hot) == 0
            m["hot"] = hot

        @rule(k=KEYS, tier=st.sampled_from([0, 1]))
        def heap_insert(self, k: int, tier: int) -> None:
            m = self.model.get(k)
            if m is None:
                return
            rc = lib.hagent_heap_insert(self.heap(tier), self.entry(k))
            if m["heap"] is not None:
                assert rc == -cb.EBUSY
            else:
                assert rc == 0
                m["heap"] = tier

        @rule(tier=st.sampled_from([0, 1]))
        def pop(self, tier: int) -> None:
            members = [m["hot"] for m in self.model.values() if m["heap"] == tier]
            e = lib.hagent_heap_pop(self.heap(tier))
            if not members:
                assert e == ffi.NULL
                return
            s = snapshot(ffi, lib, self.table, e)
            assert s.hot == (min(members) if tier == cb.TIER_FAST else max(members))
            assert s.heap_pos == cb.HEAP_NONE
            self.model[s.vpfn - BASE]["heap"] = None

        @rule()
        def exchange(self) -> None:
            fast = [m["hot"] for m in self.model.values() if m["heap"] == cb.TIER_FAST]
            slow = [m["hot"] for m in self.model.values() if m["heap"] == cb.TIER_SLOW]
            top_f, top_s = lib.hagent_heap_peek(self.fast), lib.hagent_heap_peek(self.slow)
            pro, dem = ffi.new("struct hagent_entry **"), ffi.new("struct hagent_entry **")
            rc = lib.hagent_heap_exchange(self.fast, self.slow, pro, dem)
            if not fast or not slow:
                assert rc == -cb.ENOENT and pro[0] == ffi.NULL and dem[0] == ffi.NULL
                return
            assert rc == 0 and pro[0] == top_s and dem[0] == top_f
            p, d = snapshot(ffi, lib, self.table, pro[0]), snapshot(ffi, lib, self.table, dem[0])
            assert p.hot == max(slow) and d.hot == min(fast)
            assert p.tier == cb.TIER_FAST and d.tier == cb.TIER_SLOW
            self.model[p.vpfn - BASE]["heap"] = cb.TIER_FAST
            self.model[d.vpfn - BASE]["heap"] = cb.TIER_SLOW

        @invariant()
        def consistent(self) -> None:
            if hasattr(self, "model"):
                check_all(ffi, lib, self.table, self.fast, self.slow, self.model, self.warnings)

    return Core


SETTINGS = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestCore = make_machine().TestCase
TestCore.settings = SETTINGS


def test_machine_catches_broken_insert() -> None:
    """The model checker itself must fail on a table whose insert keeps the old value."""
    machine = make_machine("broken_insert")
    with pytest.raises(AssertionError, match="insert of existing key"):
        run_state_machine_as_test(
            machine,
            settings=settings(SETTINGS, max_examples=200, database=None, phases=[Phase.generate]),
        )


@pytest.fixture
def core() -> Any:
    ffi, lib = cb.load()
    table = ffi.gc(lib.hagent_test_table_new(4), lib.hagent_test_table_free)
    fast = ffi.gc(lib.hagent_test_heap_new(table, cb.TIER_FAST, 1), lib.hagent_test_heap_free)
    slow = ffi.gc(lib.hagent_test_heap_new(table, cb.TIER_SLOW, 1), lib.hagent_test_heap_free)
    return ffi, lib, table, fast, slow


def add(core: Any, k: int, hot: int, tier: int | None) -> None:
    ffi, lib, table, fast, slow = core
    out = ffi.new("struct hagent_entry **")
    assert lib.hagent_table_insert(table, BASE + k, ffi.NULL, 0, out) == 0
    lib.hagent_test_entry_set_hot(out[0], hot)
    if tier is not None:
        assert lib.hagent_heap_insert(fast if tier == cb.TIER_FAST else slow, out[0]) == 0


def test_exchange_empty_and_one_element(core: Any) -> None:
    ffi, lib, table, fast, slow = core
    pro, dem = ffi.new("struct hagent_entry **"), ffi.new("struct hagent_entry **")
    assert lib.hagent_heap_exchange(fast, slow, pro, dem) == -cb.ENOENT
    add(core, 1, 5, cb.TIER_SLOW)
    assert lib.hagent_heap_exchange(fast, slow, pro, dem) == -cb.ENOENT
    assert lib.hagent_test_heap_count(slow) == 1 and lib.hagent_test_heap_count(fast) == 0
    add(core, 2, 7, cb.TIER_FAST)
    # one element each: a pop-then-push exchange would move the same entry twice
    assert lib.hagent_heap_exchange(fast, slow, pro, dem) == 0
    p, d = snapshot(ffi, lib, table, pro[0]), snapshot(ffi, lib, table, dem[0])
    assert (p.vpfn - BASE, p.tier, p.heap_pos) == (1, cb.TIER_FAST, 0)
    assert (d.vpfn - BASE, d.tier, d.heap_pos) == (2, cb.TIER_SLOW, 0)
    assert lib.hagent_heap_exchange(fast, slow, ffi.NULL, ffi.NULL) == 0  # and back
    assert snapshot(ffi, lib, table, lib.hagent_heap_peek(fast)).vpfn == BASE + 2


def test_exchange_larger_heaps(core: Any) -> None:
    ffi, lib, table, fast, slow = core
    for k in range(50):
        add(core, k, (k * 7) % 31, cb.TIER_FAST if k % 2 else cb.TIER_SLOW)
    for _ in range(200):
        f, s = lib.hagent_heap_peek(fast), lib.hagent_heap_peek(slow)
        fh, sh = snapshot(ffi, lib, table, f).hot, snapshot(ffi, lib, table, s).hot
        if sh <= fh:
            break
        assert lib.hagent_heap_exchange(fast, slow, ffi.NULL, ffi.NULL) == 0
        assert lib.hagent_heap_check(fast) == 0 and lib.hagent_heap_check(slow) == 0
    fast_hot = [e.hot for e in heap_entries(ffi, lib, table, fast)]
    slow_hot = [e.hot for e in heap_entries(ffi, lib, table, slow)]
    assert min(fast_hot) >= max(slow_hot), "exchanging until no gain leaves the hottest in fast"
    assert len(fast_hot) == len(slow_hot) == 25


def test_delete_of_entry_in_heap_is_refused(core: Any) -> None:
    ffi, lib, table, fast, slow = core
    add(core, 3, 1, cb.TIER_FAST)
    before = lib.hagent_test_warnings()
    assert lib.hagent_table_delete(table, BASE + 3) == -cb.EBUSY
    assert lib.hagent_test_warnings() == before + 1
    lib_entry = lib.hagent_table_lookup(table, BASE + 3)
    assert lib.hagent_heap_delete(fast, lib_entry) == 0
    assert lib.hagent_table_delete(table, BASE + 3) == 0
    assert lib.hagent_table_delete(table, BASE + 3) == -cb.ENOENT
