//! `GET /v1/models` and `GET /v1/models/{id}`: the public models served, with owner, context length and the
//! list prices per token (as decimal strings, OpenRouter's `pricing` shape).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::Gateway;
use crate::error::ApiError;
use crate::proxy::authenticate;
use crate::targets::ModelRoute;

fn price(p: Option<Decimal>) -> Value {
    p.map_or(Value::Null, |d| Value::String(d.normalize().to_string()))
}

pub async fn list(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authenticate(&gw, &headers).map_err(|(error, _)| error)?;
    let mut routes: Vec<_> = gw.models.iter().collect();
    routes.sort_by(|a, b| a.public_id.cmp(&b.public_id));
    let data: Vec<Value> = routes.iter().map(|r| object(r)).collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

/// `GET /v1/models/{id}`: one model, by public id (`openai/gpt-4o-mini`) or by a bare
/// name that names one public id (`gpt-4o-mini`).
pub async fn retrieve(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authenticate(&gw, &headers).map_err(|(error, _)| error)?;
    let route = gw
        .models
        .resolve(&id)
        .ok_or_else(|| ApiError::unknown_model(&id))?;
    Ok(Json(object(&route)))
}

/// OpenAI's model object, with OpenRouter's context length and prices and the
/// deployments serving it.
fn object(route: &ModelRoute) -> Value {
    // The first target is the one normally serving; its price is shown.
    let p = &route.targets[0].price;
    json!({
        "id": route.public_id,
        "object": "model",
        "created": 0,
        "owned_by": route.owner(),
        "context_length": p.max_input_tokens,
        "max_output_tokens": p.max_output_tokens,
        "pricing": {
            "prompt": price(p.input),
            "completion": price(p.output),
            "input_cache_read": price(p.cache_read),
            "input_cache_write": price(p.cache_write),
            "input_cache_write_1h": price(p.cache_write_1h),
            "internal_reasoning": price(p.reasoning),
        },
        "deployments": route.targets.iter().map(|t| json!({
            "id": t.deployment.id,
            "provider": t.deployment.provider.as_str(),
            "region": t.deployment.region,
        })).collect::<Vec<_>>(),
    })
}

/// The dashboard's view of the models served (`GET /api/v1/models`): the live model
/// table, narrowed to the regions a customer's residency admits.
pub struct ServedModels {
    models: crate::ModelTable,
    placement: meridian_core::config::Placement,
}

impl ServedModels {
    pub fn new(models: crate::ModelTable, placement: meridian_core::config::Placement) -> Self {
        Self { models, placement }
    }
}

impl meridian_core::served::ModelListing for ServedModels {
    fn served(&self, residency: Option<&str>) -> Vec<meridian_core::served::ServedModel> {
        use meridian_core::served::{ModelOffer, ServedModel};
        let Some(admitted) = self.placement.admitted(residency) else {
            return Vec::new();
        };
        let mut served: Vec<ServedModel> = self
            .models
            .iter()
            .filter_map(|route| {
                let offers: Vec<ModelOffer> = route
                    .targets
                    .iter()
                    .filter(|t| admitted.admits(&t.deployment.config.region))
                    .map(|t| ModelOffer {
                        deployment: t.deployment.config.id.clone(),
                        provider: t.deployment.config.provider,
                        region: t.deployment.config.region.clone(),
                        kind: t.deployment.config.kind,
                        price: t.price.clone(),
                    })
                    .collect();
                (!offers.is_empty()).then(|| ServedModel {
                    id: route.public_id.clone(),
                    owned_by: route.owner().to_owned(),
                    offers,
                })
            })
            .collect();
        served.sort_by(|a, b| a.id.cmp(&b.id));
        served
    }
}
