//! A coding agent's session through `/v1/messages`, shaped as Claude Code sends it:
//! 18 tools with long descriptions and schemas (about 40 KB of JSON), a system prompt
//! and the tools marked for caching, ten streamed turns whose conversation grows with
//! every tool call and its result, the cache breakpoint moved to the newest message
//! each turn. Every stream's events arrive in Anthropic's order, each turn reads the
//! whole previous prompt back from the cache, and the deployment's
//! rollups hold exactly the usage the client was shown, token kind by token kind,
//! at the list price.

mod common;

use common::{TestEnv, sdk};
use meridian_core::TokenUsage;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::ProviderKind;
use rust_decimal::Decimal;
use serde_json::Value;

const MODEL: &str = "anthropic/claude-sonnet-4-5";
const TURNS: usize = 10;

const PROGRAM: &str = r#"
import json, os, anthropic
client = anthropic.Anthropic(base_url=os.environ["BASE"], api_key=os.environ["KEY"])
def tool(i):
    props = {f"arg_{j}": {"type": "string", "description": f"Argument {j} of tool {i}: " +
                          "what the agent passes, in the workspace's terms, and why. " * 6}
             for j in range(6)}
    return {"name": f"tool_{i}",
            "description": f"Tool {i} of the agent. " + "It reads, edits or runs something in the workspace. " * 12,
            "input_schema": {"type": "object", "properties": props, "required": ["arg_0"]}}
tools = [tool(i) for i in range(18)]
tools[-1]["cache_control"] = {"type": "ephemeral"}
system = [{"type": "text", "text": "You are a coding agent."},
          {"type": "text", "text": "Follow the repository's conventions and its tests. " * 200,
           "cache_control": {"type": "ephemeral"}}]
messages = [{"role": "user", "content": [{"type": "text", "text": "fix the failing test"}]}]
turns = []
for turn in range(int(os.environ["TURNS"])):
    events, blocks, usage = [], {}, {}
    with client.messages.with_streaming_response.create(
            model=os.environ["MODEL"], max_tokens=4096, stream=True, system=system, tools=tools,
            tool_choice={"type": "any"} if turn % 2 == 0 else {"type": "auto"},
            messages=messages) as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: "):]
                continue
            if not line.startswith("data: "):
                continue
            data = json.loads(line[len("data: "):])
            events.append([kind, data["type"], data.get("index")])
            if data["type"] == "message_start":
                usage.update(data["message"]["usage"])
            elif data["type"] == "message_delta":
                usage.update(data["usage"])
            elif data["type"] == "content_block_start":
                block = dict(data["content_block"])
                if block["type"] == "tool_use":
                    block["partial"] = ""
                blocks[data["index"]] = block
            elif data["type"] == "content_block_delta":
                delta, block = data["delta"], blocks[data["index"]]
                if delta["type"] == "text_delta":
                    block["text"] += delta["text"]
                elif delta["type"] == "input_json_delta":
                    block["partial"] += delta["partial_json"]
    content = []
    for index in sorted(blocks):
        block = blocks[index]
        if block["type"] == "tool_use":
            block["input"] = json.loads(block.pop("partial") or "{}")
        content.append(block)
    messages.append({"role": "assistant", "content": content})
    calls = [b for b in content if b["type"] == "tool_use"]
    reply = [{"type": "tool_result", "tool_use_id": b["id"], "content": "ok: " + "output line\n" * 40}
             for b in calls] or [{"type": "text", "text": "go on"}]
    for m in messages:
        for b in m["content"]:
            b.pop("cache_control", None)
    reply[-1]["cache_control"] = {"type": "ephemeral"}
    messages.append({"role": "user", "content": reply})
    turns.append({"events": events, "tools_called": len(calls),
                  "usage": [usage["input_tokens"], usage.get("cache_read_input_tokens") or 0,
                            usage.get("cache_creation_input_tokens") or 0, usage["output_tokens"]]})
print(json.dumps({"turns": turns, "request_bytes": len(json.dumps({"tools": tools, "system": system}))}))
"#;

