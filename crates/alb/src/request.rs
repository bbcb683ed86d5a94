use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderName, Request};
use lambda_gateway_core::{
    Body, Error, RequestContext, Source,
    event::{EventView, Pairs, RawStr},
    request::{
        Form, append_headers, build_request, decode_body, header_map_with_capacity, parse_method,
        push_query, query_capacity, request_target,
    },
};

use crate::TypedEvent;

const SOURCE: Source = Source::Alb;

/// A constant name: looking a `&str` up parses and hashes it on every request.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Converts an ALB target-group event (either header mode) into the request the service sees.
///
/// - method from `httpMethod`; `path` as the client sent it, escaping only bytes that cannot
///   stand in a URI path;
/// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), keys and values
///   still encoded as the client sent them, every value in order;
/// - headers from `multiValueHeaders` (else `headers`), every value in order; no `host` is
///   invented when the client sent none (health checks);
/// - body base64-decoded when `isBase64Encoded`;
/// - the context's source IP is the right-most `X-Forwarded-For` entry — the one ALB appended —
///   and the request id is left for the facade to fill with the Lambda invocation's id.
///
/// `event` must be the view parsed from `raw_event` (values are zero-copy slices of it).
pub fn parse_request(event: &EventView<'_>, raw_event: Bytes) -> Result<Request<Body>, Error> {
    let method = parse_method(SOURCE, "httpMethod", event.http_method.as_ref())?;
    let path = event.path.as_ref().ok_or_else(|| {
        Error::invalid_event(SOURCE, "path", "missing; expected the request path")
    })?;

    let query = event
        .multi_value_query_string_parameters
        .as_ref()
        .or(event.query_string_parameters.as_ref())
        .filter(|q| !q.is_empty());
    let target = request_target(
        &raw_event,
        path,
        Form::Raw,
        query_capacity(query, Form::Raw),
        |target| {
            if let Some(query) = query {
                push_query(target, query, Form::Raw);
            }
        },
    );

    let (pairs, field) = match (&event.multi_value_headers, &event.headers) {
        (Some(pairs), _) => (Some(pairs), "multiValueHeaders"),
        (None, pairs) => (pairs.as_ref(), "headers"),
    };
    let mut headers = header_map_with_capacity(pairs.map_or(0, Pairs::len));
    if let Some(pairs) = pairs {
        append_headers(&mut headers, SOURCE, field, &raw_event, pairs)?;
    }

    let is_base64 = event.is_base64_encoded.unwrap_or(false);
    let body = decode_body(SOURCE, &raw_event, event.body.as_ref(), is_base64)?;

    // a slice of a header value, which shares the event's buffer: kept as a range of it
    let source_ip = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(|ip| RawStr(Cow::Borrowed(ip.as_bytes())));
    let multi_value =
        event.multi_value_headers.is_some() || event.multi_value_query_string_parameters.is_some();
    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_source_ip_from_event(source_ip.as_ref())
        .with_multi_value(multi_value);
    build_request(SOURCE, method, target, headers, body, request_context)
}

/// Parses the full typed `aws_lambda_events` event from the context's raw event.
pub fn parse_typed_event(context: &RequestContext) -> Result<TypedEvent, Error> {
    serde_json::from_slice(context.raw_event()).map_err(|error| {
        Error::invalid_event(
            SOURCE,
            "(event)",
            format!("cannot be read as a typed ALB event: {error}"),
        )
    })
}
