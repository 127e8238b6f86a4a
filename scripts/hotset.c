// SPDX-License-Identifier: GPL-2.0
/*
 * hotset: a GUPS-style workload with a hot set, for placement benchmarks.
 *
 *   hotset [--region-mib 1024] [--hot-mib 128] [--hot-frac 0.9] [--threads 1]
 *          [--duration 60] [--move-at SEC] [--slow-node N] [--fast-node 0]
 *          [--thp | --no-thp | --thp-system] [--layout L] [--pattern uniform]
 *          [--zipf-s 0.99] [--idle] [--ready-wait] [--sample-max 4096] [--seed S]
 *
 * Maps --region-mib MiB of private anonymous memory, 2 MiB aligned.  THP:
 * --thp is madvise(MADV_HUGEPAGE), --no-thp MADV_NOHUGEPAGE, --thp-system (the
 * default) no madvise at all, so the system's setting applies; the last of the
 * three given wins.  It then writes every page, placed by --layout through VMA
 * policies (mbind(2)) that are reset to the default afterwards so that they do
 * not fight later migrations; the hot set is the first --hot-mib MiB then:
 *
 *   first-touch  no policy: the kernel's default (local node)
 *   slow         every page MPOL_BIND to --slow-node
 *   fill-fast    the fast node already full of the process's own cold data:
 *                every page outside the hot set first, MPOL_PREFERRED
 *                --fast-node (the kernel falls back to other nodes once it is
 *                full), then the hot set MPOL_BIND to --slow-node
 *   fast         every page MPOL_PREFERRED --fast-node (a filler holding
 *                another process's cold data on the fast node)
 *
 * The default is slow when --slow-node is given, else first-touch; slow and
 * fill-fast need --slow-node.  Then it prints one JSON line:
 *
 *   {"event":"ready","pid":P,"addr":"0x...","pages":N,"hot_pages":H,
 *    "thp":"madvise"|"never"|"system","layout":L,"pattern":"uniform"|"zipf",
 *    "hot_update_share":U,"hot_fast_share":S,"region_fast_share":S}
 *
 * With --ready-wait it then waits for a line on stdin or a SIGUSR1 (EOF on
 * stdin leaves only the signal), so a driver can hand the process to hagent
 * between placement and the run.  Each of --threads threads then does random
 * 8-byte read-modify-write updates (xorshift64).  The hot set starts at offset
 * 0; with --move-at it moves to the middle of the region (disjoint from the
 * first: needs hot <= region / 2).  --pattern picks the page:
 *
 *   uniform  --hot-frac of the updates uniform over the hot set, the others
 *            uniform over the rest of the region
 *   zipf     a page of rank r in [0, pages) with probability proportional to
 *            1 / (r + 1)^--zipf-s (any S > 0), rank r being the page r pages
 *            past the hot set's first, wrapping past the region's end; a
 *            uniform word within it.  --hot-frac does not apply: the hot set
 *            is the hottest --hot-mib MiB, the first ranks.
 *
 * hot_update_share is the expected share of updates that land in the hot set
 * (--hot-frac, 1 when the hot set is the whole region; for zipf the hot set's
 * probability mass).  --idle starts no threads at all (a filler that only
 * holds memory): the samples still come, with no updates.  Once a second:
 *
 *   {"event":"sample","elapsed":1.000,"updates_per_s":N,"hot_fast_share":S,
 *    "region_fast_share":S,"hot_offset":BYTES,"query_ms":MS}
 *
 * The shares are the fractions of pages on --fast-node, asked of the kernel
 * with move_pages(2) and nodes = NULL (a query, nothing moves), in chunks.
 * Each set is sampled evenly: every ceil(pages / --sample-max)-th page (with
 * the defaults the 32768-page hot set every 8th page, the 262144-page region
 * every 64th), since a query costs 5-20 us a page under TCG: a query of every
 * page of 1 GiB takes seconds.  query_ms is the time the queries took (the
 * main thread's, on top of the workers').  After
 * --duration seconds: {"event":"done","elapsed":...,"updates":N,
 * "updates_per_s":N} and exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* From <linux/mempolicy.h>; spelled out to need neither it nor libnuma. */
