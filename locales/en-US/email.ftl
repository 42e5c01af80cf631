# E-mail sent with an invoice or credit note — en-US.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Your invoice { $number } from { $entity }
email-subject-credit-note = Your credit note { $number } from { $entity }
email-greeting = Hello { $name },
email-body-invoice = Please find attached invoice { $number } for { $period }. The total is { $total }, due by { $due }.
email-body-credit-note = Please find attached credit note { $number }, which corrects invoice { $invoice }. The amount credited is { $total }.
email-closing = Kind regards,
email-footer = This message was sent automatically by Meridian. If you have a question about this document, reply to this e-mail.
