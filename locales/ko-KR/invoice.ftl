# Invoices and credit notes — ko-KR.
# Placeables are preformatted by ICU4X (amounts, dates); keep every $variable.

## Titles

title-invoice = 청구서
title-tax-invoice = 세금계산서
title-qualified-invoice = 적격 청구서（適格請求書）
title-credit-note = 수정 청구서（대변표）

## Invoice meta

meta-number = 번호
meta-issue-date = 작성일자
meta-period = 공급 기간
meta-period-range = { $start } ~ { $end }
meta-credited-invoice = 수정 대상 청구서
meta-credited-invoice-value = { $number }（{ $date }）
meta-credit-reason = 사유
meta-exchange-rate = 환율
meta-exchange-rate-value = 1 USD = { $rate } { $currency }（ECB, { $date }）

## Seller and buyer

party-buyer = 공급받는자
label-tax-id-vat = VAT 번호
label-tax-id-jp = 등록번호（登録番号）
label-tax-id-sg = GST 등록번호
label-tax-id-kr = 사업자등록번호
label-tax-id-gstin = GSTIN
label-tax-id-abn = ABN
label-tax-id-other = 납세자 번호
label-phone = 전화
label-representative = 대표자
label-email = 이메일
label-state = 주
label-state-value = { $name }（주 코드 { $code }）

## Line table

col-model = 모델
col-provider-region = 제공자 / 리전
col-token-kind = 토큰 유형
col-quantity = 수량
col-unit-price = 100만 토큰당 단가
col-amount = 금액

## Token kinds

token-input = 입력
token-cached-input = 캐시 입력
token-cache-write = 캐시 쓰기
token-cache-write-1h = 캐시 쓰기(1시간)
token-output = 출력
token-reasoning = 추론
line-platform-fee = 플랫폼 수수료
lines-subtotal-usd = 사용료 소계（USD）

## Tax summary

tax-heading = 세율별 요약
tax-col-tax = 세목
tax-col-rate = 세율
tax-col-net = 공급가액
tax-col-amount = 세액
tax-vat = 부가가치세
tax-vat-reverse-charge = 부가가치세（대리납부）
tax-gst = GST
tax-igst = IGST
tax-cgst = CGST
tax-sgst = SGST
tax-jct = 소비세
tax-not-taxed = 과세 대상 아님

## Totals

total-net = 소계
total-tax = 세금
total-due = 합계 금액
total-credited = 환급 합계
total-kr-supply-value = 공급가액
total-kr-tax = 세액

## Payment

payment-heading = 결제 정보
payment-due-date = 결제 기한
payment-account-holder = 예금주
payment-bank = 은행
payment-account = 계좌번호 / IBAN
payment-bic = BIC / SWIFT
payment-reference = 입금자 참조

## Legal notes

notes-heading = 비고
note-reverse-charge = 역과세（Reverse charge）: 부가가치세는 공급받는자가 신고·납부합니다（EU 지침 2006/112/EC 제196조）.
note-jp-qualified = 본 문서는 적격 청구서이며, 소비세는 세율별로 한 번 계산됩니다.
note-in-sac = SAC: { $code }（온라인 정보 및 데이터베이스 접근 서비스）
note-in-place-of-supply = 공급 장소: { $state }（{ $code }）
note-in-reverse-charge = 역과세 대상 세액: { $answer }
note-yes = 예
note-no = 아니요
note-kr-customer-copy = 본 문서는 공급받는자 보관용 사본이며, 법정 세금계산서는 국세청에 전자적으로 발급됩니다.
note-zero-markup = 단가는 각 제공자의 공시 가격이며, Meridian은 마진이나 플랫폼 수수료를 부과하지 않습니다.
signatory-for = { $entity } 대표
signatory-authorised = 권한 있는 서명자
footer-page = { $page } / { $pages } 페이지
