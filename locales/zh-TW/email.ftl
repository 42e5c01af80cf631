# E-mail sent with an invoice or credit note — zh-TW.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 發票 { $number }
email-subject-credit-note = { $entity } 折讓單 { $number }
email-greeting = { $name } 您好：
email-body-invoice = 附件為 { $period } 的發票 { $number }。應付總額為 { $total }，付款期限為 { $due }。
email-body-credit-note = 附件為折讓單 { $number }，用於更正發票 { $invoice }。折讓金額為 { $total }。
email-closing = 敬祝商祺
email-footer = 本郵件由 Meridian 自動寄送。若對本文件有任何疑問，請直接回覆此郵件。

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = 您在 { $entity } 的預算已使用 { $percent }
email-budget-period-day = 今日
email-budget-period-month = 本月
email-body-budget-alert = 您{ $period }的支出已達 { $spent }，為預算 { $amount } 的 { $percent }。請求將繼續正常處理。
email-body-budget-exhausted = 您{ $period }的支出已達 { $spent }，預算 { $amount } 已全數用完。在本期間結束或預算提高之前，請求將被拒絕。
email-footer-budget-alert = 本郵件由 Meridian 自動寄送，因為您的支出超過了預算的提醒門檻。您可以在控制台或透過 PUT /api/v1/budget 修改預算及其門檻。
