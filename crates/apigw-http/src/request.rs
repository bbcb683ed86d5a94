use bytes::Bytes;
use http::{HeaderValue, Request, header::COOKIE};
use lambda_gateway_core::{
    Body, Error, RequestContext,
    encoding::{push_raw_query, raw_query_len},
    event::{Pairs, RawStr, SourceView},
    request::{
        Form, append_headers, build_request, decode_body, default_host, header_map_with_capacity,
        parse_method, push_query, query_capacity, request_target,
    },
};

use crate::{SOURCE, fields::*};

/// Converts an HTTP API payload 2.0 or Function URL event into the request the service sees.
///
/// - method from `requestContext.http.method`;
/// - path from `rawPath` as it is (`%2F` stays `%2F`; a named stage stays as its prefix), escaping
///   only bytes that cannot stand in a URI path (a literal space, `?`, `#`, non-ASCII, a `%` that
///   starts no escape); `requestContext.http.path` if `rawPath` is missing;
/// - query from `rawQueryString` verbatim, escaping only bytes invalid in a URI; rebuilt from
///   `queryStringParameters` only when `rawQueryString` is missing;
/// - headers from `headers` (one value per name, as the gateway comma-joined them); `cookies`
///   become one `cookie` header joined with `"; "`, replacing a `cookie` header the event also
///   carries (API Gateway moves the header into `cookies`; Cargo Lambda's emulator sends both,
///   and a service must never see the same cookies twice); `host` defaults to
///   `requestContext.domainName`;
/// - body base64-decoded when `isBase64Encoded`.
///
/// `event` must be the view parsed from `raw_event` (values are zero-copy slices of it).
pub(crate) fn parse_request(
    event: &SourceView<'_, '_>,
    raw_event: Bytes,
) -> Result<Request<Body>, Error> {
    let method = parse_method(SOURCE, "requestContext.http.method", event.get(METHOD))?;
    let raw_query_string = event.get(RAW_QUERY_STRING);
    let path = event
        .get(RAW_PATH)
        .or_else(|| event.get(HTTP_PATH))
        .ok_or_else(|| {
            Error::invalid_event(SOURCE, "rawPath", "missing; expected the request path")
        })?;

    let raw_query = raw_query_string
        .map(|q| q.as_bytes())
        .filter(|q| !q.is_empty());
    let params = event
        .get(QUERY)
        .filter(|params| raw_query_string.is_none() && !params.is_empty());
    let query_len = match (raw_query, params) {
        (Some(query), _) => 1 + raw_query_len(query),
        (None, params) => query_capacity(params, Form::Decoded),
    };
    let target = request_target(&raw_event, path, Form::Raw, query_len, |target| {
        match (raw_query, params) {
            (Some(query), _) => push_raw_query(target, query),
            (None, Some(params)) => push_query(target, params, Form::Decoded),
            (None, None) => {}
        }
    });

    let cookies = event.get(COOKIES).filter(|c| !c.0.is_empty());
    let pairs = event.get(HEADERS);
    let mut headers = header_map_with_capacity(pairs.map_or(0, Pairs::len) + 1);
    if let Some(pairs) = pairs {
        match cookies {
            // `cookies` is what API Gateway sends; a `cookie` header beside it is a copy, left
            // out where it stands so the other headers keep their order
            Some(_) if pairs.0.iter().any(|(name, _)| is_cookie(name)) => {
                let without_cookie = Pairs(
                    pairs
                        .0
                        .iter()
                        .filter(|(name, _)| !is_cookie(name))
                        .cloned()
                        .collect(),
                );
                append_headers(&mut headers, SOURCE, "headers", &raw_event, &without_cookie)?;
            }
            _ => append_headers(&mut headers, SOURCE, "headers", &raw_event, pairs)?,
        }
    }
    if let Some(cookies) = cookies {
        let mut joined = Vec::with_capacity(cookies.0.iter().map(|c| c.as_bytes().len() + 2).sum());
        for (i, cookie) in cookies.0.iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(b"; ");
            }
            joined.extend_from_slice(cookie.as_bytes());
        }
        let value = HeaderValue::from_maybe_shared(Bytes::from(joined)).map_err(|_| {
            Error::invalid_request(
                SOURCE,
                "cookies",
                "a cookie contains a byte not allowed in a header (CR, LF, NUL or another control)",
            )
        })?;
        headers.try_append(COOKIE, value).map_err(|_| {
            Error::invalid_request(
                SOURCE,
                "cookies",
                "too many headers: more than 32768 values",
            )
        })?;
    }
    let is_base64 = event.get(IS_BASE64_ENCODED).unwrap_or(false);
    let body = decode_body(SOURCE, &raw_event, event.get(BODY), is_base64)?;

    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_context_fields(&crate::CONTEXT_FIELDS)
        .with_request_id_from_event(event.get(REQUEST_ID))
        .with_source_ip_from_event(event.get(SOURCE_IP))
        .with_stage_from_event(event.get(STAGE))
        .with_domain_name_from_event(event.get(DOMAIN_NAME));
    let function_url = request_context
        .domain_name()
        .is_some_and(|domain| crate::is_function_url_domain(domain.as_bytes()));
    let request_context = request_context.with_function_url(function_url);
    default_host(&mut headers, request_context.domain_name());
    build_request(SOURCE, method, target, headers, body, request_context)
}

/// Whether a header name is `cookie`, in any case.
fn is_cookie(name: &RawStr<'_>) -> bool {
    name.as_bytes().eq_ignore_ascii_case(b"cookie")
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName};

    use super::*;

    #[test]
    fn a_cookie_past_the_header_limit_is_refused_without_a_panic() {
        // As many headers as a map holds, then the cookies: one header too many.
        let mut probe = HeaderMap::new();
        let mut limit = 0;
        while probe
            .try_append(
                HeaderName::try_from(format!("x-h{limit}")).unwrap(),
                HeaderValue::from_static("v"),
            )
            .is_ok()
        {
            limit += 1;
        }
        let headers: Vec<String> = (0..limit).map(|i| format!(r#""x-h{i}":"v""#)).collect();
        let event = Bytes::from(format!(
            r#"{{"version":"2.0","rawPath":"/","requestContext":{{"http":{{"method":"GET"}}}},"headers":{{{}}},"cookies":["a=1"]}}"#,
            headers.join(",")
        ));
        let schema = lambda_gateway_core::event::Schema::build(&[FIELDS]).unwrap();
        let error = lambda_gateway_core::event::EventView::parse(&schema, &event, |view| {
            let view = view.unwrap().for_source(schema.binding(0).unwrap());
            parse_request(&view, event.clone()).unwrap_err()
        });
        assert!(error.is_client_fault(), "{error}");
        assert!(error.to_string().contains("`cookies`"), "{error}");
    }
}
