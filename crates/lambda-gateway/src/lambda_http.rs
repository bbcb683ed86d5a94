//! Handlers written for the `lambda_http` crate, run unchanged (feature `lambda_http`).
//!
//! Replace `lambda_http::run(handler)` with `lambda_gateway::lambda_http::run(handler)`: the
//! handler still takes a `lambda_http::Request` and answers anything `lambda_http`'s
//! `IntoResponse` takes, and `lambda_http::RequestExt` answers as under `lambda_http` —
//! `query_string_parameters()`, `path_parameters()`, `stage_variables()`, `request_context()`,
//! `lambda_context()`, `raw_http_path()` — filled through its own `with_*` methods from the
//! event's typed form. Paths, queries, headers and bodies keep lambda-gateway's fidelity.
//!
//! ```no_run
//! use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
//!
//! async fn handler(request: Request) -> Result<Response<Body>, Error> {
//!     let name = request
//!         .query_string_parameters_ref()
//!         .and_then(|query| query.first("name"))
//!         .unwrap_or("world");
//!     Ok(Response::new(format!("hello {name}").into()))
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_gateway::BoxError> {
//!     lambda_gateway::lambda_http::run(service_fn(handler)).await
//! }
//! ```
//!
//! # What differs from `lambda_http`
//!
//! | | `lambda_http` | here |
//! |---|---|---|
//! | REST API path on a named stage | `/prod/items` (unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set) | `/items`, as the client asked (strip a base path with `Gateway::base_path`) |
//! | URI | absolute (`https://host/path`), normalized (`..` resolved; a `?` in a decoded REST path starts the query) | origin form (`/path?query`), exactly as the client sent it |
//! | URI query on REST, ALB, VPC Lattice | rebuilt from the parameter maps (hash order, `+` for spaces) | the event's own query, in order |
//! | repeated request headers (REST, ALB, WebSocket) | the last value | every value, in order |
//! | `x-amzn-trace-id` | overwritten with the invocation's | the front door's kept; the invocation's only when absent |
//! | WebSocket events | `GET /{stage}` (a `$connect` with `httpMethod` reads as REST) | `GET /$connect`, `POST /{routeKey}`, `DELETE /$disconnect` |
//! | VPC Lattice v1 events | rejected | served (no `request_context()`: use `request_context_ref()`) |
//! | handler error or panic | the invocation fails (`/error`): the front door answers 502 | a 500 from the gateway, logged (`Gateway::fail_invocation_on_service_error` for the former) |
//! | invalid base64 body, unparsable URI | a panic | a 400 |
//! | concurrency | sequential (`run`) | concurrent under Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`) |
//!
//! Response bodies are the bytes `lambda_http`'s `IntoResponse` produced; whether they travel
//! as text or base64 is the gateway's [`BinaryPolicy`](crate::BinaryPolicy) (the client gets
//! the same bytes).
//!
//! The request-side extensions come from the event's typed `aws_lambda_events` form, read for
//! each request: for API Gateway and ALB events only the fields `RequestExt` answers with — the
//! request context, the query and parameter maps, the path, whether there is a body — declared
//! with `aws_lambda_events`' own types and deserializers, the headers and the body skipped (the
//! gateway has them already); VPC Lattice events (two versions, told apart by their typed parse)
//! whole. That read is what the compatibility costs over the gateway alone (`BENCH_COMPAT=1
//! cargo bench -p lambda-gateway --features lambda_http --bench adapter` times it against
//! `lambda_http`). Reading only those fields, it also fills the extensions of an event whose
//! skipped fields the full typed parse would refuse (a header map or `httpMethod` of the wrong
//! shape, a body that is not a string) — events `lambda_http` itself rejects outright.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use ::lambda_http::{
    Body as LambdaBody, IntoResponse, Request as LambdaRequest, RequestExt,
    aws_lambda_events::query_map::QueryMap, request::RequestContext as LambdaRequestContext,
};
use bytes::Bytes;
use http::{Request, Response};
use lambda_gateway_core::{Body, BoxError, RequestContext};
use lambda_runtime::Diagnostic;
use tower::{Service, ServiceExt};

use crate::{Gateway, RequestContextExt};

/// Serves a `lambda_http` handler on Lambda through lambda-gateway:
/// `Gateway::new(lambda_http::service(handler)).run()`.
///
/// # Errors
/// As [`Gateway::run`].
pub async fn run<S, R, E>(handler: S) -> Result<(), BoxError>
where
    S: Service<LambdaRequest, Response = R, Error = E> + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse,
    E: fmt::Debug + Into<Diagnostic>,
{
    Gateway::new(service(handler)).run().await
}

