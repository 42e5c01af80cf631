-- Documents: the e-mail sender's state on billing's transactional outbox. Billing writes
-- one row per issued invoice or credit note in the issuing transaction; the documents
-- worker renders the PDF and mails it. Delivery protocol (crates/documents/src/outbox.rs):
--   1. claim: one committed UPDATE sets status 'sending', counts the attempt, leases the
--      row and records its Message-ID (deterministic: invoice id + row id) before any
--      byte goes to SMTP;
--   2. send with that Message-ID;
--   3. mark 'sent' (and processed_at) once the server accepted the message, or put the
--      row back to 'pending' with a backoff (transient failure) or 'failed' (permanent
--      refusal), keeping the attempt count and the last error, never message content.
-- A worker that dies between 2 and 3 leaves a 'sending' row whose lease runs out; it is
-- sent again with the same Message-ID, the one case of a possible duplicate, which
-- receiving systems recognise by that id.
ALTER TABLE document_outbox
    ADD COLUMN status          TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN locked_until    TIMESTAMPTZ,
    ADD COLUMN message_id      TEXT UNIQUE,
    ADD COLUMN recipient       TEXT,
    ADD COLUMN sent_at         TIMESTAMPTZ;

UPDATE document_outbox SET status = 'sent', sent_at = processed_at WHERE processed_at IS NOT NULL;

CREATE INDEX document_outbox_due ON document_outbox (next_attempt_at)
    WHERE status IN ('pending', 'sending');
