# Invoices and credit notes — pt-BR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Fatura
title-tax-invoice = Fatura fiscal
title-qualified-invoice = Fatura qualificada (適格請求書)
title-credit-note = Nota de crédito

## Invoice meta

meta-number = Número
meta-issue-date = Data de emissão
meta-period = Período de faturamento
meta-period-range = { $start } – { $end }
meta-credited-invoice = Corrige a fatura
meta-credited-invoice-value = { $number } de { $date }
meta-credit-reason = Motivo
meta-exchange-rate = Taxa de câmbio
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (BCE, { $date })

## Seller and buyer

party-buyer = Faturar para
label-tax-id-vat = Número de IVA
label-tax-id-jp = Número de registro (登録番号)
label-tax-id-sg = N.º de registro GST
label-tax-id-kr = Número de registro empresarial (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Identificação fiscal
label-phone = Telefone
label-representative = Representante (대표자)
label-email = E-mail
label-state = Estado
label-state-value = { $name } (código { $code })

## Line table

col-model = Modelo
col-provider-region = Provedor / região
col-token-kind = Tipo de token
col-quantity = Quantidade
col-unit-price = Preço por 1 mi de tokens
col-amount = Valor

## Token kinds

token-input = Entrada
token-cached-input = Entrada em cache
token-cache-write = Gravação em cache
token-cache-write-1h = Gravação em cache (1 hora)
token-output = Saída
token-reasoning = Raciocínio
line-platform-fee = Taxa de plataforma
lines-subtotal-usd = Subtotal de uso (USD)

## Tax summary

tax-heading = Resumo de impostos
tax-col-tax = Imposto
tax-col-rate = Alíquota
tax-col-net = Base de cálculo
tax-col-amount = Valor do imposto
tax-vat = IVA
tax-vat-reverse-charge = IVA – autoliquidação
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Imposto sobre o consumo
tax-not-taxed = Sem imposto

## Totals

total-net = Subtotal
total-tax = Impostos
total-due = Total a pagar
total-credited = Total creditado
total-kr-supply-value = Valor do fornecimento (공급가액)
total-kr-tax = Valor do imposto (세액)

## Payment

payment-heading = Pagamento
payment-due-date = Vencimento
payment-account-holder = Titular da conta
payment-bank = Banco
payment-account = Conta / IBAN
payment-bic = BIC / SWIFT
payment-reference = Referência

## Legal notes

notes-heading = Observações
note-reverse-charge = Autoliquidação: o IVA é devido pelo destinatário (artigo 196 da Diretiva 2006/112/CE).
note-jp-qualified = Esta é uma fatura qualificada; o imposto sobre o consumo é calculado uma vez por alíquota.
note-in-sac = SAC: { $code } (serviços de informação online e de acesso a bases de dados)
note-in-place-of-supply = Local de fornecimento: { $state } ({ $code })
note-in-reverse-charge = Imposto devido por autoliquidação: { $answer }
note-yes = Sim
note-no = Não
note-kr-customer-copy = Este documento é a via do destinatário; a fatura fiscal legal (세금계산서) é emitida eletronicamente junto ao National Tax Service.
note-zero-markup = Os preços unitários são os preços de tabela dos provedores; a Meridian não cobra margem nem taxa de plataforma.
signatory-for = Por { $entity }
signatory-authorised = Signatário autorizado
footer-page = Página { $page } de { $pages }
