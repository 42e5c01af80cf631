//! Progress of an invoice run: a progress bar when stderr is a terminal, structured
//! log lines (tracing) otherwise, or the row of the REST job that started it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::run_jobs::Tracker;

pub enum Progress {
    Bar(ProgressBar),
    Log,
    /// Counted on the job's row in `invoice_run_jobs` (`GET /admin/v1/invoice-runs/{id}`).
    Job(Tracker),
}

impl Progress {
    /// A bar on a terminal, logs elsewhere.
    pub fn for_stderr() -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:40}] {pos}/{len} invoices, {per_sec}, eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            Progress::Bar(bar)
        } else {
            Progress::Log
        }
    }

    pub(crate) async fn start(&self, entity: &str, period: &str, total: usize) {
        match self {
            Progress::Bar(bar) => {
                bar.reset();
                bar.set_prefix(format!("{entity} {period}"));
                bar.set_length(total as u64);
            }
            Progress::Log => {
                tracing::info!(entity, period, to_issue = total, "invoice run started")
            }
            Progress::Job(job) => job.start(total).await,
        }
    }

    pub(crate) async fn advance(&self, entity: &str, period: &str, done: usize, total: usize) {
        match self {
            Progress::Bar(bar) => bar.set_position(done as u64),
            Progress::Log => tracing::info!(
                entity,
                period,
                issued = done,
                to_issue = total,
                "invoice run progress"
            ),
            Progress::Job(job) => job.advance(done).await,
        }
    }

    pub(crate) async fn finish(&self, entity: &str, period: &str, issued: usize) {
        match self {
            Progress::Bar(bar) => bar.finish_and_clear(),
            Progress::Log | Progress::Job(_) => {
                tracing::info!(entity, period, issued, "invoice run completed")
            }
        }
    }
}
