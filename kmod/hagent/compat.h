/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels hagent supports lives here: Debian's
 * 6.1 LTS and 6.12 LTS, and 7.3 (trixie-backports, built in a Debian 13 root:
 * scripts/newest-kernel).  Unexported symbols are called through pointers
 * typed from the prototypes below; a prototype that changes silently would
 * corrupt the stack, so any other kernel series is refused at build time
 * until its prototypes have been checked against its sources (for 7.3:
 * Debian's linux-source-7.3 and the BTF of Debian's build, docs/kernel-7.md).
 */
#ifndef _HAGENT_COMPAT_H
#define _HAGENT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/netlink.h>
#include <linux/hugetlb.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define HAGENT_KERNEL_6_1 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define HAGENT_KERNEL_6_12 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(7, 4, 0)
#define HAGENT_KERNEL_7_3 1
#else
#error "hagent supports the 6.1 and 6.12 LTS kernels and 7.3 only (see compat.h)"
#endif

#ifdef HAGENT_KERNEL_6_1
/* migrate_pages() callbacks take pages. */
typedef struct page *hagent_new_t(struct page *page, unsigned long private);
typedef void hagent_free_t(struct page *page, unsigned long private);
/* mm/internal.h: folio_isolate_lru() returns 0 on success. */
typedef int hagent_isolate_ret_t;
/* Defines @name, a migrate_pages() allocation callback calling @fn on folios. */
#define HAGENT_DEFINE_NEW(name, fn)						\
	static struct page *name(struct page *page, unsigned long private)	\
	{									\
		struct folio *dst = fn(page_folio(page), private);		\
		return dst ? &dst->page : NULL;					\
	}
#define HAGENT_ISOLATED(ret) ((ret) == 0)
#define HAGENT_WALK_LOCK
/*
 * NL_SET_ERR_MSG_FMT arrived in 6.2.  The static buffer is safe because
 * hagent's family is not parallel_ops: genl_mutex is held from doit until
 * the ack carrying the message has been built.  Callers outside a doit (the
 * follow work item) pass a NULL extack and must not touch the buffer.
 */
#define HAGENT_SET_ERR_MSG_FMT(extack, fmt, args...)				\
	do {									\
		static char __msg[80];						\
		struct netlink_ext_ack *__extack = (extack);			\
		if (__extack) {							\
			snprintf(__msg, sizeof(__msg), fmt, ##args);		\
			__extack->_msg = __msg;					\
		}								\
	} while (0)
#else /* 6.12, 7.3 */
typedef struct folio *hagent_new_t(struct folio *folio, unsigned long private);
typedef void hagent_free_t(struct folio *folio, unsigned long private);
typedef bool hagent_isolate_ret_t;
#define HAGENT_DEFINE_NEW(name, fn)						\
	static struct folio *name(struct folio *folio, unsigned long private)	\
	{									\
		return fn(folio, private);					\
	}
#define HAGENT_ISOLATED(ret) (ret)
#define HAGENT_WALK_LOCK .walk_lock = PGWALK_RDLOCK,
#define HAGENT_SET_ERR_MSG_FMT(extack, fmt, args...) NL_SET_ERR_MSG_FMT(extack, fmt, ##args)
#endif

/*
 * The unexported function that maps and locks a page table after checking
 * the pmd (symbols.h); 6.1's pte_offset_map_lock() is inline.  6.12's is the
 * macro pte_offset_map_lock() over __pte_offset_map_lock(); in 7.3 the
 * function itself is pte_offset_map_lock(), same arguments, same result.
 */
#if defined(HAGENT_KERNEL_6_12)
#define HAGENT_PTE_MAP_LOCK_SYM __pte_offset_map_lock
#elif defined(HAGENT_KERNEL_7_3)
#define HAGENT_PTE_MAP_LOCK_SYM pte_offset_map_lock
#endif

/* migrate_pages()'s reason: an int until 6.12, enum migrate_reason in 7.3. */
#ifdef HAGENT_KERNEL_7_3
typedef enum migrate_reason hagent_migrate_reason_t;
#else
typedef int hagent_migrate_reason_t;
#endif

/*
 * Test and clear the accessed bit, as x86's ptep_test_and_clear_young()
 * does (not exported).  The caller flushes the TLB once per batch (adopt.c).
 */
static inline bool hagent_pte_test_and_clear_young(pte_t *ptep)
{
	return pte_young(ptep_get(ptep)) &&
	       test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&ptep->pte);
}

