# tests/interop/interop.mk: included from the Makefile (after BIN and PYTHON
# are defined).
#
#   make check-interop    rollguard against apps instrumented with real
#                         libraries (prom-client, express-prom-bundle,
#                         OpenTelemetry JS, Python prometheus_client, Go
#                         client_golang) and a real Prometheus; a few minutes
#
# install.sh brings the Debian packages and node_modules it needs.

PYTHON ?= python3

.PHONY: check-interop
check-interop: $(BIN)
	sh tests/interop/install.sh && $(PYTHON) tests/interop/run.py --binary $(BIN)
