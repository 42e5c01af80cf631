# Invoices and credit notes — ja-JP.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = 請求書
title-tax-invoice = 税務請求書
title-qualified-invoice = 適格請求書
title-credit-note = 返還請求書（クレジットノート）

## Invoice meta

meta-number = 請求書番号
meta-issue-date = 発行日
meta-period = 取引期間
meta-period-range = { $start } ～ { $end }
meta-credited-invoice = 訂正対象の請求書
meta-credited-invoice-value = { $number }（{ $date }）
meta-credit-reason = 理由
meta-exchange-rate = 為替レート
meta-exchange-rate-value = 1 USD = { $rate } { $currency }（ECB、{ $date }）

## Seller and buyer

party-buyer = 請求先
label-tax-id-vat = VAT番号
label-tax-id-jp = 登録番号
label-tax-id-sg = GST登録番号
label-tax-id-kr = 事業者登録番号（사업자등록번호）
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = 税務ID
label-phone = 電話
label-representative = 代表者（대표자）
label-email = メール
label-state = 州
label-state-value = { $name }（州コード { $code }）

## Line table

col-model = モデル
col-provider-region = プロバイダー／リージョン
col-token-kind = トークン種別
col-quantity = 数量
col-unit-price = 100万トークンあたり単価
col-amount = 金額

## Token kinds

token-input = 入力
token-cached-input = キャッシュ入力
token-cache-write = キャッシュ書き込み
token-cache-write-1h = キャッシュ書き込み（1時間）
token-output = 出力
token-reasoning = 推論
line-platform-fee = プラットフォーム手数料
lines-subtotal-usd = 利用料小計（USD）

## Tax summary

tax-heading = 税率別内訳
tax-col-tax = 税
tax-col-rate = 税率
tax-col-net = 対象金額
tax-col-amount = 消費税額
tax-vat = 付加価値税
tax-vat-reverse-charge = 付加価値税（リバースチャージ）
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = 消費税
tax-not-taxed = 非課税

## Totals

total-net = 小計（税抜）
total-tax = 消費税
total-due = ご請求金額（税込）
total-credited = 返還金額合計
total-kr-supply-value = 供給価額（공급가액）
total-kr-tax = 税額（세액）

## Payment

payment-heading = お支払い
payment-due-date = お支払期限
payment-account-holder = 口座名義
payment-bank = 銀行
payment-account = 口座番号／IBAN
payment-bic = BIC／SWIFT
payment-reference = 振込依頼人番号

## Legal notes

notes-heading = 備考
note-reverse-charge = リバースチャージ：付加価値税は受領者が申告・納付します（EU指令2006/112/EC第196条）。
note-jp-qualified = 本書は適格請求書です。消費税額は税率ごとに一回端数処理しています。
note-in-sac = SAC：{ $code }（オンライン情報・データベースアクセスサービス）
note-in-place-of-supply = 供給地：{ $state }（{ $code }）
note-in-reverse-charge = リバースチャージによる納税義務：{ $answer }
note-yes = あり
note-no = なし
note-kr-customer-copy = 本書は受領者用の控えです。法定の税金計算書（세금계산서）は国税庁へ電子的に発行されます。
note-zero-markup = 単価は各プロバイダーの公表価格です。Meridianは上乗せやプラットフォーム手数料を一切請求しません。
signatory-for = { $entity } を代表して
signatory-authorised = 権限ある署名者
footer-page = { $page } / { $pages } ページ
