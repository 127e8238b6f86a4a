/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels hagent supports lives here: Debian's
 * 6.1 LTS and 6.12 LTS.  Unexported symbols are called through pointers typed
 * from the prototypes below; a prototype that changes silently would corrupt
 * the stack, so any other kernel series is refused at build time until its
 * prototypes have been checked against its sources.
 */
#ifndef _HAGENT_COMPAT_H
#define _HAGENT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/netlink.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define HAGENT_KERNEL_6_1 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define HAGENT_KERNEL_6_12 1
#else
#error "hagent supports the 6.1 and 6.12 LTS kernels only (see compat.h)"
#endif

#ifdef HAGENT_KERNEL_6_1
/* migrate_pages() callbacks take pages. */
typedef struct page *hagent_new_t(struct page *page, unsigned long private);
typedef void hagent_free_t(struct page *page, unsigned long private);
/* mm/internal.h: folio_isolate_lru() returns 0 on success. */
typedef int hagent_isolate_ret_t;
#define HAGENT_ISOLATED(ret) ((ret) == 0)
#define HAGENT_WALK_LOCK
/*
 * NL_SET_ERR_MSG_FMT arrived in 6.2.  The static buffer is safe because
 * hagent's family is not parallel_ops: genl_mutex is held from doit until
 * the ack carrying the message has been built.
 */
#define HAGENT_SET_ERR_MSG_FMT(extack, fmt, args...)				\
	do {									\
		static char __msg[80];						\
		snprintf(__msg, sizeof(__msg), fmt, ##args);			\
		NL_SET_ERR_MSG((extack), __msg);				\
	} while (0)
#else
typedef struct folio *hagent_new_t(struct folio *folio, unsigned long private);
typedef void hagent_free_t(struct folio *folio, unsigned long private);
typedef bool hagent_isolate_ret_t;
#define HAGENT_ISOLATED(ret) (ret)
#define HAGENT_WALK_LOCK .walk_lock = PGWALK_RDLOCK,
#define HAGENT_SET_ERR_MSG_FMT(extack, fmt, args...) NL_SET_ERR_MSG_FMT(extack, fmt, ##args)
#endif

#endif /* _HAGENT_COMPAT_H */
