# E-mail sent with an invoice or credit note — ko-KR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 청구서 { $number } 안내
email-subject-credit-note = { $entity } 수정 청구서 { $number } 안내
email-greeting = { $name } 담당자님, 안녕하세요.
email-body-invoice = { $period } 청구서 { $number }를 첨부해 드립니다. 합계 금액은 { $total }이며 결제 기한은 { $due }입니다.
email-body-credit-note = 청구서 { $invoice }를 수정하는 수정 청구서 { $number }를 첨부해 드립니다. 환급 금액은 { $total }입니다.
email-closing = 감사합니다.
email-footer = 이 메일은 Meridian에서 자동으로 발송되었습니다. 본 문서에 관한 문의는 이 메일에 회신해 주세요.
