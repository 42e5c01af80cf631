# E-mail sent with an invoice or credit note — zh-CN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 发票 { $number }
email-subject-credit-note = { $entity } 贷项通知单 { $number }
email-greeting = { $name }，您好：
email-body-invoice = 附件为 { $period } 的发票 { $number }。应付总额为 { $total }，付款期限为 { $due }。
email-body-credit-note = 附件为贷项通知单 { $number }，用于更正发票 { $invoice }。贷记金额为 { $total }。
email-closing = 此致敬礼
email-footer = 本邮件由 Meridian 自动发送。如对本文件有任何疑问，请直接回复此邮件。
