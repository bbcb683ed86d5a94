//! API Gateway HTTP API payload 2.0 and Lambda Function URL events for `lambda-gateway`.
//!
//! - [`parse_request`]: a payload 2.0 event → `http::Request` with `rawPath` and
//!   `rawQueryString` passed through as sent (only bytes invalid in a URI escaped), `cookies`
//!   joined back into one `cookie` header.
//! - [`encode_response`]: an `http::Response` → the payload 2.0 response event, repeated headers
//!   comma-joined (none dropped) and every `Set-Cookie` in `cookies`.
//! - [`parse_typed_event`]: the full `aws_lambda_events` event, parsed on demand.
//!
//! Function URLs send the same format; [`RequestContext::is_function_url`] tells them apart.
//!
//! [`RequestContext::is_function_url`]: lambda_gateway_core::RequestContext::is_function_url

#![cfg_attr(docsrs, feature(doc_cfg))]

mod request;
mod response;

pub use request::{parse_request, parse_typed_event};
pub use response::encode_response;

/// The full typed event of this source.
pub use aws_lambda_events::apigw::ApiGatewayV2httpRequest as TypedEvent;
