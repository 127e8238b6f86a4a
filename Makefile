# SPDX-License-Identifier: GPL-2.0
# hagent: build, test and demo.  Kbuild is the build list; this file only
# drives it for every installed kernel and runs the suites.
#
#   make module        build hagent.ko for every kernel with headers (build/<ver>/)
#   make test          host tests, then VM tests on every installed kernel
#   make test-debug    VM tests on a lockdep/KASAN build of Debian's 6.12 (K=expr: a subset)
#   make setup-newest  set up Debian's newest kernel (trixie-backports 7.x, not in `make test`)
#   make newest        build hagent.ko for it;  make test-newest: host tests, then its VM tests
#   make demo          boot a two-node VM, load hagent, show it working
#   make KVERS=6.12.95+deb12-amd64 test   limit to one kernel
#   make install       install hagent.ko for the running kernel (KVER=...) and the man page
#   make dkms-install  register with DKMS: built for every installed kernel, and future ones
#   make man           regenerate docs/hagentctl.1 from the CLI

TOP     := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV    := $(TOP)/.venv
PY      := $(VENV)/bin/python
KVERS   ?= $(shell $(TOP)/scripts/kernels)
W       ?= 1
KVER    ?= $(shell uname -r)
VERSION := $(shell sed -n 's/^\#define HAGENT_VERSION "\(.*\)"$$/\1/p' $(TOP)/kmod/hagent/version.h)
PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man/man1
# DKMS_ROOT=DIR: a private DKMS tree (DIR/src, DIR/tree) instead of /usr/src
# and /var/lib/dkms; the VM tests build one on the host and install from it.
DKMS_ROOT ?=
DKMS     = dkms $(if $(DKMS_ROOT),--sourcetree $(DKMS_ROOT)/src --dkmstree $(DKMS_ROOT)/tree)
DKMS_SRC = $(if $(DKMS_ROOT),$(DKMS_ROOT)/src,/usr/src)/hagent-$(VERSION)

.PHONY: all setup module progs mm-selftests host-test vm-test test test-debug demo clean man \
	setup-newest newest test-newest \
	install uninstall dkms-add dkms-build dkms-install dkms-remove

all: module

setup:
	@$(TOP)/scripts/setup --check 2>/dev/null || $(TOP)/scripts/setup

# Each kernel gets its own copy of the sources so builds never share objects.
# $(call build_for,VERSIONS): build hagent.ko for each (no set-up: install uses it too).
# scripts/kbuild runs kbuild on the host, or inside the kernel's build root
# when its headers live in one (scripts/newest-kernel); W=1, and a warning
# fails the build either way.
define build_for
	@set -e; for v in $(1); do \
		d=$(TOP)/build/$$v; mkdir -p $$d; \
		cp -a --update $(TOP)/Kbuild $$d/; \
		mkdir -p $$d/kmod; cp -a --update $(TOP)/kmod/hagent $$d/kmod/; \
		echo "  BUILD   hagent.ko for $$v"; \
		rc=0; $(TOP)/scripts/kbuild $$v -s M=$$d W=$(W) modules > $$d/build.log 2>&1 || rc=$$?; \
		grep -v '^Skipping BTF generation' $$d/build.log || true; \
		if [ $$rc != 0 ]; then echo "build failed for $$v" >&2; exit 1; fi; \
		if grep -q 'warning:' $$d/build.log; then echo "warnings building for $$v" >&2; exit 1; fi; \
	done
