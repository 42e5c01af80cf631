# E-mail sent with an invoice or credit note — ko-KR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 청구서 { $number } 안내
email-subject-credit-note = { $entity } 수정 청구서 { $number } 안내
email-greeting = { $name } 담당자님, 안녕하세요.
email-body-invoice = { $period } 청구서 { $number }를 첨부해 드립니다. 합계 금액은 { $total }이며 결제 기한은 { $due }입니다.
email-body-credit-note = 청구서 { $invoice }를 수정하는 수정 청구서 { $number }를 첨부해 드립니다. 환급 금액은 { $total }입니다.
email-closing = 감사합니다.
email-footer = 이 메일은 Meridian에서 자동으로 발송되었습니다. 본 문서에 관한 문의는 이 메일에 회신해 주세요.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $entity } 예산의 { $percent }를 사용했습니다
email-budget-period-day = 오늘
email-budget-period-month = 이번 달
email-body-budget-alert = { $period } 사용 금액이 { $spent }에 도달했습니다. 예산 { $amount }의 { $percent }입니다. 요청은 계속 처리됩니다.
email-body-budget-exhausted = { $period } 사용 금액이 { $spent }에 도달하여 예산 { $amount }을 모두 사용했습니다. 기간이 끝나거나 예산이 늘어날 때까지 요청이 거부됩니다.
email-footer-budget-alert = 이 메일은 사용 금액이 예산의 알림 기준을 넘어 Meridian에서 자동으로 발송되었습니다. 예산과 알림 기준은 대시보드나 PUT /api/v1/budget으로 변경할 수 있습니다.
