//! Issuing: numbering drafts and storing them, in one transaction per batch. The
//! number series row is locked (UPDATE … RETURNING) by that transaction, so a number
//! is used only by a commit: a crash or an error rolls the numbers back with the
//! documents, and no gap can appear. An invoice already issued for a customer and
//! period is skipped, so re-running issues nothing twice. Each document gets an
//! outbox row for rendering and e-mail in the same transaction.

use meridian_core::CustomerId;
use sqlx::{PgConnection, PgPool};

use crate::BillingError;
use crate::document::{DocumentKind, DocumentNumber, Draft, Issued};
use crate::period::fiscal_year;

/// Numbers and stores `drafts` (all of one entity, kind and issue date) in one
/// transaction; returns the documents issued. Invoices whose customer already has
/// one for the period are left out.
pub async fn issue(pool: &PgPool, drafts: Vec<Draft>) -> Result<Vec<Issued>, BillingError> {
    let Some(first) = drafts.first() else {
        return Ok(Vec::new());
    };
    let (entity, kind, issue_date) = (first.entity.clone(), first.kind, first.issue_date);
    if drafts
        .iter()
        .any(|d| d.entity.code != entity.code || d.kind != kind || d.issue_date != issue_date)
    {
        return Err(BillingError::Invalid(
            "one batch issues documents of one entity, kind and date".into(),
        ));
    }
    let year = fiscal_year(&entity.country, issue_date);
    let mut tx = pool.begin().await?;
    let last = lock_series(&mut tx, &entity.code, kind, year).await?;
    let drafts = match kind {
        DocumentKind::Invoice => not_yet_invoiced(&mut tx, drafts).await?,
        DocumentKind::CreditNote => drafts,
    };
    let mut issued = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.into_iter().enumerate() {
        let number = DocumentNumber::new(&entity, kind, year, last + 1 + i as i64)?;
        issued.push(draft.finalize(number));
    }
    if issued.is_empty() {
        return Ok(issued);
    }
    insert_documents(&mut tx, &issued).await?;
    insert_lines(&mut tx, &issued).await?;
    insert_taxes(&mut tx, &issued).await?;
    sqlx::query(
        "INSERT INTO document_outbox (invoice_id, topic)
         SELECT id, $2 FROM UNNEST($1::uuid[]) AS t(id)",
    )
    .bind(issued.iter().map(|d| d.id).collect::<Vec<_>>())
    .bind(format!("{}.issued", kind.as_str()))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE invoice_series SET last_seq = $4 WHERE entity_code = $1 AND kind = $2 AND fiscal_year = $3")
        .bind(&entity.code)
        .bind(kind.as_str())
        .bind(year)
        .bind(last + issued.len() as i64)
        .execute(&mut *tx)
        .await?;
    if let Some(run_id) = issued[0].draft.run_id {
        sqlx::query("UPDATE invoice_runs SET invoices_issued = invoices_issued + $2 WHERE id = $1")
            .bind(run_id)
            .bind(issued.len() as i32)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(issued)
}

/// Locks the series row until commit and returns its last number.
async fn lock_series(
    tx: &mut PgConnection,
    entity: &str,
    kind: DocumentKind,
    year: i32,
) -> Result<i64, BillingError> {
    sqlx::query(
        "INSERT INTO invoice_series (entity_code, kind, fiscal_year, last_seq) VALUES ($1, $2, $3, 0)
         ON CONFLICT DO NOTHING",
    )
    .bind(entity)
    .bind(kind.as_str())
    .bind(year)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT last_seq FROM invoice_series WHERE entity_code = $1 AND kind = $2 AND fiscal_year = $3 FOR UPDATE",
    )
    .bind(entity)
    .bind(kind.as_str())
    .bind(year)
    .fetch_one(&mut *tx)
    .await?)
}

async fn not_yet_invoiced(
    tx: &mut PgConnection,
    drafts: Vec<Draft>,
) -> Result<Vec<Draft>, BillingError> {
    let ids: Vec<CustomerId> = drafts.iter().map(|d| d.customer_id).collect();
    let periods: Vec<_> = drafts.iter().map(|d| d.period.first_day()).collect();
    let done: Vec<(CustomerId, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT i.customer_id, i.period FROM invoices i
         JOIN UNNEST($1::uuid[], $2::date[]) AS t(c, p) ON i.customer_id = t.c AND i.period = t.p
         WHERE i.kind = 'invoice'",
    )
    .bind(&ids)
    .bind(&periods)
    .fetch_all(&mut *tx)
    .await?;
    Ok(drafts
        .into_iter()
        .filter(|d| !done.contains(&(d.customer_id, d.period.first_day())))
        .collect())
}

