//! API Gateway REST API proxy events (and HTTP API payload 1.0 events) for `lambda-gateway`.
//!
//! [`ApiGatewayRest`] is the source's [`EventSource`]: it claims events with `httpMethod` and a
//! `requestContext`; the request has the decoded `path` escaped back into a URI path, every
//! query and header value in order (`multiValue*` maps win); the response event has every
//! header value (`Set-Cookie` included) in `multiValueHeaders`, and no other keys.
//!
//! It refuses what only looks like a REST event: API Gateway Lambda authorizer requests
//! (`methodArn`; a REQUEST authorizer carries `httpMethod` and a `requestContext`) and
//! WebSocket events (`requestContext.connectionId` / `eventType`; a `$connect` may carry
//! `httpMethod`), so that they are never served as HTTP requests.
//!
//! Most users want the `lambda-gateway` facade, which registers this source.
//!
//! With the `local` feature, the `local` module is the REST API front door the facade's local
//! server emulates (`apigw_rest`).

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
    Body, Claim, ContextFields, EncodeOptions, Error, EventSource, Source, Streaming, TypedSource,
    event::{Field, SourceView},
    json::JsonWriter,
};

/// The full typed event of this source.
pub use aws_lambda_events::apigw::ApiGatewayProxyRequest as TypedEvent;

/// This source's name: `apigw_rest`.
pub const SOURCE: Source = Source::named("apigw_rest");

/// Where REST API (and HTTP API payload 1.0) events carry the authorizer, path parameters and
/// stage variables (read on demand: [`RequestContext::parse_authorizer`](lambda_gateway_core::RequestContext::parse_authorizer)).
pub const CONTEXT_FIELDS: ContextFields = ContextFields {
    authorizer: Some("requestContext.authorizer"),
    path_parameters: Some("pathParameters"),
    stage_variables: Some("stageVariables"),
};

/// The fields a REST (or HTTP API payload 1.0) event is read by.
pub mod fields {
    lambda_gateway_core::fields! {
        /// Every field below, for the schema.
        pub static FIELDS;
        /// `httpMethod`.
        pub const HTTP_METHOD: Str = "httpMethod";
        /// `path`: decoded, without the stage.
        pub const PATH: Str = "path";
        /// `headers`: read only without `multiValueHeaders`, which repeats it.
        pub const HEADERS: Map = "headers", superseded_by "multiValueHeaders";
        /// `multiValueHeaders`: every header value, in order.
        pub const MULTI_VALUE_HEADERS: Map = "multiValueHeaders";
        /// `queryStringParameters`: read only without `multiValueQueryStringParameters`.
        pub const QUERY: Map = "queryStringParameters", superseded_by "multiValueQueryStringParameters";
        /// `multiValueQueryStringParameters`: every query value, in order.
        pub const MULTI_VALUE_QUERY: Map = "multiValueQueryStringParameters";
        /// `body`.
        pub const BODY: Str = "body";
        /// `isBase64Encoded`.
        pub const IS_BASE64_ENCODED: Flag = "isBase64Encoded";
        /// `requestContext`: with `httpMethod`, what makes a REST event.
        pub const REQUEST_CONTEXT: Present = "requestContext";
        /// `requestContext.requestId`.
        pub const REQUEST_ID: Str = "requestContext.requestId";
        /// `requestContext.stage`.
        pub const STAGE: Str = "requestContext.stage";
        /// `requestContext.domainName`.
        pub const DOMAIN_NAME: Str = "requestContext.domainName";
        /// `requestContext.identity.sourceIp`.
        pub const SOURCE_IP: Str = "requestContext.identity.sourceIp";
        /// `methodArn`: only on Lambda authorizer requests.
        pub const METHOD_ARN: Present = "methodArn";
        /// `requestContext.connectionId`: only on WebSocket events.
        pub const CONNECTION_ID: Present = "requestContext.connectionId";
        /// `requestContext.eventType`: only on WebSocket events.
        pub const EVENT_TYPE: Present = "requestContext.eventType";
        /// `resource`: the API's resource template (`/items/{id}`), which names a route for
        /// response streaming.
        pub const RESOURCE: Str = "resource";
        /// `version`: `"1.0"` on HTTP API payload 1.0 events, absent on REST events.
        pub const VERSION: Str = "version";
    }
}

use fields::*;

/// The API Gateway REST API (and HTTP API payload 1.0) event source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayRest;

impl EventSource for ApiGatewayRest {
    fn source(&self) -> Source {
        SOURCE
    }

    fn description(&self) -> &'static str {
        "API Gateway REST API (and HTTP API payload 1.0)"
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn claimed_only_with(&self) -> &'static [&'static str] {
        &[
            "httpMethod",
            "methodArn",
            "requestContext.connectionId",
            "requestContext.eventType",
        ]
    }

    #[inline]
    fn claim(&self, event: &SourceView<'_, '_>) -> Claim {
        if event.get(METHOD_ARN) {
            Claim::Refused(
                "an API Gateway Lambda authorizer request, which expects an authorization policy, not an HTTP response",
            )
        } else if event.get(CONNECTION_ID) || event.get(EVENT_TYPE) {
            Claim::Refused("an API Gateway WebSocket event, not a REST API request")
        } else if event.get(HTTP_METHOD).is_some() && event.get(REQUEST_CONTEXT) {
            Claim::Claimed
        } else {
            Claim::Unclaimed
        }
    }

    fn multi_value(&self, event: &SourceView<'_, '_>) -> bool {
        event.get(MULTI_VALUE_HEADERS).is_some()
    }

    /// A REST API streams the methods whose integration says `responseTransferMode: STREAM`,
    /// which nothing in the event tells: the deployment lists them as `METHOD resource`
    /// (`GET /items/{id}`). HTTP API payload 1.0 events (`"version": "1.0"`) never stream. The
    /// prelude is the head: `statusCode` and `multiValueHeaders`, keys REST streaming accepts.
    fn streaming(&self, event: &SourceView<'_, '_>) -> Streaming {
        if event.get(VERSION).is_some() {
            return Streaming::Never;
        }
        let method = event.get(HTTP_METHOD);
        let resource = event.get(RESOURCE);
        match (method, resource) {
            (Some(method), Some(resource)) => Streaming::IfRouteListed(format!(
                "{} {}",
                String::from_utf8_lossy(method.as_bytes()),
                String::from_utf8_lossy(resource.as_bytes())
            )),
            _ => Streaming::Never,
        }
    }

    /// See the crate docs; in detail:
    ///
    /// - method from `httpMethod`;
    /// - `path` arrives percent-decoded and without the stage: `%`, space, `?`, `#`, non-ASCII
    ///   and every other byte that cannot stand in a URI path is percent-encoded, so the
    ///   service's decoded path equals the event's `path` and a `?` never starts a query;
    /// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), every
    ///   value in order, keys and values re-encoded (all but unreserved bytes);
    /// - headers from `multiValueHeaders` (else `headers`), every value in order; `host`
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

impl TypedSource for ApiGatewayRest {
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error> {
        lambda_gateway_core::typed_event::<TypedEvent>(SOURCE, raw_event)
    }
}
