# mp2 - top-level build.
#
#   make              libmp2 (build/libmp2.a) and the tools
#   make check        every test suite; ends with "N passed, N failed, N skipped"
#   make setup        install the Debian packages mp2 needs
#   make demo         set up and run mp2's main job
#   make clean

CC       ?= gcc
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
OPT      ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -fPIC -pthread -Icore $(CFLAGS)
LIBS     := -lnuma -pthread
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

B := build

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(B)/core/%.o)
CORE_SAN_OBJ := $(CORE_SRC:core/%.c=$(B)/san/core/%.o)
CORE_HDR := $(wildcard core/*.h)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_HDR := $(wildcard bench/*.h)

TESTS := $(B)/test_core $(B)/test_core_san $(B)/test_bench $(B)/test_nomem
KTEST := $(if $(wildcard kernel/tests/move_pages2.c),$(B)/move_pages2_test)

.PHONY: all check check-all check-host check-guest setup demo clean \
	extension install
PG_CONFIG ?= pg_config

all: $(B)/libmp2.a $(B)/mp2bench $(if $(wildcard pg_extension/Makefile),extension)

# The PostgreSQL extension, built with PGXS against $(PG_CONFIG).
extension: $(B)/libmp2.a
	$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG)

install: extension
	$(MAKE) -C pg_extension PG_CONFIG=$(PG_CONFIG) install

$(B)/core/%.o: core/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/san/core/%.o: core/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -c $< -o $@

$(B)/libmp2.a: $(CORE_OBJ)
	ar rcs $@ $^

$(B)/libmp2_san.a: $(CORE_SAN_OBJ)
	ar rcs $@ $^

$(B)/mp2bench: $(BENCH_SRC) $(BENCH_HDR) $(B)/libmp2.a
	$(CC) $(CFLAGS_ALL) -Ibench $(BENCH_SRC) $(B)/libmp2.a $(LIBS) -lm -o $@

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

# The suites that need no kernel of our own.
check-host: all $(TESTS)
	scripts/check.sh host

# The suites that run inside the multi-node QEMU guest.
check-guest: all $(TESTS) $(KTEST)
	scripts/check.sh guest

# Installs what is missing first, so it works on a fresh machine.
check: setup
	$(MAKE) check-all

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