#define HS_MPOL_DEFAULT 0
#define HS_MPOL_PREFERRED 1
#define HS_MPOL_BIND 2
#define HS_MAXNODES 1024

#define PAGE 4096UL
#define MIB (1UL << 20)
#define THP_ALIGN (2UL << 20)
#define QUERY_CHUNK 1024 /* pages per move_pages call */
#define BATCH 4096	 /* updates between two looks at the stop flag */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum thp { THP_SYSTEM, THP_MADVISE, THP_NEVER };
static const char *const thp_names[] = { "system", "madvise", "never" };

enum layout { LAYOUT_FIRST_TOUCH, LAYOUT_SLOW, LAYOUT_FILL_FAST, LAYOUT_FAST };
static const char *const layout_names[] = { "first-touch", "slow", "fill-fast", "fast" };

enum pattern { PATTERN_UNIFORM, PATTERN_ZIPF };
static const char *const pattern_names[] = { "uniform", "zipf" };

struct options {
	unsigned long region_mib, hot_mib, sample_max;
	double hot_frac, duration, move_at; /* move_at < 0: never */
	double zipf_s;
	int threads, slow_node, fast_node;  /* slow_node < 0: not given */
	int layout;			    /* < 0: not given */
	enum thp thp;
	enum pattern pattern;
	int idle, ready_wait;
	uint64_t seed;
};

/* Each worker's counter on its own cache line: the main thread only reads. */
struct worker {
	_Alignas(64) _Atomic uint64_t updates;
	pthread_t tid;
	uint64_t seed;
};

