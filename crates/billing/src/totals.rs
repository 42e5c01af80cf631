//! Rounding, in one place. Line amounts stay exact (USD, full precision). Per tax
//! group (one taxable base: one rate, or India's CGST + SGST pair) the net is
//! converted at the invoice's FX rate and rounded once to the currency's minor unit,
//! half-even; each tax is its rate × that rounded net, rounded once. So Japan's
//! consumption tax is rounded once per rate per invoice, and totals reconcile:
//! subtotal = Σ rounded nets, tax = Σ rounded taxes, total = subtotal + tax.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::Currency;
use crate::taxes::TaxComponent;

/// One tax of a group, with its rounded amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxAmount {
    pub code: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

/// One taxable base of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxGroupTotal {
    pub group: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub taxable_usd: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub taxable: Decimal,
    pub taxes: Vec<TaxAmount>,
}

impl TaxGroupTotal {
    pub fn tax(&self) -> Decimal {
        self.taxes.iter().map(|t| t.tax).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal_usd: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub groups: Vec<TaxGroupTotal>,
}

/// The rounded total of one group from its exact USD net.
pub fn group_total(
    group: u32,
    taxable_usd: Decimal,
    components: &[TaxComponent],
    fx_rate: Decimal,
    currency: Currency,
) -> TaxGroupTotal {
    let taxable = currency.round(taxable_usd * fx_rate);
    TaxGroupTotal {
        group,
        taxable_usd,
        taxable,
        taxes: components
            .iter()
            .map(|c| TaxAmount {
                code: c.code.clone(),
                rate: c.rate,
                tax: currency.round(c.rate * taxable),
            })
            .collect(),
    }
}

/// Totals from the groups' rounded amounts.
pub fn totals(groups: Vec<TaxGroupTotal>) -> Totals {
    let subtotal_usd = groups.iter().map(|g| g.taxable_usd).sum();
    let subtotal: Decimal = groups.iter().map(|g| g.taxable).sum();
    let tax: Decimal = groups.iter().map(TaxGroupTotal::tax).sum();
    Totals {
        subtotal_usd,
        subtotal,
        tax,
        total: subtotal + tax,
        groups,
    }
}

/// Sums exact line amounts per group and rounds each group once.
pub fn summarize<'a>(
    lines: impl IntoIterator<Item = (u32, Decimal)>,
    components_of: impl Fn(u32) -> &'a [TaxComponent],
    fx_rate: Decimal,
    currency: Currency,
) -> Totals {
    let mut nets: Vec<(u32, Decimal)> = Vec::new();
    for (group, amount) in lines {
        match nets.iter_mut().find(|(g, _)| *g == group) {
            Some((_, net)) => *net += amount,
            None => nets.push((group, amount)),
        }
    }
    nets.sort_by_key(|(g, _)| *g);
    totals(
        nets.into_iter()
            .map(|(g, net)| group_total(g, net, components_of(g), fx_rate, currency))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn rate(code: &str, r: &str) -> Vec<TaxComponent> {
        vec![TaxComponent {
            code: code.into(),
            rate: d(r),
        }]
    }

    #[test]
    fn japan_rounds_tax_once_per_rate_per_invoice() {
        // Three lines of ¥33.3 each: per-line rounding would give 3 × ¥3 = ¥9 of tax;
        // once per invoice gives round(¥100 × 10%) = ¥10.
        let jct = rate("JCT", "0.10");
        let jpy = Currency::parse("JPY").unwrap();
        let lines = [(0, d("0.222")), (0, d("0.222")), (0, d("0.222"))];
        let t = summarize(lines, |_| &jct, d("150"), jpy);
        assert_eq!(t.subtotal, d("100")); // 0.666 × 150 = 99.9 → 100
        assert_eq!(t.tax, d("10"));
        assert_eq!(t.total, d("110"));
        assert_eq!(t.subtotal.scale(), 0);
    }

    #[test]
    fn won_has_no_minor_unit() {
        let vat = rate("VAT", "0.10");
        let krw = Currency::parse("KRW").unwrap();
        let t = summarize([(0, d("1.2345"))], |_| &vat, d("1434.5"), krw);
        assert_eq!(t.subtotal, d("1771")); // 1770.89…
        assert_eq!(t.tax, d("177")); // 177.1
        assert_eq!(t.total, d("1948"));
    }

    #[test]
    fn india_intra_state_rounds_cgst_and_sgst_each_once() {
        let gst = vec![
            TaxComponent {
                code: "CGST".into(),
                rate: d("0.09"),
            },
            TaxComponent {
                code: "SGST".into(),
                rate: d("0.09"),
            },
        ];
        let inr = Currency::parse("INR").unwrap();
        let t = summarize([(0, d("1.005"))], |_| &gst, d("84.2"), inr);
        assert_eq!(t.subtotal, d("84.62")); // 84.621
        assert_eq!(t.groups[0].taxes[0].tax, d("7.62")); // 7.6158
        assert_eq!(t.tax, d("15.24"));
    }

    fn arb_lines() -> impl Strategy<Value = Vec<(u32, Decimal)>> {
        prop::collection::vec(
            (0u32..3, 0i64..10_000_000_000, 0u32..12).prop_map(|(g, m, s)| (g, Decimal::new(m, s))),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn totals_reconcile_to_the_minor_unit(
            lines in arb_lines(),
            fx in 1i64..2_000_000,
            code in prop::sample::select(vec!["USD", "EUR", "JPY", "KRW", "KWD", "INR"]),
        ) {
            let currency = Currency::parse(code).unwrap();
            let fx = Decimal::new(fx, 4);
            let rates = [rate("A", "0.19"), rate("B", "0.075"), rate("C", "0")];
            let t = summarize(lines.clone(), |g| &rates[g as usize], fx, currency);
            let exact: Decimal = lines.iter().map(|l| l.1).sum();
            prop_assert_eq!(t.subtotal_usd, exact);
            prop_assert_eq!(t.total, t.subtotal + t.tax);
            prop_assert_eq!(t.subtotal, t.groups.iter().map(|g| g.taxable).sum::<Decimal>());
            for g in &t.groups {
                prop_assert_eq!(g.taxable, currency.round(g.taxable))
                ;
                prop_assert!((g.taxable - g.taxable_usd * fx).abs() * Decimal::TWO
                    <= Decimal::new(1, currency.minor_units()));
                for tax in &g.taxes {
                    prop_assert_eq!(tax.tax, currency.round(tax.rate * g.taxable));
                    prop_assert!(tax.tax.scale() <= currency.minor_units());
                }
            }
            let groups: Vec<u32> = t.groups.iter().map(|g| g.group).collect();
            let mut sorted = groups.clone();
            sorted.dedup();
            prop_assert_eq!(groups, sorted);
        }
    }
}
