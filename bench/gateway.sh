#!/usr/bin/env bash
# Gateway benchmark: Meridian beside nginx (plain reverse proxy) and LiteLLM, all in
# front of the same fake upstream, with ../shared/bench/peers (pinned: load generator
# and upstream on CPU 0, each gateway alone on CPU 1).
#
#   bench/gateway.sh                      # full run (about 7 minutes)
#   DURATION=5 CONCURRENCIES="1 32" DELAYS=0 bench/gateway.sh   # quick
#
# Needs the peers harness set up once (its setup.sh: nginx, wrk, a LiteLLM venv), a
# Postgres (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/meridian_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meridian-target}
export VENV=${VENV:-$HOME/.cache/peers-venv}
export BENCH_RUN_DIR=${BENCH_RUN_DIR:-/tmp/meridian-bench-run}
export RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
mkdir -p "$BENCH_RUN_DIR" "$RESULTS_DIR"

cargo build --release --locked --bin meridian
BIN=$CARGO_TARGET_DIR/release/meridian
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/meridian_bench}
"$BIN" migrate >/dev/null
customer=$("$BIN" customers create --name "bench $(date +%s)" --entity US --currency USD --locale en-US --email bench@example.com --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$("$BIN" keys create --customer "$customer" --name bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

work=$(mktemp -d /tmp/meridian-bench.XXXXXX)
cat > "$work/meridian.toml" <<TOML
[[deployments]]
id = "bench-upstream"
provider = "openai"
region = "local"
kind = "reserved"
base_url = "http://127.0.0.1:18080/v1"
models = ["openai/gpt-4o-mini"]
TOML

export OPENAI_API_KEY=bench-upstream-key
GATEWAY_CMD="$BIN serve --config $work/meridian.toml --listen 127.0.0.1:8080 --data-dir $work" \
GATEWAY_URL=http://127.0.0.1:8080 GATEWAY_KEY=$key GATEWAY_MODEL=openai/gpt-4o-mini GATEWAY_NAME=meridian \
  "$PEERS/compare.sh"