/// A `lambda_http` handler as a tower service of the gateway's requests, for a [`Gateway`] you
/// configure (`Gateway::new(lambda_http::service(handler)).base_path("/api").run()`).
#[must_use]
pub fn service<S, R, E>(handler: S) -> LambdaHttpService<S>
where
    S: Service<LambdaRequest, Response = R, Error = E> + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse,
    E: fmt::Debug + Into<Diagnostic>,
{
    LambdaHttpService {
        handler: Arc::new(tokio::sync::Mutex::new(handler)),
    }
}

/// A `lambda_http` handler serving the gateway's requests (see [`service`]).
///
/// `lambda_http` handlers need not be `Clone`; the clones of this service (one per concurrent
/// invocation) share the handler, each holding it only while it is made ready and called — the
/// handlers' futures run concurrently.
pub struct LambdaHttpService<S> {
    handler: Arc<tokio::sync::Mutex<S>>,
}

impl<S> Clone for LambdaHttpService<S> {
    fn clone(&self) -> Self {
        Self {
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<S> fmt::Debug for LambdaHttpService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaHttpService").finish_non_exhaustive()
    }
}

impl<S, R, E> Service<Request<Body>> for LambdaHttpService<S>
where
    S: Service<LambdaRequest, Response = R, Error = E> + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse,
    E: fmt::Debug + Into<Diagnostic>,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let handler = Arc::clone(&self.handler);
        Box::pin(async move {
            let request = into_lambda_http(request);
            let answer = {
                let mut handler = handler.lock().await;
                handler
                    .ready()
                    .await
                    .map_err(HandlerError::from_error)?
                    .call(request)
            };
            let response = answer.await.map_err(HandlerError::from_error)?;
            let response = response.into_response().await;
            Ok(response.map(|body| match body {
                LambdaBody::Empty => Body::empty(),
                LambdaBody::Text(text) => Body::from(text),
                LambdaBody::Binary(bytes) => Body::from(bytes),
                other => Body::from(Bytes::copy_from_slice(other.as_ref())),
            }))
        })
    }
}

/// A `lambda_http` handler's error, with what its `Diagnostic` says.
#[derive(Debug)]
struct HandlerError(Diagnostic);

impl HandlerError {
    fn from_error<E: Into<Diagnostic>>(error: E) -> BoxError {
        Box::new(HandlerError(error.into()))
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.error_type, self.0.error_message)
    }
}

impl std::error::Error for HandlerError {}

/// The gateway's request as `lambda_http` would have handed it over: the body in its
/// `Empty`/`Text`/`Binary` form and `RequestExt`'s extensions filled from the typed event.
fn into_lambda_http(request: Request<Body>) -> LambdaRequest {
    let (parts, body) = request.into_parts();
    let typed = parts
        .extensions
        .get::<RequestContext>()
        .and_then(|context| Extras::read(context, parts.uri.query()));
    let bytes = body.into_bytes();
    let body = match &typed {
        // as lambda_http: no `body` is `Empty`; a base64 one `Binary`; any other `Text`
        Some(extras) if !extras.has_body => LambdaBody::Empty,
        Some(extras) if extras.base64 => LambdaBody::Binary(bytes.to_vec()),
        _ if bytes.is_empty() && typed.is_none() => LambdaBody::Empty,
        _ => match String::from_utf8(bytes.to_vec()) {
            Ok(text) => LambdaBody::Text(text),
            Err(error) => LambdaBody::Binary(error.into_bytes()),
        },
    };
    let mut request = Request::from_parts(parts, body);
    if let Some(extras) = typed {
        let extensions = std::mem::take(request.extensions_mut());
        let mut extensions = extensions
            .with_query_string_parameters(extras.query)
            .with_path_parameters(extras.path_parameters)
            .with_stage_variables(extras.stage_variables)
            .with_raw_http_path(extras.raw_path);
        if let Some(context) = extras.request_context {
            extensions = extensions.with_request_context(context);
        }
        *request.extensions_mut() = extensions;
    }
    request
}

/// What `lambda_http` reads from an event beside the request itself.
struct Extras {
    query: QueryMap,
    path_parameters: QueryMap,
    stage_variables: QueryMap,
    request_context: Option<LambdaRequestContext>,
    raw_path: String,
    has_body: bool,
    base64: bool,
}

