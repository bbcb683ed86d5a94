//! Amazon VPC Lattice (Lambda target group) events for `lambda-gateway`.
//!
//! [`VpcLattice`] is the source's [`EventSource`]. It serves both event structures a Lambda
//! target group can send: **v2** (`"version": "2.0"`, camelCase, header and query values as
//! lists, a `requestContext` naming the service network, service, target group and caller), claimed
//! by `requestContext.serviceArn` — which API Gateway payload 2.0 events, also `"version": "2.0"`,
//! never carry; and **v1** (snake_case `raw_path`, `method`, `query_string_parameters`,
//! `is_base64_encoded`; repeated headers already comma-joined by Lattice, the last value of a
//! repeated query key kept, no request context), claimed by a top-level `raw_path` and
//! `method`.
//!
//! # What the service sees
//! - the method from `method`;
//! - the path from `path` (v2) or `raw_path` (v1) as the client sent it (`%2F` stays `%2F`), only
//!   bytes that cannot stand in a URI path escaped;
//! - the query: AWS documents `path`/`raw_path` as *including* the query string, so when it holds
//!   a `?` the query after it is taken verbatim (only bytes invalid in a URI escaped) and the
//!   query map is ignored — this keeps the client's order, encoding and v1's repeated keys. Without
//!   a `?` the query is rebuilt from `queryStringParameters` / `query_string_parameters`, whose
//!   values are read as decoded and escaped again (a value given as a list gives one `k=v` per
//!   element, in order; a plain string is one value);
//! - every header, in event order: a v2 list gives repeated headers, a v1 comma-joined value is
//!   passed as it is. Several `cookie` values (a v2 list, as HTTP/2 clients split cookies) are
//!   joined with `"; "` into one `cookie` header, as RFC 9113 §8.2.3 requires before a request is
//!   handed to a generic HTTP application. The client's `host` is kept and none is invented;
//! - the body, base64-decoded when `isBase64Encoded` / `is_base64_encoded` says so;
//! - a [`RequestContext`](lambda_gateway_core::RequestContext) with no source IP — Lattice names
//!   the client only in `X-Forwarded-For`, which the client can write itself, so it is not
//!   trusted — and no request id of Lattice's (the event has none; the facade fills in the Lambda
//!   invocation's);
//! - a [`LatticeContext`] extension, on every request (v1 events carry no request context: all its
//!   fields are then `None`, and [`LatticeContext::version`] says [`EventVersion::V1`]).
//!
//! # The response event
//! `{"statusCode": 201, "statusDescription": "201 Created", "headers": {...}, "body": "...",
//! "isBase64Encoded": false}`. `headers` is always written (`{}` when there are none) and its
//! values are strings: repeated values of a header are joined with `, `, except `Set-Cookie`,
//! which cannot be joined: one cookie is a plain string, several are a JSON array of strings
//! (`"set-cookie": ["a=1; Path=/", "b=2"]`). No cookie is ever dropped or merged. The response
//! event may be at most 6 MB, Lattice's documented limit for a Lambda target (Lambda's own).
//!
//! # Configuring AWS
//! Create a VPC Lattice target group of type **Lambda** (`--type LAMBDA`), register the function
//! (an alias ARN is advisable) and forward a listener rule to it. Choose the event structure
//! with the target group's `lambdaEventStructureVersion` (`--config
//! lambdaEventStructureVersion=V2`): the API defaults to `V1`, the console proposes `V2`. Both
//! work; prefer **V2**, which keeps every header and query value and adds the caller's identity
//! (with an auth policy of type `AWS_IAM`) to [`LatticeContext`].
//!
//! # Uncertain points
//! None of these events was captured from a live service; the formats are AWS's documentation,
//! `aws_lambda_events` and other runtimes' code.
//! - Several `Set-Cookie` as a JSON array: AWS says Lattice "passes all values" of a repeated
//!   response header but documents no syntax; the array is what Hono settled on (after
//!   comma-joining broke cookies). It is not verified against a live service.
//! - Whether the values of the query map are percent-decoded is not documented; they are read
//!   as decoded. This matters only when the path carries no `?`, which the current
//!   documentation says it always does when there is a query.
//! - v2 query values are lists in AWS's docs and `aws_lambda_events`, strings in other runtimes'
//!   models: both are accepted.
//!
//! With the `local` feature, the `local` module is the two front doors the facade's local
//! server emulates, one per event structure (`vpc_lattice` for v2, `vpc_lattice_v1`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod context;
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