/// Checks one stream's events against Anthropic's order: `message_start` first,
/// then content blocks each opened, given deltas and closed in index order, then
/// `message_delta`, then `message_stop` last; `ping` anywhere after the start. The
/// SSE `event:` name is the data's `type` every time.
fn assert_anthropic_order(turn: usize, events: &[Value]) {
    let kinds: Vec<(&str, &str, Option<u64>)> = events
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap(),
                e[1].as_str().unwrap(),
                e[2].as_u64(),
            )
        })
        .collect();
    for (event, data, _) in &kinds {
        assert_eq!(
            event, data,
            "turn {turn}: the event name is the data's type"
        );
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.0).filter(|k| *k != "ping").collect();
    assert_eq!(
        names.first(),
        Some(&"message_start"),
        "turn {turn}: {names:?}"
    );
    assert_eq!(
        names[names.len() - 2..],
        ["message_delta", "message_stop"],
        "turn {turn}: {names:?}"
    );
    let mut open: Option<u64> = None;
    let mut next_index = 0;
    for (name, _, index) in &kinds[1..] {
        match *name {
            "content_block_start" => {
                assert_eq!(open, None, "turn {turn}: a block opened inside another");
                assert_eq!(
                    *index,
                    Some(next_index),
                    "turn {turn}: blocks in index order"
                );
                open = *index;
            }
            "content_block_delta" => {
                assert_eq!(open, *index, "turn {turn}: a delta outside its block")
            }
            "content_block_stop" => {
                assert_eq!(open, *index, "turn {turn}: a stop outside its block");
                open = None;
                next_index += 1;
            }
            "message_delta" | "message_stop" => {
                assert_eq!(open, None, "turn {turn}: the message ended inside a block");
            }
            "ping" => {}
            other => panic!("turn {turn}: unexpected event {other}"),
        }
    }
    assert!(next_index >= 1, "turn {turn}: no content");
}

#[tokio::test]
async fn a_coding_agents_streamed_session_arrives_in_order_and_is_metered_to_the_token() {
    let deployments = |mock: &str| {
        format!(
            "[[deployments]]\nid = \"anthropic-test\"\nprovider = \"anthropic\"\nregion = \"eu-west\"\n\
             kind = \"on-demand\"\nbase_url = \"http://{mock}\"\nmodels = [\"{MODEL}\"]\n"
        )
    };
    let env = TestEnv::start_with_deployments(deployments, |_| {}).await;
    let turns = TURNS.to_string();
    let out = sdk::run_json(
        PROGRAM,
        &[
            ("BASE", &env.url("")),
            ("KEY", &env.key),
            ("MODEL", MODEL),
            ("TURNS", &turns),
        ],
    )
    .await;
    assert!(
        out["request_bytes"].as_u64().unwrap() > 30_000,
        "tools and system of an agent's size: {}",
        out["request_bytes"]
    );
    let turns = out["turns"].as_array().unwrap();
    assert_eq!(turns.len(), TURNS);
    let mut total = TokenUsage {
        cached: Some(0),
        cache_write: Some(0),
        ..Default::default()
    };
    let mut cached_before = 0;
    for (i, turn) in turns.iter().enumerate() {
        assert_anthropic_order(i, turn["events"].as_array().unwrap());
        let u: Vec<u64> = turn["usage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        if i == 0 {
            assert!(
                u[1] == 0 && u[2] > 1_000,
                "the first turn writes its prefix: {u:?}"
            );
        } else {
            assert_eq!(
                u[1], cached_before,
                "turn {i} reads the whole previous prompt back from the cache: {u:?}"
            );
        }
        cached_before = u[1] + u[2];
        if i % 2 == 0 {
            assert!(
                turn["tools_called"].as_u64().unwrap() >= 1,
                "turn {i} calls a tool"
            );
        }
        total.prompt += u[0] + u[1] + u[2];
        total.cached = Some(total.cached.unwrap() + u[1]);
        total.cache_write = Some(total.cache_write.unwrap() + u[2]);
        total.completion += u[3];
    }
    let catalog: PriceCatalog = meridian::BUNDLED_PRICES.parse().unwrap();
    let price = catalog
        .price_for(ProviderKind::Anthropic, "eu-west", "claude-sonnet-4-5")
        .unwrap();
    let want = (
        TURNS as i64,
        total.prompt as i64,
        total.completion as i64,
        total.cached.unwrap() as i64,
        total.cache_write.unwrap() as i64,
        price.cost(&total).normalize(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got: (i64, i64, i64, i64, i64, Decimal) = sqlx::query_as(
            "SELECT coalesce(sum(requests),0)::bigint, coalesce(sum(prompt_tokens),0)::bigint,
                    coalesce(sum(completion_tokens),0)::bigint, coalesce(sum(cached_tokens),0)::bigint,
                    coalesce(sum(cache_write_tokens),0)::bigint, coalesce(sum(cost),0)
             FROM usage_rollups WHERE customer_id = $1",
        )
        .bind(env.customer)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        let got = (got.0, got.1, got.2, got.3, got.4, got.5.normalize());
        if got == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rollups {got:?}, want {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
