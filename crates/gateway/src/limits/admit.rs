//! A request's admission: its key's and its customer's terms, what it may use (its
//! token estimate and the most it can cost, computed only when a limit needs them),
//! and a refusal in OpenAI's error shape.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use meridian_core::{KeyBudget, KeyEntry, KeyLimits};
use rust_decimal::Decimal;

use super::{Admission, Budget, Demand, Refusal, Terms};
use crate::Gateway;
use crate::error::ApiError;
use crate::providers::Operation;
use crate::proxy::Payload;
use crate::targets::ModelRoute;
use crate::tokens;

/// Admits the request of `key` for `routes`, or the error the client gets.
pub(crate) fn admit(
    gw: &Gateway,
    key: &KeyEntry,
    routes: &[Arc<ModelRoute>],
    payload: &dyn Payload,
    time: DateTime<Utc>,
) -> Result<Admission, ApiError> {
    let customer = gw.customers.get(key.customer_id);
    let (customer_limits, customer_budget) = customer
        .as_ref()
        .map_or((KeyLimits::default(), None), |c| (c.limits, c.budget));
    let budgeted = key.budget.is_some() || customer_budget.is_some();
    let currency = customer.as_ref().map(|c| &*c.currency);
    let per_usd = customer.as_ref().and_then(|c| c.per_usd);
    let priced = |budget: Option<KeyBudget>| -> Result<Option<Budget>, ApiError> {
        let Some(budget) = budget else {
            return Ok(None);
        };
        let per_usd = per_usd.ok_or_else(|| ApiError::budget_unchecked(currency))?;
        Ok(Some(Budget {
            amount: budget.amount,
            period: budget.period,
            per_usd,
        }))
    };
    let key_terms = Terms {
        limits: key.limits,
        budget: priced(key.budget)?,
    };
    let customer_terms = Terms {
        limits: customer_limits,
        budget: priced(customer_budget)?,
    };
    let counts_tokens = key.limits.tpm.is_some() || customer_limits.tpm.is_some();
    let (tokens, max_cost) = if counts_tokens || budgeted {
        most_used(routes, payload)
    } else {
        (0, Decimal::ZERO)
    };
    let demand = Demand {
        key: key.id,
        customer: key.customer_id,
        key_terms,
        customer_terms,
        tokens,
        max_cost,
        time,
        now: Instant::now(),
    };
    gw.limiter.admit(&demand).map_err(|refusal| match refusal {
        Refusal::TooMany {
            scope,
            limit,
            retry_after,
        } => ApiError::over_limit(scope, limit, retry_after),
        Refusal::BudgetExceeded {
            scope,
            budget,
            resets_at,
        } => ApiError::budget_exceeded(
            scope,
            &budget,
            currency.unwrap_or_default(),
            max_cost,
            resets_at,
        ),
    })
}

/// The tokens the request reserves and the most it may cost (USD), over every
/// deployment that may serve it: its prompt estimate plus the output cap the client
/// set (none when it set none: such a request is reserved at its prompt, and the
/// limits may be overrun by its output), prompt and output priced at the dearest token
/// kinds of each deployment's list price.
fn most_used(routes: &[Arc<ModelRoute>], payload: &dyn Payload) -> (u64, Decimal) {
    let mut most = (0, Decimal::ZERO);
    for target in routes.iter().flat_map(|r| r.targets.iter()) {
        let Ok((op, body)) = payload.for_target(target) else {
            continue;
        };
        let embeddings = op == Operation::Embeddings;
        let prompt = tokens::prompt_estimate(body, embeddings, target.price.max_input_tokens);
        let output = if embeddings {
            0
        } else {
            tokens::asked_output(body).unwrap_or(0)
        };
        most.0 = most.0.max(prompt + output);
        most.1 = most.1.max(target.price.most_cost(prompt, output));
    }
    most
}
