//! API Gateway HTTP API payload 2.0 and Lambda Function URL events for `lambda-gateway`.
//!
//! [`ApiGatewayHttp`] is the source's [`EventSource`]: it claims events with `"version": "2.0"`
//! and `requestContext.http`; the request has `rawPath` and `rawQueryString` passed through as
//! sent (only bytes invalid in a URI escaped) and `cookies` joined back into one `cookie`
//! header; the response event has repeated headers comma-joined (none dropped) and every
//! `Set-Cookie` in `cookies`.
//!
//! Function URLs send the same format; [`RequestContext::is_function_url`] tells them apart. An
//! HTTP API Lambda authorizer request (`routeArn`) is refused, never served as a request.
//!
//! With the `local` feature, the `local` module is the two front doors the facade's local
//! server emulates (`apigw_http`, `function_url`).
//!
//! [`RequestContext::is_function_url`]: lambda_gateway_core::RequestContext::is_function_url

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub mod local;
mod request;
mod response;

use std::any::Any;

use bytes::Bytes;
use http::{Request, response::Parts};
use lambda_gateway_core::{
    Body, Claim, ContextFields, EncodeOptions, Error, EventSource, ResponseLimit, Source,
    Streaming, TypedSource,
    event::{Field, SourceView},
    json::JsonWriter,
};

/// The full typed event of this source.
pub use aws_lambda_events::apigw::ApiGatewayV2httpRequest as TypedEvent;

/// This source's name: `apigw_http`.
pub const SOURCE: Source = Source::named("apigw_http");

/// Where payload 2.0 events (HTTP APIs, Function URLs) carry the authorizer, path parameters and
/// stage variables (read on demand: [`RequestContext::parse_authorizer`](lambda_gateway_core::RequestContext::parse_authorizer)).
pub const CONTEXT_FIELDS: ContextFields = ContextFields {
    authorizer: Some("requestContext.authorizer"),
    path_parameters: Some("pathParameters"),
    stage_variables: Some("stageVariables"),
};

/// The fields a payload 2.0 event is read by.
pub mod fields {
    lambda_gateway_core::fields! {
        /// Every field below, for the schema.
        pub static FIELDS;
        /// `version`: `"2.0"`.
        pub const VERSION: Str = "version";
        /// `rawPath`: as the client sent it.
        pub const RAW_PATH: Str = "rawPath";
        /// `rawQueryString`: as the client sent it.
        pub const RAW_QUERY_STRING: Str = "rawQueryString";
        /// `headers`: one comma-joined value per name.
        pub const HEADERS: Map = "headers";
        /// `queryStringParameters`: decoded, used only without `rawQueryString`.
        pub const QUERY: Map = "queryStringParameters";
        /// `cookies`: the request's cookies, `name=value` each.
        pub const COOKIES: List = "cookies";
        /// `body`.
        pub const BODY: Str = "body";
        /// `isBase64Encoded`.
        pub const IS_BASE64_ENCODED: Flag = "isBase64Encoded";
        /// `requestContext.http`: with `version`, what makes a payload 2.0 event.
        pub const HTTP: Present = "requestContext.http";
        /// `requestContext.http.method`.
        pub const METHOD: Str = "requestContext.http.method";
        /// `requestContext.http.path`: the path when `rawPath` is missing.
        pub const HTTP_PATH: Str = "requestContext.http.path";
        /// `requestContext.http.sourceIp`.
        pub const SOURCE_IP: Str = "requestContext.http.sourceIp";
        /// `requestContext.requestId`.
        pub const REQUEST_ID: Str = "requestContext.requestId";
        /// `requestContext.stage`.
        pub const STAGE: Str = "requestContext.stage";
        /// `requestContext.domainName`.
        pub const DOMAIN_NAME: Str = "requestContext.domainName";
        /// `routeArn`: only on Lambda authorizer requests.
        pub const ROUTE_ARN: Present = "routeArn";
        /// `methodArn`: only on Lambda authorizer requests.
        pub const METHOD_ARN: Present = "methodArn";
    }
}

use fields::*;

/// The API Gateway HTTP API payload 2.0 and Function URL event source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayHttp;

impl ApiGatewayHttp {
    fn is_v2(event: &SourceView<'_, '_>) -> bool {
        event.get(VERSION).is_some_and(|v| v.as_bytes() == b"2.0")
    }
}

