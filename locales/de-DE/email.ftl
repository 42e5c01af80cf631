# E-mail sent with an invoice or credit note — de-DE.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Ihre Rechnung { $number } von { $entity }
email-subject-credit-note = Ihre Gutschrift { $number } von { $entity }
email-greeting = Guten Tag { $name },
email-body-invoice = anbei erhalten Sie die Rechnung { $number } für { $period }. Der Gesamtbetrag von { $total } ist fällig am { $due }.
email-body-credit-note = anbei erhalten Sie die Gutschrift { $number } zur Rechnung { $invoice }. Gutgeschrieben werden { $total }.
email-closing = Mit freundlichen Grüßen
email-footer = Diese Nachricht wurde automatisch von Meridian versandt. Bei Fragen zu diesem Dokument antworten Sie einfach auf diese E-Mail.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $percent } Ihres Budgets bei { $entity } sind verbraucht
email-budget-period-day = heute
email-budget-period-month = in diesem Monat
email-body-budget-alert = Ihre Ausgaben { $period } haben { $spent } erreicht, { $percent } Ihres Budgets von { $amount }. Anfragen werden weiter bedient.
email-body-budget-exhausted = Ihre Ausgaben { $period } haben { $spent } erreicht, Ihr gesamtes Budget von { $amount }. Anfragen werden abgelehnt, bis der Zeitraum endet oder das Budget erhöht wird.
email-footer-budget-alert = Diese Nachricht wurde automatisch von Meridian versandt, weil Ihre Ausgaben eine Warnschwelle Ihres Budgets überschritten haben. Budget und Schwellen ändern Sie im Dashboard oder mit PUT /api/v1/budget.
