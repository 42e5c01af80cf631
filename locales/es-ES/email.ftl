# E-mail sent with an invoice or credit note — es-ES.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Su factura { $number } de { $entity }
email-subject-credit-note = Su factura rectificativa { $number } de { $entity }
email-greeting = Hola, { $name }:
email-body-invoice = Adjuntamos la factura { $number } correspondiente a { $period }. El total de { $total } vence el { $due }.
email-body-credit-note = Adjuntamos la factura rectificativa { $number }, que corrige la factura { $invoice }. El importe abonado es { $total }.
email-closing = Atentamente,
email-footer = Meridian ha enviado este mensaje automáticamente. Si tiene alguna pregunta sobre este documento, responda a este correo.
