# Invoices and credit notes — fr-FR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = Facture
title-tax-invoice = Facture fiscale
title-qualified-invoice = Facture qualifiée (適格請求書)
title-credit-note = Avoir

## Invoice meta

meta-number = Numéro
meta-issue-date = Date d’émission
meta-period = Période de facturation
meta-period-range = { $start } – { $end }
meta-credited-invoice = Rectifie la facture
meta-credited-invoice-value = { $number } du { $date }
meta-credit-reason = Motif
meta-exchange-rate = Taux de change
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (BCE, { $date })

## Seller and buyer

party-buyer = Facturé à
label-tax-id-vat = N° de TVA
label-tax-id-jp = Numéro d’enregistrement (登録番号)
label-tax-id-sg = N° d’enregistrement GST
label-tax-id-kr = Numéro d’immatriculation (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = Identifiant fiscal
label-phone = Téléphone
label-representative = Représentant (대표자)
label-email = E-mail
label-state = État
label-state-value = { $name } (code { $code })

## Line table

col-model = Modèle
col-provider-region = Fournisseur / région
col-token-kind = Type de jeton
col-quantity = Quantité
col-unit-price = Prix pour 1 M de jetons
col-amount = Montant

## Token kinds

token-input = Entrée
token-cached-input = Entrée en cache
token-cache-write = Écriture en cache
token-cache-write-1h = Écriture en cache (1 heure)
token-output = Sortie
token-reasoning = Raisonnement
line-platform-fee = Frais de plateforme
lines-subtotal-usd = Sous-total d’utilisation (USD)

## Tax summary

tax-heading = Récapitulatif des taxes
tax-col-tax = Taxe
tax-col-rate = Taux
tax-col-net = Base imposable
tax-col-amount = Montant de la taxe
tax-vat = TVA
tax-vat-reverse-charge = TVA – autoliquidation
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = Taxe sur la consommation
tax-not-taxed = Non taxé

## Totals

total-net = Total HT
total-tax = TVA
total-due = Total TTC
total-credited = Total crédité
total-kr-supply-value = Valeur de la fourniture (공급가액)
total-kr-tax = Montant de la taxe (세액)

## Payment

payment-heading = Paiement
payment-due-date = Échéance
payment-account-holder = Titulaire du compte
payment-bank = Banque
payment-account = Compte / IBAN
payment-bic = BIC / SWIFT
payment-reference = Référence

## Legal notes

notes-heading = Mentions
note-reverse-charge = Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE).
note-jp-qualified = Ceci est une facture qualifiée ; la taxe sur la consommation est calculée une fois par taux.
note-in-sac = SAC : { $code } (services d’information en ligne et d’accès à des bases de données)
note-in-place-of-supply = Lieu de fourniture : { $state } ({ $code })
note-in-reverse-charge = Taxe due en autoliquidation : { $answer }
note-yes = Oui
note-no = Non
note-kr-customer-copy = Ce document est la copie du destinataire ; la facture fiscale légale (세금계산서) est émise électroniquement auprès du National Tax Service.
note-zero-markup = Les prix unitaires sont les prix catalogue des fournisseurs ; Meridian n’applique aucune marge ni frais de plateforme.
signatory-for = Pour { $entity }
signatory-authorised = Signataire autorisé
footer-page = Page { $page } sur { $pages }