static char *region;
static size_t region_len, hot_len;
static uint64_t hot_threshold;		   /* (r >> 32) < this: a hot update */
static double *zipf_cdf;		   /* --pattern zipf: P(rank <= r), per page */
static uint32_t *zipf_guide;		   /* the first rank with CDF > k / 2^zipf_bits */
static int zipf_bits;
static _Atomic uint64_t hot_word;	   /* first 8-byte word of the hot set */
static _Atomic int stop;
static volatile sig_atomic_t go_signal;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hotset [--region-mib MIB] [--hot-mib MIB] [--hot-frac F] [--threads N]\n"
		"              [--duration SEC] [--move-at SEC] [--slow-node N] [--fast-node N]\n"
		"              [--thp|--no-thp|--thp-system]\n"
		"              [--layout first-touch|slow|fill-fast|fast]\n"
		"              [--pattern uniform|zipf] [--zipf-s S] [--idle] [--ready-wait]\n"
		"              [--sample-max PAGES] [--seed S]\n");
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A uniform value in [0, n), without a division (Lemire's multiply-shift). */
static uint64_t below(uint64_t r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

/*
 * The CDF of the ranks [0, @n) with weights 1 / (rank + 1)^@s (the last is
 * exactly 1), and a guide to it: for each k < 2^zipf_bits >= n, the first rank
 * whose CDF exceeds k / 2^zipf_bits, so that a search needs to look only
 * between two neighbouring entries (Chen and Asau's guide table).  Both bounds
 * are exact: a uniform u is an integer of 53 bits times 2^-53.
 */
static void zipf_setup(size_t n, double s)
{
	size_t nguide, r = 0;
	double sum = 0;

	while ((1UL << zipf_bits) < n)
		zipf_bits++;
	nguide = (1UL << zipf_bits) + 1;
	zipf_cdf = malloc(n * sizeof(*zipf_cdf));
	zipf_guide = malloc(nguide * sizeof(*zipf_guide));
	if (!zipf_cdf || !zipf_guide)
		die("malloc (zipf CDF)");
	for (size_t i = 0; i < n; i++) {
		sum += pow((double)(i + 1), -s);
		zipf_cdf[i] = sum;
	}
	for (size_t i = 0; i < n; i++)
		zipf_cdf[i] /= sum;
	zipf_cdf[n - 1] = 1;
	for (size_t k = 0; k < nguide; k++) {
		while (r < n - 1 && zipf_cdf[r] <= ldexp((double)k, -zipf_bits))
			r++;
		zipf_guide[k] = r;
	}
}

/* The first rank whose CDF exceeds u = @u53 / 2^53: a branchless binary search. */
static uint64_t zipf_rank(uint64_t u53)
{
	uint64_t k = u53 >> (53 - zipf_bits);
	const double *base = zipf_cdf + zipf_guide[k];
	uint64_t n = zipf_guide[k + 1] - zipf_guide[k] + 1;
	double u = u53 * 0x1p-53;

	while (n > 1) {
		uint64_t half = n / 2;

		base = base[half - 1] <= u ? base + half : base;
		n -= half;
	}
	return base - zipf_cdf;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t *words = (uint64_t *)region;
	uint64_t nwords = region_len / 8, nhot = hot_len / 8, ncold = nwords - nhot;
	uint64_t npages = region_len / PAGE, page_words = PAGE / 8;
	uint64_t s = w->seed;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t base = atomic_load_explicit(&hot_word, memory_order_relaxed);
		uint64_t first = base / page_words; /* the hot set's first page */

		if (zipf_cdf) {
			for (int i = 0; i < BATCH; i++) {
				uint64_t r = xorshift64(&s), page;

				/* the top 53 bits pick the rank, the low 9 the word */
				page = first + zipf_rank(r >> 11);
				if (page >= npages)
					page -= npages;
				words[page * page_words + (r & (page_words - 1))] ^= r;
			}
		} else {
			for (int i = 0; i < BATCH; i++) {
				uint64_t r = xorshift64(&s), idx;

				if ((r >> 32) < hot_threshold) {
					idx = base + below(xorshift64(&s), nhot);
				} else {
					/* the rest of the region, wrapping past its end */
					idx = base + nhot + below(xorshift64(&s), ncold);
					if (idx >= nwords)
						idx -= nwords;
				}
				words[idx] ^= r;
			}
		}
		atomic_fetch_add_explicit(&w->updates, BATCH, memory_order_relaxed);
	}
	return NULL;
}

/*
 * Share of the pages at @addr + k * @stride pages (k < @npages / @stride,
 * rounded up) that are on @node; NaN when the kernel placed none of them.
 */
static double node_share(const char *addr, size_t npages, size_t stride, int node)
{
	static void *pages[QUERY_CHUNK];
	static int status[QUERY_CHUNK];
	size_t on_node = 0, placed = 0;

	for (size_t i = 0; i < npages;) {
		unsigned long n = 0;

		for (; n < QUERY_CHUNK && i < npages; n++, i += stride)
			pages[n] = (void *)(addr + i * PAGE);
		if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
			die("move_pages (query)");
		for (unsigned long j = 0; j < n; j++) {
			placed += status[j] >= 0;
			on_node += status[j] == node;
		}
	}
	return placed ? (double)on_node / placed : NAN;
}

static size_t stride_for(size_t npages, unsigned long sample_max)
{
	return npages <= sample_max ? 1 : (npages + sample_max - 1) / sample_max;
}

static void print_share(const char *key, double share)
{
	if (isnan(share))
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%.4f", key, share);
}

/* A VMA policy @mode with the one @node for [@off, @off + @len) of the region. */
static void bind_region(size_t off, size_t len, int mode, int node)
{
	unsigned long mask[HS_MAXNODES / (8 * sizeof(unsigned long))] = { 0 };

	if (node < 0 || node >= HS_MAXNODES) {
		fprintf(stderr, "hotset: node %d out of range\n", node);
		exit(2);
	}
	mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
	if (len && syscall(SYS_mbind, region + off, len, mode, mask, HS_MAXNODES + 1, 0))
		die(mode == HS_MPOL_BIND ? "mbind MPOL_BIND" : "mbind MPOL_PREFERRED");
}

static void touch(size_t off, size_t len)
{
	for (size_t end = off + len; off < end; off += PAGE)
		region[off] = 1;
}

static void map_region(const struct options *o)
{
	char *raw = mmap(NULL, region_len + THP_ALIGN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw == MAP_FAILED)
		die("mmap");
	/* 2 MiB alignment so that THPs can back the region */
	region = (char *)(((unsigned long)raw + THP_ALIGN - 1) & ~(THP_ALIGN - 1));
	if (region > raw)
		munmap(raw, region - raw);
	munmap(region + region_len, raw + region_len + THP_ALIGN - (region + region_len));
	if (o->thp != THP_SYSTEM &&
	    madvise(region, region_len, o->thp == THP_MADVISE ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die("madvise");
	switch (o->layout) {
	case LAYOUT_SLOW:
		bind_region(0, region_len, HS_MPOL_BIND, o->slow_node);
		touch(0, region_len);
		break;
	case LAYOUT_FILL_FAST: /* the rest first, so that it takes the fast node */
		bind_region(hot_len, region_len - hot_len, HS_MPOL_PREFERRED, o->fast_node);
		touch(hot_len, region_len - hot_len);
		bind_region(0, hot_len, HS_MPOL_BIND, o->slow_node);
		touch(0, hot_len);
		break;
	case LAYOUT_FAST:
		bind_region(0, region_len, HS_MPOL_PREFERRED, o->fast_node);
		touch(0, region_len);
		break;
	default: /* first-touch */
		touch(0, region_len);
	}
	if (o->layout != LAYOUT_FIRST_TOUCH &&
	    syscall(SYS_mbind, region, region_len, HS_MPOL_DEFAULT, NULL, 0, 0))
		die("mbind MPOL_DEFAULT");
}

static void on_usr1(int sig)
{
	(void)sig;
	go_signal = 1;
}

/* Until a line on stdin or a SIGUSR1 (blocked by the caller, unblocked here). */
static void wait_for_go(const sigset_t *usr1_blocked)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	sigset_t during = *usr1_blocked;
	nfds_t nfds = 1;
	char buf[256];

	sigdelset(&during, SIGUSR1);
	while (!go_signal) {
		int r = ppoll(&pfd, nfds, NULL, &during);
		ssize_t n;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		if (r == 0)
			continue;
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			nfds = 0; /* EOF or error: only the signal can start us now */
			continue;
		}
		if (memchr(buf, '\n', n))
			return;
	}
}

static double parse_double(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v)) {
		fprintf(stderr, "hotset: --%s: not a number: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static unsigned long parse_ulong(const char *opt, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "hotset: --%s: not a non-negative integer: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void bad(const char *why)
{
	fprintf(stderr, "hotset: %s\n", why);
	exit(2);
}

/* The index of @s in @names[@n]; exits 2 when it is none of them. */
static int pick(const char *opt, const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	fprintf(stderr, "hotset: --%s: '%s' is none of", opt, s);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "%s %s", i ? "," : "", names[i]);
	fputc('\n', stderr);
	exit(2);
}

static void parse(int argc, char **argv, struct options *o)
{
	/* in the order of longs[]: an option's name is longs[c - O_REGION].name */
	enum { O_REGION = 256, O_HOT, O_FRAC, O_THREADS, O_DURATION, O_MOVE, O_SLOW, O_FAST,
	       O_THP, O_NOTHP, O_THPSYS, O_LAYOUT, O_PATTERN, O_ZIPFS, O_IDLE, O_WAIT, O_SAMPLE,
	       O_SEED, O_HELP };
	static const struct option longs[] = {
		{ "region-mib", required_argument, NULL, O_REGION },
		{ "hot-mib", required_argument, NULL, O_HOT },
		{ "hot-frac", required_argument, NULL, O_FRAC },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "move-at", required_argument, NULL, O_MOVE },
		{ "slow-node", required_argument, NULL, O_SLOW },
		{ "fast-node", required_argument, NULL, O_FAST },
		{ "thp", no_argument, NULL, O_THP },
		{ "no-thp", no_argument, NULL, O_NOTHP },
		{ "thp-system", no_argument, NULL, O_THPSYS },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "pattern", required_argument, NULL, O_PATTERN },
		{ "zipf-s", required_argument, NULL, O_ZIPFS },
		{ "idle", no_argument, NULL, O_IDLE },
		{ "ready-wait", no_argument, NULL, O_WAIT },
		{ "sample-max", required_argument, NULL, O_SAMPLE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .region_mib = 1024, .hot_mib = 128, .sample_max = 4096,
			       .hot_frac = 0.9, .duration = 60, .move_at = -1, .threads = 1,
			       .slow_node = -1, .fast_node = 0, .layout = -1, .zipf_s = 0.99,
			       .thp = THP_SYSTEM, .pattern = PATTERN_UNIFORM,
			       .seed = 0x9e3779b97f4a7c15ULL };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		const char *name = c >= O_REGION && c <= O_HELP ? longs[c - O_REGION].name : "";

		switch (c) {
		case O_REGION: o->region_mib = parse_ulong(name, optarg); break;
		case O_HOT: o->hot_mib = parse_ulong(name, optarg); break;
		case O_FRAC: o->hot_frac = parse_double(name, optarg); break;
		case O_THREADS: o->threads = (int)parse_ulong(name, optarg); break;
		case O_DURATION: o->duration = parse_double(name, optarg); break;
		case O_MOVE: o->move_at = parse_double(name, optarg); break;
		case O_SLOW: o->slow_node = (int)parse_ulong(name, optarg); break;
		case O_FAST: o->fast_node = (int)parse_ulong(name, optarg); break;
		case O_THP: o->thp = THP_MADVISE; break;
		case O_NOTHP: o->thp = THP_NEVER; break;
		case O_THPSYS: o->thp = THP_SYSTEM; break;
		case O_LAYOUT:
			o->layout = pick(name, optarg, layout_names, ARRAY_SIZE(layout_names));
			break;
		case O_PATTERN:
			o->pattern = pick(name, optarg, pattern_names, ARRAY_SIZE(pattern_names));
			break;
		case O_ZIPFS: o->zipf_s = parse_double(name, optarg); break;
		case O_IDLE: o->idle = 1; break;
		case O_WAIT: o->ready_wait = 1; break;
		case O_SAMPLE: o->sample_max = parse_ulong(name, optarg); break;
		case O_SEED: o->seed = parse_ulong(name, optarg); break;
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		bad("unexpected arguments (every option is --name VALUE)");
	if (!o->region_mib || !o->hot_mib || o->hot_mib > o->region_mib)
		bad("need 0 < --hot-mib <= --region-mib");
	if (o->region_mib > (1UL << 30))
		bad("--region-mib too large");
	if (!(o->hot_frac >= 0 && o->hot_frac <= 1))
		bad("--hot-frac must be within [0, 1]");
	if (o->threads < 1 || o->threads > 1024)
		bad("--threads must be within [1, 1024]");
	if (!(o->duration > 0))
		bad("--duration must be positive");
	if (o->move_at >= 0 && 2 * o->hot_mib > o->region_mib)
		bad("--move-at needs --hot-mib <= --region-mib / 2 (the new hot set is disjoint)");
	if (!o->sample_max)
		bad("--sample-max must be positive");
	if (o->slow_node >= HS_MAXNODES || o->fast_node >= HS_MAXNODES)
		bad("node out of range");
	if (!(o->zipf_s > 0))
		bad("--zipf-s must be positive");
	if (o->pattern == PATTERN_ZIPF && o->region_mib > (1UL << 24))
		bad("--pattern zipf: --region-mib too large (ranks are 32-bit)");
	if (o->layout < 0)
		o->layout = o->slow_node >= 0 ? LAYOUT_SLOW : LAYOUT_FIRST_TOUCH;
	if ((o->layout == LAYOUT_SLOW || o->layout == LAYOUT_FILL_FAST) && o->slow_node < 0) {
		fprintf(stderr, "hotset: --layout %s needs --slow-node\n", layout_names[o->layout]);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct worker *workers;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t usr1, orig;
	size_t region_pages, hot_pages, region_stride, hot_stride;
	uint64_t total = 0, last_total = 0;
	double start, last, moved_off, t, hot_update_share;
	int moved = 0, nthreads;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	region_len = o.region_mib * MIB;
	hot_len = o.hot_mib * MIB;
	region_pages = region_len / PAGE;
	hot_pages = hot_len / PAGE;
	region_stride = stride_for(region_pages, o.sample_max);
	hot_stride = stride_for(hot_pages, o.sample_max);
	/* all hot when the hot set is the whole region: there is no "rest" */
	hot_threshold = hot_len == region_len ? (1ULL << 32)
					      : (uint64_t)(o.hot_frac * 4294967296.0);
	hot_update_share = hot_len == region_len ? 1 : o.hot_frac;
	if (o.pattern == PATTERN_ZIPF) {
		zipf_setup(region_pages, o.zipf_s);
		hot_update_share = zipf_cdf[hot_pages - 1];
	}
	nthreads = o.idle ? 0 : o.threads;
	moved_off = (double)((region_len / 2) & ~(THP_ALIGN - 1));

	/* Blocked from the start: a SIGUSR1 right after "ready" must not kill us. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaction(SIGUSR1, &sa, NULL);
	sigprocmask(SIG_BLOCK, &usr1, &orig);

	map_region(&o);
	printf("{\"event\":\"ready\",\"pid\":%d,\"addr\":\"%p\",\"pages\":%zu,\"hot_pages\":%zu",
	       getpid(), (void *)region, region_pages, hot_pages);
	printf(",\"thp\":\"%s\",\"layout\":\"%s\",\"pattern\":\"%s\",\"hot_update_share\":%.4f",
	       thp_names[o.thp], layout_names[o.layout], pattern_names[o.pattern],
	       hot_update_share);
	print_share("hot_fast_share", node_share(region, hot_pages, hot_stride, o.fast_node));
	print_share("region_fast_share",
		    node_share(region, region_pages, region_stride, o.fast_node));
	printf("}\n");
	if (o.ready_wait)
		wait_for_go(&usr1);
	sigprocmask(SIG_SETMASK, &orig, NULL);

	/* not NULL with --idle either: aligned_alloc(64, 0) may be */
	workers = aligned_alloc(64, (nthreads ? nthreads : 1) * sizeof(*workers));
	if (!workers)
		die("aligned_alloc");
	start = last = now();
	for (int i = 0; i < nthreads; i++) {
		uint64_t s = o.seed + 0x9e3779b97f4a7c15ULL * (i + 1);

		workers[i].updates = 0;
		workers[i].seed = s ? s : 1; /* xorshift's one fixed point */
		errno = pthread_create(&workers[i].tid, NULL, work, &workers[i]);
		if (errno)
			die("pthread_create");
	}
	for (long k = 1;; k++) {
		struct timespec tick;
		double at = start + k, share_hot, share_region, q0;
		size_t off;

		tick.tv_sec = (time_t)at;
		tick.tv_nsec = (long)((at - (double)tick.tv_sec) * 1e9);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR)
			;
		t = now();
		total = 0;
		for (int i = 0; i < nthreads; i++)
			total += atomic_load_explicit(&workers[i].updates, memory_order_relaxed);
		if (o.move_at >= 0 && !moved && t - start >= o.move_at) {
			atomic_store_explicit(&hot_word, (uint64_t)moved_off / 8,
					      memory_order_relaxed);
			moved = 1;
		}
		off = atomic_load_explicit(&hot_word, memory_order_relaxed) * 8;
		q0 = now();
		share_hot = node_share(region + off, hot_pages, hot_stride, o.fast_node);
		share_region = node_share(region, region_pages, region_stride, o.fast_node);
		printf("{\"event\":\"sample\",\"elapsed\":%.3f,\"updates_per_s\":%.0f",
		       t - start, (total - last_total) / (t - last));
		print_share("hot_fast_share", share_hot);
		print_share("region_fast_share", share_region);
		printf(",\"hot_offset\":%zu,\"query_ms\":%.1f}\n", off, (now() - q0) * 1e3);
		last_total = total;
		last = t;
		if (t - start >= o.duration - 1e-3)
			break;
	}
	atomic_store(&stop, 1);
	total = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(workers[i].tid, NULL);
		total += workers[i].updates;
	}
	t = now();
	printf("{\"event\":\"done\",\"elapsed\":%.3f,\"updates\":%" PRIu64 ",\"updates_per_s\":%.0f}\n",
	       t - start, total, total / (t - start));
	free(workers);
	return 0;
}
