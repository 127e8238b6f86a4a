/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HAGENT_SYMBOLS_H
#define _HAGENT_SYMBOLS_H

#include <linux/list.h>
#include <linux/pagewalk.h>
#include "compat.h"

/*
 * Kernel functions hagent needs that are not exported to modules.  Resolved
 * once at load by hagent_symbols_init() and never changed after; the module
 * refuses to load when one is missing, so callers need no NULL checks.
 */
struct mem_cgroup;

struct hagent_symbols {
	int (*migrate_pages)(struct list_head *from, hagent_new_t *get_new,
			     hagent_free_t *put_new, unsigned long private,
			     enum migrate_mode mode, hagent_migrate_reason_t reason,
			     unsigned int *ret_succeeded);
	hagent_isolate_ret_t (*folio_isolate_lru)(struct folio *folio);
	void (*folio_putback_lru)(struct folio *folio);
	void (*putback_movable_pages)(struct list_head *l);
	void (*lru_add_drain_all)(void);
	void (*lru_add_drain)(void);
#ifdef CONFIG_MEMCG
	void (*set_shrinker_bit)(struct mem_cgroup *memcg, int nid, int shrinker_id);
#endif
	int (*walk_page_range)(struct mm_struct *mm, unsigned long start,
			       unsigned long end, const struct mm_walk_ops *ops,
			       void *private);
	int (*walk_page_vma)(struct vm_area_struct *vma,
			     const struct mm_walk_ops *ops, void *private);
	void (*flush_tlb_mm_range)(struct mm_struct *mm, unsigned long start,
				   unsigned long end, unsigned int stride_shift,
				   bool freed_tables);
#ifdef HAGENT_PTE_MAP_LOCK_SYM
	/* HAGENT_PTE_MAP_LOCK_SYM */
	pte_t *(*pte_map_lock)(struct mm_struct *mm, pmd_t *pmd,
			       unsigned long addr, spinlock_t **ptlp);
#endif
};

extern struct hagent_symbols hagent_sym;

/*
 * Maps and locks the page table @pmd points to, or returns NULL when @pmd is
 * not (or no longer) a page table: none, a THP, a migration entry.  Under
 * mmap_read_lock, in an anonymous VMA; unmap with pte_unmap_unlock().
 */
static inline pte_t *hagent_pte_map_lock(struct mm_struct *mm, pmd_t *pmd,
					 unsigned long addr, spinlock_t **ptlp)
{
#ifdef HAGENT_PTE_MAP_LOCK_SYM
	return hagent_sym.pte_map_lock(mm, pmd, addr, ptlp);
#else
	/*
	 * pmd_trans_unstable() without its pmd_clear_bad() (not exported).
	 * Under mmap_read_lock a page table is never freed or collapsed, so
	 * one that is seen here stays until the lock is dropped.
	 */
	pmd_t val = READ_ONCE(*pmd);

	barrier();
	if (pmd_none(val) || !pmd_present(val) || pmd_trans_huge(val) ||
	    pmd_devmap(val) || pmd_bad(val))
		return NULL;
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
#endif
}

int hagent_symbols_init(void);
void hagent_symbols_exit(void);
/* Writes "name status" lines for debugfs. */
struct seq_file;
void hagent_symbols_show(struct seq_file *m);

#endif /* _HAGENT_SYMBOLS_H */
