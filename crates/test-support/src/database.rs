//! A fresh, migrated database per test on the suite's Postgres, provisioned as
//! `meridian demo` does. Names start with `meridian_t_`, which `scripts/test` drops at
//! the start of the next run.

use meridian_core::db;
use sqlx::PgPool;

/// Creates and migrates a new database; returns its pool and URL.
pub async fn fresh() -> (PgPool, String) {
    let home = std::env::temp_dir().join("meridian-test-pg");
    let base = db::provision(&db::configured_url(), &home)
        .await
        .expect("a Postgres for the tests");
    let name = format!("meridian_t_{}", uuid::Uuid::now_v7().simple());
    let url = format!(
        "{}/{name}",
        &base[..base.rfind('/').expect("a database URL")]
    );
    db::create_database(&url)
        .await
        .expect("create test database");
    let pool = db::connect_and_migrate(&url)
        .await
        .expect("migrate test database");
    (pool, url)
}
