# E-mail sent with an invoice or credit note — hi-IN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } की ओर से आपका बीजक { $number }
email-subject-credit-note = { $entity } की ओर से आपका क्रेडिट नोट { $number }
email-greeting = नमस्ते { $name },
email-body-invoice = { $period } के लिए बीजक { $number } संलग्न है। कुल देय राशि { $total } है, जिसकी देय तिथि { $due } है।
email-body-credit-note = क्रेडिट नोट { $number } संलग्न है, जो बीजक { $invoice } को संशोधित करता है। क्रेडिट की गई राशि { $total } है।
email-closing = सादर,
email-footer = यह संदेश Meridian द्वारा स्वचालित रूप से भेजा गया है। इस दस्तावेज़ के बारे में किसी प्रश्न के लिए इस ईमेल का उत्तर दें।

# Budget alerts (no attachment); $period is one of the two period messages.
email-subject-budget-alert = { $entity } के साथ आपके बजट का { $percent } खर्च हो चुका है
email-budget-period-day = आज
email-budget-period-month = इस महीने
email-body-budget-alert = { $period } आपका खर्च { $spent } तक पहुँच गया है, जो आपके { $amount } के बजट का { $percent } है। अनुरोध पूरे किए जाते रहेंगे।
email-body-budget-exhausted = { $period } आपका खर्च { $spent } तक पहुँच गया है, जो आपका पूरा { $amount } का बजट है। अवधि समाप्त होने या बजट बढ़ाए जाने तक अनुरोध अस्वीकार किए जाएँगे।
email-footer-budget-alert = यह संदेश Meridian द्वारा स्वचालित रूप से भेजा गया है, क्योंकि आपका खर्च आपके बजट की एक चेतावनी सीमा पार कर गया है। बजट या उसकी सीमाएँ डैशबोर्ड पर या PUT /api/v1/budget से बदलें।
