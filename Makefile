# rollguard — plain GNU make with pkg-config.
#
#   make                      build/rollguard
#   make run                  run the daemon on its embedded defaults
#   make check                unit tests (Check) + integration tests
#   make test                 check, then the same under ASan+UBSan, then valgrind
#   make SANITIZE=address,undefined check   one sanitizer build (in build/san)
#   make bench                every benchmark: bench/RESULTS.md, bench/detection.png
#   make bench-smoke          the short version (< 3 min), results in build/bench/smoke
#   make SYSTEM_CURL=1 ...    link Debian's shared libcurl (in build/system-curl)
#   make V=1 ...              show full commands

PKGS      := libevent libcurl jansson yaml-0.1 openssl
TEST_PKGS := check

# ---- libcurl choice -----------------------------------------------------------
# By default rollguard links a minimal static libcurl that tools/build-curl.sh
# builds once from Debian's own curl source package: HTTP/HTTPS over OpenSSL and
# the threaded resolver only. Debian's shared libcurl pulls some 30 libraries
# that the daemon never uses (idle RSS about 10.8 MB with it, 6.2 MB without,
# measured on Debian 12). The build is
# cached in $(CURL_PREFIX) and shared by the plain and sanitizer builds; it is
# not sanitizer-instrumented. `make SYSTEM_CURL=1` links Debian's libcurl4
# through pkg-config instead (libcurl4-openssl-dev), in build dirs of its own so
# that switching never mixes objects or leaves a stale binary.
CURL_VERSION := 7.88.1
CURL_PREFIX  := build/curl/$(CURL_VERSION)
CURL_LIB     := $(CURL_PREFIX)/lib/libcurl.a
ifeq ($(SYSTEM_CURL),1)
ifeq ($(SANITIZE),)
BUILD        ?= build/system-curl
else
BUILD        ?= build/san-system-curl
endif
CURL_CFLAGS  :=
CURL_LIBS    :=
CURL_DEP     :=
else
PKGS         := $(filter-out libcurl,$(PKGS))
CURL_CFLAGS  := -I$(CURL_PREFIX)/include
CURL_LIBS    := $(CURL_LIB) -lssl -lcrypto -lpthread
CURL_DEP     := $(CURL_LIB)
endif
# ---- end of libcurl choice ----------------------------------------------------

CC       ?= cc
SANITIZE ?=
PYTHON   ?= python3

ifeq ($(SANITIZE),)
BUILD    ?= build
OPT      ?= -O2 -g
SAN_FLAGS :=
else
BUILD    ?= build/san
OPT      ?= -O1 -g
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

STD      := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN     += -Werror
endif
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

PKG_CFLAGS := $(CURL_CFLAGS) $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(CURL_LIBS) $(shell pkg-config --libs $(PKGS)) -lm
TEST_LIBS  := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null) -pthread

ALL_CFLAGS  = $(STD) $(WARN) $(OPT) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -I. \
              -DROLLGUARD_VERSION='"$(VERSION)"' -DROLLGUARD_REVISION='"$(GIT_REV)"' -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Every module of the three subsystems goes into one static library; main.c
