// SPDX-License-Identifier: GPL-2.0
/*
 * The sampling pipeline: sources that run outside the policy thread (PEBS
 * and IBS overflow handlers, injection) push (target, address, count,
 * source) into a per-CPU ring; the policy thread drains the rings into the
 * targets' sketches and heaps.  The accessed-bit scanner runs in the policy
 * thread itself, under the target's lock, with the entry in hand: it applies
 * its samples directly (hagent_sample_update, the same sketch and heap
 * update) and counts them once per measuring walk (hagent_sample_account),
 * instead of queueing one ring slot per young page only to look the page up
 * again at the drain (a pass over 1 GiB would overflow a ring many times
 * over), or paying four atomic additions per young page.
 *
 * Rings: one per CPU for NMI producers (PMU overflow handlers) and one for
 * everything else, which pushes with interrupts off, so each ring has one
 * producer at a time and one consumer (the drain, serialised by
 * hagent_targets_lock).  head is written only by the producer, tail only by
 * the consumer; release/acquire on both publishes the slot contents.  A full
 * ring drops the sample and counts it, never blocks.  A push that fills a
 * ring to half asks hagentd to drain now, between its rounds, through an
 * irq_work (any context, NMI included): a settled hagentd runs a round only
 * every 500 ms, and one CPU faulting in fresh memory, or faulting on
 * write-protected pages, pushes tens of thousands of samples a second.
 *
 * NMI producers find their target through an RCU table of managed address
 * spaces (hagent_active), rebuilt under hagent_targets_lock; a target is
 * freed only after a grace period following its removal (target.c).
 */
#include <linux/irq_work.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "policy.h"
#include "sample.h"
#include "sampler_pmu.h"
#include "sketch.h"
#include "target.h"

#define HAGENT_RING_ORDER	12
#define HAGENT_RING_SIZE	(1U << HAGENT_RING_ORDER)
#define HAGENT_RING_MASK	(HAGENT_RING_SIZE - 1)
/* Unresolved samples classified per drain batch (outside target->lock). */
#define HAGENT_UNRESOLVED_MAX	256

struct hagent_sample {
	u64 addr;
	struct hagent_target *t;	/* valid until the drain: targets on a ring are not freed */
	u16 count;
	u8 source;
	u8 flags;
};

struct hagent_ring {
	unsigned int head;		/* producer */
	unsigned int tail;		/* consumer */
	struct hagent_sample buf[HAGENT_RING_SIZE];
};

struct hagent_active {
	struct rcu_head rcu;
	unsigned int n;
	struct {
		struct mm_struct *mm;
		struct hagent_target *t;
	} e[];
};

const char *const hagent_source_names[HAGENT_SRC_NR] = {
	[HAGENT_SRC_PEBS] = "pebs",
	[HAGENT_SRC_IBS] = "ibs",
	[HAGENT_SRC_ABIT] = "abit",
	[HAGENT_SRC_INJECT] = "inject",
	[HAGENT_SRC_FAULT] = "fault",
};

const char *const hagent_sample_kind_names[HAGENT_SK_NR] = {
	[HAGENT_SK_TOTAL] = "total",
	[HAGENT_SK_FAST] = "fast",
	[HAGENT_SK_SLOW] = "slow",
	[HAGENT_SK_UNMANAGED] = "unmanaged",
	[HAGENT_SK_INVALID] = "invalid",
	[HAGENT_SK_DROPPED] = "dropped",
};

struct hagent_sample_stats hagent_sample_totals;

static void hagent_sample_kick_fn(struct irq_work *work)
{
	hagent_policy_drain_soon();
}

static struct irq_work hagent_sample_kick = IRQ_WORK_INIT(hagent_sample_kick_fn);
static struct hagent_ring **hagent_rings;	/* [cpu * 2 + nmi] */
static struct hagent_active __rcu *hagent_active;

static void hagent_sample_count(struct hagent_target *t, enum hagent_source src,
				enum hagent_sample_kind kind, u64 n)
{
	atomic64_add(n, &t->samples.n[src][kind]);
	atomic64_add(n, &hagent_sample_totals.n[src][kind]);
}

