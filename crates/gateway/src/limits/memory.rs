//! The limiter of one process: an account per key and per customer, each behind its
//! own lock, made on first use and kept for the life of the process (a few hundred
//! bytes and a 61-second window per key). A request locks its key's account, then
//! its customer's (always in that order), checks both and counts in both, so
//! admission is exact under any concurrency.
//!
//! Spend survives a restart through [`MemoryLimiter::seed`]: the binary hands it what
//! the current day and month already cost (the rollups plus the journal not yet
//! folded into them) before the gateway serves.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use meridian_core::{BudgetPeriod, CustomerId, KeyId};
use parking_lot::{Mutex, RwLock};
use rust_decimal::Decimal;

use super::{Admission, Budget, Demand, Limit, Limiter, Refusal, Scope, Terms};
use crate::window::{self, PerMinute, Window};

/// How long a client refused for concurrency is told to wait.
const CONCURRENCY_RETRY: Duration = Duration::from_secs(1);

/// Cost already spent by a key (or by a customer's requests without a key) at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastSpend {
    pub customer: CustomerId,
    pub key: Option<KeyId>,
    pub at: DateTime<Utc>,
    /// USD.
    pub cost: Decimal,
}

pub struct MemoryLimiter {
    started: Instant,
    keys: Accounts<KeyId>,
    customers: Accounts<CustomerId>,
}

struct Accounts<K>(RwLock<HashMap<K, Arc<Mutex<Account>>>>);

impl<K: Hash + Eq + Copy> Accounts<K> {
    fn get(&self, id: K) -> Arc<Mutex<Account>> {
        if let Some(account) = self.0.read().get(&id) {
            return account.clone();
        }
        self.0.write().entry(id).or_default().clone()
    }
}

impl<K> Default for Accounts<K> {
    fn default() -> Self {
        Self(RwLock::new(HashMap::new()))
    }
}

/// Spend in one budget period, USD.
#[derive(Debug, Default)]
struct Ledger {
    /// When the period counted began (`None`: nothing counted yet).
    start: Option<DateTime<Utc>>,
    spent: Decimal,
    /// The most the requests in flight can still cost.
    reserved: Decimal,
}

impl Ledger {
    /// The ledger of the period that begins at `start`: a later period starts empty.
    fn at(&mut self, start: DateTime<Utc>) -> &mut Ledger {
        if self.start.is_none_or(|s| s < start) {
            *self = Ledger {
                start: Some(start),
                ..Ledger::default()
            };
        }
        self
    }

    /// Whether `budget` is spent, or could be by a request costing up to `max_cost`.
    fn refuses(&self, budget: &Budget, max_cost: Decimal) -> bool {
        let committed = (self.spent + self.reserved) * budget.per_usd;
        committed >= budget.amount || committed + max_cost * budget.per_usd > budget.amount
    }
}

#[derive(Debug, Default)]
struct Account {
    window: Window,
    in_flight: u32,
    day: Ledger,
    month: Ledger,
}

/// Where a check happens: the window's second and the budget periods.
struct Moment {
    second: u64,
    into_second: Duration,
    time: DateTime<Utc>,
    day: DateTime<Utc>,
    month: DateTime<Utc>,
}

impl Account {
    fn ledger(&mut self, period: BudgetPeriod, at: &Moment) -> &mut Ledger {
        match period {
            BudgetPeriod::Day => self.day.at(at.day),
            BudgetPeriod::Month => self.month.at(at.month),
        }
    }

    /// Checks one request against `terms`; returns the tokens it would reserve.
    fn check(
        &mut self,
        scope: Scope,
        terms: &Terms,
        tokens: u64,
        max_cost: Decimal,
        at: &Moment,
    ) -> Result<u64, Refusal> {
        let limits = &terms.limits;
        if let Some(max) = limits.max_concurrency
            && self.in_flight >= max
        {
            return Err(Refusal::TooMany {
                scope,
                limit: Limit::Concurrency(max),
                retry_after: CONCURRENCY_RETRY,
            });
        }
        let tokens = limits.tpm.map_or(tokens, |tpm| tokens.min(tpm));
        let too_many = |limit| Refusal::TooMany {
            scope,
            limit,
            retry_after: self.window.retry_after(at.second, at.into_second),
        };
        if let Some(rpm) = limits.rpm {
            let allowance = PerMinute {
                rpm: Some(rpm.into()),
                tpm: None,
            };
            if !self.window.fits(allowance, at.second, tokens) {
                return Err(too_many(Limit::Rpm(rpm)));
            }
        }
        if let Some(tpm) = limits.tpm {
            let allowance = PerMinute {
                rpm: None,
                tpm: Some(tpm),
            };
            if !self.window.fits(allowance, at.second, tokens) {
                return Err(too_many(Limit::Tpm(tpm)));
            }
        }
        if let Some(budget) = terms.budget
            && self.ledger(budget.period, at).refuses(&budget, max_cost)
        {
            return Err(Refusal::BudgetExceeded {
                scope,
                budget,
                resets_at: budget.period.next_start(at.time),
            });
        }
        Ok(tokens)
    }

