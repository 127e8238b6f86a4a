// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: a process whose private anonymous memory the VM tests steer.
 *
 *   memhog MIB [thp|nothp]
 *
 * Maps MIB MiB of private anonymous memory (THP-backed or 4K-backed on
 * request), touches every page, prints "ready <address>" and then obeys one
 * command per line on stdin, answering "ok ..." when done:
 *   touch                 write every page still mapped
 *   verify                check that every page of the region holds what
 *                         touch wrote ("bad <offset>" at the first that does not)
 *   munmap_half           unmap the second half
 *   dontneed              MADV_DONTNEED the first quarter
 *   free                  MADV_FREE the second quarter
 *   mremap                move the whole (remaining) region elsewhere
 *   fork                  fork a child that writes every page and waits;
 *                         the parent writes every page too ("ok <child pid>")
 *   reap                  kill and wait for the forked child
 *   storm N               N times in a row: fork a child that writes every page
 *                         and exits, write every page, wait for the child
 *   mlock                 mlock the region
 *   grow MIB              map and touch MIB more (a second region)
 *   hot OFF_MIB MIB SEC   keep writing [OFF, OFF+MIB) MiB of the region for SEC s,
 *                         or until a line "stop" comes ("ok <seconds written>")
 *   pin OFF_MIB MIB       pin [OFF, OFF+MIB) MiB long-term, as io_uring's fixed
 *                         buffers do (FOLL_LONGTERM), until exit
 *   softdirty N [OFF_MIB MIB]
 *                         N times: clear the soft-dirty bits (write 4 to
 *                         /proc/self/clear_refs, which write-protects every
 *                         page, as CRIU does), then write every page (or those
 *                         of [OFF, OFF+MIB) MiB), each write taking a fault
 *                         ("ok <minor faults taken>")
 *   exit                  exit(0)
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *region;
static size_t len;
static pid_t child;

static void touch(char *p, size_t n)
{
	for (size_t off = 0; off < n; off += 4096)
		p[off] = (char)(off >> 12) | 1;
}

/* The offset of the first page of [p, p + n) that touch() did not write, or -1. */
static long verify(const char *p, size_t n)
{
	for (size_t off = 0; off < n; off += 4096)
		if (p[off] != ((char)(off >> 12) | 1))
			return (long)off;
	return -1;
}

