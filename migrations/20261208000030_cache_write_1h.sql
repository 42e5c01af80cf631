-- Anthropic prices a prompt-cache write by its lifetime: 5 minutes (the default) or
-- 1 hour. `cache_write_tokens` stays every token written to a cache; the 1-hour part
-- of it is counted and priced apart.
ALTER TABLE model_prices ADD COLUMN cache_write_1h_per_token NUMERIC;
ALTER TABLE usage_rollups ADD COLUMN cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0;
