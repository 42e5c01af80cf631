-- Payment details of each billing entity, printed on its invoices (and, for the EU
-- entity, the IBAN of the Factur-X payment means). They are part of the seller snapshot
-- billing copies onto every issued invoice, so an invoice re-renders with the details
-- it was issued with. Seeded with demo values that operators replace with
-- `meridian entities update CODE --bank B --account A [--bic X] [--payment-terms DAYS]`.
ALTER TABLE billing_entities
    ADD COLUMN bank_name          TEXT,
    ADD COLUMN bank_account       TEXT,
    ADD COLUMN bank_bic           TEXT,
    ADD COLUMN payment_terms_days INT NOT NULL DEFAULT 30
        CHECK (payment_terms_days BETWEEN 0 AND 365);

UPDATE billing_entities AS e
   SET bank_name = d.bank_name, bank_account = d.bank_account, bank_bic = d.bank_bic
  FROM (VALUES
    ('US', 'Demo Bank, N.A.', 'ABA 121000248 / 4100123456', 'DEMOUS33'),
    ('EU', 'Demo Bank Ireland', 'IE29AIBK93115212345678', 'AIBKIE2D'),
    ('UK', 'Demo Bank UK plc', 'GB33BUKB20201555555555', 'BUKBGB22'),
    ('JP', 'デモ銀行 丸の内支店', '普通 1234567', NULL),
    ('SG', 'Demo Bank Singapore', '123-456789-0', 'DEMOSGSG'),
    ('KR', '데모은행 강남지점', '123-456789-01-234', NULL),
    ('IN', 'Demo Bank, Bengaluru', '50200012345678 (IFSC DEMO0000001)', NULL),
    ('AU', 'Demo Bank Australia', 'BSB 062-000 / 12345678', NULL)
  ) AS d (code, bank_name, bank_account, bank_bic)
 WHERE e.code = d.code AND e.bank_name IS NULL;