    fn count(&mut self, tokens: u64, max_cost: Decimal, at: &Moment) {
        self.in_flight += 1;
        self.window.add(at.second, tokens);
        self.day.at(at.day).reserved += max_cost;
        self.month.at(at.month).reserved += max_cost;
    }

    fn settle(&mut self, admission: &Admission, reserved: u64, used: u64, cost: Decimal) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.window.correct(admission.second, reserved, used);
        // A request that began in a period already over is not counted in this one
        // (its usage event, and so the rollups, count it in the period it began).
        for (ledger, start) in [
            (&mut self.day, admission.day),
            (&mut self.month, admission.month),
        ] {
            if ledger.start == Some(start) {
                ledger.reserved = (ledger.reserved - admission.max_cost).max(Decimal::ZERO);
                ledger.spent += cost;
            }
        }
    }

    fn add_past(&mut self, spend: &PastSpend, day: DateTime<Utc>, month: DateTime<Utc>) {
        if spend.at >= day {
            self.day.at(day).spent += spend.cost;
        }
        if spend.at >= month {
            self.month.at(month).spent += spend.cost;
        }
    }
}

impl MemoryLimiter {
    /// A limiter counting its windows' seconds from `started`.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            keys: Accounts::default(),
            customers: Accounts::default(),
        }
    }

    /// Adds what was spent before this process started; spend before the current
    /// day (for daily budgets) or month (monthly) at `now` is ignored.
    pub fn seed(&self, past: impl IntoIterator<Item = PastSpend>, now: DateTime<Utc>) {
        let (day, month) = (BudgetPeriod::Day.start(now), BudgetPeriod::Month.start(now));
        for spend in past {
            if let Some(key) = spend.key {
                self.keys.get(key).lock().add_past(&spend, day, month);
            }
            self.customers
                .get(spend.customer)
                .lock()
                .add_past(&spend, day, month);
        }
    }

    fn moment(&self, demand: &Demand) -> Moment {
        let (second, into_second) = window::second(self.started, demand.now);
        Moment {
            second,
            into_second,
            time: demand.time,
            day: BudgetPeriod::Day.start(demand.time),
            month: BudgetPeriod::Month.start(demand.time),
        }
    }
}

impl Limiter for MemoryLimiter {
    fn admit(&self, demand: &Demand) -> Result<Admission, Refusal> {
        let at = self.moment(demand);
        let (key, customer) = (
            self.keys.get(demand.key),
            self.customers.get(demand.customer),
        );
        let (mut key, mut customer) = (key.lock(), customer.lock());
        let key_tokens = key.check(
            Scope::Key,
            &demand.key_terms,
            demand.tokens,
            demand.max_cost,
            &at,
        )?;
        let customer_tokens = customer.check(
            Scope::Customer,
            &demand.customer_terms,
            demand.tokens,
            demand.max_cost,
            &at,
        )?;
        key.count(key_tokens, demand.max_cost, &at);
        customer.count(customer_tokens, demand.max_cost, &at);
        Ok(Admission {
            key: demand.key,
            customer: demand.customer,
            second: at.second,
            key_tokens,
            customer_tokens,
            max_cost: demand.max_cost,
            day: at.day,
            month: at.month,
        })
    }

    fn settle(&self, admission: &Admission, used_tokens: u64, cost: Decimal) {
        self.keys.get(admission.key).lock().settle(
            admission,
            admission.key_tokens,
            used_tokens,
            cost,
        );
        self.customers.get(admission.customer).lock().settle(
            admission,
            admission.customer_tokens,
            used_tokens,
            cost,
        );
    }

