#!/bin/sh
# bench/parser.sh — rollguard's metrics parser against `promtool check metrics`,
# both timed as whole processes on the same generated file in one run.
#
#   bench/parser.sh [--json OUT]   RUNS=10 by default; METHOD=hyperfine|loop; FILE=path
#
# The file (~100k series, ~10 MB, lint-clean for promtool) is generated once
# into build/bench/metrics.prom by bench/gen_metrics.py. Both tools must
# accept it before anything is timed. With hyperfine installed the runs are
# timed by hyperfine (shell start-up subtracted, 2 warm-up runs each);
# otherwise the two commands alternate in a loop timed with `date +%s%N`.
# Prints min/median/max per tool and the ratio promtool/rollguard; with
# --json OUT also writes every run's seconds, the file's size and the tools'
# versions to OUT (for bench/run.py).
set -eu

JSON=""
while [ $# -gt 0 ]; do
    case $1 in
    --json) [ $# -ge 2 ] || { echo "parser.sh: --json needs a file" >&2; exit 2; }
        JSON=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    *) echo "usage: parser.sh [--json OUT]" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
FILE=${FILE:-build/bench/metrics.prom}
BIN=build/bench_promtext
GOAL=8

command -v promtool >/dev/null 2>&1 || { echo "parser.sh: promtool not found (apt-get install prometheus)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "parser.sh: python3 not found" >&2; exit 1; }

make -s "$BIN" >/dev/null
if [ ! -s "$FILE" ]; then
    mkdir -p "$(dirname "$FILE")"
    python3 bench/gen_metrics.py -o "$FILE"
fi

# promtool 2.x before 2.43 has no --lint flag and exits 1 on lint findings;
# the generated file is lint-clean, so plain `check metrics` must exit 0.
LINT=""
if promtool check metrics --help 2>&1 | grep -q -- '--lint'; then
    LINT="--lint=none"
fi
if ! promtool check metrics $LINT <"$FILE" >/dev/null 2>&1; then
    echo "parser.sh: promtool does not accept $FILE:" >&2
    promtool check metrics $LINT <"$FILE" 2>&1 | head -5 >&2
    exit 1
fi
"$BIN" "$FILE" >/dev/null || { echo "parser.sh: $BIN rejects $FILE" >&2; exit 1; }

echo "file:      $FILE ($(wc -c <"$FILE") bytes, $(grep -vc '^#' "$FILE") samples)"
echo "promtool:  $(promtool --version 2>&1 | head -1)"
echo "lint flag: ${LINT:-none available (file is lint-clean, exit 0)}"
echo "in-process parse speed of the rollguard parser (10 parses of the file):"
"$BIN" -n 10 "$FILE" | sed 's/^/    /'

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

METHOD=${METHOD:-}
if [ -z "$METHOD" ]; then
    if command -v hyperfine >/dev/null 2>&1; then METHOD=hyperfine; else METHOD=loop; fi
fi

if [ "$METHOD" = hyperfine ]; then
    if ! hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$TMP/h.json" \
        -n rollguard "$BIN $FILE" \
        -n promtool "promtool check metrics $LINT < $FILE" >"$TMP/hyperfine.out" 2>&1; then
        cat "$TMP/hyperfine.out" >&2
        exit 1
    fi
    python3 - "$TMP/h.json" >"$TMP/times" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], " ".join("%.6f" % t for t in r["times"]))
EOF
else
    i=0
    : >"$TMP/rg"
    : >"$TMP/pt"
    while [ "$i" -lt "$RUNS" ]; do
        t0=$(date +%s%N); "$BIN" "$FILE" >/dev/null; t1=$(date +%s%N)
        echo "$t0 $t1" | awk '{printf "%.6f\n", ($2 - $1) / 1e9}' >>"$TMP/rg"
        t0=$(date +%s%N); promtool check metrics $LINT <"$FILE" >/dev/null 2>&1; t1=$(date +%s%N)
        echo "$t0 $t1" | awk '{printf "%.6f\n", ($2 - $1) / 1e9}' >>"$TMP/pt"
        i=$((i + 1))
    done
    { echo "rollguard $(tr '\n' ' ' <"$TMP/rg")"; echo "promtool $(tr '\n' ' ' <"$TMP/pt")"; } >"$TMP/times"
fi

SIZE=$(wc -c <"$FILE")
SAMPLES=$(grep -vc '^#' "$FILE")
PTV=$(promtool --version 2>&1 | head -1)
python3 - "$TMP/times" "$METHOD" "$GOAL" "$JSON" "$FILE" "$SIZE" "$SAMPLES" "$PTV" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, *ts = line.split()
    rows[name] = [float(t) for t in ts]
if sys.argv[4]:
    with open(sys.argv[4], "w") as f:
        json.dump({"method": sys.argv[2], "file": sys.argv[5], "bytes": int(sys.argv[6]),
                   "samples": int(sys.argv[7]), "promtool_version": sys.argv[8],
                   "seconds": rows}, f, indent=1)
rows = {k: sorted(v) for k, v in rows.items()}
method, goal = sys.argv[2], float(sys.argv[3])
print("whole-process wall time, %s, %d runs each:" % (method, len(rows["rollguard"])))
print("%-10s %6s %10s %10s %10s" % ("tool", "runs", "min ms", "median ms", "max ms"))
for name in ("rollguard", "promtool"):
    t = rows[name]
    print("%-10s %6d %10.1f %10.1f %10.1f" % (name, len(t), t[0] * 1e3, statistics.median(t) * 1e3, t[-1] * 1e3))
rg, pt = rows["rollguard"], rows["promtool"]
ratio = statistics.median(pt) / statistics.median(rg)
print("ratio promtool/rollguard: median %.1fx, min %.1fx (goal >= %.0fx: %s)" % (
    ratio, pt[0] / rg[0], goal, "met" if ratio >= goal else "NOT met"))
EOF