static char *map(size_t n, int thp)
{
	/* 2 MiB alignment so that THPs can back it. */
	size_t pad = 2UL << 20;
	char *raw = mmap(NULL, n + pad, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p = (char *)(((unsigned long)raw + pad - 1) & ~(pad - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + n, raw + n + pad - (p + n));
	if (madvise(p, n, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		perror("madvise");
		exit(1);
	}
	touch(p, n);
	return p;
}

/*
 * Whether a line "stop" came on stdin (consumed if so).  Nothing else is
 * sent while a command runs, and stdio has read no further than the
 * command's own line, so polling the descriptor sees it.
 */
static int stop_asked(void)
{
	struct pollfd in = { .fd = 0, .events = POLLIN };
	char line[16];

	if (poll(&in, 1, 0) <= 0)
		return 0;
	return fgets(line, sizeof(line), stdin) && !strncmp(line, "stop", 4);
}

int main(int argc, char **argv)
{
	char line[128];
	int thp;

	if (argc < 2) {
		fprintf(stderr, "usage: memhog MIB [thp|nothp]\n");
		return 2;
	}
	len = strtoul(argv[1], NULL, 0) << 20;
	thp = argc > 2 && !strcmp(argv[2], "thp");
	setvbuf(stdout, NULL, _IOLBF, 0);
	region = map(len, thp);
	printf("ready %p\n", (void *)region);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "touch", 5)) {
			touch(region, len);
			printf("ok\n");
		} else if (!strncmp(line, "verify", 6)) {
			long bad = verify(region, len);

			if (bad >= 0)
				printf("bad %ld\n", bad);
			else
				printf("ok\n");
		} else if (!strncmp(line, "munmap_half", 11)) {
			munmap(region + len / 2, len / 2);
			len /= 2;
			printf("ok\n");
		} else if (!strncmp(line, "dontneed", 8)) {
			madvise(region, len / 4, MADV_DONTNEED);
			printf("ok\n");
		} else if (!strncmp(line, "free", 4)) {
			madvise(region + len / 4, len / 4, MADV_FREE);
			printf("ok\n");
		} else if (!strncmp(line, "mremap", 6)) {
			char *to = mmap(NULL, len + (2UL << 20), PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			to = (char *)(((unsigned long)to + (2UL << 20) - 1) & ~((2UL << 20) - 1));
			region = mremap(region, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
			if (region == MAP_FAILED) {
				perror("mremap");
				return 1;
			}
			printf("ok %p\n", (void *)region);
		} else if (!strncmp(line, "fork", 4)) {
			child = fork();
			if (child == 0) {
				touch(region, len);
				pause();
				_exit(0);
			}
			touch(region, len);
			printf("ok %d\n", child);
		} else if (!strncmp(line, "reap", 4)) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			printf("ok\n");
		} else if (!strncmp(line, "storm", 5)) {
			unsigned long n = strtoul(line + 5, NULL, 0), i;
			pid_t p = 0;

			for (i = 0; i < n; i++) {
				p = fork();
				if (p < 0)
					break;
				if (p == 0) {
					touch(region, len);
					_exit(0);
				}
				touch(region, len);
				waitpid(p, NULL, 0);
			}
			if (p < 0)
				printf("err fork: %m\n");
			else
				printf("ok %lu\n", i);
		} else if (!strncmp(line, "mlock", 5)) {
			printf(mlock(region, len) ? "err mlock\n" : "ok\n");
		} else if (!strncmp(line, "grow", 4)) {
			size_t more = strtoul(line + 4, NULL, 0) << 20;
			map(more, thp);
			printf("ok\n");
		} else if (!strncmp(line, "hot", 3)) {
			unsigned long off, mib, sec;
			struct timespec t0, t1;

			if (sscanf(line + 3, "%lu %lu %lu", &off, &mib, &sec) != 3 ||
			    (off + mib) << 20 > len) {
				printf("err hot OFF_MIB MIB SEC within the region\n");
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				touch(region + (off << 20), mib << 20);
				clock_gettime(CLOCK_MONOTONIC, &t1);
			} while ((unsigned long)(t1.tv_sec - t0.tv_sec) < sec && !stop_asked());
			printf("ok %lu\n", (unsigned long)(t1.tv_sec - t0.tv_sec));
		} else if (!strncmp(line, "pin", 3)) {
			struct io_uring_params params = { 0 };
			unsigned long off, mib;
			struct iovec iov;
			int ring;

			if (sscanf(line + 3, "%lu %lu", &off, &mib) != 2 || (off + mib) << 20 > len) {
				printf("err pin OFF_MIB MIB within the region\n");
				continue;
			}
			ring = syscall(__NR_io_uring_setup, 1, &params);	/* kept open */
			iov.iov_base = region + (off << 20);
			iov.iov_len = mib << 20;
			if (ring < 0 || syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
						&iov, 1) < 0)
				printf("err pin: %m\n");
			else
				printf("ok\n");
		} else if (!strncmp(line, "softdirty", 9)) {
			unsigned long n = 0, off = 0, mib = len >> 20, i;
			struct rusage r0, r1;
			FILE *f;

			if (sscanf(line + 9, "%lu %lu %lu", &n, &off, &mib) < 1 ||
			    (off + mib) << 20 > len) {
				printf("err softdirty N [OFF_MIB MIB] within the region\n");
				continue;
			}

			getrusage(RUSAGE_SELF, &r0);
			for (i = 0; i < n; i++) {
				f = fopen("/proc/self/clear_refs", "w");
				if (!f || fputs("4", f) < 0 || fclose(f))
					break;
				touch(region + (off << 20), mib << 20);
			}
			getrusage(RUSAGE_SELF, &r1);
			if (i < n)
				printf("err clear_refs: %m\n");
			else
				printf("ok %ld\n", r1.ru_minflt - r0.ru_minflt);
		} else if (!strncmp(line, "exit", 4)) {
			return 0;
		} else if (!strncmp(line, "stop", 4)) {
			/* came as a hot command ended by itself: no reply */
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
