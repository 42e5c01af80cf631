# Invoices and credit notes — hi-IN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = बीजक
title-tax-invoice = कर बीजक (Tax Invoice)
title-qualified-invoice = योग्य बीजक (適格請求書)
title-credit-note = क्रेडिट नोट

## Invoice meta

meta-number = क्रमांक
meta-issue-date = जारी करने की तिथि
meta-period = बिलिंग अवधि
meta-period-range = { $start } – { $end }
meta-credited-invoice = संशोधित बीजक
meta-credited-invoice-value = { $number }, दिनांक { $date }
meta-credit-reason = कारण
meta-exchange-rate = विनिमय दर
meta-exchange-rate-value = 1 USD = { $rate } { $currency } (ECB, { $date })

## Seller and buyer

party-buyer = प्राप्तकर्ता
label-tax-id-vat = VAT संख्या
label-tax-id-jp = पंजीकरण संख्या (登録番号)
label-tax-id-sg = GST पंजीकरण संख्या
label-tax-id-kr = व्यवसाय पंजीकरण संख्या (사업자등록번호)
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = कर पहचान संख्या
label-phone = फ़ोन
label-representative = प्रतिनिधि (대표자)
label-email = ईमेल
label-state = राज्य
label-state-value = { $name } (राज्य कोड { $code })

## Line table

col-model = मॉडल
col-provider-region = प्रदाता / क्षेत्र
col-token-kind = टोकन प्रकार
col-quantity = मात्रा
col-unit-price = प्रति 10 लाख टोकन दर
col-amount = राशि

## Token kinds

token-input = इनपुट
token-cached-input = कैश्ड इनपुट
token-cache-write = कैश लेखन
token-cache-write-1h = कैश लेखन (1 घंटा)
token-output = आउटपुट
token-reasoning = तर्क
line-platform-fee = प्लेटफ़ॉर्म शुल्क
lines-subtotal-usd = उपयोग उप-योग (USD)

## Tax summary

tax-heading = कर सारांश
tax-col-tax = कर
tax-col-rate = दर
tax-col-net = कर योग्य मूल्य
tax-col-amount = कर राशि
tax-vat = VAT
tax-vat-reverse-charge = VAT – रिवर्स चार्ज
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = उपभोग कर
tax-not-taxed = कोई कर नहीं

## Totals

total-net = कर योग्य कुल
total-tax = कर
total-due = कुल देय राशि
total-credited = कुल क्रेडिट राशि
total-kr-supply-value = आपूर्ति मूल्य (공급가액)
total-kr-tax = कर राशि (세액)

## Payment

payment-heading = भुगतान
payment-due-date = देय तिथि
payment-account-holder = खाताधारक
payment-bank = बैंक
payment-account = खाता संख्या / IBAN
payment-bic = IFSC / SWIFT
payment-reference = संदर्भ

## Legal notes

notes-heading = टिप्पणियाँ
note-reverse-charge = रिवर्स चार्ज: VAT का भुगतान प्राप्तकर्ता द्वारा किया जाएगा (निर्देश 2006/112/EC, अनुच्छेद 196)।
note-jp-qualified = यह एक योग्य बीजक है; उपभोग कर प्रत्येक दर पर एक बार गणना किया गया है।
note-in-sac = SAC: { $code } (ऑनलाइन सूचना और डेटाबेस एक्सेस सेवाएँ)
note-in-place-of-supply = आपूर्ति का स्थान: { $state } ({ $code })
note-in-reverse-charge = रिवर्स चार्ज पर देय कर: { $answer }
note-yes = हाँ
note-no = नहीं
note-kr-customer-copy = यह दस्तावेज़ प्राप्तकर्ता की प्रति है; वैधानिक कर बीजक (세금계산서) राष्ट्रीय कर सेवा को इलेक्ट्रॉनिक रूप से जारी किया जाता है।
note-zero-markup = इकाई मूल्य प्रदाताओं के सूची मूल्य हैं; Meridian कोई मार्कअप या प्लेटफ़ॉर्म शुल्क नहीं लेता।
signatory-for = { $entity } के लिए
signatory-authorised = अधिकृत हस्ताक्षरकर्ता
footer-page = पृष्ठ { $page } / { $pages }
