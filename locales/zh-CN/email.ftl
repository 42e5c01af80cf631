# E-mail sent with an invoice or credit note — zh-CN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } 发票 { $number }
email-subject-credit-note = { $entity } 贷项通知单 { $number }
email-greeting = { $name }，您好：
email-body-invoice = 附件为 { $period } 的发票 { $number }。应付总额为 { $total }，付款期限为 { $due }。
email-body-credit-note = 附件为贷项通知单 { $number }，用于更正发票 { $invoice }。贷记金额为 { $total }。
email-closing = 此致敬礼
email-footer = 本邮件由 Meridian 自动发送。如对本文件有任何疑问，请直接回复此邮件。

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = 您在 { $entity } 的预算已使用 { $percent }
email-budget-period-day = 今日
email-budget-period-month = 本月
email-body-budget-alert = 您{ $period }的支出已达到 { $spent }，为预算 { $amount } 的 { $percent }。请求将继续正常处理。
email-body-budget-exhausted = 您{ $period }的支出已达到 { $spent }，预算 { $amount } 已全部用完。在本周期结束或预算提高之前，请求将被拒绝。
email-footer-budget-alert = 本邮件由 Meridian 自动发送，因为您的支出超过了预算的提醒阈值。您可以在控制台或通过 PUT /api/v1/budget 修改预算及其阈值。
