/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The portable shim for the core structures (table, sketch, heap).
 *
 * table.c, sketch.c, heap.c and selftest.c include only this header, so the
 * same source builds into the kernel module and into a userspace library for
 * the host tests.  Under __KERNEL__ it pulls the kernel headers; elsewhere it
 * maps the handful of kernel names those files use onto libc.  Nothing here
 * locks: the core structures are serialised by their caller (one lock per
 * target).  Kernel-version differences do not belong here (see compat.h).
 */
#ifndef _HAGENT_CORE_H
#define _HAGENT_CORE_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/minmax.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/prefetch.h>

__printf(5, 6)
void hagent_check_failed(void *target, const char *expr, const char *file, int line,
			 const char *fmt, ...);

/*
 * True when an invariant is broken.  Never a WARN (panic_on_warn would take
 * the machine down): one structured line and a counter (check.c); the
 * caller gets an error back and its target is shut down by its owner.
 */
#define HAGENT_BROKEN(cond) ({						\
	bool __c = !!(cond);						\
	if (unlikely(__c))						\
		hagent_check_failed(NULL, "!(" #cond ")", __FILE__, __LINE__, " ");	\
	__c;								\
})

#else /* userspace */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned int gfp_t;

#define GFP_KERNEL	0u
#define __GFP_ZERO	1u

#ifndef U8_MAX
#define U8_MAX		((u8)~0U)
#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)
#endif

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define BUILD_BUG_ON(c)	_Static_assert(!(c), #c)
#define __maybe_unused	__attribute__((unused))
#define prefetch(x)	__builtin_prefetch(x)
#define prefetchw(x)	__builtin_prefetch(x, 1)

#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min_t(type, a, b)	min((type)(a), (type)(b))
#define max_t(type, a, b)	max((type)(a), (type)(b))
#define clamp_t(type, v, lo, hi)	min_t(type, max_t(type, v, lo), hi)
#define swap(a, b)	do { __typeof__(a) __t = (a); (a) = (b); (b) = __t; } while (0)

#ifndef pr_fmt
#define pr_fmt(fmt)	"hagent: " fmt
#endif
#define pr_info(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)

/*
 * Host tests read this to prove that a run triggered no warning (the kernel
 * side panics on a warning in the VM tests, which is the same contract).
 */
extern unsigned long hagent_host_warnings;

#define HAGENT_BROKEN(cond) ({						\
	int __c = !!(cond);						\
	if (unlikely(__c)) {						\
		hagent_host_warnings++;					\
		fprintf(stderr, "hagent: CHECK failed: !(%s) at %s:%d\n",	\
			#cond, __FILE__, __LINE__);			\
	}								\
	unlikely(__c);							\
})

static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}

/*
 * Like kvmalloc on x86-64 since 5.18, which passes VM_ALLOW_HUGE_VMAP: arrays
 * of 2 MiB or more get PMD mappings.  The core's big arrays are read at
 * random, so without this the host figures would measure TLB misses the
 * kernel does not have.
 */
#define HAGENT_HOST_HUGE	(2UL << 20)

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	if (bytes < HAGENT_HOST_HUGE)
		return (flags & __GFP_ZERO) ? calloc(1, bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
	bytes = (bytes + HAGENT_HOST_HUGE - 1) & ~(HAGENT_HOST_HUGE - 1);
	p = aligned_alloc(HAGENT_HOST_HUGE, bytes);
	if (!p)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	if (flags & __GFP_ZERO)
		memset(p, 0, bytes);
	return p;
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	return kvmalloc_array(n, size, flags | __GFP_ZERO);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif /* __KERNEL__ */

/*
 * One mixer for every hash in the core (table slots and sketch rows), so the
 * kernel and the host library place every key identically.  This is the
 * murmur3 64-bit finaliser: a bijection whose every output bit depends on
 * every input bit, which the kernel's multiplicative hash_64() is not (its low
 * bits are weak, and the sketch needs several independent rows).
 */
static inline u64 hagent_hash64(u64 key, u64 seed)
{
	key ^= seed;
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

/*
 * Map a 32-bit hash onto [0, n) without a division and without needing n to
 * be a power of two (Lemire's "fastrange"), so tables and sketch rows can be
 * sized to what they hold instead of the next power of two.
 */
static inline u32 hagent_reduce(u32 hash, u32 n)
{
	return (u32)(((u64)hash * n) >> 32);
}

#endif /* _HAGENT_CORE_H */
