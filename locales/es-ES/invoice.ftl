# Invoices and credit notes — es-ES.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Factura
title-tax-invoice = Factura fiscal
title-qualified-invoice = Factura cualificada (適格請求書)
title-credit-note = Factura rectificativa

## Invoice meta

meta-number = Número
meta-issue-date = Fecha de expedición
meta-period = Periodo de facturación
meta-period-range = { $start } – { $end }
meta-credited-invoice = Rectifica la factura
meta-credited-invoice-value = { $number } del { $date }
meta-credit-reason = Motivo
meta-exchange-rate = Tipo de cambio
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (BCE, { $date })

## Seller and buyer

party-buyer = Facturar a
label-tax-id-vat = NIF-IVA
label-tax-id-jp = Número de registro (登録番号)
label-tax-id-sg = N.º de registro GST
label-tax-id-kr = Número de registro empresarial (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Identificación fiscal
label-phone = Teléfono
label-representative = Representante (대표자)
label-email = Correo electrónico
label-state = Estado
label-state-value = { $name } (código { $code })

## Line table

col-model = Modelo
col-provider-region = Proveedor / región
col-token-kind = Tipo de token
col-quantity = Cantidad
col-unit-price = Precio por 1 M de tokens
col-amount = Importe

## Token kinds

token-input = Entrada
token-cached-input = Entrada en caché
token-cache-write = Escritura en caché
token-cache-write-1h = Escritura en caché (1 hora)
token-output = Salida
token-reasoning = Razonamiento
line-platform-fee = Comisión de plataforma
lines-subtotal-usd = Subtotal de uso (USD)

## Tax summary

tax-heading = Resumen de impuestos
tax-col-tax = Impuesto
tax-col-rate = Tipo
tax-col-net = Base imponible
tax-col-amount = Cuota
tax-vat = IVA
tax-vat-reverse-charge = IVA – inversión del sujeto pasivo
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Impuesto sobre el consumo
tax-not-taxed = Sin impuesto

## Totals

total-net = Base imponible total
total-tax = Impuestos
total-due = Total a pagar
total-credited = Total abonado
total-kr-supply-value = Valor del suministro (공급가액)
total-kr-tax = Cuota (세액)

## Payment

payment-heading = Pago
payment-due-date = Vencimiento
payment-account-holder = Titular de la cuenta
payment-bank = Banco
payment-account = Cuenta / IBAN
payment-bic = BIC / SWIFT
payment-reference = Referencia

## Legal notes

notes-heading = Observaciones
note-reverse-charge = Inversión del sujeto pasivo: el IVA lo declara el destinatario (artículo 196 de la Directiva 2006/112/CE).
note-jp-qualified = Esta es una factura cualificada; el impuesto sobre el consumo se calcula una vez por tipo.
note-in-sac = SAC: { $code } (servicios de información en línea y de acceso a bases de datos)
note-in-place-of-supply = Lugar de suministro: { $state } ({ $code })
note-in-reverse-charge = Impuesto pagadero por inversión del sujeto pasivo: { $answer }
note-yes = Sí
note-no = No
note-kr-customer-copy = Este documento es la copia del destinatario; la factura fiscal legal (세금계산서) se emite electrónicamente ante el National Tax Service.
note-zero-markup = Los precios unitarios son los precios de lista de los proveedores; Meridian no aplica margen ni comisión de plataforma.
signatory-for = Por { $entity }
signatory-authorised = Firmante autorizado
footer-page = Página { $page } de { $pages }
