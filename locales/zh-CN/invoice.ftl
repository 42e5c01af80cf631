# Invoices and credit notes — zh-CN.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = 发票
title-tax-invoice = 税务发票
title-qualified-invoice = 合格发票（適格請求書）
title-credit-note = 贷项通知单

## Invoice meta

meta-number = 编号
meta-issue-date = 开票日期
meta-period = 计费期间
meta-period-range = { $start } 至 { $end }
meta-credited-invoice = 更正发票
meta-credited-invoice-value = { $number }（{ $date }）
meta-credit-reason = 原因
meta-exchange-rate = 汇率
meta-exchange-rate-value = 1 USD = { $rate } { $currency }（欧洲央行，{ $date }）

## Seller and buyer

party-buyer = 付款方
label-tax-id-vat = 增值税号
label-tax-id-jp = 登记号码（登録番号）
label-tax-id-sg = GST 注册号
label-tax-id-kr = 营业登记号（사업자등록번호）
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = 税号
label-phone = 电话
label-representative = 代表人（대표자）
label-email = 电子邮件
label-state = 邦
label-state-value = { $name }（邦代码 { $code }）

## Line table

col-model = 模型
col-provider-region = 提供商／区域
col-token-kind = 令牌类型
col-quantity = 数量
col-unit-price = 每百万令牌单价
col-amount = 金额

## Token kinds

token-input = 输入
token-cached-input = 缓存输入
token-cache-write = 缓存写入
token-cache-write-1h = 缓存写入（1小时）
token-output = 输出
token-reasoning = 推理
line-platform-fee = 平台费
lines-subtotal-usd = 用量小计（USD）

## Tax summary

tax-heading = 税额汇总
tax-col-tax = 税种
tax-col-rate = 税率
tax-col-net = 计税金额
tax-col-amount = 税额
tax-vat = 增值税
tax-vat-reverse-charge = 增值税（反向征收）
tax-gst = 商品及服务税
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = 消费税
tax-not-taxed = 不征税

## Totals

total-net = 不含税金额
total-tax = 税额
total-due = 应付总额
total-credited = 贷记总额
total-kr-supply-value = 供应价额（공급가액）
total-kr-tax = 税额（세액）

## Payment

payment-heading = 付款信息
payment-due-date = 付款期限
payment-account-holder = 账户名
payment-bank = 银行
payment-account = 账号／IBAN
payment-bic = BIC／SWIFT
payment-reference = 付款备注

## Legal notes

notes-heading = 备注
note-reverse-charge = 反向征收：增值税由收票方申报缴纳（欧盟第2006/112/EC号指令第196条）。
note-jp-qualified = 本发票为合格发票；消费税按每个税率计算一次。
note-in-sac = SAC：{ $code }（在线信息及数据库访问服务）
note-in-place-of-supply = 供应地：{ $state }（{ $code }）
note-in-reverse-charge = 反向征收应纳税额：{ $answer }
note-yes = 是
note-no = 否
note-kr-customer-copy = 本文件为收票方留存副本；法定税务发票（세금계산서）以电子方式向韩国国税厅开具。
note-zero-markup = 单价为各提供商的公开标价；Meridian 不加价，也不收取平台费。
signatory-for = 代表 { $entity }
signatory-authorised = 授权签字人
footer-page = 第 { $page } 页，共 { $pages } 页
