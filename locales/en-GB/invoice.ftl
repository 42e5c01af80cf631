# Invoices and credit notes — en-GB.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Invoice
title-tax-invoice = Tax Invoice
title-qualified-invoice = Qualified Invoice (適格請求書)
title-credit-note = Credit Note

## Invoice meta

meta-number = Number
meta-issue-date = Issue date
meta-period = Billing period
meta-period-range = { $start } – { $end }
meta-credited-invoice = Corrects invoice
meta-credited-invoice-value = { $number } of { $date }
meta-credit-reason = Reason
meta-exchange-rate = Exchange rate
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (ECB, { $date })

## Seller and buyer

party-buyer = Invoice to
label-tax-id-vat = VAT number
label-tax-id-jp = Registration number (登録番号)
label-tax-id-sg = GST Reg. No.
label-tax-id-kr = Business registration number (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Tax ID
label-phone = Phone
label-representative = Representative (대표자)
label-email = E-mail
label-state = State
label-state-value = { $name } (State code { $code })

## Line table

col-model = Model
col-provider-region = Provider / region
col-token-kind = Token kind
col-quantity = Quantity
col-unit-price = Unit price per 1M tokens
col-amount = Amount

## Token kinds

token-input = Input
token-cached-input = Cached input
token-cache-write = Cache write
token-cache-write-1h = Cache write (1 hour)
token-output = Output
token-reasoning = Reasoning
line-platform-fee = Platform fee
lines-subtotal-usd = Usage subtotal (USD)

## Tax summary

tax-heading = Tax summary
tax-col-tax = Tax
tax-col-rate = Rate
tax-col-net = Taxable amount
tax-col-amount = Tax amount
tax-vat = VAT
tax-vat-reverse-charge = VAT – reverse charge
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Consumption tax
tax-not-taxed = No tax

## Totals

total-net = Subtotal
total-tax = Tax
total-due = Total due
total-credited = Total credited
total-kr-supply-value = Supply value (공급가액)
total-kr-tax = Tax amount (세액)

## Payment

payment-heading = Payment
payment-due-date = Due date
payment-account-holder = Account holder
payment-bank = Bank
payment-account = Account / IBAN
payment-bic = BIC / SWIFT
payment-reference = Reference

## Legal notes

notes-heading = Notes
note-reverse-charge = Reverse charge: VAT is to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC).
note-jp-qualified = This is a qualified invoice; consumption tax is calculated once per tax rate.
note-in-sac = SAC: { $code } (online information and database access or retrieval services)
note-in-place-of-supply = Place of supply: { $state } ({ $code })
note-in-reverse-charge = Tax payable on reverse charge: { $answer }
note-yes = Yes
note-no = No
note-kr-customer-copy = This document is the recipient's copy; the statutory tax invoice (세금계산서) is issued electronically to the National Tax Service.
note-zero-markup = Unit prices are the providers' list prices; Meridian adds no markup and charges no platform fee.
signatory-for = For { $entity }
signatory-authorised = Authorised signatory
footer-page = Page { $page } of { $pages }