impl Extras {
    /// Read from the event `context` holds: the fields alone for API Gateway and ALB events,
    /// the typed event whole for the others (see the module docs); `None` for an event
    /// `lambda_http` has no form for, or one that is not of its source's shape.
    #[allow(
        clippy::match_single_binding,
        reason = "without any source feature only the fallback arm is left"
    )]
    fn read(context: &RequestContext, query: Option<&str>) -> Option<Self> {
        match context.source() {
            #[cfg(feature = "apigw_rest")]
            crate::apigw_rest::SOURCE => {
                serde_json::from_slice::<partial::Rest>(context.raw_event())
                    .ok()
                    .map(|rest| rest.into_extras(LambdaRequestContext::ApiGatewayV1))
            }
            #[cfg(feature = "apigw_http")]
            crate::apigw_http::SOURCE => {
                serde_json::from_slice::<partial::Http>(context.raw_event())
                    .ok()
                    .map(Self::from)
            }
            #[cfg(feature = "apigw_websocket")]
            crate::apigw_websocket::SOURCE => {
                serde_json::from_slice::<partial::WebSocket>(context.raw_event())
                    .ok()
                    .map(|ws| ws.into_extras(LambdaRequestContext::WebSocket))
            }
            #[cfg(feature = "alb")]
            crate::alb::SOURCE => serde_json::from_slice::<partial::Alb>(context.raw_event())
                .ok()
                .map(|alb| alb.into_extras(query)),
            _ => Self::of(context.parse_typed_event().ok()?, query),
        }
    }

    /// From the typed event of a VPC Lattice event, as `lambda_http`'s own conversion fills
    /// them; `None` for an event it has no form for (pass-through).
    #[allow(unused_variables, unused_mut)]
    fn of(event: crate::TypedEvent, query: Option<&str>) -> Option<Self> {
        let mut event = Some(event);
        #[cfg(feature = "vpc_lattice")]
        if let Some(lattice) = take::<crate::vpc_lattice::TypedEventV2>(&mut event) {
            let lattice = *lattice;
            return Some(Self {
                query: client_query(query),
                path_parameters: QueryMap::default(),
                stage_variables: QueryMap::default(),
                request_context: Some(LambdaRequestContext::VpcLattice(lattice.request_context)),
                raw_path: lattice.path.unwrap_or_default(),
                has_body: lattice.body.is_some(),
                base64: lattice.is_base64_encoded,
            });
        }
        #[cfg(feature = "vpc_lattice")]
        if let Some(lattice) = take::<crate::vpc_lattice::TypedEventV1>(&mut event) {
            // lambda_http has no form for v1 events: no request context
            return Some(Self {
                query: client_query(query),
                path_parameters: QueryMap::default(),
                stage_variables: QueryMap::default(),
                request_context: None,
                raw_path: lattice.raw_path.clone().unwrap_or_default(),
                has_body: lattice.body.is_some(),
                base64: lattice.is_base64_encoded,
            });
        }
        None
    }
}

