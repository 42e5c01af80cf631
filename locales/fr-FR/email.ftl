# E-mail sent with an invoice or credit note — fr-FR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Votre facture { $number } de { $entity }
email-subject-credit-note = Votre avoir { $number } de { $entity }
email-greeting = Bonjour { $name },
email-body-invoice = Veuillez trouver ci-joint la facture { $number } pour { $period }. Le montant total de { $total } est payable au plus tard le { $due }.
email-body-credit-note = Veuillez trouver ci-joint l’avoir { $number }, qui rectifie la facture { $invoice }. Le montant crédité est de { $total }.
email-closing = Cordialement,
email-footer = Ce message a été envoyé automatiquement par Meridian. Pour toute question sur ce document, répondez à cet e-mail.
