# rollguard — plain GNU make with pkg-config.
#
#   make                      build/rollguard
#   make run                  run the daemon on its embedded defaults
#   make check                unit tests (Check), fuzz replays, integration, Kubernetes suites
#   make test                 check, the interop suite, ASan+UBSan, valgrind, what ships
#                             (tests/tests.mk; fuzz: tests/fuzz/fuzz.mk; bench: bench/bench.mk)
#   make SANITIZE=address,undefined check   one sanitizer build (in build/san)
#   make bench                every benchmark: bench/RESULTS.md, bench/detection.png
#   make bench-smoke          the short version (< 3 min), results in build/bench/smoke
#   make SYSTEM_CURL=1 ...    link Debian's shared libcurl (in build/system-curl)
#   make V=1 ...              show full commands

PKGS      := libevent libcurl jansson yaml-0.1 openssl
TEST_PKGS := check

CURL_PART := choice
include tools/curl.mk


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
LIB_SRCS  := $(sort $(filter-out sidecar/main.c,$(wildcard sidecar/*.c sidecar/*/*.c probes/*.c config/*.c)))
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

.PHONY: all run demo docs clean help format format-check reference

all: $(BIN)

CURL_PART := build
include tools/curl.mk

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

docs: $(BIN)
	$(Q)$(PYTHON) tools/readme_reference.py --binary $(BIN) --write README.md

# The whole story on one machine: fake API server, three sidecars, errors injected.
demo: $(BIN)
	$(PYTHON) tools/demo.py --binary $(BIN)

reference: $(BIN)
	$(BIN) --print-reference

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

help:
	@sed -n '2,13p' Makefile | sed 's/^# \{0,1\}//'

# Keep intermediate objects (fuzz and bench objects) between runs.
.SECONDARY:

include tests/tests.mk
include tests/fuzz/fuzz.mk
include tests/ship/ship.mk
include tests/interop/interop.mk
include bench/bench.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
