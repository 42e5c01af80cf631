-- The eight billing entities, seeded with demo legal details that operators replace
-- with `meridian entities update CODE ...`.
INSERT INTO billing_entities
    (code, legal_name, address, country, tax_id, currency, default_locale, time_zone, number_prefix, email, state, phone, representative)
VALUES
    ('US', 'Meridian AI, Inc.', E'500 Market Street\nSan Francisco, CA 94105\nUnited States', 'US', '12-3456789', 'USD', 'en-US', 'America/Los_Angeles', 'MUS', 'billing-us@meridian.example', 'US-CA', NULL, NULL),
    ('EU', 'Meridian AI Europe Limited', E'1 Grand Canal Square\nDublin 2, D02 P820\nIreland', 'IE', 'IE6388047V', 'EUR', 'en-GB', 'Europe/Dublin', 'MEU', 'billing-eu@meridian.example', NULL, NULL, NULL),
    ('UK', 'Meridian AI UK Ltd', E'10 Finsbury Square\nLondon EC2A 1AF\nUnited Kingdom', 'GB', 'GB980780684', 'GBP', 'en-GB', 'Europe/London', 'MUK', 'billing-uk@meridian.example', NULL, NULL, NULL),
    ('JP', 'メリディアンAI合同会社', E'〒100-0005\n東京都千代田区丸の内1-1-1', 'JP', 'T7000012050002', 'JPY', 'ja-JP', 'Asia/Tokyo', 'MJP', 'billing-jp@meridian.example', NULL, NULL, NULL),
    ('SG', 'Meridian AI Singapore Pte. Ltd.', E'1 Raffles Place\n#20-01\nSingapore 048616', 'SG', '201912345K', 'SGD', 'en-SG', 'Asia/Singapore', 'MSG', 'billing-sg@meridian.example', NULL, NULL, NULL),
    ('KR', '메리디안에이아이 유한회사', E'서울특별시 강남구 테헤란로 152\n06236', 'KR', '1208147521', 'KRW', 'ko-KR', 'Asia/Seoul', 'MKR', 'billing-kr@meridian.example', NULL, '+82-2-0000-0000', '김민준'),
    ('IN', 'Meridian AI India Private Limited', E'Prestige Tech Park, Outer Ring Road\nBengaluru, Karnataka 560103\nIndia', 'IN', '29AAGCM1234P1ZV', 'INR', 'en-IN', 'Asia/Kolkata', 'MIN', 'billing-in@meridian.example', 'IN-KA', NULL, NULL),
    ('AU', 'Meridian AI Australia Pty Ltd', E'1 Martin Place\nSydney NSW 2000\nAustralia', 'AU', '51824753556', 'AUD', 'en-AU', 'Australia/Sydney', 'MAU', 'billing-au@meridian.example', NULL, NULL, NULL)
ON CONFLICT (code) DO NOTHING;
