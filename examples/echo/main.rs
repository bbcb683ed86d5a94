//! The echo contract, driven by outside tools: keep its behaviour exactly.
//!
//! For every request it answers 200, `content-type: application/json`, body
//! `{"method", "uri", "path", "query", "headers": [[name, value], ...], "body_base64", "source",
//! "context": {"request_id", "source_ip", "stage", "websocket", "lattice", "authorizer",
//! "path_parameters", "stage_variables"}, "lambda"}`:
//! - `uri` is the full URI string the service saw (origin form: path and query), `path` the URI
//!   path still percent-encoded, `query` the URI query or `null`;
//! - `headers` lists every value in order (grouped by name, as `http::HeaderMap` keeps them);
//!   values that are not UTF-8 are read as ISO-8859-1;
//! - `source` is `apigw_rest`, `apigw_http`, `alb`, `vpc_lattice`, `apigw_websocket` or
//!   `pass_through`; `context` comes from the gateway's `RequestContext` (`null` where the source
//!   has no such field; ALB's and VPC Lattice's `request_id` is the Lambda invocation's id);
//! - `context.authorizer` is the event's authorizer object as it is (`requestContext.authorizer`:
//!   JWT `claims` and `scopes`, a Lambda authorizer's context, the `iam` caller), `null` when the
//!   route has none and on sources without authorizers (ALB, VPC Lattice);
//!   `context.path_parameters` and `context.stage_variables` are objects of strings (`{}` when
//!   there are none);
//! - `context.websocket` is `{"connection_id", "route_key", "event_type"}` for API Gateway
//!   WebSocket events (`event_type` `CONNECT`, `MESSAGE` or `DISCONNECT`), `null` otherwise;
//!   `context.lattice` is `{"service_arn", "target_group_arn", "source_vpc_arn"}` for VPC Lattice
//!   events (each `null` where the event has none: v1 events carry none), `null` otherwise;
//! - `lambda` is `{"request_id", "deadline_ms", "invoked_function_arn", "trace_id"}` from the
//!   invocation's Lambda context (`trace_id` `null` when the invocation has none), `null` offline
//!   (the local server, `--event` replays);
//! - with `LAMBDA_GATEWAY_PASS_THROUGH_PATH` set (as for any app using `run()`), an event no HTTP
//!   source claims is echoed as the `POST` the service saw, and the echo's body is the
//!   invocation's result.
//!
//! Switches, by request header (on every HTTP source):
//! - `x-echo-response: {"status": N, "headers": [[name, value], ...], "body_base64": "..."}` —
//!   answer exactly that (a value that is not such JSON answers 400 saying why);
//! - `x-echo-error` — the service returns `Err` (the adapter answers 500);
//! - `x-echo-panic` — the handler panics (the adapter answers 500 and serves the next event);
//! - `x-echo-sleep-ms: N` (0 to 10000) — wait N ms before answering (a concurrency probe; any
//!   other value answers 400 saying why).
//!
//! It serves invocations concurrently where Lambda hands them out so (`AWS_LAMBDA_MAX_CONCURRENCY`
//! above 1, Lambda Managed Instances), each worker with its own clone of the service, a
//! `tower::util::BoxCloneService` (`Clone + Send`, not `Sync`). On SIGTERM (or Ctrl-C locally)
//! it prints `echo: shutdown hook ran` to stderr and exits 0.
//!
//! Offline: `cargo run --example echo -- --event FILE` prints the response event.

#[path = "../replay.rs"]
mod replay;

use std::{borrow::Cow, time::Duration};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header::CONTENT_TYPE};
use lambda_gateway::{
    Body, BoxError, Gateway, RequestContext, apigw_websocket::WebSocketContext,
    vpc_lattice::LatticeContext,
};
use serde_json::{Value, json};
use tower::{service_fn, util::BoxCloneService};

fn text(value: &HeaderValue) -> Cow<'_, str> {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
    }
}

