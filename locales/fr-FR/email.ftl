# E-mail sent with an invoice or credit note — fr-FR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Votre facture { $number } de { $entity }
email-subject-credit-note = Votre avoir { $number } de { $entity }
email-greeting = Bonjour { $name },
email-body-invoice = Veuillez trouver ci-joint la facture { $number } pour { $period }. Le montant total de { $total } est payable au plus tard le { $due }.
email-body-credit-note = Veuillez trouver ci-joint l’avoir { $number }, qui rectifie la facture { $invoice }. Le montant crédité est de { $total }.
email-closing = Cordialement,
email-footer = Ce message a été envoyé automatiquement par Meridian. Pour toute question sur ce document, répondez à cet e-mail.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $percent } de votre budget chez { $entity } est dépensé
email-budget-period-day = aujourd’hui
email-budget-period-month = ce mois-ci
email-body-budget-alert = Vos dépenses { $period } atteignent { $spent }, soit { $percent } de votre budget de { $amount }. Les requêtes continuent d’être servies.
email-body-budget-exhausted = Vos dépenses { $period } atteignent { $spent }, soit la totalité de votre budget de { $amount }. Les requêtes sont refusées jusqu’à la fin de la période ou jusqu’à ce que le budget soit relevé.
email-footer-budget-alert = Ce message a été envoyé automatiquement par Meridian, car vos dépenses ont franchi un seuil d’alerte de votre budget. Modifiez le budget ou ses seuils dans le tableau de bord ou avec PUT /api/v1/budget.
