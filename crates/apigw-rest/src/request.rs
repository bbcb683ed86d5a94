use bytes::Bytes;
use http::Request;
use lambda_gateway_core::{
    Body, Error, RequestContext,
    event::SourceView,
    request::{
        Form, build_request, decode_body, default_host, headers_from, parse_method, push_query,
        query_capacity, request_target,
    },
};

use crate::{SOURCE, fields::*};

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
pub(crate) fn parse_request(
    event: &SourceView<'_, '_>,
    raw_event: Bytes,
) -> Result<Request<Body>, Error> {
    let method = parse_method(SOURCE, "httpMethod", event.get(HTTP_METHOD))?;
    let path = event.get(PATH).ok_or_else(|| {
        Error::invalid_event(SOURCE, "path", "missing; expected the request path")
    })?;

    let query = event
        .get(MULTI_VALUE_QUERY)
        .or(event.get(QUERY))
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

    let multi_value_headers = event.get(MULTI_VALUE_HEADERS);
    let mut headers = headers_from(
        SOURCE,
        &raw_event,
        &[
            (multi_value_headers, "multiValueHeaders"),
            (event.get(HEADERS), "headers"),
        ],
    )?;
    let is_base64 = event.get(IS_BASE64_ENCODED).unwrap_or(false);
    let body = decode_body(SOURCE, &raw_event, event.get(BODY), is_base64)?;

    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_context_fields(&crate::CONTEXT_FIELDS)
        .with_request_id_from_event(event.get(REQUEST_ID))
        .with_source_ip_from_event(event.get(SOURCE_IP))
        .with_stage_from_event(event.get(STAGE))
        .with_domain_name_from_event(event.get(DOMAIN_NAME))
        .with_multi_value(multi_value_headers.is_some());
    default_host(&mut headers, request_context.domain_name());
    build_request(SOURCE, method, target, headers, body, request_context)
}
