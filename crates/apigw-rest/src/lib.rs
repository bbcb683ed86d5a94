//! API Gateway REST API proxy events (and HTTP API payload 1.0 events) for `lambda-gateway`.
//!
//! - [`parse_request`]: a REST event → `http::Request` with the decoded `path` escaped back into
//!   a URI path, every query and header value kept in order (`multiValue*` maps win).
//! - [`encode_response`]: an `http::Response` → the REST response event, every header value
//!   (`Set-Cookie` included) in `multiValueHeaders`, and no other keys.
//! - [`parse_typed_event`]: the full `aws_lambda_events` event, parsed on demand.
//!
//! Most users want the `lambda-gateway` facade, which detects the source and calls these.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod request;
mod response;

pub use request::{parse_request, parse_typed_event};
pub use response::encode_response;

/// The full typed event of this source.
pub use aws_lambda_events::apigw::ApiGatewayProxyRequest as TypedEvent;
