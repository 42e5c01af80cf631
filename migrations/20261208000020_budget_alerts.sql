-- Budget alerts: one row per customer, budget period and threshold crossed, written the
-- first time the customer's spend in that period reaches the threshold's share of the
-- customer-wide budget (the gateway's watcher, src/budget_alerts.rs). The unique key
-- makes "once per threshold and period" hold across restarts and gateway processes.
-- Each row gets its e-mail through the documents outbox, in the same transaction.
CREATE TABLE budget_alerts (
    id            BIGSERIAL PRIMARY KEY,
    customer_id   UUID NOT NULL REFERENCES customers (id),
    period        TEXT NOT NULL CHECK (period IN ('day', 'month')),
    period_start  TIMESTAMPTZ NOT NULL,
    threshold     INTEGER NOT NULL CHECK (threshold BETWEEN 1 AND 100),
    -- the budget and the spend when the threshold was crossed, in `currency`
    budget_amount NUMERIC NOT NULL,
    spent         NUMERIC NOT NULL,
    currency      TEXT NOT NULL,
    crossed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (customer_id, period_start, threshold)
);

-- The outbox now carries two kinds of e-mail: an issued document's (invoice_id) and a
-- budget alert's (alert_id); each row has exactly one.
ALTER TABLE document_outbox
    ALTER COLUMN invoice_id DROP NOT NULL,
    ADD COLUMN alert_id BIGINT UNIQUE REFERENCES budget_alerts (id),
    ADD CONSTRAINT document_outbox_one_subject CHECK ((invoice_id IS NULL) <> (alert_id IS NULL));
