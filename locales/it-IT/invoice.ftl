# Invoices and credit notes — it-IT.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Fattura
title-tax-invoice = Fattura fiscale
title-qualified-invoice = Fattura qualificata (適格請求書)
title-credit-note = Nota di credito

## Invoice meta

meta-number = Numero
meta-issue-date = Data di emissione
meta-period = Periodo di fatturazione
meta-period-range = { $start } – { $end }
meta-credited-invoice = Rettifica la fattura
meta-credited-invoice-value = { $number } del { $date }
meta-credit-reason = Motivo
meta-exchange-rate = Tasso di cambio
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (BCE, { $date })

## Seller and buyer

party-buyer = Intestatario
label-tax-id-vat = Partita IVA
label-tax-id-jp = Numero di registrazione (登録番号)
label-tax-id-sg = N. registrazione GST
label-tax-id-kr = Numero di registrazione d’impresa (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Codice fiscale
label-phone = Telefono
label-representative = Rappresentante (대표자)
label-email = E-mail
label-state = Stato
label-state-value = { $name } (codice { $code })

## Line table

col-model = Modello
col-provider-region = Fornitore / regione
col-token-kind = Tipo di token
col-quantity = Quantità
col-unit-price = Prezzo per 1 Mln di token
col-amount = Importo

## Token kinds

token-input = Input
token-cached-input = Input in cache
token-cache-write = Scrittura in cache
token-cache-write-1h = Scrittura in cache (1 ora)
token-output = Output
token-reasoning = Ragionamento
line-platform-fee = Commissione di piattaforma
lines-subtotal-usd = Subtotale utilizzo (USD)

## Tax summary

tax-heading = Riepilogo imposte
tax-col-tax = Imposta
tax-col-rate = Aliquota
tax-col-net = Imponibile
tax-col-amount = Imposta
tax-vat = IVA
tax-vat-reverse-charge = IVA – inversione contabile
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Imposta sui consumi
tax-not-taxed = Nessuna imposta

## Totals

total-net = Imponibile
total-tax = Imposta
total-due = Totale dovuto
total-credited = Totale accreditato
total-kr-supply-value = Valore della fornitura (공급가액)
total-kr-tax = Imposta (세액)

## Payment

payment-heading = Pagamento
payment-due-date = Scadenza
payment-account-holder = Intestatario del conto
payment-bank = Banca
payment-account = Conto / IBAN
payment-bic = BIC / SWIFT
payment-reference = Causale

## Legal notes

notes-heading = Note
note-reverse-charge = Inversione contabile: l’IVA è assolta dal destinatario (articolo 196 della direttiva 2006/112/CE).
note-jp-qualified = Questa è una fattura qualificata; l’imposta sui consumi è calcolata una volta per aliquota.
note-in-sac = SAC: { $code } (servizi di informazione online e di accesso a banche dati)
note-in-place-of-supply = Luogo della prestazione: { $state } ({ $code })
note-in-reverse-charge = Imposta dovuta in inversione contabile: { $answer }
note-yes = Sì
note-no = No
note-kr-customer-copy = Questo documento è la copia del destinatario; la fattura fiscale legale (세금계산서) è emessa elettronicamente presso il National Tax Service.
note-zero-markup = I prezzi unitari sono i prezzi di listino dei fornitori; Meridian non applica ricarichi né commissioni di piattaforma.
signatory-for = Per { $entity }
signatory-authorised = Firmatario autorizzato
footer-page = Pagina { $page } di { $pages }