async fn insert_documents(tx: &mut PgConnection, docs: &[Issued]) -> Result<(), BillingError> {
    macro_rules! col {
        ($f:expr) => {
            docs.iter().map($f).collect::<Vec<_>>()
        };
    }
    sqlx::query(
        "INSERT INTO invoices (id, number, kind, entity_code, fiscal_year, seq, customer_id, period,
             period_start, period_end, issue_date, run_id, credited_invoice_id, reason, currency,
             fx_rate, fx_date, locale, tax_treatment, tax_note, place_of_supply, subtotal_usd,
             subtotal, tax, total, seller, buyer)
         SELECT id, number, kind, entity, fy, seq, customer, period, ps, pe, issued, run, credited,
                reason, currency, fx, fx_date, locale, treatment, note, pos, sub_usd, sub, tax, total,
                seller::jsonb, buyer::jsonb
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
                     $7::uuid[], $8::date[], $9::timestamptz[], $10::timestamptz[], $11::date[],
                     $12::uuid[], $13::uuid[], $14::text[], $15::text[], $16::numeric[], $17::date[],
                     $18::text[], $19::text[], $20::text[], $21::text[], $22::numeric[],
                     $23::numeric[], $24::numeric[], $25::numeric[], $26::text[], $27::text[])
              AS t(id, number, kind, entity, fy, seq, customer, period, ps, pe, issued, run, credited,
                   reason, currency, fx, fx_date, locale, treatment, note, pos, sub_usd, sub, tax,
                   total, seller, buyer)",
    )
    .bind(col!(|d| d.id))
    .bind(col!(|d| d.number.text.clone()))
    .bind(col!(|d| d.draft.kind.as_str()))
    .bind(col!(|d| d.draft.entity.code.clone()))
    .bind(col!(|d| d.number.fiscal_year))
    .bind(col!(|d| d.number.seq))
    .bind(col!(|d| d.draft.customer_id))
    .bind(col!(|d| d.draft.period.first_day()))
    .bind(col!(|d| d.draft.period_start))
    .bind(col!(|d| d.draft.period_end))
    .bind(col!(|d| d.draft.issue_date))
    .bind(col!(|d| d.draft.run_id))
    .bind(col!(|d| d.draft.credits.as_ref().map(|c| c.id)))
    .bind(col!(|d| d.draft.credits.as_ref().map(|c| c.reason.clone())))
    .bind(col!(|d| d.draft.currency.code()))
    .bind(col!(|d| d.draft.fx.rate))
    .bind(col!(|d| d.draft.fx.date))
    .bind(col!(|d| d.draft.locale.clone()))
    .bind(col!(|d| d.draft.regime.treatment.as_str()))
    .bind(col!(|d| d.draft.regime.note.clone()))
    .bind(col!(|d| d.draft.regime.place_of_supply.clone()))
    .bind(col!(|d| d.draft.totals.subtotal_usd))
    .bind(col!(|d| d.draft.totals.subtotal))
    .bind(col!(|d| d.draft.totals.tax))
    .bind(col!(|d| d.draft.totals.total))
    .bind(col!(|d| d.draft.seller.to_string()))
    .bind(col!(|d| d.draft.buyer.to_string()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Lines go in with COPY: a run writes tens of lines per invoice.
async fn insert_lines(tx: &mut PgConnection, docs: &[Issued]) -> Result<(), BillingError> {
    let mut data = String::with_capacity(docs.len() * 4_096);
    for d in docs {
        let credits = d.draft.credits.as_ref().map(|c| c.id.to_string());
        for (i, l) in d.draft.lines.iter().enumerate() {
            let fields = [
                d.id.to_string(),
                (i + 1).to_string(),
                l.line.kind.as_str().to_string(),
                copy_text(&l.line.model),
                copy_text(&l.line.provider),
                copy_text(&l.line.region),
                copy_text(&l.line.catalog_key),
                l.line.price_version.map_or(NULL.into(), |v| v.to_rfc3339()),
                l.line.quantity.to_string(),
                l.line.unit_price.to_string(),
                l.line.unit_price_per_million().to_string(),
                l.line.amount().to_string(),
                l.tax_group.to_string(),
                credits.clone().unwrap_or_else(|| NULL.into()),
                l.credited_line_no.map_or(NULL.into(), |n| n.to_string()),
            ];
            data.push_str(&fields.join("\t"));
            data.push('\n');
        }
    }
    let mut copy = tx
        .copy_in_raw(
            "COPY invoice_lines (invoice_id, line_no, kind, model, provider, region, catalog_key,
                 price_version, quantity, unit_price, unit_price_per_million, amount_usd, tax_group,
                 credits_invoice_id, credited_line_no) FROM STDIN",
        )
        .await?;
    copy.send(data.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// COPY's text-format NULL.
const NULL: &str = "\\N";

/// A value in COPY's text format (backslash, tab and line breaks escaped).
fn copy_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

async fn insert_taxes(tx: &mut PgConnection, docs: &[Issued]) -> Result<(), BillingError> {
    let mut rows = Vec::new();
    for d in docs {
        let category = d.draft.regime.treatment.category();
        for g in &d.draft.totals.groups {
            for t in &g.taxes {
                rows.push((
                    d.id,
                    g.group as i32,
                    category,
                    t.code.as_str(),
                    t.rate,
                    g.taxable_usd,
                    g.taxable,
                    t.tax,
                ));
            }
        }
    }
    macro_rules! col {
        ($f:expr) => {
            rows.iter().map($f).collect::<Vec<_>>()
        };
    }
    sqlx::query(
        "INSERT INTO invoice_taxes (invoice_id, tax_group, category, tax_code, rate, taxable_usd, taxable, tax)
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::text[], $5::numeric[],
                              $6::numeric[], $7::numeric[], $8::numeric[])",
    )
    .bind(col!(|r| r.0))
    .bind(col!(|r| r.1))
    .bind(col!(|r| r.2))
    .bind(col!(|r| r.3))
    .bind(col!(|r| r.4))
    .bind(col!(|r| r.5))
    .bind(col!(|r| r.6))
    .bind(col!(|r| r.7))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
