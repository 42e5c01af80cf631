# E-mail sent with an invoice or credit note — pt-BR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = Sua fatura { $number } de { $entity }
email-subject-credit-note = Sua nota de crédito { $number } de { $entity }
email-greeting = Olá, { $name },
email-body-invoice = Segue em anexo a fatura { $number } referente a { $period }. O total de { $total } vence em { $due }.
email-body-credit-note = Segue em anexo a nota de crédito { $number }, que corrige a fatura { $invoice }. O valor creditado é { $total }.
email-closing = Atenciosamente,
email-footer = Esta mensagem foi enviada automaticamente pela Meridian. Se tiver dúvidas sobre este documento, responda a este e-mail.

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = Você gastou { $percent } do seu orçamento com a { $entity }
email-budget-period-day = hoje
email-budget-period-month = este mês
email-body-budget-alert = Seu gasto { $period } chegou a { $spent }, { $percent } do seu orçamento de { $amount }. As solicitações continuam sendo atendidas.
email-body-budget-exhausted = Seu gasto { $period } chegou a { $spent }, todo o seu orçamento de { $amount }. As solicitações são recusadas até o fim do período ou até o orçamento ser aumentado.
email-footer-budget-alert = Esta mensagem foi enviada automaticamente pela Meridian porque seu gasto ultrapassou um limite de alerta do seu orçamento. Altere o orçamento ou os limites no painel ou com PUT /api/v1/budget.
