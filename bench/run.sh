#!/usr/bin/env bash
# bms2intune benchmark: one command.
#   bench/run.sh [--sizes 10k,100k,1m] [--quick] [--skip-slow] [--slow-max 100k] [--no-build]
# Generates synthetic tenants (cached in bench/out/data/), builds bms2intune --release, times
# import / readiness / plan and the pandas / polars baselines (installed into bench/out/venv from
# PyPI), prints a table and writes bench/out/results.md. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || echo "bench: /usr/bin/time not found; peak memory will not be measured" >&2
exec python3 bench/harness.py "$@"
