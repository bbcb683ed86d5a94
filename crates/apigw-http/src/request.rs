use bytes::Bytes;
use http::{HeaderValue, Request, header::COOKIE};
use lambda_gateway_core::{
    Body, Error, RequestContext, Source,
    encoding::{push_raw_query, raw_query_len},
    event::{EventView, Pairs, RawStr},
    request::{
        Form, append_headers, build_request, decode_body, default_host, header_map_with_capacity,
        parse_method, push_query, query_capacity, request_target,
    },
};

use crate::TypedEvent;

const SOURCE: Source = Source::ApiGatewayHttp;

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
pub fn parse_request(event: &EventView<'_>, raw_event: Bytes) -> Result<Request<Body>, Error> {
    let context = event.request_context.as_ref();
    let http = context.and_then(|c| c.http.as_ref());
    let method = parse_method(
        SOURCE,
        "requestContext.http.method",
        http.and_then(|h| h.method.as_ref()),
    )?;
    let path = event
        .raw_path
        .as_ref()
        .or_else(|| http.and_then(|h| h.path.as_ref()))
        .ok_or_else(|| {
            Error::invalid_event(SOURCE, "rawPath", "missing; expected the request path")
        })?;

    let raw_query = event
        .raw_query_string
        .as_ref()
        .map(|q| q.as_bytes())
        .filter(|q| !q.is_empty());
    let params = event
        .query_string_parameters
        .as_ref()
        .filter(|params| event.raw_query_string.is_none() && !params.is_empty());
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

    let cookies = event.cookies.as_ref().filter(|c| !c.0.is_empty());
    let pairs = event.headers.as_ref();
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
    let is_base64 = event.is_base64_encoded.unwrap_or(false);
    let body = decode_body(SOURCE, &raw_event, event.body.as_ref(), is_base64)?;

    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_request_id_from_event(context.and_then(|c| c.request_id.as_ref()))
        .with_source_ip_from_event(http.and_then(|h| h.source_ip.as_ref()))
        .with_stage_from_event(context.and_then(|c| c.stage.as_ref()))
        .with_domain_name_from_event(context.and_then(|c| c.domain_name.as_ref()));
    default_host(&mut headers, request_context.domain_name());
    build_request(SOURCE, method, target, headers, body, request_context)
}

/// Whether a header name is `cookie`, in any case.
fn is_cookie(name: &RawStr<'_>) -> bool {
    name.as_bytes().eq_ignore_ascii_case(b"cookie")
}

/// Parses the full typed `aws_lambda_events` event from the context's raw event.
pub fn parse_typed_event(context: &RequestContext) -> Result<TypedEvent, Error> {
    serde_json::from_slice(context.raw_event()).map_err(|error| {
        Error::invalid_event(
            SOURCE,
            "(event)",
            format!("cannot be read as a typed payload 2.0 event: {error}"),
        )
    })
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
        let view: EventView<'_> = serde_json::from_slice(&event).unwrap();
        let error = parse_request(&view, event.clone()).unwrap_err();
        assert!(error.is_client_fault(), "{error}");
        assert!(error.to_string().contains("`cookies`"), "{error}");
    }
}
