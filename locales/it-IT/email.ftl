# E-mail sent with an invoice or credit note — it-IT.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = La sua fattura { $number } da { $entity }
email-subject-credit-note = La sua nota di credito { $number } da { $entity }
email-greeting = Gentile { $name },
email-body-invoice = in allegato trova la fattura { $number } relativa a { $period }. Il totale di { $total } scade il { $due }.
email-body-credit-note = in allegato trova la nota di credito { $number }, che rettifica la fattura { $invoice }. L’importo accreditato è { $total }.
email-closing = Cordiali saluti,
email-footer = Questo messaggio è stato inviato automaticamente da Meridian. Per domande su questo documento, risponda a questa e-mail.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = Ha speso il { $percent } del suo budget con { $entity }
email-budget-period-day = oggi
email-budget-period-month = questo mese
email-body-budget-alert = La sua spesa { $period } ha raggiunto { $spent }, il { $percent } del suo budget di { $amount }. Le richieste continuano a essere servite.
email-body-budget-exhausted = La sua spesa { $period } ha raggiunto { $spent }, l’intero budget di { $amount }. Le richieste vengono rifiutate fino alla fine del periodo o finché il budget non viene aumentato.
email-footer-budget-alert = Questo messaggio è stato inviato automaticamente da Meridian perché la sua spesa ha superato una soglia di avviso del budget. Modifichi il budget o le sue soglie nella dashboard o con PUT /api/v1/budget.
