-- Foundation schema: billing entities, customers, API keys, the versioned price
-- catalog and hourly usage rollups. Amounts are NUMERIC, never floating point.

CREATE TABLE billing_entities (
    code           TEXT PRIMARY KEY,
    legal_name     TEXT NOT NULL,
    address        TEXT NOT NULL,
    country        TEXT NOT NULL,
    tax_id         TEXT,
    currency       TEXT NOT NULL,
    default_locale TEXT NOT NULL,
    time_zone      TEXT NOT NULL,
    number_prefix  TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    state          TEXT,
    phone          TEXT,
    representative TEXT
);

CREATE TABLE customers (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    entity_code TEXT NOT NULL REFERENCES billing_entities (code),
    currency    TEXT NOT NULL,
    locale      TEXT NOT NULL,
    email       TEXT NOT NULL,
    tax_id      TEXT,
    country     TEXT,
    state       TEXT,
    address     TEXT,
    residency   TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Keys are stored only as a SHA-256 hash; the gateway serves them from memory and
-- polls rows whose updated_at moved (see gateway::auth).
CREATE TABLE api_keys (
    id          UUID PRIMARY KEY,
    customer_id UUID NOT NULL REFERENCES customers (id),
    name        TEXT,
    key_hash    BYTEA NOT NULL UNIQUE,
    key_prefix  TEXT NOT NULL,
    budget      NUMERIC,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX api_keys_updated_at ON api_keys (updated_at);
CREATE INDEX api_keys_customer ON api_keys (customer_id);

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_touch BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- One row per catalog entry and price version. A new version is inserted only when
-- a price changed; rating picks the version in force when the usage happened.
CREATE TABLE model_prices (
    catalog_key           TEXT NOT NULL,
    effective_from        TIMESTAMPTZ NOT NULL,
    provider              TEXT NOT NULL,
    mode                  TEXT,
    input_per_token       NUMERIC,
    output_per_token      NUMERIC,
    cache_read_per_token  NUMERIC,
    cache_write_per_token NUMERIC,
    reasoning_per_token   NUMERIC,
    max_input_tokens      BIGINT,
    max_output_tokens     BIGINT,
    PRIMARY KEY (catalog_key, effective_from)
);

-- Hourly usage rollups written by the metering worker. Token kinds follow OpenAI's
-- usage object: cached and cache-write tokens are parts of prompt_tokens, reasoning
-- tokens a part of completion_tokens.
CREATE TABLE usage_rollups (
    customer_id        UUID NOT NULL REFERENCES customers (id),
    key_id             UUID,
    model              TEXT NOT NULL,
    provider           TEXT NOT NULL,
    deployment         TEXT NOT NULL,
    region             TEXT NOT NULL,
    -- the price-catalog entry the usage is rated at ('' when nothing was served)
    catalog_key        TEXT NOT NULL,
    hour               TIMESTAMPTZ NOT NULL,
    requests           BIGINT NOT NULL,
    errors             BIGINT NOT NULL,
    prompt_tokens      BIGINT NOT NULL,
    completion_tokens  BIGINT NOT NULL,
    cached_tokens      BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    reasoning_tokens   BIGINT NOT NULL,
    cost               NUMERIC NOT NULL,
    latency_us_sum     BIGINT NOT NULL,
    ttft_us_sum        BIGINT NOT NULL,
    ttft_count         BIGINT NOT NULL,
    -- counts per latency bucket; bounds in metering::histogram
    latency_hist       BIGINT[] NOT NULL,
    CONSTRAINT usage_rollups_key UNIQUE NULLS NOT DISTINCT
        (customer_id, key_id, model, provider, deployment, region, catalog_key, hour)
);
CREATE INDEX usage_rollups_customer_hour ON usage_rollups (customer_id, hour);

CREATE FUNCTION add_bigint_arrays(a BIGINT[], b BIGINT[]) RETURNS BIGINT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
    FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

-- How far each metering journal has been folded into usage_rollups. Written in the
-- same transaction as the rollups, so a replay after a crash counts nothing twice.
CREATE TABLE metering_cursors (
    journal_id  UUID PRIMARY KEY,
    segment     BIGINT NOT NULL,
    byte_offset BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
