-- Two seeded demo tax ids failed their check digits: Singapore's UEN (ROC check letter
-- R, not K) and India's GSTIN (check character 3, not V). Only the seeded values are
-- replaced; an operator's own value is left alone.
UPDATE billing_entities SET tax_id = '201912345R' WHERE code = 'SG' AND tax_id = '201912345K';
UPDATE billing_entities SET tax_id = '29AAGCM1234P1Z3' WHERE code = 'IN' AND tax_id = '29AAGCM1234P1ZV';