/// API Gateway events' fields that `RequestExt` answers with, declared as `aws_lambda_events`
/// declares them (same types, same deserializers) so that they read the same; every other
/// field is skipped unread.
#[cfg(any(
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "apigw_websocket",
    feature = "alb"
))]
mod partial {
    #[cfg(any(
        feature = "apigw_rest",
        feature = "apigw_http",
        feature = "apigw_websocket"
    ))]
    use std::collections::HashMap;

    use ::lambda_http::aws_lambda_events::query_map::QueryMap;
    #[cfg(feature = "apigw_http")]
    use ::lambda_http::aws_lambda_events::query_map::serde::aws_api_gateway_v2;
    #[cfg(any(feature = "apigw_rest", feature = "apigw_websocket"))]
    use ::lambda_http::aws_lambda_events::query_map::serde::standard;
    use serde::{Deserialize, Deserializer, de::IgnoredAny};

    use super::{Extras, LambdaRequestContext};

    /// `aws_lambda_events`' `deserialize_nullish`: `null` reads as the default.
    fn nullish<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Default + Deserialize<'de>,
    {
        Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
    }

    /// `ApiGatewayV2httpRequest`'s fields.
    #[cfg(feature = "apigw_http")]
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Http {
        #[serde(default, alias = "path")]
        raw_path: Option<String>,
        #[serde(default)]
        raw_query_string: Option<String>,
        #[serde(default, deserialize_with = "aws_api_gateway_v2::deserialize_empty")]
        query_string_parameters: QueryMap,
        #[serde(default, deserialize_with = "nullish")]
        path_parameters: HashMap<String, String>,
        request_context: ::lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext,
        #[serde(default, deserialize_with = "nullish")]
        stage_variables: HashMap<String, String>,
        #[serde(default)]
        body: Option<IgnoredAny>,
        #[serde(default)]
        is_base64_encoded: bool,
    }

    #[cfg(feature = "apigw_http")]
    impl From<Http> for Extras {
        fn from(http: Http) -> Self {
            let query = match http.raw_query_string.as_deref() {
                Some(raw) => raw.parse().unwrap_or_default(),
                None => http.query_string_parameters,
            };
            Self {
                query,
                path_parameters: http.path_parameters.into(),
                stage_variables: http.stage_variables.into(),
                request_context: Some(LambdaRequestContext::ApiGatewayV2(http.request_context)),
                raw_path: http.raw_path.unwrap_or_default(),
                has_body: http.body.is_some(),
                base64: http.is_base64_encoded,
            }
        }
    }

    /// The fields of the REST-shaped requests, `ApiGatewayProxyRequest` and
    /// `ApiGatewayWebsocketProxyRequest` (which declare them alike), with the request context
    /// `C` of each.
    #[cfg(any(feature = "apigw_rest", feature = "apigw_websocket"))]
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct ProxyShape<C> {
        #[serde(default)]
        path: Option<String>,
        #[serde(default, deserialize_with = "standard::deserialize_empty")]
        query_string_parameters: QueryMap,
        #[serde(default, deserialize_with = "standard::deserialize_empty")]
        multi_value_query_string_parameters: QueryMap,
        #[serde(default, deserialize_with = "nullish")]
        path_parameters: HashMap<String, String>,
        #[serde(default, deserialize_with = "nullish")]
        stage_variables: HashMap<String, String>,
        request_context: C,
        #[serde(default)]
        body: Option<IgnoredAny>,
        #[serde(default, deserialize_with = "nullish")]
        is_base64_encoded: bool,
    }

    /// A REST API event's fields.
    #[cfg(feature = "apigw_rest")]
    pub(super) type Rest =
        ProxyShape<::lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext>;

    /// A WebSocket API event's fields.
    #[cfg(feature = "apigw_websocket")]
    pub(super) type WebSocket =
        ProxyShape<::lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequestContext>;

    #[cfg(any(feature = "apigw_rest", feature = "apigw_websocket"))]
    impl<C> ProxyShape<C> {
        /// What `lambda_http` fills, its request context made by `context` (the variant).
        pub(super) fn into_extras(self, context: fn(C) -> LambdaRequestContext) -> Extras {
            Extras {
                // the multi-value map when it has anything, as `lambda_http` takes it
                query: if self.multi_value_query_string_parameters.is_empty() {
                    self.query_string_parameters
                } else {
                    self.multi_value_query_string_parameters
                },
                path_parameters: self.path_parameters.into(),
                stage_variables: self.stage_variables.into(),
                request_context: Some(context(self.request_context)),
                raw_path: self.path.unwrap_or_default(),
                has_body: self.body.is_some(),
                base64: self.is_base64_encoded,
            }
        }
    }

    /// `AlbTargetGroupRequest`'s fields (the query is the request's: see `client_query`).
    #[cfg(feature = "alb")]
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Alb {
        #[serde(default)]
        path: Option<String>,
        request_context: ::lambda_http::aws_lambda_events::alb::AlbTargetGroupRequestContext,
        #[serde(default, deserialize_with = "nullish")]
        is_base64_encoded: bool,
        #[serde(default)]
        body: Option<IgnoredAny>,
    }

    #[cfg(feature = "alb")]
    impl Alb {
        pub(super) fn into_extras(self, query: Option<&str>) -> Extras {
            Extras {
                query: super::client_query(query),
                path_parameters: QueryMap::default(),
                stage_variables: QueryMap::default(),
                request_context: Some(LambdaRequestContext::Alb(self.request_context)),
                raw_path: self.path.unwrap_or_default(),
                has_body: self.body.is_some(),
                base64: self.is_base64_encoded,
            }
        }
    }
}

/// ALB and VPC Lattice: their maps hold the query as the client sent it, encoded; parsed once
/// from the request's query, as `lambda_http` decodes them once.
#[cfg(any(feature = "alb", feature = "vpc_lattice"))]
fn client_query(query: Option<&str>) -> QueryMap {
    query.unwrap_or_default().parse().unwrap_or_default()
}

/// The typed event as a `T`, taken out of `event` when it is one.
#[cfg(feature = "vpc_lattice")]
fn take<T: 'static>(event: &mut Option<crate::TypedEvent>) -> Option<Box<T>> {
    match event.take()?.downcast::<T>() {
        Ok(typed) => Some(typed),
        Err(other) => {
            *event = Some(other);
            None
        }
    }
}
