# SPDX-License-Identifier: GPL-2.0
"""The planner (kmod/hagent/plan.c) driven with synthetic heaps: the bar from
the histograms, the exchange with THPs in the mix, a hot set larger than the
fast tier, two processes sharing one fast tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import core_build as cb
import hypothesis.strategies as st
from hypothesis import given, settings

ffi, lib = cb.load()
NONE = lib.HAGENT_TEST_BAR_NONE
THP = 9  # order of a PMD-mapped THP: 512 pages


@dataclass
class Target:
    """One process: a table and its two heaps, filled with (order, hot) folios."""

    table: Any = None
    fast: Any = None
    slow: Any = None
    next_vpfn: int = 0x100000
    tier_of: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.table = ffi.gc(lib.hagent_test_table_new(16), lib.hagent_test_table_free)
        self.fast = ffi.gc(lib.hagent_test_heap_new(self.table, cb.TIER_FAST, 16),
                           lib.hagent_test_heap_free)  # fmt: skip
        self.slow = ffi.gc(lib.hagent_test_heap_new(self.table, cb.TIER_SLOW, 16),
                           lib.hagent_test_heap_free)  # fmt: skip

    def add(self, tier: int, hot: int, order: int = 0, n: int = 1) -> None:
        out = ffi.new("struct hagent_entry **")
        for _ in range(n):
            vpfn = self.next_vpfn
            self.next_vpfn += 1 << order
            assert lib.hagent_table_insert(self.table, vpfn, ffi.NULL, order, out) == 0
            heap = self.fast if tier == cb.TIER_FAST else self.slow
            assert lib.hagent_heap_insert(heap, out[0]) == 0
            assert lib.hagent_heap_update(heap, out[0], hot) == 0
            self.tier_of[vpfn] = tier

    def pages(self, tier: int) -> int:
        heap = self.fast if tier == cb.TIER_FAST else self.slow
        return sum(lib.hagent_test_heap_pages_at(heap, h) for h in range(256))


def bar(targets: list[Target], capacity: int) -> int:
    heaps = [h for t in targets for h in (t.fast, t.slow)]
    return int(lib.hagent_test_plan_bar(ffi.new("struct hagent_heap *[]", heaps), len(heaps),
                                        capacity))  # fmt: skip


def plan(bar_: int, room: int, *, hyst: int = 3, floor: int = 4, limit: int = 1 << 20,
         slots: int = 1024, min_hot: int | None = None) -> Any:  # fmt: skip
    """A plan as place.c makes one; @min_hot: the tie (bar - 1) instead of the bar."""
    tp = ffi.new("struct hagent_test_plan *")
    tp.bar, tp.hyst = bar_, hyst
    tp.min_hot = max(bar_ if min_hot is None else min_hot, floor)
    tp.limit, tp.room, tp.slots = limit, room, slots
    return tp


def moves(tp: Any) -> list[tuple[int, int, int]]:
    """(to, order, hot) of every planned move, in order."""
    return [(tp.to[i], tp.order[i], tp.hot[i]) for i in range(tp.nr)]


def capacity(targets: list[Target], room: int) -> int:
    return sum(t.pages(cb.TIER_FAST) for t in targets) + room


# -- the bar -------------------------------------------------------------------


def test_bar_everything_fits_is_zero() -> None:
    t = Target()
    t.add(cb.TIER_SLOW, hot=5, n=10)
    t.add(cb.TIER_FAST, hot=0, n=10)
    assert bar([t], 20) == 0


def test_bar_nothing_fits_is_none() -> None:
    t = Target()
    t.add(cb.TIER_SLOW, hot=255, order=THP)
    assert bar([t], 511) == NONE
    assert bar([t], 512) == 0


def test_bar_counts_pages_not_folios() -> None:
    """One hot THP outweighs 511 hot base pages: the histogram counts pages."""
    t = Target()
    t.add(cb.TIER_SLOW, hot=8, order=THP)  # 512 pages at 8
    t.add(cb.TIER_SLOW, hot=6, n=100)
    t.add(cb.TIER_FAST, hot=1, n=600)
    assert bar([t], 600) == 7  # 512 at >= 7 fit; 612 at >= 6 do not
    assert bar([t], 612) == 2  # 612 at >= 2 fit, 1212 at >= 1 do not
    assert bar([t], 1212) == 0


@given(hots=st.lists(st.tuples(st.integers(0, 255), st.integers(0, 9)), min_size=1, max_size=40),
       cap=st.integers(0, 20000))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_bar_is_the_least_value_that_fits(hots: list[tuple[int, int]], cap: int) -> None:
    t = Target()
    for hot, order in hots:
        t.add(cb.TIER_SLOW, hot=hot, order=order)
    b = bar([t], cap)

    def above(h: int) -> int:
        return sum(1 << o for hot, o in hots if hot >= h)

    assert b == NONE or above(b) <= cap
    if b > 0:
        assert above(b - 1) > cap, "a lower bar would fit too"


# -- the fast tier full, THPs ----------------------------------------------------


def test_full_fast_tier_of_cold_base_pages_takes_hot_thps() -> None:
    """The case that kept 0% of the hot set: fast node full of cold data, hot THPs slow."""
    t = Target()
    t.add(cb.TIER_FAST, hot=0, n=700)
    t.add(cb.TIER_FAST, hot=1, n=324)
    t.add(cb.TIER_SLOW, hot=8, order=THP, n=2)
    t.add(cb.TIER_SLOW, hot=0, order=THP, n=4)  # cold THPs stay
    b = bar([t], capacity([t], room=0))
    assert b == 2  # the 1024 pages at 8 just fit
    tp = plan(b, room=0, slots=4096)
    assert lib.hagent_test_plan_exchange(tp, t.fast, t.slow) == 2048
    ms = moves(tp)
    assert [m for m in ms if m[0] == cb.TIER_FAST] == [(cb.TIER_FAST, THP, 8)] * 2
    demoted = [m for m in ms if m[0] == cb.TIER_SLOW]
    assert len(demoted) == 1024 and all(m[1] == 0 and m[2] <= 1 for m in demoted)
    assert demoted[0][2] == 0, "coldest first"
    assert tp.room == 0


def test_full_fast_tier_of_cold_thps_takes_hot_base_pages() -> None:
    t = Target()
    t.add(cb.TIER_FAST, hot=0, order=THP, n=2)
    t.add(cb.TIER_SLOW, hot=7, n=600)
    b = bar([t], capacity([t], room=0))
    tp = plan(b, room=0)
    lib.hagent_test_plan_exchange(tp, t.fast, t.slow)
    ms = moves(tp)
    assert ms[0] == (cb.TIER_SLOW, THP, 0)
    assert sum(1 for m in ms if m[0] == cb.TIER_FAST) == 600
    assert sum(1 for m in ms if m[0] == cb.TIER_SLOW) == 2


def test_a_thp_is_not_started_without_room_for_all_of_it() -> None:
    """Half a THP's room is no room: nothing is demoted for it."""
    t = Target()
    t.add(cb.TIER_FAST, hot=0, n=300)
    t.add(cb.TIER_FAST, hot=9, n=700)
    t.add(cb.TIER_SLOW, hot=9, order=THP)
    b = bar([t], capacity([t], room=100))
    tp = plan(b, room=100)
    assert lib.hagent_test_plan_exchange(tp, t.fast, t.slow) == 0
    assert tp.nr == 0
    # ... nor without a batch slot for every victim
    t2 = Target()
    t2.add(cb.TIER_FAST, hot=0, n=600)
    t2.add(cb.TIER_SLOW, hot=9, order=THP)
    tp = plan(bar([t2], capacity([t2], 0)), room=0, slots=512)
    assert lib.hagent_test_plan_exchange(tp, t2.fast, t2.slow) == 0
    tp = plan(bar([t2], capacity([t2], 0)), room=0, slots=513)
    assert lib.hagent_test_plan_exchange(tp, t2.fast, t2.slow) == 1024


