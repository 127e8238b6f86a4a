// SPDX-License-Identifier: GPL-2.0
/*
 * Resolving the kernel functions hagent calls but the kernel does not export.
 *
 * kallsyms_lookup_name() itself is unexported since 5.7; a kprobe registered on
 * it reports its address.  Each resolved address is then checked with
 * sprint_symbol(): it must be the start of the global function of exactly that
 * name, not a .isra/.constprop clone or a local copy whose ABI may differ.
 * Prototypes are pinned per kernel series in compat.h.
 *
 * With kernel IBT enforced, an indirect call into a function the kernel never
 * calls indirectly traps ("Missing ENDBR"), so hagent refuses to load there.
 *
 * hagent_sym is written only during init, before anything else runs.
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <asm/cpufeature.h>
#include "symbols.h"

struct hagent_symbols hagent_sym;

#define HAGENT_SYM(field) { #field, (void **)&hagent_sym.field }
#define HAGENT_SYM_NAMED(field, name) { __stringify(name), (void **)&hagent_sym.field }
static const struct {
	const char *name;
	void **addr;
} hagent_symbol_list[] = {
	HAGENT_SYM(migrate_pages),
	HAGENT_SYM(folio_isolate_lru),
	HAGENT_SYM(folio_putback_lru),
	HAGENT_SYM(putback_movable_pages),
	HAGENT_SYM(lru_add_drain_all),
	HAGENT_SYM(lru_add_drain),
#ifdef CONFIG_MEMCG
	HAGENT_SYM(set_shrinker_bit),
#endif
	HAGENT_SYM(walk_page_range),
	HAGENT_SYM(walk_page_vma),
	HAGENT_SYM(flush_tlb_mm_range),
#ifdef HAGENT_PTE_MAP_LOCK_SYM
	HAGENT_SYM_NAMED(pte_map_lock, HAGENT_PTE_MAP_LOCK_SYM),
#endif
};

typedef unsigned long hagent_lookup_t(const char *name);

/*
 * Returns the offset of @addr from the start of the symbol @name, or -1 when
 * @addr does not lie inside the global symbol of exactly that name.
 */
static long hagent_symbol_offset(unsigned long addr, const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);
	unsigned long off;
	char *end;

	sprint_symbol(buf, addr);
	if (strncmp(buf, name, len) || buf[len] != '+')
		return -1;
	off = simple_strtoul(buf + len + 1, &end, 16);
	if (*end != '/')
		return -1;
	return off;
}

static hagent_lookup_t *hagent_find_lookup(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	long off;

	if (register_kprobe(&kp) < 0)
		return NULL;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	/* With IBT the probe sits after the ENDBR: step back to the start. */
	off = hagent_symbol_offset(addr, "kallsyms_lookup_name");
	if (off < 0 || off > 16)
		return NULL;
	return (hagent_lookup_t *)(addr - off);
}

static bool hagent_ibt_enforced(void)
{
#ifdef CONFIG_X86_KERNEL_IBT
	return cpu_feature_enabled(X86_FEATURE_IBT);
#else
	return false;
#endif
}

int hagent_symbols_init(void)
{
	hagent_lookup_t *lookup;
	int i, missing = 0;

	if (hagent_ibt_enforced()) {
		pr_err("kernel IBT is enforced on this CPU: calling unexported functions would trap; boot with ibt=off to use hagent\n");
		return -EOPNOTSUPP;
	}
	lookup = hagent_find_lookup();
	if (!lookup) {
		pr_err("cannot resolve kallsyms_lookup_name through a kprobe (CONFIG_KPROBES?)\n");
		return -ENOENT;
	}
	for (i = 0; i < ARRAY_SIZE(hagent_symbol_list); i++) {
		const char *name = hagent_symbol_list[i].name;
		unsigned long addr = lookup(name);

		if (!addr || hagent_symbol_offset(addr, name) != 0) {
			pr_err("missing kernel symbol %s (not found, or not the global function of that name)\n",
			       name);
			missing++;
			continue;
		}
		*hagent_symbol_list[i].addr = (void *)addr;
	}
	if (missing) {
		memset(&hagent_sym, 0, sizeof(hagent_sym));
		return -ENOENT;
	}
	return 0;
}

void hagent_symbols_exit(void)
{
	memset(&hagent_sym, 0, sizeof(hagent_sym));
}

void hagent_symbols_show(struct seq_file *m)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hagent_symbol_list); i++)
		seq_printf(m, "%s %s\n", hagent_symbol_list[i].name,
			   *hagent_symbol_list[i].addr ? "resolved" : "missing");
}
