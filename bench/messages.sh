#!/usr/bin/env bash
# Added latency of `/v1/messages` passed through to Anthropic beside
# `/v1/chat/completions` passed through to OpenAI, in one run: the mock providers
# (`meridian mock-providers`, CPU 0, with wrk) answer both directly, then through
# `meridian serve` (CPU 1 alone); c=1 and c=32, non-streaming, the same
# conversation in each API's shape (bench/messages.lua).
#
#   bench/messages.sh                        # 10 s per cell
#   DURATION=5 CONCURRENCIES="1 32" bench/messages.sh
#
# Needs wrk, taskset and a Postgres (DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/meridian_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meridian-target}
DURATION=${DURATION:-10}
CONCURRENCIES=${CONCURRENCIES:-"1 32"}
MOCK=127.0.0.1:19100
GATEWAY=127.0.0.1:19180

cargo build --release --locked --bin meridian
BIN=$CARGO_TARGET_DIR/release/meridian
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/meridian_bench}
createdb -h 127.0.0.1 -U postgres meridian_bench 2>/dev/null || true
"$BIN" migrate >/dev/null
customer=$("$BIN" customers create --name "bench $(date +%s)" --entity US --currency USD --locale en-US --email bench@example.com --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$("$BIN" keys create --customer "$customer" --name bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

work=$(mktemp -d /tmp/meridian-messages-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
cat > "$work/meridian.toml" <<TOML
[[deployments]]
id = "bench-openai"
provider = "openai"
region = "local"
kind = "reserved"
base_url = "http://$MOCK/v1"
models = ["openai/gpt-4o-mini"]

[[deployments]]
id = "bench-anthropic"
provider = "anthropic"
region = "local"
kind = "reserved"
base_url = "http://$MOCK"
models = ["anthropic/claude-sonnet-4-5"]
TOML

taskset -c 0 "$BIN" mock-providers --listen "$MOCK" > "$work/mock.log" 2>&1 &
pids+=($!)
OPENAI_API_KEY=bench-upstream-key ANTHROPIC_API_KEY=bench-upstream-key \
  taskset -c 1 "$BIN" serve --config "$work/meridian.toml" --listen "$GATEWAY" --data-dir "$work" \
  > "$work/serve.log" 2>&1 &
pids+=($!)
for url in "http://$MOCK/healthz" "http://$GATEWAY/healthz"; do
  for _ in $(seq 100); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.1; done
done

run() { # target api host model key conc
  local out
  out=$(BENCH_API=$2 BENCH_MODEL=$4 BENCH_KEY=$5 taskset -c 0 \
    wrk -t1 -c"$6" -d"${DURATION}s" -s bench/messages.lua "http://$3" | grep '^RESULT')
  echo "$6 $1 $2 $out"
}
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
for conc in $CONCURRENCIES; do
  run direct chat "$MOCK" gpt-4o-mini bench-upstream-key "$conc"
  run meridian chat "$GATEWAY" openai/gpt-4o-mini "$key" "$conc"
  run direct messages "$MOCK" claude-sonnet-4-5 bench-upstream-key "$conc"
  run meridian messages "$GATEWAY" anthropic/claude-sonnet-4-5 "$key" "$conc"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
