-- The page layout each issued document is rendered with, fixed at issue: a re-render
-- stays byte-identical when a later Meridian lays new documents out better. Documents
-- issued before this migration keep layout 1 (header values wrapped at any space, the
-- country printed after the address even when the address ends with it); new ones get
-- layout 2 (dates never broken, the country once). A migration that adds a layout
-- moves this default.
ALTER TABLE invoices ADD COLUMN layout SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE invoices ALTER COLUMN layout SET DEFAULT 2;
