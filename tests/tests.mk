# tests/tests.mk — every suite of make check and make test, in the order they run.

.PHONY: check check-unit check-layers check-fuzz-replay check-docs check-integration \
        check-fakeapi check-kube check-control test test-san test-valgrind

# Unit tests first: they are the quickest to say what broke; the format last of the quick ones.
check: check-unit check-layers format-check check-fuzz-replay check-curl-tls check-docs \
       check-integration check-fakeapi check-kube check-control

check-unit: $(CHECK_BIN)
	$(CHECK_BIN)

# The layer rules of README's Layout section, over every #include of product code.
check-layers:
	$(Q)$(PYTHON) tools/check_layers.py --self-test && $(PYTHON) tools/check_layers.py

check-fuzz-replay: $(FUZZ_REPLAY_BINS)
	$(Q)set -e; for b in $(FUZZ_REPLAY_BINS); do \
	    t=$${b##*/replay_}; \
	    $$b tests/fuzz/corpus/$$t tests/fuzz/regression/$$t; \
	done

# README's config table is generated: `make docs` refreshes it, check-docs fails when stale.
check-docs: $(BIN)
	$(Q)$(PYTHON) tools/readme_reference.py --binary $(BIN) --check README.md

check-integration: $(BIN)
	$(PYTHON) tests/integration/run.py --binary $(BIN)

# The fake Kubernetes API server's self-test, then rollguard against it (real binary,
# scripted orchestrator, kubectl as the reference when installed).
check-fakeapi:
	$(PYTHON) tests/fakeapi/test_fakeapi.py

check-kube: $(BIN) $(KUBE_DRIVER)
	$(PYTHON) tests/kube/run.py --binary $(BIN) --driver $(KUBE_DRIVER)

# A new revision judged against its concurrent control: real daemons on their own
# loopback addresses (one port), the rollout by kubectl set image when installed.
check-control: $(BIN)
	$(PYTHON) tests/control/run.py --binary $(BIN)

test-san:
	$(MAKE) SANITIZE=address,undefined check

VALGRIND := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9

test-valgrind: $(BIN) $(CHECK_BIN)
	CK_FORK=no $(VALGRIND) $(CHECK_BIN)
	$(PYTHON) tests/integration/run.py --binary $(BIN) --valgrind

# The whole suite, warnings as errors: the plain build, the real instrumentation
# libraries (plain build only), ASan+UBSan, valgrind, then what ships.
test:
	$(MAKE) WERROR=1 check
	$(MAKE) WERROR=1 check-interop
	$(MAKE) WERROR=1 test-san
	$(MAKE) WERROR=1 test-valgrind
	$(MAKE) WERROR=1 check-ship
	$(MAKE) WERROR=1 check-image
