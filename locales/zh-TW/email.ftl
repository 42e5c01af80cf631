# E-mail sent with an invoice or credit note — zh-TW.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 發票 { $number }
email-subject-credit-note = { $entity } 折讓單 { $number }
email-greeting = { $name } 您好：
email-body-invoice = 附件為 { $period } 的發票 { $number }。應付總額為 { $total }，付款期限為 { $due }。
email-body-credit-note = 附件為折讓單 { $number }，用於更正發票 { $invoice }。折讓金額為 { $total }。
email-closing = 敬祝商祺
email-footer = 本郵件由 Meridian 自動寄送。若對本文件有任何疑問，請直接回覆此郵件。
