# E-mail sent with an invoice or credit note — en-US.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Your invoice { $number } from { $entity }
email-subject-credit-note = Your credit note { $number } from { $entity }
email-greeting = Hello { $name },
email-body-invoice = Please find attached invoice { $number } for { $period }. The total is { $total }, due by { $due }.
email-body-credit-note = Please find attached credit note { $number }, which corrects invoice { $invoice }. The amount credited is { $total }.
email-closing = Kind regards,
email-footer = This message was sent automatically by Meridian. If you have a question about this document, reply to this e-mail.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $percent } of your budget with { $entity } is spent
email-budget-period-day = today
email-budget-period-month = this month
email-body-budget-alert = Your spend { $period } has reached { $spent }, { $percent } of your budget of { $amount }. Requests continue to be served.
email-body-budget-exhausted = Your spend { $period } has reached { $spent }, all of your budget of { $amount }. Requests are refused until the period ends or the budget is raised.
email-footer-budget-alert = This message was sent automatically by Meridian because your spend crossed an alert threshold of your budget. Change the budget or its thresholds on the dashboard or with PUT /api/v1/budget.
