-- Streams cut short (the client left, or the provider broke the stream off) before
-- the provider reported usage are billed from counts made with the model's tokenizer;
-- each rollup says how many of its requests were counted so.
ALTER TABLE usage_rollups ADD COLUMN estimated_requests BIGINT NOT NULL DEFAULT 0;
