-- Billing: tax rates as data, ECB reference rates, invoice runs, invoices and credit
-- notes (immutable once issued, numbered without gaps), the documents outbox, and the
-- "seen" markers of `meridian usage import`. Amounts are NUMERIC, never floating point.

-- Tax rates by jurisdiction and code, each in force from `valid_from` until the next
-- row of the same (country, tax_code). Which code applies to an invoice is decided in
-- crates/billing/src/taxes.rs; the rates themselves live here.
CREATE TABLE tax_rates (
    country    TEXT NOT NULL,
    tax_code   TEXT NOT NULL,
    rate       NUMERIC NOT NULL CHECK (rate >= 0 AND rate < 1),
    valid_from DATE NOT NULL,
    PRIMARY KEY (country, tax_code, valid_from)
);

INSERT INTO tax_rates (country, tax_code, rate, valid_from) VALUES
    -- EU standard VAT rates (place of supply: the customer's Member State)
    ('AT', 'VAT', 0.20, '2016-01-01'), ('BE', 'VAT', 0.21, '1996-01-01'),
    ('BG', 'VAT', 0.20, '1999-01-01'), ('HR', 'VAT', 0.25, '2012-03-01'),
    ('CY', 'VAT', 0.19, '2014-01-13'), ('CZ', 'VAT', 0.21, '2013-01-01'),
    ('DK', 'VAT', 0.25, '1992-01-01'),
    ('EE', 'VAT', 0.20, '2009-07-01'), ('EE', 'VAT', 0.22, '2024-01-01'), ('EE', 'VAT', 0.24, '2025-07-01'),
    ('FI', 'VAT', 0.24, '2013-01-01'), ('FI', 'VAT', 0.255, '2024-09-01'),
    ('FR', 'VAT', 0.20, '2014-01-01'), ('DE', 'VAT', 0.19, '2021-01-01'),
    ('GR', 'VAT', 0.24, '2016-06-01'), ('HU', 'VAT', 0.27, '2012-01-01'),
    ('IE', 'VAT', 0.23, '2021-03-01'), ('IT', 'VAT', 0.22, '2013-10-01'),
    ('LV', 'VAT', 0.21, '2011-01-01'), ('LT', 'VAT', 0.21, '2009-09-01'),
    ('LU', 'VAT', 0.16, '2023-01-01'), ('LU', 'VAT', 0.17, '2024-01-01'),
    ('MT', 'VAT', 0.18, '2004-01-01'), ('NL', 'VAT', 0.21, '2012-10-01'),
    ('PL', 'VAT', 0.23, '2011-01-01'), ('PT', 'VAT', 0.23, '2011-01-01'),
    ('RO', 'VAT', 0.19, '2017-01-01'), ('RO', 'VAT', 0.21, '2025-08-01'),
    ('SK', 'VAT', 0.20, '2011-01-01'), ('SK', 'VAT', 0.23, '2025-01-01'),
    ('SI', 'VAT', 0.22, '2013-07-01'), ('ES', 'VAT', 0.21, '2012-09-01'),
    ('SE', 'VAT', 0.25, '1990-07-01'),
    -- United Kingdom, Japan (consumption tax), Singapore, Korea, Australia
    ('GB', 'VAT', 0.20, '2011-01-04'),
    ('JP', 'JCT', 0.10, '2019-10-01'),
    ('SG', 'GST', 0.08, '2023-01-01'), ('SG', 'GST', 0.09, '2024-01-01'),
    ('KR', 'VAT', 0.10, '1977-07-01'),
    ('AU', 'GST', 0.10, '2000-07-01'),
    -- India: IGST between States, CGST + SGST within one (SAC 998315)
    ('IN', 'IGST', 0.18, '2017-07-01'),
    ('IN', 'CGST', 0.09, '2017-07-01'),
    ('IN', 'SGST', 0.09, '2017-07-01');

-- ECB euro foreign exchange reference rates: units of `currency` per 1 EUR.
CREATE TABLE fx_rates (
    currency    TEXT NOT NULL,
    rate_date   DATE NOT NULL,
    per_eur     NUMERIC NOT NULL CHECK (per_eur > 0),
    imported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (currency, rate_date)
);

-- One row per (entity, period) batch; resumed runs reuse it and its issue date.
CREATE TABLE invoice_runs (
    id              UUID PRIMARY KEY,
    entity_code     TEXT NOT NULL REFERENCES billing_entities (code),
    period          DATE NOT NULL,
    issue_date      DATE NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'completed')),
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    attempts        INT NOT NULL DEFAULT 1,
    invoices_issued INT NOT NULL DEFAULT 0,
    UNIQUE (entity_code, period)
);

-- Gap-free number series per entity, kind and fiscal year. The row is locked (FOR
-- UPDATE) by the transaction that issues, so a number is taken only by a commit.
CREATE TABLE invoice_series (
    entity_code TEXT NOT NULL REFERENCES billing_entities (code),
    kind        TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    fiscal_year INT NOT NULL,
    last_seq    BIGINT NOT NULL,
    PRIMARY KEY (entity_code, kind, fiscal_year)
);

