# E-mail sent with an invoice or credit note — ja-JP.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } より請求書 { $number } のお知らせ
email-subject-credit-note = { $entity } より返還請求書 { $number } のお知らせ
email-greeting = { $name } 御中
email-body-invoice = { $period } の請求書 { $number } を添付いたします。ご請求金額は { $total }、お支払期限は { $due } です。
email-body-credit-note = 請求書 { $invoice } を訂正する返還請求書 { $number } を添付いたします。返還金額は { $total } です。
email-closing = 今後ともよろしくお願いいたします。
email-footer = このメールは Meridian から自動送信されています。本書類に関するご質問は、このメールにご返信ください。
