//! The document subcommands of `invoices`: `pdf` (write an issued document's PDF),
//! `send` (drain the e-mail outbox over `SMTP_URL`) and `outbox` (where each e-mail
//! stands). Argument handling and printing only; the work is in `meridian_documents`.

use std::path::Path;

use anyhow::{Context, bail};
use meridian_billing::Period;
use meridian_billing::query;
use meridian_documents::{
    IssuedDocuments, Mailer, Outbox, OutboxFilter, OutboxStatus, RetryPolicy, render_pdf,
};
use serde_json::json;
use sqlx::PgPool;

use crate::billing_cli::print_json;

/// Writes the PDF of the document `number` to `output`, whole or not at all.
pub async fn pdf(pool: &PgPool, number: &str, output: &Path, json: bool) -> anyhow::Result<()> {
    let issued = query::get(pool, number).await?;
    let doc = meridian_documents::document(&issued)?;
    let bytes = tokio::task::spawn_blocking(move || render_pdf(&doc)).await??;
    let partial = output.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, output))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })
        .with_context(|| format!("writing {}", output.display()))?;
    if json {
        return print_json(
            &json!({"number": issued.row.number, "file": output, "bytes": bytes.len()}),
        );
    }
    println!(
        "{}: {} ({} bytes)",
        issued.row.number,
        output.display(),
        bytes.len()
    );
    Ok(())
}

/// Sends the outbox's e-mails: what is due now with `once`, else until Ctrl-C.
pub async fn send(pool: &PgPool, once: bool, json: bool) -> anyhow::Result<()> {
    let outbox = Outbox::new(
        pool.clone(),
        IssuedDocuments::new(pool.clone()),
        Mailer::from_env()?,
        RetryPolicy::default(),
    );
    if !once {
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        outbox.run(stop).await;
        return Ok(());
    }
    let drained = outbox.run_once().await?;
    if json {
        print_json(&drained)?;
    } else {
        println!("{} e-mails sent", drained.sent);
    }
    if drained.retrying + drained.failed > 0 {
        bail!(
            "{} e-mails not sent ({} will be retried, {} failed); see `meridian invoices outbox`",
            drained.retrying + drained.failed,
            drained.retrying,
            drained.failed
        );
    }
    Ok(())
}

/// Lists the outbox rows, oldest first.
pub async fn outbox(
    pool: &PgPool,
    status: Option<String>,
    entity: Option<String>,
    period: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let filter = OutboxFilter {
        status: status
            .map(|s| {
                OutboxStatus::parse(&s).with_context(|| {
                    format!("--status `{s}` is not one of pending, sending, sent, failed")
                })
            })
            .transpose()?,
        entity,
        period: period.as_deref().map(Period::parse).transpose()?,
    };
    let rows = meridian_documents::outbox_list(pool, &filter).await?;
    if json {
        return print_json(&rows);
    }
    for r in rows {
        let when = r
            .sent_at
            .unwrap_or(r.next_attempt_at)
            .format("%Y-%m-%d %H:%M");
        let about = match (&r.number, r.alert_id) {
            (Some(number), _) => number.clone(),
            (None, Some(alert)) => format!("budget alert {alert}"),
            (None, None) => String::new(),
        };
        println!(
            "{:<18} {:<8} {:>2} {} {} {}",
            about,
            r.status.as_str(),
            r.attempts,
            when,
            r.recipient.as_deref().unwrap_or("-"),
            r.last_error.as_deref().unwrap_or_default()
        );
    }
    Ok(())
}
