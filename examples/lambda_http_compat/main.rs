//! A handler written for the `lambda_http` crate, run unchanged through lambda-gateway's
//! `lambda_http` feature: only the `run` line changes (`lambda_http::run` →
//! `lambda_gateway::lambda_http::run`).
//!
//! `cargo run -p lambda-gateway-examples --example lambda_http_compat -- --event FILE` replays
//! one event.

#[path = "../replay.rs"]
mod replay;

use bytes::Bytes;
use lambda_gateway::Gateway;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use serde_json::json;

/// Reads what `lambda_http`'s `RequestExt` offers, as a lambda_http handler does.
async fn handler(request: Request) -> Result<Response<Body>, Error> {
    let name = request
        .query_string_parameters_ref()
        .and_then(|query| query.first("name"))
        .unwrap_or("world")
        .to_owned();
    let pet = request
        .path_parameters_ref()
        .and_then(|params| params.first("petId"))
        .map(str::to_owned);
    let table = request
        .stage_variables_ref()
        .and_then(|vars| vars.first("tableName"))
        .map(str::to_owned);
    let request_id = request
        .lambda_context_ref()
        .map(|context| context.request_id.clone());
    let body = json!({
        "hello": name,
        "pet": pet,
        "table": table,
        "raw_http_path": request.raw_http_path(),
        "lambda_request_id": request_id,
        "has_request_context": request.request_context_ref().is_some(),
    });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), lambda_gateway::BoxError> {
    if let Some(path) = replay::event_file() {
        let gateway = Gateway::new(lambda_gateway::lambda_http::service(service_fn(handler)));
        return replay::replay(path, |event| async move {
            gateway.invoke_bytes(Bytes::from(event)).await
        })
        .await;
    }
    lambda_gateway::lambda_http::run(service_fn(handler)).await
}
