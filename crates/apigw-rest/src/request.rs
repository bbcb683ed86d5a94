use bytes::Bytes;
use http::Request;
use lambda_gateway_core::{
    Body, Error, RequestContext, Source,
    event::{EventView, Pairs},
    request::{
        Form, append_headers, build_request, decode_body, default_host, header_map_with_capacity,
        parse_method, push_query, query_capacity, request_target,
    },
};

use crate::TypedEvent;

const SOURCE: Source = Source::ApiGatewayRest;

/// Converts a REST API (or HTTP API payload 1.0) event into the request the service sees.
///
/// - method from `httpMethod`;
/// - `path` arrives percent-decoded and without the stage: `%`, space, `?`, `#`, non-ASCII and
///   every other byte that cannot stand in a URI path is percent-encoded, so the service's decoded
///   path equals the event's `path` and a `?` never starts a query;
/// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), every value in
///   order, keys and values re-encoded (all but unreserved bytes);
/// - headers from `multiValueHeaders` (else `headers`), every value in order; `host` defaults to
///   `requestContext.domainName`;
/// - body base64-decoded when `isBase64Encoded`.
///
/// `event` must be the view parsed from `raw_event`: header values, the body and the context's
/// strings are zero-copy slices of it. `raw_event` is kept in the [`RequestContext`] for
/// [`parse_typed_event`].
pub fn parse_request(event: &EventView<'_>, raw_event: Bytes) -> Result<Request<Body>, Error> {
    let context = event.request_context.as_ref();
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
        Form::Decoded,
        query_capacity(query, Form::Decoded),
        |target| {
            if let Some(query) = query {
                push_query(target, query, Form::Decoded);
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

    let source_ip = context
        .and_then(|c| c.identity.as_ref())
        .and_then(|i| i.source_ip.as_ref());
    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_request_id_from_event(context.and_then(|c| c.request_id.as_ref()))
        .with_source_ip_from_event(source_ip)
        .with_stage_from_event(context.and_then(|c| c.stage.as_ref()))
        .with_domain_name_from_event(context.and_then(|c| c.domain_name.as_ref()))
        .with_multi_value(event.multi_value_headers.is_some());
    default_host(&mut headers, request_context.domain_name());
    build_request(SOURCE, method, target, headers, body, request_context)
}

/// Parses the full typed `aws_lambda_events` event from the context's raw event.
pub fn parse_typed_event(context: &RequestContext) -> Result<TypedEvent, Error> {
    serde_json::from_slice(context.raw_event()).map_err(|error| {
        Error::invalid_event(
            SOURCE,
            "(event)",
            format!("cannot be read as a typed REST event: {error}"),
        )
    })
}