-- Issued invoices and credit notes. There are no drafts in the database: a row is
-- written once, fully, when it is issued, and never changed (see the triggers below).
-- Credit notes carry negative amounts. What was billed is snapshotted: seller and
-- buyer details, locale, FX rate and date, tax rates, unit prices.
CREATE TABLE invoices (
    id                  UUID PRIMARY KEY,
    number              TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    entity_code         TEXT NOT NULL REFERENCES billing_entities (code),
    fiscal_year         INT NOT NULL,
    seq                 BIGINT NOT NULL,
    customer_id         UUID NOT NULL REFERENCES customers (id),
    period              DATE NOT NULL,
    period_start        TIMESTAMPTZ NOT NULL,
    period_end          TIMESTAMPTZ NOT NULL,
    issue_date          DATE NOT NULL,
    run_id              UUID REFERENCES invoice_runs (id),
    credited_invoice_id UUID REFERENCES invoices (id),
    reason              TEXT,
    currency            TEXT NOT NULL,
    fx_rate             NUMERIC NOT NULL CHECK (fx_rate > 0),
    fx_date             DATE,
    locale              TEXT NOT NULL,
    tax_treatment       TEXT NOT NULL,
    tax_note            TEXT,
    place_of_supply     TEXT,
    subtotal_usd        NUMERIC NOT NULL,
    subtotal            NUMERIC NOT NULL,
    tax                 NUMERIC NOT NULL,
    total               NUMERIC NOT NULL,
    seller              JSONB NOT NULL,
    buyer               JSONB NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (entity_code, kind, fiscal_year, seq),
    CHECK (total = subtotal + tax),
    CHECK ((kind = 'credit_note') = (credited_invoice_id IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_one_per_customer_period ON invoices (customer_id, period)
    WHERE kind = 'invoice';
CREATE INDEX invoices_entity_period ON invoices (entity_code, period);

-- Lines: one per (model, provider, region, price version, token kind), plus the
-- platform fee of 0. Amounts are exact USD; unit_price is the catalog list price.
CREATE TABLE invoice_lines (
    invoice_id             UUID NOT NULL REFERENCES invoices (id),
    line_no                INT NOT NULL,
    kind                   TEXT NOT NULL,
    model                  TEXT NOT NULL,
    provider               TEXT NOT NULL,
    region                 TEXT NOT NULL,
    catalog_key            TEXT NOT NULL,
    price_version          TIMESTAMPTZ,
    quantity               BIGINT NOT NULL,
    unit_price             NUMERIC NOT NULL CHECK (unit_price >= 0),
    unit_price_per_million NUMERIC NOT NULL,
    amount_usd             NUMERIC NOT NULL,
    tax_group              INT NOT NULL,
    credits_invoice_id     UUID REFERENCES invoices (id),
    credited_line_no       INT,
    PRIMARY KEY (invoice_id, line_no),
    CHECK (amount_usd = quantity * unit_price),
    CHECK (unit_price_per_million = unit_price * 1000000)
);
CREATE UNIQUE INDEX invoice_lines_credited_once ON invoice_lines (credits_invoice_id, credited_line_no)
    WHERE credited_line_no IS NOT NULL;

-- The tax summary: per tax group (one taxable base, rounded once in the invoice
-- currency) and per component of it (India's CGST + SGST share one base).
CREATE TABLE invoice_taxes (
    invoice_id  UUID NOT NULL REFERENCES invoices (id),
    tax_group   INT NOT NULL,
    category    TEXT NOT NULL,
    tax_code    TEXT NOT NULL,
    rate        NUMERIC NOT NULL,
    taxable_usd NUMERIC NOT NULL,
    taxable     NUMERIC NOT NULL,
    tax         NUMERIC NOT NULL,
    PRIMARY KEY (invoice_id, tax_group, tax_code)
);

CREATE FUNCTION refuse_change_of_issued_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued invoices are immutable (% on %); issue a credit note instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE TRIGGER invoice_taxes_immutable BEFORE UPDATE OR DELETE ON invoice_taxes
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE TRIGGER invoice_taxes_no_truncate BEFORE TRUNCATE ON invoice_taxes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_issued_invoice();

-- Transactional outbox: one row per issued document, written in the issuing
-- transaction; the documents worker renders, e-mails and marks it processed.
CREATE TABLE document_outbox (
    id           BIGSERIAL PRIMARY KEY,
    invoice_id   UUID NOT NULL UNIQUE REFERENCES invoices (id),
    topic        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ,
    attempts     INT NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX document_outbox_pending ON document_outbox (id) WHERE processed_at IS NULL;

-- `meridian usage import`: request ids already folded into usage_rollups, written in
-- the same transaction as the rollups.
CREATE TABLE usage_import_seen (
    request_id  TEXT PRIMARY KEY,
    imported_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
