// SPDX-License-Identifier: GPL-2.0
/*
 * churn: page faults, munmaps and mmap_lock traffic on demand, for the
 * overhead tests and scripts/bench-probes.
 *
 *   churn
 *
 * Prints "ready" and obeys one command per line on stdin, answering "ok ..."
 * when done:
 *   prep N            map N fresh 4K pages (THP off) after one more page,
 *                     touched so that the mapping is set up: "ok <address>"
 *   touch             write each prepared page once, N page faults:
 *                     "ok <ns>"
 *   munmap ITER P     ITER times: map P pages, write each, unmap them:
 *                     "ok <ns>"
 *   threads T SEC P   T threads doing munmap loops of P pages for SEC s:
 *                     "ok <loops>"
 *   exit              exit(0)
 *
 * Every code path "touch" takes runs once before it (in "prep"), so that a
 * "touch" faults on the prepared pages and on nothing else.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static char *region;		/* page 0: set-up page; pages 1..npages: prepared */
static unsigned long npages;

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void touch(char *p, unsigned long pages)
{
	for (unsigned long i = 0; i < pages; i++)
		p[i * PAGE] = (char)i | 1;
}

static char *map(unsigned long pages)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* One round of map, write, unmap. */
static void cycle(unsigned long pages)
{
	char *p = map(pages);

	touch(p, pages);
	if (munmap(p, pages * PAGE)) {
		perror("munmap");
		exit(1);
	}
}

struct worker {
	pthread_t thread;
	unsigned long pages;
	unsigned long long until;
	unsigned long loops;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	while (now_ns() < w->until) {
		cycle(w->pages);
		w->loops++;
	}
	return NULL;
}

int main(void)
{
	unsigned long long t0;
	char line[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	now_ns();
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "prep", 4)) {
			npages = strtoul(line + 4, NULL, 0);
			region = map(npages + 1);
			if (madvise(region, (npages + 1) * PAGE, MADV_NOHUGEPAGE)) {
				perror("madvise");
				return 1;
			}
			t0 = now_ns();
			touch(region, 1);
			printf("ok %p %llu\n", (void *)(region + PAGE), now_ns() - t0);
		} else if (!strncmp(line, "touch", 5)) {
			t0 = now_ns();
			touch(region + PAGE, npages);
			printf("ok %llu\n", now_ns() - t0);
		} else if (!strncmp(line, "munmap", 6)) {
			unsigned long iter, pages;

			if (sscanf(line + 6, "%lu %lu", &iter, &pages) != 2 || !pages) {
				printf("err munmap ITER PAGES\n");
				continue;
			}
			t0 = now_ns();
			while (iter--)
				cycle(pages);
			printf("ok %llu\n", now_ns() - t0);
		} else if (!strncmp(line, "threads", 7)) {
			unsigned long n, sec, pages, i, loops = 0;
			struct worker *w;

			if (sscanf(line + 7, "%lu %lu %lu", &n, &sec, &pages) != 3 || !n || !pages) {
				printf("err threads T SEC PAGES\n");
				continue;
			}
			w = calloc(n, sizeof(*w));
			if (!w) {
				perror("calloc");
				return 1;
			}
			for (i = 0; i < n; i++) {
				w[i].pages = pages;
				w[i].until = now_ns() + sec * 1000000000ULL;
				if (pthread_create(&w[i].thread, NULL, work, &w[i])) {
					perror("pthread_create");
					return 1;
				}
			}
			for (i = 0; i < n; i++) {
				pthread_join(w[i].thread, NULL);
				loops += w[i].loops;
			}
			free(w);
			printf("ok %lu\n", loops);
		} else if (!strncmp(line, "exit", 4)) {
			return 0;
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
