# bench/bench.mk — benchmarks and the detection simulator (never part of make test).

# bench/run.py writes one JSON file per benchmark,
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
