#!/usr/bin/env bash
# The main job on the bundled sample tenant: import its exports, check readiness, convert the
# BMS policies to Intune Graph JSON and plan the license waves. No network, no tenant needed.
# Usage: examples/run-sample.sh [WORKSPACE_DIR]   (default: target/sample-work)
set -euo pipefail
cd "$(dirname "$0")/.."
WS=${1:-target/sample-work}
SAMPLE=examples/sample-tenant

cargo build --quiet
BIN="${CARGO_TARGET_DIR:-target}/debug/bms2intune"
rm -rf "$WS"

echo "== import"
"$BIN" import --workspace "$WS" "$SAMPLE"/*.csv "$SAMPLE"/*.json
echo
echo "== readiness"
"$BIN" readiness --workspace "$WS"
echo
echo "== convert"
"$BIN" convert --workspace "$WS"
echo
echo "== plan"
"$BIN" plan --workspace "$WS" --pilot-group "BMS Pilot" --wave-size 50 --keep-together department --start 2027-01-11
echo
echo "Everything above is in $WS (readiness.csv, intune/, plan.xlsx, ...)."
