use bytes::Bytes;
use http::{HeaderMap, Request};
use lambda_gateway_core::{
    Body, Error, RequestContext, Source,
    encoding::{push_decoded_path, push_query_component},
    event::{EventView, Pairs},
    request::{append_header, build_request, decode_body, default_host, parse_method},
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
/// `raw_event` is kept in the [`RequestContext`] for [`parse_typed_event`].
pub fn parse_request(event: &EventView<'_>, raw_event: Bytes) -> Result<Request<Body>, Error> {
    let context = event.request_context.as_ref();
    let method = parse_method(SOURCE, "httpMethod", event.http_method.as_deref())?;
    let path = event.path.as_deref().ok_or_else(|| {
        Error::invalid_event(SOURCE, "path", "missing; expected the request path")
    })?;

    let query = event
        .multi_value_query_string_parameters
        .as_ref()
        .or(event.query_string_parameters.as_ref());
    let mut uri = String::with_capacity(path.len() + 1 + query.map_or(0, |q| q.len() * 16));
    if !path.starts_with('/') {
        uri.push('/');
    }
    push_decoded_path(&mut uri, path);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        uri.push('?');
        push_query(&mut uri, query);
    }

    let (pairs, field) = match (&event.multi_value_headers, &event.headers) {
        (Some(pairs), _) => (Some(pairs), "multiValueHeaders"),
        (None, pairs) => (pairs.as_ref(), "headers"),
    };
    let mut headers = HeaderMap::with_capacity(pairs.map_or(0, Pairs::len));
    for (name, value) in pairs.into_iter().flat_map(Pairs::iter) {
        append_header(&mut headers, SOURCE, field, name, value)?;
    }
    let domain_name = context.and_then(|c| c.domain_name.as_deref());
    default_host(&mut headers, domain_name);

    let body = decode_body(
        SOURCE,
        event.body.as_ref(),
        event.is_base64_encoded.unwrap_or(false),
    )?;

    let owned = |s: Option<&str>| s.map(str::to_owned);
    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_request_id(owned(context.and_then(|c| c.request_id.as_deref())))
        .with_source_ip(owned(
            context
                .and_then(|c| c.identity.as_ref())
                .and_then(|i| i.source_ip.as_deref()),
        ))
        .with_stage(owned(context.and_then(|c| c.stage.as_deref())))
        .with_domain_name(owned(domain_name))
        .with_multi_value(event.multi_value_headers.is_some());
    build_request(SOURCE, method, uri, headers, body, request_context)
}

/// `k=v&k=v...` from decoded pairs.
fn push_query(uri: &mut String, query: &Pairs<'_>) {
    for (i, (key, value)) in query.iter().enumerate() {
        if i > 0 {
            uri.push('&');
        }
        push_query_component(uri, key);
        uri.push('=');
        push_query_component(uri, value);
    }
}

/// Parses the full typed `aws_lambda_events` event from the context's raw event.
pub fn parse_typed_event(context: &RequestContext) -> Result<TypedEvent, Error> {
    serde_json::from_slice(context.raw_event()).map_err(|error| {
        Error::invalid_event(
            SOURCE,
            "",
            format!("cannot be read as a typed REST event: {error}"),
        )
    })
}