void hagent_sample_push(struct hagent_target *t, u64 addr, u16 count,
			enum hagent_source src, u8 flags, bool nmi)
{
	struct hagent_ring *r;
	unsigned long irqflags = 0;
	unsigned int head;

	if (!nmi)
		local_irq_save(irqflags);
	r = hagent_rings[smp_processor_id() * 2 + nmi];
	hagent_sample_count(t, src, HAGENT_SK_TOTAL, count);
	head = r->head;
	if (head - smp_load_acquire(&r->tail) >= HAGENT_RING_SIZE) {
		hagent_sample_count(t, src, HAGENT_SK_DROPPED, count);
	} else {
		r->buf[head & HAGENT_RING_MASK] = (struct hagent_sample){
			.addr = addr, .t = t, .count = count, .source = src, .flags = flags,
		};
		smp_store_release(&r->head, head + 1);
		if (head + 1 - READ_ONCE(r->tail) == HAGENT_RING_SIZE / 2)
			irq_work_queue(&hagent_sample_kick);
	}
	if (!nmi)
		local_irq_restore(irqflags);
}

struct hagent_target *hagent_sample_target_of(struct mm_struct *mm)
{
	struct hagent_active *a = rcu_dereference(hagent_active);
	unsigned int i;

	for (i = 0; a && i < a->n; i++)
		if (a->e[i].mm == mm)
			return a->e[i].t;
	return NULL;
}

void hagent_sample_targets_changed(void)
{
	struct hagent_active *a, *old;
	struct hagent_target *t;
	unsigned int n = 0;

	lockdep_assert_held(&hagent_targets_lock);
	list_for_each_entry(t, &hagent_targets, node)
		n++;
	a = kzalloc(struct_size(a, e, n), GFP_KERNEL);
	if (a) {
		list_for_each_entry(t, &hagent_targets, node) {
			a->e[a->n].mm = t->mm;
			a->e[a->n].t = t;
			a->n++;
		}
	}
	/* Without memory, NMI producers see no target until the next change. */
	old = rcu_replace_pointer(hagent_active, a, lockdep_is_held(&hagent_targets_lock));
	if (old)
		kfree_rcu(old, rcu);
	hagent_pmu_update(n);
}

/* The entry covering @addr: a base page, or the PMD-mapped THP around it. */
static struct hagent_entry *hagent_sample_entry(struct hagent_target *t, u64 addr)
{
	u64 vpfn = addr >> PAGE_SHIFT;
	struct hagent_entry *e = hagent_table_lookup(&t->table, vpfn);

	if (e)
		return e;
	e = hagent_table_lookup(&t->table, ALIGN_DOWN(vpfn, HPAGE_PMD_NR));
	return e && e->order && vpfn < e->vpfn + (1ULL << e->order) ? e : NULL;
}

struct hagent_unresolved {
	unsigned int n;
	struct hagent_sample s[HAGENT_UNRESOLVED_MAX];
};

/*
 * Mapped but not managed, or not mapped at all: needs the mmap_lock, taken
 * once per run of one target's samples (a process faulting in fresh memory
 * sends hundreds of them in a row).
 */
static void hagent_sample_classify(struct hagent_unresolved *u)
{
	struct mm_struct *locked = NULL;
	unsigned int i;

	for (i = 0; i < u->n; i++) {
		struct hagent_sample *s = &u->s[i];
		struct mm_struct *mm = s->t->mm;
		bool mapped = false;

		if (locked != mm) {
			if (locked) {
				mmap_read_unlock(locked);
				mmput(locked);
			}
			locked = mmget_not_zero(mm) ? mm : NULL;
			if (locked)
				mmap_read_lock(locked);
		}
		if (locked)
			mapped = !!vma_lookup(mm, s->addr);
		hagent_sample_count(s->t, s->source,
				    mapped ? HAGENT_SK_UNMANAGED : HAGENT_SK_INVALID, s->count);
	}
	if (locked) {
		mmap_read_unlock(locked);
		mmput(locked);
	}
	u->n = 0;
}