pub use context::{EventVersion, LatticeContext, LatticeIdentity};

/// The full typed event of a v1 event structure.
pub use aws_lambda_events::vpc_lattice::VpcLatticeRequestV1 as TypedEventV1;
/// The full typed event of a v2 event structure.
pub use aws_lambda_events::vpc_lattice::VpcLatticeRequestV2 as TypedEventV2;

/// This source's name: `vpc_lattice`.
pub const SOURCE: Source = Source::named("vpc_lattice");

/// The fields a VPC Lattice event is read by (v1 and v2).
pub mod fields {
    lambda_gateway_core::fields! {
        /// Every field below, for the schema.
        pub static FIELDS;
        /// `method`: both versions.
        pub const METHOD: Str = "method";
        /// `headers`: both versions (v1 one comma-joined string per name, v2 a list).
        pub const HEADERS: Map = "headers";
        /// `body`: both versions.
        pub const BODY: Str = "body";
        /// v1 `raw_path`, with the query string: with `method`, what makes a v1 event.
        pub const RAW_PATH: Str = "raw_path";
        /// v1 `query_string_parameters`: the last value of a repeated key.
        pub const QUERY_V1: Map = "query_string_parameters";
        /// v1 `is_base64_encoded`.
        pub const IS_BASE64_ENCODED_V1: Flag = "is_base64_encoded";
        /// v2 `version`: `"2.0"`.
        pub const VERSION: Str = "version";
        /// v2 `path`, with the query string.
        pub const PATH: Str = "path";
        /// v2 `queryStringParameters`: lists or strings.
        pub const QUERY: Map = "queryStringParameters";
        /// v2 `isBase64Encoded`.
        pub const IS_BASE64_ENCODED: Flag = "isBase64Encoded";
        /// v2 `requestContext.serviceNetworkArn`.
        pub const SERVICE_NETWORK_ARN: Str = "requestContext.serviceNetworkArn";
        /// v2 `requestContext.serviceArn`: what makes a v2 event.
        pub const SERVICE_ARN: Str = "requestContext.serviceArn";
        /// v2 `requestContext.targetGroupArn`.
        pub const TARGET_GROUP_ARN: Str = "requestContext.targetGroupArn";
        /// v2 `requestContext.region`.
        pub const REGION: Str = "requestContext.region";
        /// v2 `requestContext.timeEpoch`: only its presence. Lattice sends a string, API
        /// Gateway payload 2.0 a number at the same path: declared a string, every HTTP API
        /// event would carry a (costly, if harmless: not the HTTP source's field) mistyped-field
        /// problem; [`LatticeContext::time_epoch`] reads it on first use instead.
        ///
        /// [`LatticeContext::time_epoch`]: crate::LatticeContext::time_epoch
        pub const TIME_EPOCH: Present = "requestContext.timeEpoch";
        /// v2 `requestContext.identity.sourceVpcArn`.
        pub const SOURCE_VPC_ARN: Str = "requestContext.identity.sourceVpcArn";
        /// v2 `requestContext.identity.type` (`AWS_IAM` with an IAM auth policy).
        pub const IDENTITY_TYPE: Str = "requestContext.identity.type";
        /// v2 `requestContext.identity.principal`.
        pub const PRINCIPAL: Str = "requestContext.identity.principal";
        /// v2 `requestContext.identity.principalOrgID`.
        pub const PRINCIPAL_ORG_ID: Str = "requestContext.identity.principalOrgID";
        /// v2 `requestContext.identity.sessionName`.
        pub const SESSION_NAME: Str = "requestContext.identity.sessionName";
    }
}

