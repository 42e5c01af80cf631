-- An invoice run started over REST (`POST /admin/v1/invoice-runs`): the same run as
-- `meridian invoices run`, of one entity or all, in the background, with its
-- progress. The entity runs it drives are `invoice_runs` rows. A job whose process
-- died stays 'running' with a heartbeat that no longer moves (shown as
-- 'interrupted'); starting another job resumes the run where it stopped.
CREATE TABLE invoice_run_jobs (
    id           UUID PRIMARY KEY,
    period       DATE NOT NULL,
    entity_code  TEXT REFERENCES billing_entities (code),
    status       TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    done         INT NOT NULL DEFAULT 0,
    total        INT NOT NULL DEFAULT 0,
    error        TEXT,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
