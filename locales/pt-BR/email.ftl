# E-mail sent with an invoice or credit note — pt-BR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Sua fatura { $number } de { $entity }
email-subject-credit-note = Sua nota de crédito { $number } de { $entity }
email-greeting = Olá, { $name },
email-body-invoice = Segue em anexo a fatura { $number } referente a { $period }. O total de { $total } vence em { $due }.
email-body-credit-note = Segue em anexo a nota de crédito { $number }, que corrige a fatura { $invoice }. O valor creditado é { $total }.
email-closing = Atenciosamente,
email-footer = Esta mensagem foi enviada automaticamente pela Meridian. Se tiver dúvidas sobre este documento, responda a este e-mail.