use fields::*;

/// The VPC Lattice event source (v1 and v2 event structures).
#[derive(Debug, Clone, Copy, Default)]
pub struct VpcLattice;

impl VpcLattice {
    fn is_v2(event: &SourceView<'_, '_>) -> bool {
        event.get(SERVICE_ARN).is_some()
    }

    fn is_v1(event: &SourceView<'_, '_>) -> bool {
        event.get(RAW_PATH).is_some() && event.get(METHOD).is_some()
    }
}

impl EventSource for VpcLattice {
    fn source(&self) -> Source {
        SOURCE
    }

    fn description(&self) -> &'static str {
        "VPC Lattice (event structures v1 and v2)"
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn claimed_only_with(&self) -> &'static [&'static str] {
        &["requestContext.serviceArn", "raw_path"]
    }

    #[inline]
    fn claim(&self, event: &SourceView<'_, '_>) -> Claim {
        if Self::is_v2(event) || Self::is_v1(event) {
            Claim::Claimed
        } else {
            Claim::Unclaimed
        }
    }

    /// A v2 event's request context without its service ARN, or a v1 `raw_path` without a
    /// `method`.
    fn explain(&self, event: &SourceView<'_, '_>) -> Option<Error> {
        if event.get(SERVICE_NETWORK_ARN).is_some() || event.get(TARGET_GROUP_ARN).is_some() {
            return Some(Error::invalid_event(
                SOURCE,
                "requestContext.serviceArn",
                "missing or not a string; a VPC Lattice v2 event names its service there",
            ));
        }
        if event.get(RAW_PATH).is_some() && event.get(METHOD).is_none() {
            return Some(Error::invalid_event(
                SOURCE,
                "method",
                "missing or not a string; expected an HTTP method such as \"GET\"",
            ));
        }
        None
    }

    /// See the crate docs; in detail:
    ///
    /// - method from `method`;
    /// - path from `path` (v2) or `raw_path` (v1) as the client sent it, escaping only bytes
    ///   that cannot stand in a URI path; the query after its first `?` verbatim (only bytes
    ///   invalid in a URI escaped), the query map then ignored; without a `?`, the query
    ///   rebuilt from `queryStringParameters` (v2) or `query_string_parameters` (v1), values read
    ///   as decoded and escaped again, one `k=v` per list element;
    /// - every header in order; several `cookie` values joined with `"; "` into one; no `host`
    ///   invented;
    /// - body base64-decoded when `isBase64Encoded` (v2) or `is_base64_encoded` (v1);
    /// - no source IP and no request id in the context (the facade fills in the Lambda
    ///   invocation's id); a [`LatticeContext`] extension.
    #[inline]
    fn parse_request(
        &self,
        event: &SourceView<'_, '_>,
        raw_event: Bytes,
    ) -> Result<Request<Body>, Error> {
        request::parse_request(event, raw_event)
    }

    fn encode_head(&self, parts: &Parts, json: &mut JsonWriter, _options: EncodeOptions<'_>) {
        response::encode_head(parts, json);
    }

    /// 6 MB: Lattice's documented limit on a Lambda target's response JSON, which is also
    /// Lambda's own.
    fn response_limit(&self) -> ResponseLimit {
        ResponseLimit::LAMBDA
    }

    #[cfg(feature = "local")]
    fn front_doors(&self) -> &'static [lambda_gateway_core::local::FrontDoor] {
        local::FRONT_DOORS
    }
}

impl TypedSource for VpcLattice {
    /// A [`TypedEventV2`] when the event has `requestContext.serviceArn` (how v2 events are
    /// claimed), a [`TypedEventV1`] otherwise.
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error> {
        if context::is_v2_event(raw_event) {
            lambda_gateway_core::typed_event::<TypedEventV2>(SOURCE, raw_event)
        } else {
            lambda_gateway_core::typed_event::<TypedEventV1>(SOURCE, raw_event)
        }
    }
}

#[cfg(test)]
mod tests;
