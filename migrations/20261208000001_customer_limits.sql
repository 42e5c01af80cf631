-- Customer-wide limits and spend budget on `/v1/*`, over all of the customer's keys
-- (each key may have its own too). The budget amount is in the customer's currency;
-- `budget_alerts` are the percentages of it at which the customer is told.
ALTER TABLE customers
    ADD COLUMN rpm INTEGER CHECK (rpm > 0),
    ADD COLUMN tpm BIGINT CHECK (tpm > 0),
    ADD COLUMN max_concurrency INTEGER CHECK (max_concurrency > 0),
    ADD COLUMN budget_amount NUMERIC CHECK (budget_amount > 0),
    ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month')),
    ADD COLUMN budget_alerts INTEGER[] NOT NULL DEFAULT '{50,80,100}',
    ADD CONSTRAINT customers_budget_whole CHECK ((budget_amount IS NULL) = (budget_period IS NULL));
