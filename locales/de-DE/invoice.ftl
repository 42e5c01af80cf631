# Invoices and credit notes — de-DE.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Rechnung
title-tax-invoice = Steuerrechnung
title-qualified-invoice = Qualifizierte Rechnung (適格請求書)
title-credit-note = Gutschrift

## Invoice meta

meta-number = Nummer
meta-issue-date = Rechnungsdatum
meta-period = Leistungszeitraum
meta-period-range = { $start } – { $end }
meta-credited-invoice = Korrigiert Rechnung
meta-credited-invoice-value = { $number } vom { $date }
meta-credit-reason = Grund
meta-exchange-rate = Wechselkurs
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (EZB, { $date })

## Seller and buyer

party-buyer = Rechnungsempfänger
label-tax-id-vat = USt-IdNr.
label-tax-id-jp = Registrierungsnummer (登録番号)
label-tax-id-sg = GST-Reg.-Nr.
label-tax-id-kr = Unternehmensregisternummer (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Steuernummer
label-phone = Telefon
label-representative = Vertreter (대표자)
label-email = E-Mail
label-state = Bundesstaat
label-state-value = { $name } (Code { $code })

## Line table

col-model = Modell
col-provider-region = Anbieter / Region
col-token-kind = Token-Art
col-quantity = Menge
col-unit-price = Preis pro 1 Mio. Token
col-amount = Betrag

## Token kinds

token-input = Eingabe
token-cached-input = Eingabe (Cache)
token-cache-write = Cache-Schreibvorgang
token-cache-write-1h = Cache-Schreibvorgang (1 Stunde)
token-output = Ausgabe
token-reasoning = Reasoning
line-platform-fee = Plattformgebühr
lines-subtotal-usd = Zwischensumme Nutzung (USD)

## Tax summary

tax-heading = Steuerübersicht
tax-col-tax = Steuer
tax-col-rate = Satz
tax-col-net = Bemessungsgrundlage
tax-col-amount = Steuerbetrag
tax-vat = USt.
tax-vat-reverse-charge = USt. – Steuerschuldnerschaft des Leistungsempfängers
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Verbrauchsteuer
tax-not-taxed = Keine Steuer

## Totals

total-net = Nettobetrag
total-tax = Steuer
total-due = Gesamtbetrag
total-credited = Gutgeschriebener Betrag
total-kr-supply-value = Lieferwert (공급가액)
total-kr-tax = Steuerbetrag (세액)

## Payment

payment-heading = Zahlung
payment-due-date = Fällig am
payment-account-holder = Kontoinhaber
payment-bank = Bank
payment-account = Konto / IBAN
payment-bic = BIC / SWIFT
payment-reference = Verwendungszweck

## Legal notes

notes-heading = Hinweise
note-reverse-charge = Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 der Richtlinie 2006/112/EG).
note-jp-qualified = Dies ist eine qualifizierte Rechnung; die Verbrauchsteuer wird einmal je Steuersatz berechnet.
note-in-sac = SAC: { $code } (Online-Informations- und Datenbankdienste)
note-in-place-of-supply = Leistungsort: { $state } ({ $code })
note-in-reverse-charge = Steuer im Reverse-Charge-Verfahren zahlbar: { $answer }
note-yes = Ja
note-no = Nein
note-kr-customer-copy = Dieses Dokument ist die Kopie des Empfängers; die gesetzliche Steuerrechnung (세금계산서) wird elektronisch beim National Tax Service ausgestellt.
note-zero-markup = Die Stückpreise sind die Listenpreise der Anbieter; Meridian erhebt keinen Aufschlag und keine Plattformgebühr.
signatory-for = Für { $entity }
signatory-authorised = Zeichnungsberechtigte Person
footer-page = Seite { $page } von { $pages }