# is the composition root. New modules are picked up without editing this file.
LIB_SRCS  := $(sort $(filter-out sidecar/main.c,$(wildcard sidecar/*.c probes/*.c config/*.c)))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/default_cfg.o
TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
TEST_HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/%)
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/replay_%)

BIN       := $(BUILD)/rollguard
LIB       := $(BUILD)/librollguard.a
CHECK_BIN := $(BUILD)/check_rollguard

.PHONY: all run demo fuzz fuzz-build docs check-docs check check-unit check-integration check-fuzz-replay check-kube \
        check-fakeapi test test-san \
        test-valgrind bench bench-smoke clean help format format-check reference

all: $(BIN)

# ---- libcurl build (see "libcurl choice" above) -------------------------------
# Objects wait for the curl headers; once built they track them through their
# .d files. Binaries relink when the library is rebuilt.
ifneq ($(CURL_DEP),)
$(CURL_LIB): tools/build-curl.sh
	@echo "  CURL    $(CURL_PREFIX) (Debian source package, first build only)"
	$(Q)CC="$(CC)" sh tools/build-curl.sh $(CURL_PREFIX) $(CURL_VERSION)
	$(Q)touch $@

$(LIB_OBJS) $(TEST_OBJS) $(TEST_HELPER_OBJS) $(BUILD)/sidecar/main.o \
$(BENCH_SRCS:%.c=$(BUILD)/%.o) $(FUZZ_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay_main.o: \
    | $(CURL_DEP)

$(BIN) $(CHECK_BIN) $(BENCH_BINS) $(FUZZ_REPLAY_BINS): $(CURL_DEP)
endif

# TLS peer verification of the libcurl in use (system CA bundle, CAINFO, host
# name) against a local `openssl s_server`; part of `make check`.
.PHONY: check-curl-tls
check: check-curl-tls
check-curl-tls: $(CURL_DEP)
	$(Q)CC="$(CC)" sh tools/check-curl-tls.sh $(BUILD)/curl-tls "$(PKG_CFLAGS)" "$(PKG_LIBS)"
# ---- end of libcurl build -----------------------------------------------------

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The embedded default config: config/rollguard.yaml as a C string.
$(BUILD)/gen/default_cfg.c: config/rollguard.yaml config/embed.awk
	@mkdir -p $(dir $@)
	$(Q)awk -f config/embed.awk $< > $@

$(BUILD)/gen/default_cfg.o: $(BUILD)/gen/default_cfg.c
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/sidecar/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Check suites: every tests/check_*.c that defines `Suite *NAME_suite(void)`
# is registered by this generated list.
$(BUILD)/gen/suites.h: $(TEST_SRCS)
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/^Suite \*\([a-z0-9_]*\)_suite(void)$$/SUITE(\1)/p' $(TEST_SRCS) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/check_main.o: $(BUILD)/gen/suites.h
$(BUILD)/tests/check_main.o: ALL_CFLAGS += -I$(BUILD)/gen

$(CHECK_BIN): $(TEST_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS)

$(BUILD)/bench_%: $(BUILD)/bench/bench_%.o $(LIB)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The rollback orchestrator driven by scripted verdicts, for tests/kube/run.py.
KUBE_DRIVER := $(BUILD)/kube_driver
$(KUBE_DRIVER): $(BUILD)/tests/kube/driver.o $(LIB)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Fuzz targets built with a replay driver instead of libFuzzer: they run every
# file of their corpus and regression folders under the current build's flags.
$(BUILD)/replay_%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay_main.o $(LIB)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

run: $(BIN)
	$(BIN)

check: check-unit check-fuzz-replay check-docs check-integration check-fakeapi check-kube

# README's config table is generated: `make docs` refreshes it, check-docs fails when stale.
docs: $(BIN)
	$(Q)$(PYTHON) tools/readme_reference.py --binary $(BIN) --write README.md

check-docs: $(BIN)
	$(Q)$(PYTHON) tools/readme_reference.py --binary $(BIN) --check README.md

check-unit: $(CHECK_BIN)
	$(CHECK_BIN)

check-fuzz-replay: $(FUZZ_REPLAY_BINS)
	$(Q)set -e; for b in $(FUZZ_REPLAY_BINS); do \
	    t=$${b##*/replay_}; \
	    $$b tests/fuzz/corpus/$$t tests/fuzz/regression/$$t; \
	done

check-integration: $(BIN)
	$(PYTHON) tests/integration/run.py --binary $(BIN)

# The fake Kubernetes API server's self-test, then rollguard against it (real binary,
# scripted orchestrator, kubectl as the reference when installed).
check-fakeapi:
	$(PYTHON) tests/fakeapi/test_fakeapi.py

# The whole story on one machine: fake API server, three sidecars, errors injected.
demo: $(BIN)
	$(PYTHON) tools/demo.py --binary $(BIN)

check-kube: $(BIN) $(KUBE_DRIVER)
	$(PYTHON) tests/kube/run.py --binary $(BIN) --driver $(KUBE_DRIVER)

test-san:
	$(MAKE) SANITIZE=address,undefined check

VALGRIND := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9

test-valgrind: $(BIN) $(CHECK_BIN)
	CK_FORK=no $(VALGRIND) $(CHECK_BIN)
	$(PYTHON) tests/integration/run.py --binary $(BIN) --valgrind

# The whole suite, warnings as errors: plain build, ASan+UBSan, valgrind.
test:
	$(MAKE) WERROR=1 check
	$(MAKE) WERROR=1 test-san
	$(MAKE) WERROR=1 test-valgrind

# Benchmarks (never part of test): bench/run.py writes one JSON file per benchmark,
# bench/report.py renders them. The report is written even when a part failed (it says
# "not measured" and why); the target fails afterwards.
BENCH_RUNS ?= 5
BENCH_DIR  := build/bench

bench: $(BIN) $(BENCH_BINS)
	$(Q)rc=0; $(PYTHON) bench/run.py --runs $(BENCH_RUNS) --out $(BENCH_DIR)/results || rc=$$?; \
	$(PYTHON) bench/report.py $(BENCH_DIR)/results -o bench/RESULTS.md \
	    --plot bench/detection.png && exit $$rc

bench-smoke: $(BIN) $(BENCH_BINS)
	$(Q)rc=0; $(PYTHON) bench/run.py --quick --runs 2 --out $(BENCH_DIR)/smoke/results || rc=$$?; \
	$(PYTHON) bench/report.py $(BENCH_DIR)/smoke/results -o $(BENCH_DIR)/smoke/RESULTS.md \
	    --plot $(BENCH_DIR)/smoke/detection.png && exit $$rc

reference: $(BIN)
	$(BIN) --print-reference

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- libFuzzer -------------------------------------------------------------------
#   make fuzz FUZZ_SECONDS=N   each tests/fuzz/fuzz_*.c for N seconds under clang's
#                              -fsanitize=fuzzer,address,undefined; any finding fails.
#   make fuzz FUZZ_TARGETS="fuzz_undo fuzz_endpoints"   only these targets
#   make fuzz-build            only build the libFuzzer binaries into build/fuzz
# New inputs go to build/fuzz/corpus-*, findings to build/fuzz/artifacts; copy a
# finding into tests/fuzz/regression/<target>/ once fixed, so `make check` replays it.
FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)

# The static libcurl is shared by every build and is not instrumented: build it
# here with the default compiler, so the clang sub-make never rebuilds it.
fuzz-build: $(CURL_DEP)
	$(MAKE) CC=clang BUILD=$(FUZZ_DIR) SAN_FLAGS="$(FUZZ_SAN)" OPT="-O1 -g" \
	    $(FUZZ_DIR)/librollguard.a $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/%.o)
	$(Q)set -e; for t in $(FUZZ_TARGETS); do \
	    clang -fsanitize=fuzzer,address,undefined -o $(FUZZ_DIR)/$$t \
	        $(FUZZ_DIR)/tests/fuzz/$$t.o $(FUZZ_DIR)/librollguard.a $(PKG_LIBS); \
	done

