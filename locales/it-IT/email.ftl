# E-mail sent with an invoice or credit note — it-IT.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = La sua fattura { $number } da { $entity }
email-subject-credit-note = La sua nota di credito { $number } da { $entity }
email-greeting = Gentile { $name },
email-body-invoice = in allegato trova la fattura { $number } relativa a { $period }. Il totale di { $total } scade il { $due }.
email-body-credit-note = in allegato trova la nota di credito { $number }, che rettifica la fattura { $invoice }. L’importo accreditato è { $total }.
email-closing = Cordiali saluti,
email-footer = Questo messaggio è stato inviato automaticamente da Meridian. Per domande su questo documento, risponda a questa e-mail.
