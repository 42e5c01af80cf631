-- Answers to POSTs sent with an `Idempotency-Key`, per caller, kept 24 hours (see
-- api::idempotency). Only 2xx answers are kept, and never a secret: a replayed key
-- creation answers without the key.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    -- SHA-256 of the method, path and body of the first request
    fingerprint  BYTEA NOT NULL,
    status       SMALLINT NOT NULL,
    body         JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (scope, created_at);
