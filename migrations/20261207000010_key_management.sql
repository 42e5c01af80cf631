-- Key management: a role, an expiry, per-key limits and a spend budget, and what a
-- rotation needs (the previous secret's hash, valid until its grace period ends).
-- Keys made before roles existed are `admin`; every insert names its role.

ALTER TABLE api_keys
    ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'inference')),
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN rpm INTEGER CHECK (rpm > 0),
    ADD COLUMN tpm BIGINT CHECK (tpm > 0),
    ADD COLUMN max_concurrency INTEGER CHECK (max_concurrency > 0),
    ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month')),
    ADD COLUMN previous_key_hash BYTEA UNIQUE,
    ADD COLUMN previous_key_expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ALTER COLUMN role DROP DEFAULT;

-- The budget amount is in the customer's currency. A budget set before periods
-- existed was meant per month.
ALTER TABLE api_keys RENAME COLUMN budget TO budget_amount;
UPDATE api_keys SET budget_period = 'month' WHERE budget_amount IS NOT NULL;
ALTER TABLE api_keys
    ADD CONSTRAINT api_keys_budget_whole CHECK ((budget_amount IS NULL) = (budget_period IS NULL)),
    ADD CONSTRAINT api_keys_budget_positive CHECK (budget_amount > 0),
    ADD CONSTRAINT api_keys_previous_whole
        CHECK ((previous_key_hash IS NULL) = (previous_key_expires_at IS NULL));

-- Lists page through a customer's keys in id order (ids are time-ordered UUIDv7).
DROP INDEX api_keys_customer;
CREATE INDEX api_keys_customer ON api_keys (customer_id, id);