impl EventSource for ApiGatewayHttp {
    fn source(&self) -> Source {
        SOURCE
    }

    fn description(&self) -> &'static str {
        "API Gateway HTTP API (payload 2.0) and Lambda Function URL"
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn claimed_only_with(&self) -> &'static [&'static str] {
        &["version"]
    }

    #[inline]
    fn claim(&self, event: &SourceView<'_, '_>) -> Claim {
        if !Self::is_v2(event) {
            Claim::Unclaimed
        } else if event.get(ROUTE_ARN) || event.get(METHOD_ARN) {
            Claim::Refused(
                "an API Gateway Lambda authorizer request, which expects an authorization policy, not an HTTP response",
            )
        } else if event.get(HTTP) {
            Claim::Claimed
        } else {
            Claim::Unclaimed
        }
    }

    /// Function URL events only (their domain is `*.lambda-url.<region>.on.aws`): HTTP APIs
    /// cannot stream. The prelude is the payload 2.0 head — `statusCode`, `headers` as strings
    /// (repeated values comma-joined), every `Set-Cookie` in `cookies` (always present) — which
    /// is the shape Function URLs read.
    /// A Function URL in `RESPONSE_STREAM` mode: 200 MB (the first 6 MB at full speed, then
    /// 2 MB/s).
    fn stream_limit(&self) -> Option<ResponseLimit> {
        Some(ResponseLimit {
            bytes: 200 * 1024 * 1024,
            name: "Function URL response stream",
        })
    }

    fn streaming(&self, event: &SourceView<'_, '_>) -> Streaming {
        let function_url = event
            .get(DOMAIN_NAME)
            .is_some_and(|domain| is_function_url_domain(domain.as_bytes()));
        if function_url {
            Streaming::Always
        } else {
            Streaming::Never
        }
    }

    /// A payload 2.0 event (`version` and `rawPath`) without `requestContext.http`.
    fn explain(&self, event: &SourceView<'_, '_>) -> Option<Error> {
        (Self::is_v2(event) && event.get(RAW_PATH).is_some() && !event.get(HTTP)).then(|| {
            Error::invalid_event(
                SOURCE,
                "requestContext.http",
                "missing; a payload 2.0 event carries the method and path there",
            )
        })
    }

    /// See the crate docs; in detail:
    ///
    /// - method from `requestContext.http.method`;
    /// - path from `rawPath` as it is (`%2F` stays `%2F`; a named stage stays as its prefix),
    ///   escaping only bytes that cannot stand in a URI path (a literal space, `?`, `#`,
    ///   non-ASCII, a `%` that starts no escape); `requestContext.http.path` if `rawPath` is
    ///   missing;
    /// - query from `rawQueryString` verbatim, escaping only bytes invalid in a URI; rebuilt
    ///   from `queryStringParameters` only when `rawQueryString` is missing;
    /// - headers from `headers` (one value per name, as the gateway comma-joined them);
    ///   `cookies` become one `cookie` header joined with `"; "`, replacing a `cookie` header
    ///   the event also carries (API Gateway moves the header into `cookies`; Cargo Lambda's
    ///   emulator sends both, and a service must never see the same cookies twice); `host`
    ///   defaults to `requestContext.domainName`;
    /// - body base64-decoded when `isBase64Encoded`.
    #[inline]
    fn parse_request(
        &self,
        event: &SourceView<'_, '_>,
        raw_event: Bytes,
    ) -> Result<Request<Body>, Error> {
        request::parse_request(event, raw_event)
    }

    fn encode_head(&self, parts: &Parts, json: &mut JsonWriter, options: EncodeOptions<'_>) {
        response::encode_head(parts, json, options);
    }

    #[cfg(feature = "local")]
    fn front_doors(&self) -> &'static [lambda_gateway_core::local::FrontDoor] {
        local::FRONT_DOORS
    }
}

impl TypedSource for ApiGatewayHttp {
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error> {
        lambda_gateway_core::typed_event::<TypedEvent>(SOURCE, raw_event)
    }
}

/// Whether a `requestContext.domainName` is a Function URL's (`*.lambda-url.<region>.on.aws`).
pub(crate) fn is_function_url_domain(domain: &[u8]) -> bool {
    domain
        .windows(b".lambda-url.".len())
        .any(|w| w == b".lambda-url.")
}
