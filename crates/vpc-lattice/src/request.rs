use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, header::COOKIE};
use lambda_gateway_core::{
    Body, Error, RequestContext,
    encoding::{push_raw_query, raw_query_len},
    event::{Pairs, RawStr, SourceView},
    request::{
        Form, append_header, append_headers, build_request, decode_body, header_map_with_capacity,
        parse_method, push_query, query_capacity, request_target,
    },
};

use crate::{SOURCE, context::LatticeContext, fields::*};

/// Converts a VPC Lattice event (v1 or v2) into the request the service sees.
///
/// - method from `method`;
/// - path from `path` (v2) or `raw_path` (v1) as the client sent it, escaping only bytes that
///   cannot stand in a URI path; the query after its first `?` verbatim (only bytes invalid in a
///   URI escaped), the query map then ignored; without a `?`, the query rebuilt from
///   `queryStringParameters` (v2) or `query_string_parameters` (v1), values read as decoded and
///   escaped again, one `k=v` per list element;
/// - every header in order; several `cookie` values joined with `"; "` into one; no `host`
///   invented;
/// - body base64-decoded when `isBase64Encoded` (v2) or `is_base64_encoded` (v1);
/// - no source IP (Lattice names the client only in `X-Forwarded-For`, which the client can
///   write) and no request id (the facade fills in the Lambda invocation's) in the context; a
///   [`LatticeContext`] extension, its fields empty for v1.
///
/// `event` must be the view parsed from `raw_event` (values are zero-copy slices of it).
pub(crate) fn parse_request(
    event: &SourceView<'_, '_>,
    raw_event: Bytes,
) -> Result<Request<Body>, Error> {
    let v2 = event.get(SERVICE_ARN).is_some();
    let method = parse_method(SOURCE, "method", event.get(METHOD))?;
    let (path_field, path, query, is_base64) = if v2 {
        (
            "path",
            event.get(PATH),
            event.get(QUERY),
            event.get(IS_BASE64_ENCODED),
        )
    } else {
        (
            "raw_path",
            event.get(RAW_PATH),
            event.get(QUERY_V1),
            event.get(IS_BASE64_ENCODED_V1),
        )
    };
    let path = path.ok_or_else(|| {
        Error::invalid_event(SOURCE, path_field, "missing; expected the request path")
    })?;
    let target = target(&raw_event, path, query);

    let pairs = event.get(HEADERS);
    let mut headers = header_map_with_capacity(pairs.map_or(0, Pairs::len));
    if let Some(pairs) = pairs {
        append_lattice_headers(&mut headers, &raw_event, pairs)?;
    }

    let body = decode_body(
        SOURCE,
        &raw_event,
        event.get(BODY),
        is_base64.unwrap_or(false),
    )?;

    let lattice = if v2 {
        LatticeContext::v2(event, raw_event.clone())
    } else {
        LatticeContext::v1(raw_event.clone())
    };
    let request_context = RequestContext::new(SOURCE, raw_event);
    let mut request = build_request(SOURCE, method, target, headers, body, request_context)?;
    request.extensions_mut().insert(lattice);
    Ok(request)
}

/// The request target: the path (as the client sent it) and the query after its first `?`,
/// verbatim; or, when the path holds no `?`, the path and the query rebuilt from the map
/// (values read as decoded).
fn target(raw_event: &Bytes, path: &RawStr<'_>, params: Option<&Pairs<'_>>) -> Bytes {
    let bytes = path.as_bytes();
    if let Some(at) = bytes.iter().position(|&b| b == b'?') {
        let (before, after) = bytes.split_at(at);
        let query = after.get(1..).unwrap_or_default();
        // a slice of the path: shared with the event only when the path itself was
        let path_only = RawStr(Cow::Borrowed(before));
        let query_len = if query.is_empty() {
            0
        } else {
            1 + raw_query_len(query)
        };
        return request_target(raw_event, &path_only, Form::Raw, query_len, |target| {
            push_raw_query(target, query);
        });
    }
    let params = params.filter(|params| !params.is_empty());
    request_target(
        raw_event,
        path,
        Form::Raw,
        query_capacity(params, Form::Decoded),
        |target| {
            if let Some(params) = params {
                push_query(target, params, Form::Decoded);
            }
        },
    )
}

/// Appends every header pair in order, several `cookie` values joined with `"; "` into one
/// header where the first stood (RFC 9113 §8.2.3: HTTP/2 clients may split cookies into
/// several fields, which are joined before the request reaches a generic HTTP application).
fn append_lattice_headers(
    headers: &mut HeaderMap,
    raw_event: &Bytes,
    pairs: &Pairs<'_>,
) -> Result<(), Error> {
    let cookies = pairs.0.iter().filter(|(name, _)| is_cookie(name)).count();
    if cookies < 2 {
        return append_headers(headers, SOURCE, "headers", raw_event, pairs);
    }
    let mut joined = false;
    for (name, value) in &pairs.0 {
        if !is_cookie(name) {
            append_header(headers, SOURCE, "headers", raw_event, name, value)?;
        } else if !joined {
            joined = true;
            let value = joined_cookies(pairs)?;
            headers.try_append(COOKIE, value).map_err(|_| {
                Error::invalid_request(
                    SOURCE,
                    "headers",
                    "too many headers: more than 32768 values",
                )
            })?;
        }
    }
    Ok(())
}

/// Every non-empty `cookie` value of `pairs`, joined with `"; "`.
fn joined_cookies(pairs: &Pairs<'_>) -> Result<HeaderValue, Error> {
    let values = pairs
        .0
        .iter()
        .filter(|(name, value)| is_cookie(name) && !value.as_bytes().is_empty())
        .map(|(_, value)| value.as_bytes());
    let mut joined = Vec::with_capacity(values.clone().map(|v| v.len() + 2).sum());
    for (i, value) in values.enumerate() {
        if i > 0 {
            joined.extend_from_slice(b"; ");
        }
        joined.extend_from_slice(value);
    }
    HeaderValue::from_maybe_shared(Bytes::from(joined)).map_err(|_| {
        Error::invalid_request(
            SOURCE,
            "headers",
            "the value of header \"cookie\" contains a byte not allowed in a header (CR, LF, NUL or another control)",
        )
    })
}

/// Whether a header name is `cookie`, in any case.
fn is_cookie(name: &RawStr<'_>) -> bool {
    name.as_bytes().eq_ignore_ascii_case(b"cookie")
}
