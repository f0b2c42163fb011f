#!/usr/bin/env bash
# Runs every *.test.ts under shared/, services/, scripts/ and scenarios/ with Node's test runner.
# Node 20's runner finds no .ts files by itself (and a quoted glob fails), so pass the files.
# The outer timeout bounds the whole run; --test-timeout bounds each test.
#
# What it prints: in a terminal, one dot per test (node's `dot` reporter) and then the failures
# and the totals; the whole TAP goes to .tmp/test-results.tap for a closer look. Under CI (CI
# set) or into a pipe, TAP on stdout, as before, ending with node's "# pass N" / "# fail N"
# lines, and JUnit XML in .tmp/test-results.xml for CI systems that read it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find shared services scripts scenarios -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
mkdir -p .tmp
run=(timeout --kill-after=10s 1500s node --import tsx --test --test-timeout=360000 --test-concurrency=2)
if [ -t 1 ] && [ -z "${CI:-}" ]; then
  status=0
  "${run[@]}" --test-reporter=dot --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination=.tmp/test-results.tap "${files[@]}" || status=$?
  echo
  # The totals, from the TAP's closing lines: "# tests N", "# pass N", "# fail N", …
  grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' .tmp/test-results.tap || true
  echo "(every test: .tmp/test-results.tap)"
  exit "$status"
fi
exec "${run[@]}" --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=.tmp/test-results.xml "${files[@]}"
