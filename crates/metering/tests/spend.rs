//! What a period already cost, read back after a restart: the committed rollups plus
//! the journal's events past the committed position, each event once, failures and
//! events before the period left out.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use meridian_core::{CustomerId, KeyId, RequestId, TokenUsage, UsageEvent};
use meridian_metering::{Journal, MeteringWorker, WorkerConfig, spend};
use rust_decimal::Decimal;

fn event(customer: CustomerId, key: KeyId, cost: i64, status: u16) -> UsageEvent {
    UsageEvent {
        request_id: RequestId::new(),
        customer_id: customer,
        key_id: Some(key),
        model: "openai/gpt-4o-mini".into(),
        provider: "openai".into(),
        deployment: "d".into(),
        region: "us".into(),
        catalog_key: "gpt-4o-mini".into(),
        time: Utc::now(),
        tokens: TokenUsage::default(),
        cost: Decimal::new(cost, 6),
        latency_us: 10,
        ttft_us: None,
        status,
        estimated: false,
    }
}

#[tokio::test]
async fn spend_is_the_rollups_plus_the_uncommitted_journal_each_event_once() {
    let pool = meridian_test_support::database::fresh().await.0;
    let customer = CustomerId::new();
    sqlx::query("INSERT INTO customers (id, name, entity_code, currency, locale, email) VALUES ($1, 's', 'US', 'USD', 'en-US', 's@example.com')")
        .bind(customer)
        .execute(&pool)
        .await
        .unwrap();
    let key = KeyId::new();
    let dir =
        std::env::temp_dir().join(format!("meridian-spend-{}", uuid::Uuid::now_v7().simple()));
    let journal = Arc::new(Journal::open(&dir).unwrap());
    let mut worker = MeteringWorker::new(journal.clone(), pool.clone(), WorkerConfig::default());

    journal.append(event(customer, key, 1, 200)).unwrap();
    journal.append(event(customer, key, 2, 200)).unwrap();
    worker.drain().await.unwrap();
    // Not committed yet: read from the journal.
    journal.append(event(customer, key, 4, 200)).unwrap();
    // A failure is not billed (its cost would be zero anyway).
    journal.append(event(customer, key, 8, 500)).unwrap();

    let total = |spent: &[spend::Spent]| -> Decimal { spent.iter().map(|s| s.cost).sum() };
    let since = Utc::now() - TimeDelta::hours(1);
    let spent = spend::since(&pool, &journal, since).await.unwrap();
    assert_eq!(total(&spent), Decimal::new(7, 6), "{spent:?}");
    assert!(
        spent
            .iter()
            .all(|s| s.key_id == Some(key) && s.customer_id == customer)
    );

    // Once committed, the same events count once, from the rollups.
    worker.drain().await.unwrap();
    let spent = spend::since(&pool, &journal, since).await.unwrap();
    assert_eq!(total(&spent), Decimal::new(7, 6));

    // Spend before `since` is left out.
    let later = Utc::now() + TimeDelta::hours(2);
    assert!(
        spend::since(&pool, &journal, later)
            .await
            .unwrap()
            .is_empty()
    );
}