def test_free_room_is_used_first_and_lukewarm_folios_stay_out() -> None:
    t = Target()
    t.add(cb.TIER_FAST, hot=0, n=100)
    t.add(cb.TIER_SLOW, hot=8, n=50)
    t.add(cb.TIER_SLOW, hot=2, n=500)  # touched now and then: below the floor
    b = bar([t], capacity([t], room=200))
    tp = plan(b, room=200)
    lib.hagent_test_plan_exchange(tp, t.fast, t.slow)
    assert moves(tp) == [(cb.TIER_FAST, 0, 8)] * 50
    assert tp.room == 150


# -- a hot set larger than the fast tier -----------------------------------------


def test_oversize_hot_set_does_not_trade_equals() -> None:
    t = Target()
    t.add(cb.TIER_FAST, hot=8, n=1000)
    t.add(cb.TIER_SLOW, hot=8, n=1000)
    b = bar([t], capacity([t], room=0))
    assert b == 9  # the 2000 pages at 8 do not fit: the bar is above them
    tp = plan(b, room=0)
    assert lib.hagent_test_plan_exchange(tp, t.fast, t.slow) == 0


def test_oversize_with_noise_moves_only_what_is_clearly_hotter() -> None:
    """Counts that differ by the noise of the window (7 vs 8) never trade; 2 vs 8 do."""
    t = Target()
    t.add(cb.TIER_FAST, hot=7, n=900)
    t.add(cb.TIER_FAST, hot=2, n=100)
    t.add(cb.TIER_SLOW, hot=8, n=1000)
    b = bar([t], capacity([t], room=0))
    assert b == 8  # the 1000 at 8 fit exactly
    tp = plan(b, room=0)
    lib.hagent_test_plan_exchange(tp, t.fast, t.slow)
    ms = moves(tp)
    assert sum(1 for m in ms if m[0] == cb.TIER_SLOW) == 100
    assert all(m[2] == 2 for m in ms if m[0] == cb.TIER_SLOW)
    assert sum(1 for m in ms if m[0] == cb.TIER_FAST) == 100