static inline bool hagent_pmd_test_and_clear_young(pmd_t *pmdp)
{
	return pmd_young(*pmdp) &&
	       test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmdp);
}

/* Mappings of an order-0 folio. */
static inline int hagent_folio_mapcount_small(struct folio *folio)
{
#ifdef HAGENT_KERNEL_6_1
	return page_mapcount(&folio->page);
#else
	return folio_mapcount(folio);
#endif
}

static inline pte_t hagent_huge_ptep_get(struct mm_struct *mm, unsigned long addr,
					 pte_t *ptep)
{
#ifdef HAGENT_KERNEL_6_1
	return huge_ptep_get(ptep);
#else
	return huge_ptep_get(mm, addr, ptep);
#endif
}

/* Shrinkers became separately allocated objects in 6.7. */
/*
 * Per node, per memory cgroup (the kernel drops MEMCG_AWARE when memcg is
 * off), and asked even where kernel memory is not accounted (NONSLAB).
 */
#define HAGENT_SHRINKER_FLAGS	(SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE | SHRINKER_NONSLAB)

static inline struct shrinker *
hagent_shrinker_create(unsigned long (*count)(struct shrinker *, struct shrink_control *),
		       unsigned long (*scan)(struct shrinker *, struct shrink_control *),
		       const char *name)
{
	struct shrinker *s;
#ifdef HAGENT_KERNEL_6_1
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	s->flags = HAGENT_SHRINKER_FLAGS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#else
	s = shrinker_alloc(HAGENT_SHRINKER_FLAGS, "%s", name);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
#endif
	return s;
}

static inline void hagent_shrinker_destroy(struct shrinker *s)
{
	if (!s)
		return;
#ifdef HAGENT_KERNEL_6_1
	unregister_shrinker(s);
	kfree(s);
#else
	shrinker_free(s);
#endif
}

/*
 * The probes overhead.c attaches, void probe(void *data, TP_PROTO...): the
 * prototypes of include/trace/events/tlb.h and mmap_lock.h.  A probe is
 * registered untyped, so a wrong list here compiles and reads garbage.
 * tlb_flush's reason is enum tlb_flush_reason (linux/mm_types.h), its pages
 * a count or TLB_FLUSH_ALL: the same in all three.  mmap_lock's events
 * carried the memcg path until 6.12; 7.3's pass (mm, write, success).
 */
#define HAGENT_TP_TLB_FLUSH_ARGS	int reason, unsigned long pages
#ifdef HAGENT_KERNEL_7_3
#define HAGENT_TP_MMAP_LOCK_ACQUIRE_RETURNED_ARGS				\
	struct mm_struct *mm, bool write, bool success
#else
#define HAGENT_TP_MMAP_LOCK_ACQUIRE_RETURNED_ARGS				\
	struct mm_struct *mm, const char *memcg_path, bool write, bool success
#endif

/*
 * The tlb_flush reasons hagent counts, TLB_FLUSH_ON_TASK_SWITCH ..
 * TLB_REMOTE_SEND_IPI (overhead.h), the same values on every series.  7.3
 * adds TLB_REMOTE_WRONG_CPU, traced with 0 pages when a flush IPI reaches a
 * CPU that has switched away from the mm: no flush, so not counted as one,
 * and NR_TLB_FLUSH_REASONS is gone.
 */
#define HAGENT_TLB_FLUSH_REASONS	5
#ifdef HAGENT_KERNEL_7_3
#define HAGENT_TLB_FLUSH_REASONS_OK	(TLB_REMOTE_WRONG_CPU == HAGENT_TLB_FLUSH_REASONS)
#else
#define HAGENT_TLB_FLUSH_REASONS_OK	(NR_TLB_FLUSH_REASONS == HAGENT_TLB_FLUSH_REASONS)
#endif

/* handle_mm_fault(vma, address, flags, regs) on all three: the VMA is argument 0. */
#define HAGENT_FAULT_VMA_ARG	0

#endif /* _HAGENT_COMPAT_H */
