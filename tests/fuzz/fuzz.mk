# tests/fuzz/fuzz.mk — libFuzzer targets (make fuzz); the replays are in tests/tests.mk.

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