endef
SOURCES := $(TOP)/Kbuild $(wildcard $(TOP)/kmod/hagent/Kbuild $(TOP)/kmod/hagent/*.[ch] \
	$(TOP)/kmod/hagent/uapi/*.h)

module: setup
	$(call build_for,$(KVERS))

$(TOP)/build/%/kmod/hagent/hagent.ko: $(SOURCES)
	$(call build_for,$*)

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

# The kernel's own mm selftests the VM suite runs managed (tests/vm/test_external.py).
mm-selftests: setup
	@$(TOP)/scripts/mm-selftests > /dev/null

vm-test: module progs dkms-tree mm-selftests
	$(PY) -m tests.vm.run --kernels "$(KVERS)"

test: host-test vm-test

# The VM suite on the debug kernel flavour (lockdep, KASAN, DEBUG_VM, KFENCE):
# Debian's 6.12 sources, built once by scripts/debug-kernel (about 15 minutes on
# 2 cores) and cached.  Slower guests: DEBUG_TIMEOUT seconds per guest.  Not the
# peers guest: its figures are placement's, and KASAN's shadow (an eighth of
# all memory, from node 0) takes half of its 512 MiB fast node.
DEBUG_TIMEOUT ?= 7200
test-debug: setup progs mm-selftests
	@set -e; k=$$($(TOP)/scripts/debug-kernel); \
	$(MAKE) --no-print-directory KVERS="$$k" module dkms-tree; \
	$(PY) -m tests.vm.run --kernels "$$k" --guests tests,tests-tcg-single,tests-smp \
		--timeout $(DEBUG_TIMEOUT) $(if $(K),-k "$(K)")

# Debian's newest kernel (trixie-backports, 7.x): its headers need Debian 13's
# gcc-14 and glibc, so they live in a Debian 13 build root, and the image
# beside its modules in /lib/modules, never in /boot (scripts/newest-kernel,
# cached: a few minutes the first time).  scripts/kernels does not list it, so
# `make test` stays 6.1 and 6.12; KVERS=<release> works with every target.
setup-newest: setup
	@$(TOP)/scripts/newest-kernel > /dev/null

newest: setup-newest
	@$(MAKE) --no-print-directory KVERS="$$($(TOP)/scripts/newest-kernel)" module

test-newest: setup-newest host-test
	@$(MAKE) --no-print-directory KVERS="$$($(TOP)/scripts/newest-kernel)" vm-test

demo: module progs
	$(PY) -m tests.vm.run --demo --kernels "$(lastword $(KVERS))"

clean:
	rm -rf $(TOP)/build $(TOP)/results

# The overhead tests' and scripts/bench-probes' workload, with threads.
progs: $(TOP)/build/progs/churn
$(TOP)/build/progs/churn: $(TOP)/tests/vm/progs/churn.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -pthread -o $@ $< -lm

# ---- installing ----------------------------------------------------------
# modules_install into /lib/modules/$(KVER)/updates, then depmod (Debian's
# headers have no System.map, so Kbuild skips it).  Unsigned: a kernel that
# enforces module signatures needs DKMS's signing (dkms-install) instead.
install: $(TOP)/build/$(KVER)/kmod/hagent/hagent.ko
	$(TOP)/scripts/kbuild $(KVER) -s M=$(TOP)/build/$(KVER) INSTALL_MOD_DIR=updates \
		CONFIG_MODULE_SIG_ALL= modules_install 2>&1 | grep -v "Skipping depmod" || true
	depmod -a $(KVER)
	install -D -m 644 $(TOP)/docs/hagentctl.1 $(DESTDIR)$(MANDIR)/hagentctl.1
	@echo "installed hagent $(VERSION) for $(KVER): modprobe hagent, or hagentctl load"

uninstall:
	rm -rf /lib/modules/$(KVER)/updates/kmod/hagent
	depmod -a $(KVER)
	rm -f $(DESTDIR)$(MANDIR)/hagentctl.1

# The source DKMS builds from: what Kbuild needs, nothing else.
dkms-add:
	@command -v dkms >/dev/null || { echo "dkms is not installed: apt-get install dkms" >&2; exit 1; }
	@$(if $(DKMS_ROOT),mkdir -p $(DKMS_ROOT)/src $(DKMS_ROOT)/tree)
	@if [ -z "$$($(DKMS) status -m hagent -v $(VERSION))" ]; then \
		rm -rf $(DKMS_SRC); mkdir -p $(DKMS_SRC)/kmod; \
		cp -a $(TOP)/Kbuild $(TOP)/dkms.conf $(TOP)/LICENSE $(DKMS_SRC)/; \
		cp -a $(TOP)/kmod/hagent $(DKMS_SRC)/kmod/; \
		find $(DKMS_SRC) \( -name '*.o' -o -name '*.ko' -o -name '*.cmd' -o -name '*.mod*' \) -delete; \
		$(DKMS) add -m hagent -v $(VERSION); \
	fi

# Build for KVERS (every installed kernel with headers): nothing installed.
dkms-build: dkms-add
	@set -e; for v in $(KVERS); do $(DKMS) build -m hagent -v $(VERSION) -k $$v; done

dkms-install: dkms-add
	@set -e; for v in $(KVERS); do $(DKMS) install -m hagent -v $(VERSION) -k $$v; done

dkms-remove:
	$(DKMS) remove -m hagent -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

# For tests/vm/test_install.py: a private DKMS tree, built on the host (the
# guest only installs from it; compiling under TCG would take minutes).  The
# host's DKMS cannot build for a kernel whose headers need a build root:
# those are left out, and the DKMS test skips them.
HOST_KVERS = $(shell for v in $(KVERS); do $(TOP)/scripts/kbuild --root $$v >/dev/null || echo $$v; done)
dkms-tree: setup
	@rm -rf $(TOP)/build/dkms
	@echo "  DKMS    hagent $(VERSION) for $(or $(HOST_KVERS),no kernel)"
	@$(MAKE) -s dkms-build DKMS_ROOT=$(TOP)/build/dkms KVERS="$(HOST_KVERS)" > $(TOP)/build/dkms.log 2>&1 \
		|| { cat $(TOP)/build/dkms.log >&2; exit 1; }

man:
	PYTHONPATH=$(TOP)/ctl $(PY) -m hagent.manpage > $(TOP)/docs/hagentctl.1
