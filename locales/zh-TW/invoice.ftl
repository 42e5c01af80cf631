# Invoices and credit notes — zh-TW.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = 發票
title-tax-invoice = 稅務發票
title-qualified-invoice = 合格發票（適格請求書）
title-credit-note = 折讓單

## Invoice meta

meta-number = 編號
meta-issue-date = 開立日期
meta-period = 計費期間
meta-period-range = { $start } 至 { $end }
meta-credited-invoice = 更正發票
meta-credited-invoice-value = { $number }（{ $date }）
meta-credit-reason = 原因
meta-exchange-rate = 匯率
meta-exchange-rate-value = 1 USD = { $rate } { $currency }（歐洲央行，{ $date }）

## Seller and buyer

party-buyer = 付款人
label-tax-id-vat = 加值稅號
label-tax-id-jp = 登記號碼（登録番号）
label-tax-id-sg = GST 登記號碼
label-tax-id-kr = 營業登記號碼（사업자등록번호）
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = 稅籍編號
label-phone = 電話
label-representative = 代表人（대표자）
label-email = 電子郵件
label-state = 邦
label-state-value = { $name }（邦代碼 { $code }）

## Line table

col-model = 模型
col-provider-region = 供應商／區域
col-token-kind = 權杖類型
col-quantity = 數量
col-unit-price = 每百萬權杖單價
col-amount = 金額

## Token kinds

token-input = 輸入
token-cached-input = 快取輸入
token-cache-write = 快取寫入
token-cache-write-1h = 快取寫入（1小時）
token-output = 輸出
token-reasoning = 推理
line-platform-fee = 平台費
lines-subtotal-usd = 用量小計（USD）

## Tax summary

tax-heading = 稅額彙總
tax-col-tax = 稅別
tax-col-rate = 稅率
tax-col-net = 應稅金額
tax-col-amount = 稅額
tax-vat = 加值稅
tax-vat-reverse-charge = 加值稅（反向課徵）
tax-gst = 商品及服務稅
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = 消費稅
tax-not-taxed = 不課稅

## Totals

total-net = 未稅金額
total-tax = 稅額
total-due = 應付總額
total-credited = 折讓總額
total-kr-supply-value = 供應價額（공급가액）
total-kr-tax = 稅額（세액）

## Payment

payment-heading = 付款資訊
payment-due-date = 付款期限
payment-account-holder = 戶名
payment-bank = 銀行
payment-account = 帳號／IBAN
payment-bic = BIC／SWIFT
payment-reference = 付款備註

## Legal notes

notes-heading = 備註
note-reverse-charge = 反向課徵：加值稅由買受人申報繳納（歐盟第2006/112/EC號指令第196條）。
note-jp-qualified = 本發票為合格發票；消費稅依每一稅率計算一次。
note-in-sac = SAC：{ $code }（線上資訊及資料庫存取服務）
note-in-place-of-supply = 供應地：{ $state }（{ $code }）
note-in-reverse-charge = 反向課徵應納稅額：{ $answer }
note-yes = 是
note-no = 否
note-kr-customer-copy = 本文件為買受人存查聯；法定稅務發票（세금계산서）以電子方式向韓國國稅廳開立。
note-zero-markup = 單價為各供應商的公開牌價；Meridian 不加價，也不收取平台費。
signatory-for = 代表 { $entity }
signatory-authorised = 授權簽署人
footer-page = 第 { $page } 頁，共 { $pages } 頁
