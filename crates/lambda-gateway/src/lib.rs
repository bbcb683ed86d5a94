//! Run any [`tower`] HTTP service — an axum `Router`, a `tower::service_fn`, ... — on AWS Lambda
//! behind every HTTP front door: API Gateway REST, HTTP and WebSocket APIs, Function URLs,
//! Application Load Balancers and VPC Lattice. One line to start, no handler rewrite; each
//! event's source is detected.
//!
//! ```no_run
//! use lambda_gateway::Body;
//! use tower::service_fn;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_gateway::BoxError> {
//!     let app = service_fn(|req: http::Request<Body>| async move {
//!         let text = format!("you asked for {}", req.uri().path());
//!         Ok::<_, std::convert::Infallible>(http::Response::new(Body::from(text)))
//!     });
//!     lambda_gateway::run(app).await
//! }
//! ```
//!
//! The service sees the request as a plain server would: origin-form URI (path and query,
//! percent-encoded), every header value in order, the exact body bytes. The gateway's view of the
//! request — source, request id, source IP, stage, and the full typed event on demand — is in the
//! [`RequestContext`] extension.
//!
//! # Feature flags
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `apigw_rest` | API Gateway REST API and HTTP API payload 1.0 events | yes |
//! | `apigw_http` | API Gateway HTTP API payload 2.0 and Function URL events | yes |
//! | `alb` | Application Load Balancer events, both header modes | yes |
//! | `vpc_lattice` | VPC Lattice events, v1 and v2 | yes |
//! | `apigw_websocket` | API Gateway WebSocket API events (`$connect`, messages, `$disconnect`) | yes |
//! | `local` | off Lambda, `run()` serves the app on `http://127.0.0.1:3000` through the same conversion | yes |
//! | `axum` | extractors for axum handlers: [`axum::Claims`], [`axum::PathParameters`], [`axum::LambdaContext`]... | no |
//! | `lambda_http` | handlers written for the `lambda_http` crate, run unchanged: `lambda_http::run` | no |
//! | `opentelemetry` | `lambda_runtime`'s `OpenTelemetryLayer`, for [`Gateway::into_runtime`] | no |

#![cfg_attr(docsrs, feature(doc_cfg))]
// With every source feature off the crate still builds (each event is then answered with an
// error naming the feature to enable), but the per-source code paths are empty.
#![cfg_attr(
    not(any(
        feature = "apigw_rest",
        feature = "apigw_http",
        feature = "alb",
        feature = "vpc_lattice",
        feature = "apigw_websocket"
    )),
    allow(unused, unreachable_code)
)]

#[macro_use]
mod report;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod base_path;
mod detect;
pub mod environment;
mod gateway;
mod invocation;
#[cfg(feature = "lambda_http")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda_http")))]
pub mod lambda_http;
#[cfg(feature = "local")]
mod local;
mod pass_through;
mod registry;
mod run_error;
mod runtime;
mod shutdown;
mod stream;
mod typed;

pub use gateway::Gateway;
/// The `lambda_runtime` crate `run` serves through: its `Context` is each request's extension on
/// Lambda, its layers wrap [`LambdaService`] (see [`Gateway::run_with`]).
pub use lambda_runtime;
pub use run_error::RunError;
pub use runtime::LambdaService;
// What the first snippet needs, so that one dependency line is enough.
pub use http;
pub use lambda_gateway_core::{
    Authorizer, BinaryPolicy, Body, BoxError, Error, Parameters, RequestContext, Source,
};
pub use tower;
pub use typed::{RequestContextExt, TypedEvent};

#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub use local::{LocalLimits, LocalSource, UnknownLocalSource};

/// The `aws_lambda_events` crate, whose types [`TypedEvent`] holds.
#[cfg(any(
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
pub use aws_lambda_events;
#[cfg(feature = "alb")]
#[cfg_attr(docsrs, doc(cfg(feature = "alb")))]
pub use lambda_gateway_alb as alb;
#[cfg(feature = "apigw_http")]
#[cfg_attr(docsrs, doc(cfg(feature = "apigw_http")))]
pub use lambda_gateway_apigw_http as apigw_http;
#[cfg(feature = "apigw_rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "apigw_rest")))]
pub use lambda_gateway_apigw_rest as apigw_rest;
#[cfg(feature = "apigw_websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "apigw_websocket")))]
pub use lambda_gateway_apigw_websocket as apigw_websocket;
#[cfg(feature = "vpc_lattice")]
#[cfg_attr(docsrs, doc(cfg(feature = "vpc_lattice")))]
pub use lambda_gateway_vpc_lattice as vpc_lattice;

use http::{Request, Response};
use tower::Service;

/// Serves `service` on Lambda, detecting each event's source: `Gateway::new(service).run()`.
pub async fn run<S, B>(service: S) -> Result<(), BoxError>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Gateway::new(service).run().await
}
