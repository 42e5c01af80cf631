# E-mail sent with an invoice or credit note — de-DE.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Ihre Rechnung { $number } von { $entity }
email-subject-credit-note = Ihre Gutschrift { $number } von { $entity }
email-greeting = Guten Tag { $name },
email-body-invoice = anbei erhalten Sie die Rechnung { $number } für { $period }. Der Gesamtbetrag von { $total } ist fällig am { $due }.
email-body-credit-note = anbei erhalten Sie die Gutschrift { $number } zur Rechnung { $invoice }. Gutgeschrieben werden { $total }.
email-closing = Mit freundlichen Grüßen
email-footer = Diese Nachricht wurde automatisch von Meridian versandt. Bei Fragen zu diesem Dokument antworten Sie einfach auf diese E-Mail.
