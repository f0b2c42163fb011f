#!/usr/bin/env bash
# Runs every *.test.ts under shared/, services/, scripts/ and scenarios/ with Node's test runner.
# Node 20's runner finds no .ts files by itself (and a quoted glob fails), so pass the files.
# The outer timeout bounds the whole run; --test-timeout bounds each test.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find shared services scripts scenarios -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
exec timeout --kill-after=10s 900s node --import tsx --test --test-timeout=180000 --test-concurrency=2 "${files[@]}"