void hagent_sample_update(struct hagent_target *t, struct hagent_entry *e, u16 count)
{
	u32 hot = hagent_sketch_add(&t->sketch, e->vpfn, count);

	if (e->heap_pos != HAGENT_HEAP_NONE)
		hagent_heap_update(&t->heap[e->tier], e, min_t(u32, hot, U8_MAX));
	else
		e->hot = min_t(u32, hot, U8_MAX);
}

/* One sample, under its target's lock. */
static void hagent_sample_apply(struct hagent_sample *s, struct hagent_unresolved *u)
{
	struct hagent_target *t = s->t;
	struct hagent_entry *e;

	if (t->dead) {		/* no longer managed: no mapping to ask about */
		hagent_sample_count(t, s->source, HAGENT_SK_UNMANAGED, s->count);
		return;
	}
	e = hagent_sample_entry(t, s->addr);
	if (!e) {
		u->s[u->n++] = *s;
		return;
	}
	hagent_sample_update(t, e, s->count);
	hagent_sample_count(t, s->source,
			    e->tier == HAGENT_TIER_FAST ? HAGENT_SK_FAST : HAGENT_SK_SLOW, s->count);
}

void hagent_sample_account(struct hagent_target *t, enum hagent_source src, u64 fast, u64 slow)
{
	if (!(fast | slow))
		return;
	hagent_sample_count(t, src, HAGENT_SK_TOTAL, fast + slow);
	hagent_sample_count(t, src, HAGENT_SK_FAST, fast);
	hagent_sample_count(t, src, HAGENT_SK_SLOW, slow);
}

static void hagent_ring_drain(struct hagent_ring *r, struct hagent_unresolved *u)
{
	struct hagent_target *locked = NULL;
	unsigned int tail = r->tail, head = smp_load_acquire(&r->head);

	while (tail != head) {
		struct hagent_sample *s = &r->buf[tail & HAGENT_RING_MASK];

		/* Keep a target locked across a run of its samples. */
		if (locked != s->t) {
			if (locked)
				mutex_unlock(&locked->lock);
			locked = s->t;
			mutex_lock(&locked->lock);
		}
		hagent_sample_apply(s, u);
		tail++;
		if (u->n == HAGENT_UNRESOLVED_MAX) {
			mutex_unlock(&locked->lock);
			locked = NULL;
			smp_store_release(&r->tail, tail);
			hagent_sample_classify(u);
		}
	}
	if (locked)
		mutex_unlock(&locked->lock);
	smp_store_release(&r->tail, tail);
	hagent_sample_classify(u);
}

void hagent_sample_drain(void)
{
	struct hagent_unresolved *u;
	int cpu, nmi;

	lockdep_assert_held(&hagent_targets_lock);
	u = kmalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return;		/* the rings keep their samples for the next drain */
	u->n = 0;
	for_each_possible_cpu(cpu)
		for (nmi = 0; nmi < 2; nmi++)
			hagent_ring_drain(hagent_rings[cpu * 2 + nmi], u);
	kfree(u);
}

int hagent_sample_init(void)
{
	int cpu, i;

	hagent_rings = kcalloc(nr_cpu_ids * 2, sizeof(*hagent_rings), GFP_KERNEL);
	if (!hagent_rings)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		for (i = 0; i < 2; i++) {
			hagent_rings[cpu * 2 + i] = kvzalloc_node(sizeof(struct hagent_ring),
								  GFP_KERNEL, cpu_to_node(cpu));
			if (!hagent_rings[cpu * 2 + i]) {
				hagent_sample_exit();
				return -ENOMEM;
			}
		}
	}
	return 0;
}

void hagent_sample_kick_sync(void)
{
	irq_work_sync(&hagent_sample_kick);
}

/* Every target is gone and every producer stopped: nothing is in flight. */
void hagent_sample_exit(void)
{
	struct hagent_active *a;
	int i;

	hagent_sample_kick_sync();
	if (!hagent_rings)
		return;
	for (i = 0; i < nr_cpu_ids * 2; i++)
		kvfree(hagent_rings[i]);
	kfree(hagent_rings);
	hagent_rings = NULL;
	a = rcu_replace_pointer(hagent_active, NULL, true);
	synchronize_rcu();
	kfree(a);
}
