#!/usr/bin/env bash
# `npm test`: every check and every test of the repository, in order, stopping at the first failing phase:
#   build -> typecheck -> lint -> unit -> integration -> e2e (when e2e/jest.config.js exists)
# and closing with one line `N passed, N failed` (Jest tests summed over all runs; a suite that could not
# run at all counts as one failure, and so does a failed phase that ran no Jest test). Exits non-zero when
# anything failed.
#
# Integration and e2e tests need a NATS server (nats-server on PATH or /usr/sbin) and PostgreSQL reachable
# at DATABASE_URL (default postgres://postgres@127.0.0.1:5432); .ci/run starts both.
# BATON_TEST_PHASE_TIMEOUT (seconds, default 1800) bounds each Jest run.
set -euo pipefail

export NX_DAEMON=false NX_NO_CLOUD=true
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

results_dir="tmp/test-results"
rm -rf "$results_dir"
mkdir -p "$results_dir"
phase_timeout="${BATON_TEST_PHASE_TIMEOUT:-1800}"
current_phase="setup"
started_at=$SECONDS

# Sums the Jest JSON reports written so far: prints "<passed> <failed>".
jest_totals() {
  node -e '
    const fs = require("node:fs");
    const path = require("node:path");
    const dir = process.argv[1];
    let passed = 0;
    let failed = 0;
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".json"))) {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      passed += r.numPassedTests;
      failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    }
    console.log(`${passed} ${failed}`);
  ' "$results_dir"
}

summary() {
  local status=$?
  local totals passed failed
  totals="$(jest_totals 2>/dev/null || echo '0 0')"
  passed="${totals% *}"
  failed="${totals#* }"
  if [[ $status -ne 0 ]]; then
    echo "npm test: FAILED in phase '${current_phase}' (exit ${status}) after $((SECONDS - started_at))s" >&2
    if [[ $failed -eq 0 ]]; then failed=1; fi
  else
    echo "npm test: all phases passed in $((SECONDS - started_at))s"
  fi
  echo "${passed} passed, ${failed} failed"
}
trap summary EXIT

phase() {
  current_phase="$1"
  echo
  echo "=== [$1] $(date -u +%H:%M:%S) ==="
}

phase build
npm run --silent build

phase typecheck
npm run --silent typecheck

phase lint
npm run --silent lint

# Runs one Jest configuration; a missing report (Jest crashed before writing it) is a failure too.
run_jest() {
  local name="$1" config="$2"
  phase "$name"
  local report="$results_dir/$name.json"
  local code=0
  timeout --kill-after=30 "$phase_timeout" \
    jest -c "$config" --ci --json --outputFile="$report" || code=$?
  if [[ ! -s "$report" ]]; then
    echo "$name: Jest wrote no report ($config)" >&2
    echo '{"numPassedTests":0,"numFailedTests":0,"numRuntimeErrorTestSuites":1}' >"$report"
    [[ $code -ne 0 ]] || code=1
  fi
  if [[ $code -eq 124 ]]; then
    echo "$name: timed out after ${phase_timeout}s" >&2
  fi
  return "$code"
}

run_jest unit jest.unit.config.js
run_jest integration jest.integration.config.js
if [[ -f e2e/jest.config.js ]]; then
  run_jest e2e e2e/jest.config.js
else
  echo "(no e2e/jest.config.js: e2e phase skipped)"
fi
current_phase="done"