fuzz: fuzz-build
	$(Q)set -e; mkdir -p $(FUZZ_DIR)/artifacts; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	    echo "== $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- $(FUZZ_DIR)/corpus-$$t \
	        tests/fuzz/corpus/$$t $$(test -d tests/fuzz/regression/$$t && \
	        echo tests/fuzz/regression/$$t) 2>&1 | grep -aE '^(stat::|==|#[0-9]+[[:space:]]*DONE|SUMMARY|Done)' || true; \
	    if ls $(FUZZ_DIR)/artifacts/$$t-* >/dev/null 2>&1; then \
	        echo "fuzz: $$t found $$(ls $(FUZZ_DIR)/artifacts/$$t-*)"; exit 1; fi; \
	done

# Keep intermediate objects (fuzz and bench objects) between runs.
.SECONDARY:

# --- Shipping: k8s manifests, alerts, dashboard, container image ----------------
#   make check-ship    tests/ship/run.sh: renders and validates k8s/, RBAC, alerts,
#                      dashboard, and a live run of the binary (about a minute)
#   make check-image   tests/ship/image.sh: builds the Dockerfile with buildah (no
#                      Docker engine) and checks the image from inside (2-4 minutes)
#   make image         only build the image (localhost/rollguard:$(VERSION))
#   make image-size    bench/image_size.sh: the runtime image's size, by part
# Both checks are part of `make test`.
.PHONY: check-ship check-image image image-size

check-ship: build/rollguard
	tests/ship/run.sh

check-image:
	tests/ship/image.sh

image:
	tests/ship/image.sh --build

image-size:
	bench/image_size.sh

test: check-ship check-image