    fn customer_spent(
        &self,
        customer: CustomerId,
        period: BudgetPeriod,
        now: DateTime<Utc>,
    ) -> Decimal {
        let Some(account) = self.customers.0.read().get(&customer).cloned() else {
            return Decimal::ZERO;
        };
        let account = account.lock();
        let ledger = match period {
            BudgetPeriod::Day => &account.day,
            BudgetPeriod::Month => &account.month,
        };
        if ledger.start == Some(period.start(now)) {
            ledger.spent
        } else {
            Decimal::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_core::KeyLimits;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    struct Fixture {
        limiter: MemoryLimiter,
        t0: Instant,
        key: KeyId,
        customer: CustomerId,
    }

    impl Fixture {
        fn new() -> Self {
            let t0 = Instant::now();
            Self {
                limiter: MemoryLimiter::new(t0),
                t0,
                key: KeyId::new(),
                customer: CustomerId::new(),
            }
        }

        fn demand(&self, key_terms: Terms, secs: u64, tokens: u64, max_cost: &str) -> Demand {
            Demand {
                key: self.key,
                customer: self.customer,
                key_terms,
                customer_terms: Terms::default(),
                tokens,
                max_cost: dec(max_cost),
                time: at("2026-12-07T12:00:00Z"),
                now: self.t0 + Duration::from_secs(secs),
            }
        }
    }

    fn limits(rpm: Option<u32>, tpm: Option<u64>, max_concurrency: Option<u32>) -> Terms {
        Terms {
            limits: KeyLimits {
                rpm,
                tpm,
                max_concurrency,
            },
            budget: None,
        }
    }

    fn budget(amount: &str, period: BudgetPeriod, per_usd: &str) -> Terms {
        Terms {
            limits: KeyLimits::default(),
            budget: Some(Budget {
                amount: dec(amount),
                period,
                per_usd: dec(per_usd),
            }),
        }
    }

    #[test]
    fn the_request_over_the_rpm_is_refused_until_the_window_slides() {
        let f = Fixture::new();
        let terms = limits(Some(2), None, None);
        for s in [0, 10] {
            let a = f.limiter.admit(&f.demand(terms, s, 0, "0")).unwrap();
            f.limiter.settle(&a, 5, Decimal::ZERO);
        }
        let refused = f.limiter.admit(&f.demand(terms, 30, 0, "0")).unwrap_err();
        assert_eq!(
            refused,
            Refusal::TooMany {
                scope: Scope::Key,
                limit: Limit::Rpm(2),
                retry_after: Duration::from_secs(31),
            }
        );
        f.limiter.admit(&f.demand(terms, 61, 0, "0")).unwrap();
    }

    #[test]
    fn tokens_are_reserved_then_corrected_and_one_large_request_fits_an_idle_minute() {
        let f = Fixture::new();
        let terms = limits(None, Some(1_000), None);
        let big = f.limiter.admit(&f.demand(terms, 0, 5_000, "0")).unwrap();
        assert_eq!(big.key_tokens, 1_000, "reserved at most the whole tpm");
        assert!(matches!(
            f.limiter.admit(&f.demand(terms, 0, 1, "0")),
            Err(Refusal::TooMany {
                limit: Limit::Tpm(1_000),
                ..
            })
        ));
        f.limiter.settle(&big, 300, Decimal::ZERO);
        f.limiter.admit(&f.demand(terms, 0, 700, "0")).unwrap();
        assert!(f.limiter.admit(&f.demand(terms, 0, 1, "0")).is_err());
    }

    #[test]
    fn concurrency_refuses_at_once_and_frees_when_a_request_ends() {
        let f = Fixture::new();
        let terms = limits(None, None, Some(2));
        let a = f.limiter.admit(&f.demand(terms, 0, 0, "0")).unwrap();
        let _b = f.limiter.admit(&f.demand(terms, 0, 0, "0")).unwrap();
        assert!(matches!(
            f.limiter.admit(&f.demand(terms, 0, 0, "0")),
            Err(Refusal::TooMany {
                limit: Limit::Concurrency(2),
                retry_after,
                ..
            }) if retry_after == Duration::from_secs(1)
        ));
        f.limiter.settle(&a, 0, Decimal::ZERO);
        f.limiter.admit(&f.demand(terms, 0, 0, "0")).unwrap();
    }

    #[test]
    fn a_budget_reserves_the_most_a_request_can_cost_and_keeps_the_real_cost() {
        let f = Fixture::new();
        // 1 USD = 0.5 of the customer's currency: a budget of 1 is 2 USD.
        let terms = budget("1", BudgetPeriod::Month, "0.5");
        let a = f.limiter.admit(&f.demand(terms, 0, 0, "1.5")).unwrap();
        assert!(
            f.limiter.admit(&f.demand(terms, 0, 0, "0.6")).is_err(),
            "1.5 reserved + 0.6 > 2 USD"
        );
        f.limiter.settle(&a, 0, dec("0.25"));
        let b = f.limiter.admit(&f.demand(terms, 0, 0, "1.75")).unwrap();
        f.limiter.settle(&b, 0, dec("1.75"));
        assert_eq!(
            f.limiter.admit(&f.demand(terms, 0, 0, "0")).unwrap_err(),
            Refusal::BudgetExceeded {
                scope: Scope::Key,
                budget: terms.budget.unwrap(),
                resets_at: at("2027-01-01T00:00:00Z"),
            },
            "spent exactly: refused even for a free request"
        );
    }

    #[test]
    fn a_spent_daily_budget_opens_again_the_next_utc_day() {
        let f = Fixture::new();
        let terms = budget("1", BudgetPeriod::Day, "1");
        let a = f.limiter.admit(&f.demand(terms, 0, 0, "1")).unwrap();
        f.limiter.settle(&a, 0, dec("1"));
        assert!(f.limiter.admit(&f.demand(terms, 0, 0, "0.01")).is_err());
        let tomorrow = Demand {
            time: at("2026-12-08T00:00:00Z"),
            ..f.demand(terms, 0, 0, "0.01")
        };
        f.limiter.admit(&tomorrow).unwrap();
    }

    #[test]
    fn spend_seeded_at_start_counts_in_its_day_and_month_only() {
        let f = Fixture::new();
        let past = |at_: &str, cost: &str| PastSpend {
            customer: f.customer,
            key: Some(f.key),
            at: at(at_),
            cost: dec(cost),
        };
        f.limiter.seed(
            [
                past("2026-11-30T23:00:00Z", "100"),
                past("2026-12-01T10:00:00Z", "3"),
                past("2026-12-07T09:00:00Z", "1"),
            ],
            at("2026-12-07T12:00:00Z"),
        );
        let month = budget("4.5", BudgetPeriod::Month, "1");
        let day = budget("1.5", BudgetPeriod::Day, "1");
        f.limiter.admit(&f.demand(month, 0, 0, "0.5")).unwrap();
        assert!(f.limiter.admit(&f.demand(month, 0, 0, "0.01")).is_err());
        assert!(f.limiter.admit(&f.demand(day, 0, 0, "0.01")).is_err());
    }

    #[test]
    fn a_customers_spend_counts_what_ended_in_the_period_asked() {
        let f = Fixture::new();
        let now = at("2026-12-07T12:00:00Z");
        f.limiter.seed(
            [PastSpend {
                customer: f.customer,
                key: None,
                at: at("2026-12-01T10:00:00Z"),
                cost: dec("3"),
            }],
            now,
        );
        let terms = budget("100", BudgetPeriod::Month, "1");
        let a = f.limiter.admit(&f.demand(terms, 0, 0, "2")).unwrap();
        let spent = |period| f.limiter.customer_spent(f.customer, period, now);
        assert_eq!(
            spent(BudgetPeriod::Month),
            dec("3"),
            "reserved is not spent"
        );
        f.limiter.settle(&a, 0, dec("0.25"));
        assert_eq!(spent(BudgetPeriod::Month), dec("3.25"));
        assert_eq!(spent(BudgetPeriod::Day), dec("0.25"));
        let next_month = at("2027-01-01T00:00:00Z");
        assert_eq!(
            f.limiter
                .customer_spent(f.customer, BudgetPeriod::Month, next_month),
            Decimal::ZERO
        );
        assert_eq!(
            f.limiter
                .customer_spent(CustomerId::new(), BudgetPeriod::Month, now),
            Decimal::ZERO
        );
    }

    #[test]
    fn a_customer_budget_holds_over_all_of_its_keys() {
        let f = Fixture::new();
        let customer_terms = budget("1", BudgetPeriod::Month, "1");
        let demand = |key| Demand {
            key,
            customer_terms,
            ..f.demand(Terms::default(), 0, 0, "0.6")
        };
        f.limiter.admit(&demand(KeyId::new())).unwrap();
        assert!(matches!(
            f.limiter.admit(&demand(KeyId::new())),
            Err(Refusal::BudgetExceeded {
                scope: Scope::Customer,
                ..
            })
        ));
    }

    #[test]
    fn a_refusal_by_the_customer_counts_nothing_on_the_key() {
        let f = Fixture::new();
        let d = Demand {
            customer_terms: limits(Some(1), None, None),
            ..f.demand(limits(Some(1), None, None), 0, 0, "0")
        };
        f.limiter.admit(&d).unwrap();
        let other_key = Demand {
            key: KeyId::new(),
            ..d.clone()
        };
        assert!(f.limiter.admit(&other_key).is_err());
        let other_customer = Demand {
            customer: CustomerId::new(),
            ..other_key
        };
        f.limiter.admit(&other_customer).unwrap();
    }

    #[test]
    fn racing_requests_never_overspend_a_budget() {
        let f = std::sync::Arc::new(Fixture::new());
        let terms = budget("10", BudgetPeriod::Month, "1");
        let spent = std::sync::Arc::new(Mutex::new(Decimal::ZERO));
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let (f, spent) = (f.clone(), spent.clone());
                std::thread::spawn(move || {
                    for j in 0..50u32 {
                        let most = Decimal::new(i64::from(10 + (i * 7 + j) % 40), 2);
                        if let Ok(a) = f.limiter.admit(&f.demand(terms, 0, 0, &most.to_string())) {
                            let cost = most / Decimal::from(2);
                            *spent.lock() += cost;
                            f.limiter.settle(&a, 0, cost);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let spent = *spent.lock();
        assert!(spent <= dec("10"), "spent {spent}");
        assert!(spent >= dec("9.5"), "the budget was used: {spent}");
    }
}
