-- wrk script: POST the same short conversation as an OpenAI chat completion
-- (BENCH_API=chat, bearer) or as an Anthropic message (BENCH_API=messages,
-- x-api-key and anthropic-version), model BENCH_MODEL, key BENCH_KEY.
-- done() prints one machine-readable RESULT line.
local key = os.getenv("BENCH_KEY") or "sk-bench"
local model = os.getenv("BENCH_MODEL") or "gpt-4o-mini"
local api = os.getenv("BENCH_API") or "chat"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local messages = '[{"role":"user","content":"In two sentences, what does an LLM API gateway add to request latency?"}]'
if api == "messages" then
  wrk.path = "/v1/messages"
  wrk.headers["x-api-key"] = key
  wrk.headers["anthropic-version"] = "2023-06-01"
  wrk.body = '{"model":"' .. model .. '","system":"You are a helpful assistant.","messages":'
    .. messages .. ',"max_tokens":64,"temperature":0}'
else
  wrk.path = "/v1/chat/completions"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are a helpful assistant."},'
    .. messages:sub(2) .. ',"max_tokens":64,"temperature":0}'
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f requests=%d non2xx=%d sock_err=%d p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests / secs, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