#[allow(
    clippy::panic,
    reason = "the x-echo-panic switch is part of the echo contract"
)]
async fn echo(request: Request<Body>) -> Result<Response<Body>, BoxError> {
    if request.headers().contains_key("x-echo-panic") {
        panic!("x-echo-panic: the echo handler panics on request");
    }
    if request.headers().contains_key("x-echo-error") {
        return Err("x-echo-error: the echo service fails on request".into());
    }
    if let Some(value) = request.headers().get("x-echo-sleep-ms") {
        match sleep_ms(value) {
            Ok(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            Err(reason) => {
                let mut response =
                    Response::new(Body::from(format!("bad x-echo-sleep-ms: {reason}")));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                return Ok(response);
            }
        }
    }
    if let Some(spec) = request.headers().get("x-echo-response") {
        return Ok(scripted(spec).unwrap_or_else(|reason| {
            let mut response = Response::new(Body::from(format!("bad x-echo-response: {reason}")));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }));
    }

    let context = request.extensions().get::<RequestContext>();
    let websocket = request.extensions().get::<WebSocketContext>().map(|ws| {
        json!({
            "connection_id": ws.connection_id(),
            "route_key": ws.route_key(),
            "event_type": ws.event_type().as_str(),
        })
    });
    let lattice = request.extensions().get::<LatticeContext>().map(|lattice| {
        json!({
            "service_arn": lattice.service_arn(),
            "target_group_arn": lattice.target_group_arn(),
            "source_vpc_arn": lattice.identity().source_vpc_arn(),
        })
    });
    let (authorizer, path_parameters, stage_variables) = match context.map(gateway_context) {
        Some(Ok(fields)) => fields,
        Some(Err(error)) => {
            let mut response = Response::new(Body::from(format!("unreadable event: {error}")));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return Ok(response);
        }
        None => (Value::Null, json!({}), json!({})),
    };
    let lambda = request
        .extensions()
        .get::<lambda_gateway::lambda_runtime::Context>()
        .map(|lambda| {
            json!({
                "request_id": lambda.request_id,
                "deadline_ms": lambda.deadline,
                "invoked_function_arn": lambda.invoked_function_arn,
                "trace_id": lambda.xray_trace_id,
            })
        });
    let headers: Vec<Value> = request
        .headers()
        .iter()
        .map(|(name, value)| json!([name.as_str(), text(value)]))
        .collect();
    let body = json!({
        "method": request.method().as_str(),
        "uri": request.uri().to_string(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "headers": headers,
        "body_base64": STANDARD.encode(request.body().as_bytes()),
        "source": context.map(|c| c.source().as_str()),
        "context": {
            "request_id": context.and_then(RequestContext::request_id),
            "source_ip": context.and_then(RequestContext::source_ip),
            "stage": context.and_then(RequestContext::stage),
            "websocket": websocket,
            "lattice": lattice,
            "authorizer": authorizer,
            "path_parameters": path_parameters,
            "stage_variables": stage_variables,
        },
        "lambda": lambda,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// The authorizer object (`null` without one), the path parameters and the stage variables
/// (objects, `{}` when there are none), as the event carries them.
fn gateway_context(
    context: &RequestContext,
) -> Result<(Value, Value, Value), lambda_gateway::Error> {
    let authorizer = context
        .parse_authorizer()?
        .map_or(Value::Null, |authorizer| {
            Value::Object(authorizer.as_json().clone())
        });
    let object = |parameters: lambda_gateway::Parameters| {
        Value::Object(
            parameters
                .iter()
                .map(|(name, value)| (name.to_owned(), Value::from(value)))
                .collect(),
        )
    };
    Ok((
        authorizer,
        object(context.parse_path_parameters()?),
        object(context.parse_stage_variables()?),
    ))
}

/// The wait an `x-echo-sleep-ms` header asks for: a whole number of milliseconds up to 10 s.
fn sleep_ms(value: &HeaderValue) -> Result<u64, String> {
    let text = value.to_str().map_err(|_| "not ASCII".to_owned())?;
    match text.trim().parse::<u64>() {
        Ok(ms) if ms <= 10_000 => Ok(ms),
        _ => Err(format!(
            "{text:?}; expected a whole number of milliseconds from 0 to 10000"
        )),
    }
}

/// The response an `x-echo-response` header asks for.
fn scripted(spec: &HeaderValue) -> Result<Response<Body>, String> {
    let spec: Value =
        serde_json::from_slice(spec.as_bytes()).map_err(|e| format!("not JSON: {e}"))?;
    let status = spec
        .get("status")
        .and_then(Value::as_u64)
        .ok_or("expected a numeric \"status\"")?;
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("\"status\" is not an HTTP status")?;
    let body = match spec.get("body_base64").and_then(Value::as_str) {
        Some(b64) => STANDARD
            .decode(b64)
            .map_err(|e| format!("\"body_base64\" is not base64: {e}"))?,
        None => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for pair in spec
        .get("headers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let (Some(name), Some(value)) = (
            pair.get(0).and_then(Value::as_str),
            pair.get(1).and_then(Value::as_str),
        ) else {
            return Err("expected \"headers\" as [[name, value], ...]".into());
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .init();
    // Boxed, as an app that picks its service at run time holds it: `run` needs the service to
    // be `Clone + Send`, not `Sync` (a `BoxCloneService` is not `Sync`); with
    // `AWS_LAMBDA_MAX_CONCURRENCY` above 1, each concurrent worker owns a clone.
    let app: BoxCloneService<Request<Body>, Response<Body>, BoxError> =
        BoxCloneService::new(service_fn(echo));
    if let Some(path) = replay::event_file() {
        let gateway = Gateway::new(app);
        return replay::replay(path, |event| async move {
            gateway.invoke_bytes(Bytes::from(event)).await
        })
        .await;
    }
    Gateway::new(app)
        .on_shutdown(async { eprintln!("echo: shutdown hook ran") })
        .run()
        .await
}
