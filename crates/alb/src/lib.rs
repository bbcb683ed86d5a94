//! Application Load Balancer (Lambda target group) events for `lambda-gateway`.
//!
//! [`Alb`] is the source's [`EventSource`]: it claims events with `requestContext.elb`. ALB
//! decodes nothing, so `path` and the query parameters pass through as the client sent them
//! and the service decodes them exactly once (`a+b` → `a b`, `%3F` → `?`). The response event
//! is written in the request's header mode (`multiValueHeaders` when the target group has
//! multi-value headers enabled, `headers` otherwise), with `statusDescription`, within ALB's
//! 1 MB limit.
//!
//! # Single-value mode and `Set-Cookie`
//! Without multi-value headers a name can appear once. Repeated headers are joined with `, `;
//! repeated `Set-Cookie` headers, which cannot be joined, are sent under names differing only in
//! letter case (`set-cookie`, `Set-cookie`, `sEt-cookie`...), which ALB forwards as separate
//! headers. That allows up to 512 cookies per response; further ones are dropped and logged by
//! the facade. Enable multi-value headers on the target group to avoid the trick altogether.
//!
//! With the `local` feature, the `local` module is the two front doors the facade's local
//! server emulates, one per header mode (`alb`, `alb_multi`).

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
    Body, Claim, EncodeOptions, Error, EventSource, ResponseLimit, Source, TypedSource,
    event::{Field, SourceView},
    json::JsonWriter,
};

pub use response::MAX_SINGLE_VALUE_COOKIES;

/// The full typed event of this source.
pub use aws_lambda_events::alb::AlbTargetGroupRequest as TypedEvent;

/// This source's name: `alb`.
pub const SOURCE: Source = Source::named("alb");

/// ALB's limit on a Lambda target's response event: 1 MB.
pub const RESPONSE_LIMIT: ResponseLimit = ResponseLimit {
    bytes: 1024 * 1024,
    name: "ALB Lambda target",
};

/// The fields an ALB event is read by.
pub mod fields {
    lambda_gateway_core::fields! {
        /// Every field below, for the schema.
        pub static FIELDS;
        /// `requestContext.elb`: what makes an ALB event.
        pub const ELB: Present = "requestContext.elb";
        /// `httpMethod`.
        pub const HTTP_METHOD: Str = "httpMethod";
        /// `path`: as the client sent it.
        pub const PATH: Str = "path";
        /// `headers`: single-value mode (read only without `multiValueHeaders`).
        pub const HEADERS: Map = "headers", superseded_by "multiValueHeaders";
        /// `multiValueHeaders`: multi-value mode.
        pub const MULTI_VALUE_HEADERS: Map = "multiValueHeaders";
        /// `queryStringParameters`: single-value mode, still encoded.
        pub const QUERY: Map = "queryStringParameters", superseded_by "multiValueQueryStringParameters";
        /// `multiValueQueryStringParameters`: multi-value mode, still encoded.
        pub const MULTI_VALUE_QUERY: Map = "multiValueQueryStringParameters";
        /// `body`.
        pub const BODY: Str = "body";
        /// `isBase64Encoded`.
        pub const IS_BASE64_ENCODED: Flag = "isBase64Encoded";
    }
}

use fields::*;

/// The Application Load Balancer event source.
#[derive(Debug, Clone, Copy, Default)]
pub struct Alb;

impl EventSource for Alb {
    fn source(&self) -> Source {
        SOURCE
    }

    fn description(&self) -> &'static str {
        "Application Load Balancer"
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn claimed_only_with(&self) -> &'static [&'static str] {
        &["requestContext.elb"]
    }

    #[inline]
    fn claim(&self, event: &SourceView<'_, '_>) -> Claim {
        if event.get(ELB) {
            Claim::Claimed
        } else {
            Claim::Unclaimed
        }
    }

    fn multi_value(&self, event: &SourceView<'_, '_>) -> bool {
        event.get(MULTI_VALUE_HEADERS).is_some() || event.get(MULTI_VALUE_QUERY).is_some()
    }

    /// See the crate docs; in detail:
    ///
    /// - method from `httpMethod`; `path` as the client sent it, escaping only bytes that
    ///   cannot stand in a URI path;
    /// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), keys and
    ///   values still encoded as the client sent them, every value in order;
    /// - headers from `multiValueHeaders` (else `headers`), every value in order; no `host` is
    ///   invented when the client sent none (health checks);
    /// - body base64-decoded when `isBase64Encoded`;
    /// - the context's source IP is the right-most `X-Forwarded-For` entry of the last header
    ///   line — the one ALB appended — read as an IP address (a client port and IPv6 brackets
    ///   stripped; no source IP when the entry is not an address); the request id is left for
    ///   the facade to fill with the Lambda invocation's id.
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

    fn response_limit(&self) -> ResponseLimit {
        RESPONSE_LIMIT
    }

    #[cfg(feature = "local")]
    fn front_doors(&self) -> &'static [lambda_gateway_core::local::FrontDoor] {
        local::FRONT_DOORS
    }
}

impl TypedSource for Alb {
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error> {
        lambda_gateway_core::typed_event::<TypedEvent>(SOURCE, raw_event)
    }
}
