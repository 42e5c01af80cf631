# E-mail sent with an invoice or credit note — es-ES.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Su factura { $number } de { $entity }
email-subject-credit-note = Su factura rectificativa { $number } de { $entity }
email-greeting = Hola, { $name }:
email-body-invoice = Adjuntamos la factura { $number } correspondiente a { $period }. El total de { $total } vence el { $due }.
email-body-credit-note = Adjuntamos la factura rectificativa { $number }, que corrige la factura { $invoice }. El importe abonado es { $total }.
email-closing = Atentamente,
email-footer = Meridian ha enviado este mensaje automáticamente. Si tiene alguna pregunta sobre este documento, responda a este correo.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = Ha gastado el { $percent } de su presupuesto con { $entity }
email-budget-period-day = hoy
email-budget-period-month = este mes
email-body-budget-alert = Su gasto { $period } ha alcanzado { $spent }, el { $percent } de su presupuesto de { $amount }. Las solicitudes se siguen atendiendo.
email-body-budget-exhausted = Su gasto { $period } ha alcanzado { $spent }, la totalidad de su presupuesto de { $amount }. Las solicitudes se rechazan hasta que termine el periodo o se aumente el presupuesto.
email-footer-budget-alert = Meridian ha enviado este mensaje automáticamente porque su gasto ha superado un umbral de aviso de su presupuesto. Cambie el presupuesto o sus umbrales en el panel o con PUT /api/v1/budget.
