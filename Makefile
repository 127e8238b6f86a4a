# SPDX-License-Identifier: GPL-2.0
# hagent: build, test and demo.  Kbuild is the build list; this file only
# drives it for every installed kernel and runs the suites.
#
#   make module        build hagent.ko for every kernel with headers (build/<ver>/)
#   make test          host tests, then VM tests on every installed kernel
#   make demo          boot a two-node VM, load hagent, show it working
#   make KVERS=6.12.95+deb12-amd64 test   limit to one kernel

TOP     := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV    := $(TOP)/.venv
PY      := $(VENV)/bin/python
KVERS   ?= $(shell $(TOP)/scripts/kernels)
W       ?= 1

.PHONY: all setup module progs host-test vm-test test demo clean

all: module

setup:
	@$(TOP)/scripts/setup --check 2>/dev/null || $(TOP)/scripts/setup

# Each kernel gets its own copy of the sources so builds never share objects.
module: setup
	@set -e; for v in $(KVERS); do \
		d=$(TOP)/build/$$v; mkdir -p $$d; \
		cp -a --update $(TOP)/Kbuild $$d/; \
		mkdir -p $$d/kmod; cp -a --update $(TOP)/kmod/hagent $$d/kmod/; \
		echo "  BUILD   hagent.ko for $$v"; \
		rc=0; $(MAKE) -s -C /lib/modules/$$v/build M=$$d W=$(W) modules > $$d/build.log 2>&1 || rc=$$?; \
		grep -v '^Skipping BTF generation' $$d/build.log || true; \
		if [ $$rc != 0 ]; then echo "build failed for $$v" >&2; exit 1; fi; \
		if grep -q 'warning:' $$d/build.log; then echo "warnings building for $$v" >&2; exit 1; fi; \
	done

# Programs the guest tests and the demo run (built on the host, run in the guest).
PROGS := $(TOP)/build/progs/memhog $(TOP)/build/progs/hotset
progs: $(PROGS)
$(TOP)/build/progs/%: $(TOP)/tests/vm/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<
# The placement benchmark's workload (scripts/bench-placement).
$(TOP)/build/progs/hotset: $(TOP)/scripts/hotset.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -pthread -o $@ $< -lm

host-test: setup
	$(VENV)/bin/ruff check ctl tests
	$(VENV)/bin/mypy
# (this tree's ctl/ first: the venv's editable install may point at another tree)
	PYTHONPATH=$(TOP)/ctl $(PY) -m pytest -q tests/host

vm-test: module progs
	$(PY) -m tests.vm.run --kernels "$(KVERS)"

test: host-test vm-test

demo: module progs
	$(PY) -m tests.vm.run --demo --kernels "$(lastword $(KVERS))"

clean:
	rm -rf $(TOP)/build $(TOP)/results

# The overhead tests' and scripts/bench-probes' workload, with threads.
progs: $(TOP)/build/progs/churn
$(TOP)/build/progs/churn: $(TOP)/tests/vm/progs/churn.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -pthread -o $@ $< -lm