def test_a_hot_set_held_back_by_the_hysteresis_is_counted_above_the_bar() -> None:
    """The benchmark's full-own as first measured (6.12): hot THPs at 4 in the
    slow tier, the fast tier full of cold base pages at 2-3, the bar at 4.
    Nothing may move (no fast folio is colder than 4 by more than 3), and
    the hot set is what place.c counts as waiting above the bar, which keeps
    the scan at full pace until more measurements part the counts."""
    t = Target()
    t.add(cb.TIER_FAST, hot=2, n=1000)
    t.add(cb.TIER_FAST, hot=3, n=1000)
    t.add(cb.TIER_SLOW, hot=4, order=THP, n=2)
    t.add(cb.TIER_SLOW, hot=3, n=100)
    t.add(cb.TIER_SLOW, hot=1, n=3000)
    b = bar([t], capacity([t], room=0))
    assert b == 4
    assert lib.hagent_plan_pages_from(t.slow, b) == 1024
    assert lib.hagent_plan_pages_from(t.slow, b - 1) == 1124
    assert lib.hagent_plan_pages_from(t.fast, b) == 0
    assert lib.hagent_plan_pages_from(t.slow, NONE) == 0
    tp = plan(b, room=0, min_hot=b - 1)
    assert lib.hagent_test_plan_exchange(tp, t.fast, t.slow) == 0
    # Two windows later the hot set counts 6: the fast pages at 2 make room
    # for one THP (a THP starts only with room for all of it).
    u = Target()
    u.add(cb.TIER_FAST, hot=2, n=1000)
    u.add(cb.TIER_FAST, hot=3, n=1000)
    u.add(cb.TIER_SLOW, hot=6, order=THP, n=2)
    tp = plan(bar([u], capacity([u], room=0)), room=0)
    assert lib.hagent_test_plan_exchange(tp, u.fast, u.slow) == 1024
    assert moves(tp)[-1] == (cb.TIER_FAST, THP, 6)


# -- two processes, one fast tier -------------------------------------------------


def test_two_processes_the_colder_gives_way() -> None:
    """A's fast pages are cold, B's hot set is slow: B's folios come in, A's go out."""
    a, b_ = Target(), Target()
    a.add(cb.TIER_FAST, hot=0, n=512)
    a.add(cb.TIER_SLOW, hot=0, n=512)
    b_.add(cb.TIER_SLOW, hot=8, n=512)
    b = bar([a, b_], capacity([a, b_], room=0))
    assert b == 1
    want = lib.hagent_plan_pages_above(b_.slow, max(b, 4), 1 << 20)
    assert want == 512
    tp = plan(b, room=0)
    assert lib.hagent_test_plan_demote(tp, a.fast, 8, want) == 512
    tp2 = plan(b, room=512)
    assert lib.hagent_test_plan_exchange(tp2, b_.fast, b_.slow) == 512
    assert moves(tp2) == [(cb.TIER_FAST, 0, 8)] * 512


