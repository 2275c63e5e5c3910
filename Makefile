# SPDX-License-Identifier: MIT
# mp2 - top-level build.
#
#   make              libmp2 (shared and static), mp2bench, the extension
#   make install      all of them, under PREFIX (default /usr/local) and
#                     the PostgreSQL of PG_CONFIG; DESTDIR= for staging
#   make installcheck the extension's regression tests against a running
#                     server that has it installed (PGHOST, PGPORT, PGUSER)
#   make check        every test suite; ends with "N passed, N failed, N skipped"
#   make deb          the Debian packages, in build/deb/
#   make dist         the release archive from git (PGXN), in build/
#   make setup        install the Debian packages mp2 needs
#   make demo         set up and run mp2's main job
#   make clean
#
# Warnings are errors with WERROR=1 (make check sets it).

CC       ?= gcc
CSTD     := -std=c11 -D_GNU_SOURCE
WERROR   ?=
WARN     := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
OPT      ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -pthread -Icore $(CPPFLAGS) $(CFLAGS)
LIBS     := -lnuma -pthread
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

B := build

# The release: libmp2's version is the tree's (core/mp2.h).
VERSION := $(shell sed -n 's/^\#define MP2_VERSION[[:space:]]*"\(.*\)"/\1/p' core/mp2.h)
SOVERSION := 0
SONAME := libmp2.so.$(SOVERSION)
SOFILE := $(SONAME).$(word 2,$(subst ., ,$(VERSION))).$(word 3,$(subst ., ,$(VERSION)))

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# Programs built here find the tree's libmp2 as users find the installed
# one: pkg-config, with the uninstalled variant of mp2.pc.
export PKG_CONFIG_PATH := $(CURDIR)/$(B)/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(B)/core/%.o)
CORE_SAN_OBJ := $(CORE_SRC:core/%.c=$(B)/san/core/%.o)
CORE_HDR := $(wildcard core/*.h)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_HDR := $(wildcard bench/*.h)

TESTS := $(B)/test_core $(B)/test_core_san $(B)/test_bench $(B)/test_nomem \
         $(B)/test_bench_migrate $(B)/test_bench_ycsb
KTEST := $(if $(wildcard kernel/tests/move_pages2.c),$(B)/move_pages2_test)

.PHONY: all lib check check-all check-host check-guest setup demo clean \
	extension install install-lib install-tools install-extension \
	uninstall installcheck deb dist
PG_CONFIG ?= pg_config

all: lib $(B)/mp2bench $(if $(wildcard pg_extension/Makefile),extension)

lib: $(B)/libmp2.a $(B)/$(SOFILE) $(B)/libmp2.so $(B)/pkgconfig/mp2-uninstalled.pc

# The PostgreSQL extension, built with PGXS against $(PG_CONFIG); it links
# the tree's libmp2.so.
extension: lib
	$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG)

# The objects are rebuilt when the compiler flags change (WERROR=1, say).
$(B)/.cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS_ALL)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL)' >$@
FORCE:

$(B)/core/%.o: core/%.c $(CORE_HDR) $(B)/.cflags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/san/core/%.o: core/%.c $(CORE_HDR) $(B)/.cflags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -c $< -o $@

$(B)/libmp2.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

# Only the calls of mp2.h are exported (core/libmp2.map).
$(B)/$(SOFILE): $(CORE_OBJ) core/libmp2.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=core/libmp2.map \
		-Wl,-z,defs $(LDFLAGS) -o $@ $(CORE_OBJ) $(LIBS)

$(B)/libmp2.so: $(B)/$(SOFILE)
	ln -sf $(SOFILE) $(B)/$(SONAME)
	ln -sf $(SOFILE) $@

# pkg-config prefers NAME-uninstalled.pc: the tree's header and library.
$(B)/pkgconfig/mp2-uninstalled.pc: core/mp2.pc.in core/mp2.h
	@mkdir -p $(@D)
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBDIR@|$(CURDIR)/$(B)|' \
		-e 's|@INCLUDEDIR@|$(CURDIR)/core|' $< >$@

$(B)/libmp2_san.a: $(CORE_SAN_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/mp2bench: $(BENCH_SRC) $(BENCH_HDR) $(B)/libmp2.a
	$(CC) $(CFLAGS_ALL) -Ibench $(BENCH_SRC) $(B)/libmp2.a $(LDFLAGS) $(LIBS) -lm -o $@

$(B)/test_core: tests/test_core.c tests/harness.h $(B)/libmp2.a
	$(CC) $(CFLAGS_ALL) -Itests $< $(B)/libmp2.a $(LIBS) -o $@

$(B)/test_core_san: tests/test_core.c tests/harness.h $(B)/libmp2_san.a
	$(CC) $(CFLAGS_ALL) $(SAN) -DMP2_TEST_SUITE='"libmp2-san"' -Itests $< \
		$(B)/libmp2_san.a $(LIBS) -o $@

# Defines malloc and friends to fail them: never with ASan.
$(B)/test_nomem: tests/test_nomem.c tests/harness.h $(B)/libmp2.a
	$(CC) $(CFLAGS_ALL) -Itests $< $(B)/libmp2.a $(LIBS) -o $@

$(B)/test_bench: tests/test_bench.c tests/harness.h bench/btree.c bench/btree.h \
		bench/zipf.c bench/zipf.h
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -Ibench $< bench/btree.c bench/zipf.c \
		-lnuma -lm -o $@

# The kselftest of move_pages2 (kernel/patches/ adds the same file to
# tools/testing/selftests/mm/), built here against the kselftest.h of the
# installed kernel source; it includes "../kselftest.h" as in the tree.
LINUX_SRC_TAR := /usr/src/linux-source-6.12.tar.xz
KSFT_DIR := $(B)/kselftest

$(KSFT_DIR)/kselftest.h: $(LINUX_SRC_TAR)
	@mkdir -p $(@D)/mm
	tar -xJf $< -C $(@D) --strip-components=4 \
		linux-source-6.12/tools/testing/selftests/kselftest.h
	@touch $@

$(KTEST): kernel/tests/move_pages2.c $(KSFT_DIR)/kselftest.h
	kernel/tests/check-selftest-patch.sh
	$(CC) -std=gnu11 $(WARN) -O2 -g -I$(KSFT_DIR)/mm $< -lnuma -lcap \
		-o $@

# mp2bench migrate's parts, and the program itself for its options.
MIGRATE_PARTS := bench/busy.c bench/common.c bench/hugetlb.c bench/mappers.c \
	bench/migrate_row.c bench/migrate_summary.c bench/options.c \
	bench/pagekind.c bench/rows.c bench/smaps.c bench/zipf.c
$(B)/test_bench_migrate: tests/test_bench_migrate.c tests/harness.h tests/run_tool.h \
		tests/csv.h \
		$(MIGRATE_PARTS) $(BENCH_HDR) $(B)/libmp2_san.a $(B)/mp2bench
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -Ibench $< $(MIGRATE_PARTS) \
		$(B)/libmp2_san.a $(LIBS) -lm -o $@

# mp2bench ycsb's rows and summary, and the program itself for its options.
YCSB_PARTS := bench/common.c bench/options.c bench/rows.c bench/ycsb_summary.c \
	bench/zipf.c
$(B)/test_bench_ycsb: tests/test_bench_ycsb.c tests/harness.h tests/run_tool.h \
		tests/csv.h \
		$(YCSB_PARTS) $(BENCH_HDR) $(B)/libmp2_san.a $(B)/mp2bench
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -Ibench $< $(YCSB_PARTS) \
		$(B)/libmp2_san.a $(LIBS) -lm -o $@

# The suites that need no kernel of our own.
check-host: all $(TESTS)
	scripts/check.sh host

# The suites that run inside the multi-node QEMU guest.
check-guest: all $(TESTS) $(KTEST)
	scripts/check.sh guest

install: install-lib install-tools $(if $(wildcard pg_extension/Makefile),install-extension)

install-lib: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(B)/$(SOFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/libmp2.so
	install -m 644 $(B)/libmp2.a $(DESTDIR)$(LIBDIR)/
	install -m 644 core/mp2.h core/mp2_kabi.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' core/mp2.pc.in \
		>$(DESTDIR)$(PKGCONFIGDIR)/mp2.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/mp2.pc
	$(if $(wildcard man/*.3),install -m 644 $(wildcard man/*.3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(DESTDIR),,-ldconfig)

install-tools: $(B)/mp2bench
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/mp2bench $(DESTDIR)$(BINDIR)/
	$(if $(wildcard man/*.1),install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/)

# The extension needs the library installed first: mp2.so loads libmp2.so.0.
install-extension: extension install-lib
	$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG) install

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libmp2.so $(DESTDIR)$(LIBDIR)/libmp2.a \
		$(DESTDIR)$(INCLUDEDIR)/mp2.h $(DESTDIR)$(INCLUDEDIR)/mp2_kabi.h \
		$(DESTDIR)$(PKGCONFIGDIR)/mp2.pc \
		$(DESTDIR)$(BINDIR)/mp2bench \
		$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/*.3))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	$(if $(wildcard pg_extension/Makefile),$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG) uninstall)

installcheck:
	$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG) installcheck

# Debian packages (debian/), built from the files git tracks (and new ones
# not ignored) in a copy of the tree, so the tree stays as it is.
deb:
	scripts/build-deb.sh

# The release archive for PGXN: what git has at HEAD, under mp2-VERSION/.
dist:
	@mkdir -p $(B)
	git archive --format=zip --prefix=mp2-$(VERSION)/ -o $(B)/mp2-$(VERSION).zip HEAD
	@echo "$(B)/mp2-$(VERSION).zip"

# Installs what is missing first, so it works on a fresh machine.
check: setup
	$(MAKE) check-all WERROR=1

check-all: all $(TESTS) $(KTEST)
	scripts/check.sh all

setup:
	scripts/setup-deps.sh

demo: setup
	$(MAKE) all
	scripts/demo.sh

clean:
	rm -rf $(B)
	$(if $(wildcard pg_extension/Makefile),$(MAKE) -C pg_extension clean)
