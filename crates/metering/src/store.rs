//! Writing rollup deltas to Postgres together with the journal position they cover.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::journal::JournalPosition;
use crate::rollup::Rollups;

/// The journal position already folded into `usage_rollups` (the start when none).
pub async fn committed_position(pool: &PgPool, journal_id: Uuid) -> sqlx::Result<JournalPosition> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT segment, byte_offset FROM metering_cursors WHERE journal_id = $1")
            .bind(journal_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(
        JournalPosition {
            segment: 1,
            offset: 0,
        },
        |(segment, offset)| JournalPosition {
            segment: segment as u64,
            offset: offset as u64,
        },
    ))
}

/// Adds `rollups` to the stored rollups and moves the journal cursor from `from` to
/// `to`, in one transaction. Refuses (and writes nothing) when the stored cursor is not
/// at `from`, which would mean these events were already counted.
pub async fn commit(
    pool: &PgPool,
    journal_id: Uuid,
    from: JournalPosition,
    to: JournalPosition,
    rollups: &Rollups,
) -> Result<(), CommitError> {
    let mut tx = pool.begin().await?;
    let stored: Option<(i64, i64)> = sqlx::query_as(
        "SELECT segment, byte_offset FROM metering_cursors WHERE journal_id = $1 FOR UPDATE",
    )
    .bind(journal_id)
    .fetch_optional(&mut *tx)
    .await?;
    let stored = stored.map_or(
        JournalPosition {
            segment: 1,
            offset: 0,
        },
        |(s, o)| JournalPosition {
            segment: s as u64,
            offset: o as u64,
        },
    );
    if stored != from {
        return Err(CommitError::CursorMoved {
            expected: from,
            found: stored,
        });
    }
    upsert_rollups(&mut tx, rollups).await?;
    sqlx::query(
        "INSERT INTO metering_cursors (journal_id, segment, byte_offset) VALUES ($1, $2, $3)
         ON CONFLICT (journal_id) DO UPDATE SET segment = EXCLUDED.segment,
             byte_offset = EXCLUDED.byte_offset, updated_at = now()",
    )
    .bind(journal_id)
    .bind(to.segment as i64)
    .bind(to.offset as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds `rollups` to the stored rollups within the caller's transaction.
pub async fn upsert_rollups(tx: &mut PgConnection, rollups: &Rollups) -> sqlx::Result<()> {
    let rows: Vec<_> = rollups.iter().collect();
    for chunk in rows.chunks(2_000) {
        macro_rules! column {
            ($f:expr) => {
                chunk.iter().map($f).collect::<Vec<_>>()
            };
        }
        sqlx::query(
            "INSERT INTO usage_rollups AS r (customer_id, key_id, model, provider, deployment, region,
                 catalog_key, hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens,
                 cache_write_tokens, reasoning_tokens, cost, latency_us_sum, ttft_us_sum,
                 ttft_count, latency_hist, estimated_requests, cache_write_1h_tokens)
             SELECT c, k, m, p, d, g, ck, h, rq, er, pt, ct, cat, cwt, rt, co, ls, ts, tc, hi::bigint[], es, cw1
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $20::text[], $7::timestamptz[], $8::bigint[], $9::bigint[], $10::bigint[],
                         $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::numeric[],
                         $16::bigint[], $17::bigint[], $18::bigint[], $19::text[], $21::bigint[], $22::bigint[])
                  AS t(c, k, m, p, d, g, ck, h, rq, er, pt, ct, cat, cwt, rt, co, ls, ts, tc, hi, es, cw1)
             ON CONFLICT ON CONSTRAINT usage_rollups_key DO UPDATE SET
                 requests = r.requests + EXCLUDED.requests,
                 errors = r.errors + EXCLUDED.errors,
                 prompt_tokens = r.prompt_tokens + EXCLUDED.prompt_tokens,
                 completion_tokens = r.completion_tokens + EXCLUDED.completion_tokens,
                 cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens,
                 cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens,
                 cache_write_1h_tokens = r.cache_write_1h_tokens + EXCLUDED.cache_write_1h_tokens,
                 reasoning_tokens = r.reasoning_tokens + EXCLUDED.reasoning_tokens,
                 cost = r.cost + EXCLUDED.cost,
                 latency_us_sum = r.latency_us_sum + EXCLUDED.latency_us_sum,
                 ttft_us_sum = r.ttft_us_sum + EXCLUDED.ttft_us_sum,
                 ttft_count = r.ttft_count + EXCLUDED.ttft_count,
                 latency_hist = add_bigint_arrays(r.latency_hist, EXCLUDED.latency_hist),
                 estimated_requests = r.estimated_requests + EXCLUDED.estimated_requests",
        )
        .bind(column!(|(k, _)| k.customer_id.0))
        .bind(column!(|(k, _)| k.key_id.map(|id| id.0)))
        .bind(column!(|(k, _)| k.model.as_str()))
        .bind(column!(|(k, _)| k.provider.as_str()))
        .bind(column!(|(k, _)| k.deployment.as_str()))
        .bind(column!(|(k, _)| k.region.as_str()))
        .bind(column!(|(k, _)| k.hour))
        .bind(column!(|(_, d)| d.requests))
        .bind(column!(|(_, d)| d.errors))
        .bind(column!(|(_, d)| d.prompt_tokens))
        .bind(column!(|(_, d)| d.completion_tokens))
        .bind(column!(|(_, d)| d.cached_tokens))
        .bind(column!(|(_, d)| d.cache_write_tokens))
        .bind(column!(|(_, d)| d.reasoning_tokens))
        .bind(column!(|(_, d)| d.cost))
        .bind(column!(|(_, d)| d.latency_us_sum))
        .bind(column!(|(_, d)| d.ttft_us_sum))
        .bind(column!(|(_, d)| d.ttft_count))
        .bind(column!(|(_, d)| format!(
            "{{{}}}",
            d.latency_hist.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )))
        .bind(column!(|(k, _)| k.catalog_key.as_str()))
        .bind(column!(|(_, d)| d.estimated_requests))
        .bind(column!(|(_, d)| d.cache_write_1h_tokens))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("metering cursor moved: expected {expected:?}, found {found:?}")]
    CursorMoved {
        expected: JournalPosition,
        found: JournalPosition,
    },
}