def test_two_processes_equally_hot_neither_evicts_the_other() -> None:
    a, b_ = Target(), Target()
    a.add(cb.TIER_FAST, hot=8, n=512)
    b_.add(cb.TIER_SLOW, hot=8, n=512)
    b = bar([a, b_], capacity([a, b_], room=0))
    tp = plan(b, room=0)
    assert lib.hagent_test_plan_demote(tp, a.fast, 8, 512) == 0


def test_two_processes_share_by_hotness() -> None:
    """Room for 1000 pages, A's 600 at 9 and B's 600 at 6: all of A's, B's best after."""
    a, b_ = Target(), Target()
    a.add(cb.TIER_FAST, hot=0, n=1000)
    a.add(cb.TIER_SLOW, hot=9, n=600)
    b_.add(cb.TIER_SLOW, hot=6, n=600)
    b = bar([a, b_], capacity([a, b_], room=0))
    assert b == 7  # 600 at >= 7 fit, 1200 at >= 6 do not
    tp = plan(b, room=0, slots=1200)
    lib.hagent_test_plan_exchange(tp, a.fast, a.slow)
    assert sum(1 for m in moves(tp) if m[0] == cb.TIER_FAST) == 600
    # B's 6 is below the bar: it does not push A's remaining cold pages out
    tp = plan(b, room=0)
    assert lib.hagent_test_plan_exchange(tp, b_.fast, b_.slow) == 0


# -- pairs: how much room one process's cold pages make for another's hot ones -----


def pairs(up: dict[int, int], down: dict[int, int], *, min_hot: int = 4, below: int = 256,
          hyst: int = 3, cap: int = 1 << 20) -> tuple[int, int]:  # fmt: skip
    hu, hd = ffi.new("struct hagent_test_hist *"), ffi.new("struct hagent_test_hist *")
    for h, n in up.items():
        hu.pages[h] = n
    for h, n in down.items():
        hd.pages[h] = n
    vmax = ffi.new("unsigned int *")
    got = lib.hagent_test_plan_pairs(hu, hd, min_hot, below, hyst, cap, vmax)
    return int(got), int(vmax[0])


def test_pairs_the_tie_takes_only_what_is_colder_by_the_hysteresis() -> None:
    """B's 26 pages at 20 and 1536 at the tie (10); A's fast: 15 at 0, 497 at 10.
    The 26 take 15 zeros and 11 tens; no ten of B's takes a ten of A's."""
    assert pairs({20: 26, 10: 1536}, {0: 15, 10: 497}, min_hot=10, below=11) == (26, 11)
    assert pairs({10: 1536}, {0: 15, 10: 497}, min_hot=10, below=11) == (15, 1)


def test_pairs_bounds() -> None:
    assert pairs({9: 100}, {0: 50}, min_hot=10) == (0, 0)  # below min_hot
    assert pairs({9: 100}, {6: 50}) == (0, 0)  # not colder by more than 3
    assert pairs({9: 100}, {5: 50}) == (50, 6)
    assert pairs({9: 100}, {0: 50}, below=0) == (0, 0)  # nothing below the bar
    assert pairs({9: 100}, {0: 50, 1: 50}, cap=70) == (70, 2)
    assert pairs({255: 5}, {0: 5}, min_hot=256) == (0, 0)


@given(up=st.dictionaries(st.integers(0, 40), st.integers(1, 50), max_size=8),
       down=st.dictionaries(st.integers(0, 40), st.integers(1, 50), max_size=8),
       min_hot=st.integers(0, 40), below=st.integers(0, 41), hyst=st.integers(0, 5),
       cap=st.integers(0, 400))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_pairs_is_the_greedy_matching(up: dict[int, int], down: dict[int, int], min_hot: int,
                                      below: int, hyst: int, cap: int) -> None:  # fmt: skip
    hot = sorted((h for h, n in up.items() if h >= min_hot for _ in range(n)), reverse=True)
    cold = sorted(v for v, n in down.items() if v < below for _ in range(n))
    want, vmax = 0, 0
    for h, v in zip(hot, cold, strict=False):
        if want == cap or h <= v + hyst:
            break
        want, vmax = want + 1, v + 1
    assert pairs(up, down, min_hot=min_hot, below=below, hyst=hyst, cap=cap) == (want, vmax)


# -- fair shares among workloads (place.c with fair_share) ---------------------------


