//! Application Load Balancer (Lambda target group) events for `lambda-gateway`.
//!
//! - [`parse_request`]: an ALB event → `http::Request`. ALB decodes nothing, so `path` and the
//!   query parameters pass through as the client sent them and the service decodes them exactly
//!   once (`a+b` → `a b`, `%3F` → `?`).
//! - [`encode_response`]: an `http::Response` → the ALB response event, in the request's header
//!   mode (`multiValueHeaders` when the target group has multi-value headers enabled, `headers`
//!   otherwise), with `statusDescription`.
//! - [`parse_typed_event`]: the full `aws_lambda_events` event, parsed on demand.
//!
//! # Single-value mode and `Set-Cookie`
//! Without multi-value headers a name can appear once. Repeated headers are joined with `, `;
//! repeated `Set-Cookie` headers, which cannot be joined, are sent under names differing only in
//! letter case (`set-cookie`, `Set-cookie`, `sEt-cookie`...), which ALB forwards as separate
//! headers. That allows up to 512 cookies per response; further ones are dropped and logged by
//! the facade. Enable multi-value headers on the target group to avoid the trick altogether.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod request;
mod response;

pub use request::{parse_request, parse_typed_event};
pub use response::{MAX_SINGLE_VALUE_COOKIES, encode_response};

/// The full typed event of this source.
pub use aws_lambda_events::alb::AlbTargetGroupRequest as TypedEvent;
