# E-mail sent with an invoice or credit note — ja-JP.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } より請求書 { $number } のお知らせ
email-subject-credit-note = { $entity } より返還請求書 { $number } のお知らせ
email-greeting = { $name } 御中
email-body-invoice = { $period } の請求書 { $number } を添付いたします。ご請求金額は { $total }、お支払期限は { $due } です。
email-body-credit-note = 請求書 { $invoice } を訂正する返還請求書 { $number } を添付いたします。返還金額は { $total } です。
email-closing = 今後ともよろしくお願いいたします。
email-footer = このメールは Meridian から自動送信されています。本書類に関するご質問は、このメールにご返信ください。

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $entity } のご予算の { $percent } を使用しました
email-budget-period-day = 本日
email-budget-period-month = 今月
email-body-budget-alert = { $period }のご利用額が { $spent } に達しました（ご予算 { $amount } の { $percent }）。リクエストは引き続き処理されます。
email-body-budget-exhausted = { $period }のご利用額が { $spent } に達し、ご予算 { $amount } をすべて使用しました。期間が終わるか予算が引き上げられるまで、リクエストはお断りします。
email-footer-budget-alert = このメールは、ご利用額がご予算の通知しきい値を超えたため Meridian から自動送信されています。予算やしきい値はダッシュボードまたは PUT /api/v1/budget で変更できます。