def share(demand: list[int], cap: int) -> list[int]:
    out = ffi.new("unsigned long[]", max(len(demand), 1))
    lib.hagent_plan_share(ffi.new("unsigned long[]", demand or [0]), out, len(demand), cap)
    return [out[i] for i in range(len(demand))]


def test_share_small_demand_served_in_full_the_rest_split() -> None:
    assert share([100, 5000, 5000], 4000) == [100, 1950, 1950]


def test_share_everyone_served_and_the_surplus_split_evenly() -> None:
    assert share([100, 200], 1000) == [450, 550]
    assert share([0, 0, 0], 10) == [4, 3, 3]


def test_share_one_workload_takes_the_whole_capacity() -> None:
    """So a single workload's bar is the one-scale bar."""
    assert share([123], 1000) == [1000]
    assert share([5000], 1000) == [1000]


@given(demand=st.lists(st.integers(0, 1 << 20), min_size=1, max_size=40),
       cap=st.integers(0, 1 << 22))  # fmt: skip
@settings(max_examples=500, deadline=None)
def test_share_is_max_min_fair(demand: list[int], cap: int) -> None:
    got = share(demand, cap)
    assert sum(got) == cap
    if sum(demand) <= cap:
        assert all(g >= d for g, d in zip(got, demand, strict=True))
        assert (
            max(g - d for g, d in zip(got, demand, strict=True))
            - min(g - d for g, d in zip(got, demand, strict=True))
            <= 1
        )  # the surplus split evenly
    else:
        assert all(g <= d for g, d in zip(got, demand, strict=True))
        # Nobody short of its demand has less than anyone else, but for a page.
        short = [g for g, d in zip(got, demand, strict=True) if g < d]
        assert short and min(short) + 1 >= max(got)


def fair_bars(workloads: list[list[Target]], cap: int, floor: int = 4) -> list[int]:
    """Each workload's bar, composed as place.c does: demand above the floor,
    shares, then the bar of each workload's own histogram and share."""
    demand = [sum(lib.hagent_test_heap_pages_at(h, v) for t in w for h in (t.fast, t.slow)
                  for v in range(floor, 256)) for w in workloads]  # fmt: skip
    return [bar(w, s) for w, s in zip(workloads, share(demand, cap), strict=True)]


def test_fair_bars_a_hog_cannot_keep_another_workload_out() -> None:
    """A fills the fast tier with a hot set as large as it; B's hot set, as hot, is
    slow.  One scale: equals, nothing moves.  Fair: half each; A's pages are
    below A's bar, so they make room for B's, which are above B's."""
    a, b_ = Target(), Target()
    a.add(cb.TIER_FAST, hot=10, n=1024)
    b_.add(cb.TIER_SLOW, hot=10, n=512)
    b_.add(cb.TIER_SLOW, hot=0, n=512)
    cap = capacity([a, b_], room=0)
    one = bar([a, b_], cap)
    tp = plan(one, room=0)
    assert lib.hagent_test_plan_demote(tp, a.fast, 10, 512) == 0  # equals: no trade
    bar_a, bar_b = fair_bars([[a], [b_]], cap)
    assert (bar_a, bar_b) == (11, 1)
    # place.c: another workload's victims are below their own bar, no hysteresis
    tp = plan(bar_a, room=0, hyst=0)
    assert lib.hagent_test_plan_demote(tp, a.fast, NONE, 512) == 512
    tp = plan(bar_b, room=512)
    assert lib.hagent_test_plan_exchange(tp, b_.fast, b_.slow) == 512
    # The moves land (the test's add() only takes entries out of their heap).
    a.add(cb.TIER_SLOW, hot=10, n=512)
    b_.add(cb.TIER_FAST, hot=10, n=512)
    assert fair_bars([[a], [b_]], cap) == [bar_a, bar_b]
    # Then stable: A's demoted pages sit at its tie (bar - 1); B's fast ones
    # are not below B's bar, and A's own fast pages are their equals.
    tp = plan(bar_b, room=0, hyst=0)
    assert lib.hagent_test_plan_demote(tp, b_.fast, NONE, 512) == 0
    tp = plan(bar_a, room=0, min_hot=bar_a - 1)
    assert lib.hagent_test_plan_exchange(tp, a.fast, a.slow) == 0


