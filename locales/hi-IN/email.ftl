# E-mail sent with an invoice or credit note — hi-IN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

email-subject-invoice = { $entity } की ओर से आपका बीजक { $number }
email-subject-credit-note = { $entity } की ओर से आपका क्रेडिट नोट { $number }
email-greeting = नमस्ते { $name },
email-body-invoice = { $period } के लिए बीजक { $number } संलग्न है। कुल देय राशि { $total } है, जिसकी देय तिथि { $due } है।
email-body-credit-note = क्रेडिट नोट { $number } संलग्न है, जो बीजक { $invoice } को संशोधित करता है। क्रेडिट की गई राशि { $total } है।
email-closing = सादर,
email-footer = यह संदेश Meridian द्वारा स्वचालित रूप से भेजा गया है। इस दस्तावेज़ के बारे में किसी प्रश्न के लिए इस ईमेल का उत्तर दें।