def test_fair_bars_one_workload_is_the_one_scale_bar() -> None:
    a, a2 = Target(), Target()
    a.add(cb.TIER_FAST, hot=0, n=1000)
    a.add(cb.TIER_SLOW, hot=9, n=600)
    a2.add(cb.TIER_SLOW, hot=6, n=600)
    cap = capacity([a, a2], room=0)
    assert fair_bars([[a, a2]], cap) == [bar([a, a2], cap)] == [7]


def test_fair_bars_the_tie_fills_a_share() -> None:
    """A's 600 equally hot pages do not all fit in its share of 500: its bar is
    above them, and the tie (bar - 1) lets them replace A's cold fast pages."""
    a, b_ = Target(), Target()
    a.add(cb.TIER_FAST, hot=0, n=1000)
    a.add(cb.TIER_SLOW, hot=9, n=600)
    b_.add(cb.TIER_SLOW, hot=6, n=600)
    bar_a, bar_b = fair_bars([[a], [b_]], capacity([a, b_], room=0))
    assert (bar_a, bar_b) == (10, 7)
    tp = plan(bar_a, room=0, min_hot=bar_a - 1, slots=2048)
    assert lib.hagent_test_plan_exchange(tp, a.fast, a.slow) == 1200  # 600 out, 600 in


@given(fast=st.lists(st.tuples(st.integers(0, 12), st.sampled_from([0, 0, 0, THP])), max_size=30),
       slow=st.lists(st.tuples(st.integers(0, 12), st.sampled_from([0, 0, 0, THP])), max_size=30),
       room=st.integers(0, 2048), hyst=st.integers(0, 4), slots=st.integers(1, 64))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_exchange_invariants(fast: list[tuple[int, int]], slow: list[tuple[int, int]], room: int,
                             hyst: int, slots: int) -> None:  # fmt: skip
    t = Target()
    for hot, order in fast:
        t.add(cb.TIER_FAST, hot=hot, order=order)
    for hot, order in slow:
        t.add(cb.TIER_SLOW, hot=hot, order=order)
    b = bar([t], capacity([t], room))
    tp = plan(b, room=room, hyst=hyst, slots=slots)
    planned = lib.hagent_test_plan_exchange(tp, t.fast, t.slow)
    ms = moves(tp)
    assert planned == sum(1 << m[1] for m in ms)
    assert len(ms) + tp.slots == slots, "every move took a slot"
    free = room
    promoted_hot = [m[2] for m in ms if m[0] == cb.TIER_FAST]
    for to, order, hot in ms:
        if to == cb.TIER_FAST:
            assert hot >= max(b, 4)
            free -= 1 << order
            assert free >= 0, "a promotion without room"
        else:
            assert hot < b, "a demotion at or above the bar"
            assert any(hot + hyst < p for p in promoted_hot), "a demotion for nothing hotter"
            free += 1 << order
    assert free == tp.room
    # What fits and is hot enough was not left behind (room and slots allowing).
    if promoted_hot and tp.slots:
        top = lib.hagent_heap_peek(t.slow)
        if top != ffi.NULL:
            e = ffi.new("struct hagent_test_entry *")
            lib.hagent_test_entry_get(t.table, top, e)
            assert e.hot < max(b, 4) or (1 << e.order) > tp.room
    assert lib.hagent_heap_check(t.fast) == 0 and lib.hagent_heap_check(t.slow) == 0


def test_hysteresis_keeps_its_share_of_the_counts() -> None:
    # Four measurements a halving (a folio touched at every one counts 4-8):
    # the hysteresis as set.
    for top in range(9):
        assert lib.hagent_plan_hyst(3, top) == 3
    # More measurements: every count grows, and the hysteresis with them.
    assert lib.hagent_plan_hyst(3, 24) == 9
    assert lib.hagent_plan_hyst(3, 48) == 18
    assert lib.hagent_plan_hyst(3, 25) == 10  # rounded up
    assert lib.hagent_plan_hyst(0, 48) == 0  # none stays none
    assert lib.hagent_plan_hyst(200, 255) == 255  # counts stop there


@given(st.integers(0, 255), st.integers(0, 1 << 20), st.integers(0, 1 << 20))
@settings(max_examples=300, deadline=None)
def test_hysteresis_grows_with_the_top_count(hyst: int, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert hyst <= lib.hagent_plan_hyst(hyst, lo) <= lib.hagent_plan_hyst(hyst, hi) <= 255
