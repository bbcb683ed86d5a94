//! Building the `http::Request` every source crate hands to the service.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};

use crate::{
    Body, Error, RequestContext, Source,
    encoding::{
        decode_base64, decoded_path_len, push_decoded_path, push_query_component, push_raw_path,
        push_raw_query, query_component_len, raw_path_len, raw_query_len,
    },
    event::{Pairs, RawStr},
};

/// Where `inner` starts inside `outer`, if it lies wholly within it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start.checked_add(inner.len())? <= outer.len()).then_some(start)
}

/// A view field's bytes as [`Bytes`]: a zero-copy slice of `event` when the field was borrowed
/// from it (no JSON escapes), a copy otherwise.
#[inline]
pub fn share(event: &Bytes, field: &RawStr<'_>) -> Bytes {
    let bytes = field.as_bytes();
    match offset_in(event, bytes) {
        Some(start) if field.is_borrowed() => event.slice(start..start + bytes.len()),
        _ => Bytes::copy_from_slice(bytes),
    }
}

/// How a source sends a path or query: as the client wrote it, or decoded by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As sent by the client, percent escapes kept (payload 2.0 `rawPath` and
    /// `rawQueryString`, ALB `path` and parameters): only what cannot stand in a URI is
    /// escaped (see [`push_raw_path`], [`push_raw_query`]).
    Raw,
    /// Already percent-decoded by the gateway (REST `path` and parameters, payload 2.0
    /// `queryStringParameters`): written escaped again (see [`push_decoded_path`],
    /// [`push_query_component`]).
    Decoded,
}

/// The request target (`path?query`) for `Uri`: a zero-copy slice of the event when the path
/// stands in a URI as it is (it starts with `/`, nothing needs escaping, no JSON escape was
/// resolved) and there is no query — most health checks and plain `GET`s; otherwise a buffer
/// written once at its exact size (escapes are counted first, so it never grows), the path by
/// its form's rule and, when `query_len` (the query's exact length with its `?`, as
/// [`query_capacity`] or the `*_len` helpers of [`crate::encoding`] count it; 0 for none) is
/// not 0, a `?` and what `push_query` writes.
pub fn request_target(
    event: &Bytes,
    path: &RawStr<'_>,
    form: Form,
    query_len: usize,
    push_query: impl FnOnce(&mut Vec<u8>),
) -> Bytes {
    let bytes = path.as_bytes();
    let path_len = match form {
        Form::Raw => raw_path_len(bytes),
        Form::Decoded => decoded_path_len(bytes),
    };
    let slash = !bytes.starts_with(b"/");
    if query_len == 0 && !slash && path_len == bytes.len() && path.is_borrowed() {
        if let Some(start) = offset_in(event, bytes) {
            return event.slice(start..start + bytes.len());
        }
    }
    let mut target = Vec::with_capacity(usize::from(slash) + path_len + query_len);
    if slash {
        target.push(b'/');
    }
    match form {
        Form::Raw => push_raw_path(&mut target, bytes),
        Form::Decoded => push_decoded_path(&mut target, bytes),
    }
    if query_len > 0 {
        target.push(b'?');
        push_query(&mut target);
    }
    debug_assert_eq!(
        target.len(),
        usize::from(slash) + path_len + query_len,
        "the request target's length was miscounted"
    );
    // `Bytes::from(Vec)` allocates a shared header unless the vector is exactly full; with the
    // exact length counted above, this conversion does not reallocate.
    Bytes::from(target.into_boxed_slice())
}

/// The exact length of `?k=v&k=v` written from query pairs in `form`; 0 for no pairs.
#[inline]
pub fn query_capacity(query: Option<&Pairs<'_>>, form: Form) -> usize {
    let len = match form {
        Form::Raw => raw_query_len,
        Form::Decoded => query_component_len,
    };
    query.filter(|q| !q.is_empty()).map_or(0, |q| {
        q.iter()
            .map(|(k, v)| len(k.as_bytes()) + len(v.as_bytes()) + 2)
            .sum()
    })
}

/// Writes `k=v&k=v` from query pairs in `form` (the `?` is the caller's): exactly
/// [`query_capacity`] bytes, less the `?`.
#[inline]
pub fn push_query(target: &mut Vec<u8>, query: &Pairs<'_>, form: Form) {
    let push = match form {
        Form::Raw => push_raw_query,
        Form::Decoded => push_query_component,
    };
    for (i, (key, value)) in query.iter().enumerate() {
        if i > 0 {
            target.push(b'&');
        }
        push(target, key.as_bytes());
        target.push(b'=');
        push(target, value.as_bytes());
    }
}

/// The most header slots a request's map reserves up front; more are added as headers arrive.
/// (`HeaderMap::with_capacity` panics past `http`'s limit of 32 768 entries, and an event can name
/// any number of headers.)
const MAX_PREALLOCATED_HEADERS: usize = 1024;

/// An empty header map with room for `count` headers, or for 1 024 (`MAX_PREALLOCATED_HEADERS`) when
/// `count` is larger (never a panic, whatever the event holds).
#[inline]
pub fn header_map_with_capacity(count: usize) -> HeaderMap {
    HeaderMap::with_capacity(count.min(MAX_PREALLOCATED_HEADERS))
}

/// How many characters of an untrusted value an error message quotes.
const EXCERPT_CHARS: usize = 64;

/// Untrusted bytes quoted for an error message (`"GE T"`): read as lossy UTF-8, escaped like a
/// Rust string and, past 64 characters (`EXCERPT_CHARS`), cut with the full size noted — so an
/// error (or the 400 answer quoting it) never carries megabytes of the event.
pub fn excerpt(bytes: &[u8]) -> String {
    // Enough bytes for EXCERPT_CHARS characters of up to 4 bytes each.
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    match text.char_indices().nth(EXCERPT_CHARS) {
        None if head.len() == bytes.len() => format!("{text:?}"),
        None => format!("{text:?}... ({} bytes)", bytes.len()),
        Some((cut, _)) => format!("{:?}... ({} bytes)", &text[..cut], bytes.len()),
    }
}

/// Parses an HTTP method token; anything but a valid token is an error (never guessed).
#[inline]
pub fn parse_method(
    source: Source,
    field: &'static str,
    method: Option<&RawStr<'_>>,
) -> Result<Method, Error> {
    let method = method.ok_or_else(|| {
        Error::invalid_event(
            source,
            field,
            "missing; expected an HTTP method such as \"GET\"",
        )
    })?;
    Method::from_bytes(method.as_bytes()).map_err(|_| {
        Error::invalid_request(
            source,
            field,
            format!(
                "{} is not a valid HTTP method token",
                excerpt(method.as_bytes())
            ),
        )
    })
}

/// Appends one header, reporting an invalid name or value with the field it came from. The
/// value shares the event's buffer when it can.
pub fn append_header(
    headers: &mut HeaderMap,
    source: Source,
    field: &'static str,
    event: &Bytes,
    name: &RawStr<'_>,
    value: &RawStr<'_>,
) -> Result<(), Error> {
    let header_name = header_name(source, field, name)?;
    let header_value = header_value(source, field, event, name, value)?;
    headers
        .try_append(header_name, header_value)
        .map_err(|_| too_many_headers(source, field))?;
    Ok(())
}

/// The request's headers from the first of `maps` the event carries — `(pairs, field name)`,
/// a multi-value map before its single-value counterpart — every pair in order; an empty map
/// when it carries none. An invalid name or value is reported with its field.
#[inline]
pub fn headers_from(
    source: Source,
    event: &Bytes,
    maps: &[(Option<&Pairs<'_>>, &'static str)],
) -> Result<HeaderMap, Error> {
    let Some(&(Some(pairs), field)) = maps.iter().find(|(pairs, _)| pairs.is_some()) else {
        return Ok(header_map_with_capacity(0));
    };
    let mut headers = header_map_with_capacity(pairs.len());
    append_headers(&mut headers, source, field, event, pairs)?;
    Ok(headers)
}

/// Appends every pair of a view map, in order.
// Inlined into each source: without link-time optimization this keeps the header loop and
// `http`'s map insertion in one unit (measured 3% faster there, worst ALB event 4.1x -> 3.9x the
// floor; neutral with LTO), for about 20 KB of code.
#[inline]
pub fn append_headers(
    headers: &mut HeaderMap,
    source: Source,
    field: &'static str,
    event: &Bytes,
    pairs: &Pairs<'_>,
) -> Result<(), Error> {
    // One `try_append` per value: measured faster than the entry API (which saves the second
    // lookup of a repeated name but costs more per call), by 3% with LTO and 8% without.
    for (name, value) in &pairs.0 {
        let header_name = header_name(source, field, name)?;
        let value = header_value(source, field, event, name, value)?;
        headers
            .try_append(header_name, value)
            .map_err(|_| too_many_headers(source, field))?;
    }
    Ok(())
}

#[inline]
fn header_name(
    source: Source,
    field: &'static str,
    name: &RawStr<'_>,
) -> Result<HeaderName, Error> {
    match crate::header_name::well_known(name.as_bytes()) {
        Some(known) => Ok(known),
        None => HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::invalid_request(
                source,
                field,
                format!("{} is not a valid header name", excerpt(name.as_bytes())),
            )
        }),
    }
}

#[inline]
fn header_value(
    source: Source,
    field: &'static str,
    event: &Bytes,
    name: &RawStr<'_>,
    value: &RawStr<'_>,
) -> Result<HeaderValue, Error> {
    HeaderValue::from_maybe_shared(share(event, value)).map_err(|_| {
        Error::invalid_request(
            source,
            field,
            format!(
                "the value of header {} contains a byte not allowed in a header (CR, LF, NUL or another control)",
                excerpt(name.as_bytes())
            ),
        )
    })
}

fn too_many_headers(source: Source, field: &'static str) -> Error {
    Error::invalid_request(source, field, "too many headers: more than 32768 values")
}

/// The request body: the `body` string's bytes (shared with the event), base64-decoded when
/// `isBase64Encoded`.
#[inline]
pub fn decode_body(
    source: Source,
    event: &Bytes,
    body: Option<&RawStr<'_>>,
    is_base64: bool,
) -> Result<Bytes, Error> {
    match body {
        None => Ok(Bytes::new()),
        Some(body) if is_base64 => {
            decode_base64(body.as_bytes())
                .map(Bytes::from)
                .map_err(|error| {
                    Error::invalid_event(
                        source,
                        "body",
                        format!(
                            "isBase64Encoded is true but the body is not valid base64: {}",
                            describe_base64_error(&error)
                        ),
                    )
                })
        }
        Some(body) => Ok(share(event, body)),
    }
}

/// A base64 error in the house style (the `base64` crate's own messages are capitalized, end in a
/// full stop and give the offending byte as a number).
fn describe_base64_error(error: &base64::DecodeError) -> String {
    use base64::DecodeError::{InvalidByte, InvalidLastSymbol, InvalidLength, InvalidPadding};
    let show = |byte: u8| {
        if byte.is_ascii_graphic() || byte == b' ' {
            format!("{:?}", char::from(byte))
        } else {
            format!("byte 0x{byte:02X}")
        }
    };
    match *error {
        InvalidByte(offset, b'=') => format!("padding '=' before the end, at offset {offset}"),
        InvalidByte(offset, byte) => {
            format!(
                "{} at offset {offset} is not a base64 character",
                show(byte)
            )
        }
        InvalidLength(length) => {
            format!("{length} base64 characters cannot encode whole bytes (truncated?)")
        }
        InvalidLastSymbol(offset, byte) => format!(
            "the last character {} at offset {offset} has bits that encode nothing (truncated or corrupted?)",
            show(byte)
        ),
        InvalidPadding => "the padding is invalid".to_owned(),
    }
}

/// Assembles the request: `target` (`path?query`, see [`request_target`]) must already be
/// escaped for a URI.
// Inlined into each source's `parse_request`: the header map, the context and the body are
// then built in place instead of copied into the call (5% of an ALB invocation, measured).
#[inline]
pub fn build_request(
    source: Source,
    method: Method,
    target: Bytes,
    headers: HeaderMap,
    body: Bytes,
    context: RequestContext,
) -> Result<Request<Body>, Error> {
    let uri = Uri::from_maybe_shared(target).map_err(|error| {
        Error::invalid_request(
            source,
            "path",
            format!("does not make a valid URI: {error}"),
        )
    })?;
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    request.extensions_mut().insert(context);
    Ok(request)
}

/// Adds a `host` header from the gateway's domain name when the client sent none.
#[inline]
pub fn default_host(headers: &mut HeaderMap, domain_name: Option<&str>) {
    if headers.contains_key(http::header::HOST) {
        return;
    }
    if let Some(value) = domain_name.and_then(|d| HeaderValue::from_str(d).ok()) {
        // A map already holding `http`'s maximum of headers gets no `host`, rather than a panic.
        let _ = headers.try_insert(http::header::HOST, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &'static str) -> RawStr<'static> {
        RawStr(text.as_bytes().into())
    }

    /// The target for `path` found in `event`, and whether it shares the event's buffer.
    fn target(event: &'static str, path: &str, form: Form, query: &str) -> (String, bool) {
        let event = Bytes::from_static(event.as_bytes());
        let at = event
            .windows(path.len())
            .position(|w| w == path.as_bytes())
            .unwrap();
        let path = RawStr(std::borrow::Cow::Borrowed(&event[at..at + path.len()]));
        let query_len = if query.is_empty() { 0 } else { query.len() + 1 };
        let target = request_target(&event, &path, form, query_len, |out| {
            out.extend_from_slice(query.as_bytes());
        });
        let shared = offset_in(&event, &target).is_some();
        (String::from_utf8(target.to_vec()).unwrap(), shared)
    }

    #[test]
    fn a_path_that_stands_as_is_is_shared_with_the_event() {
        let event = r#"{"path":"/a/b%2Fc","other":"/caf\u00e9 x?y#","plain":"/100%","rel":"a/b"}"#;
        assert_eq!(
            target(event, "/a/b%2Fc", Form::Raw, ""),
            ("/a/b%2Fc".to_owned(), true)
        );
        // a decoded path keeps no `%`: it is escaped, so the target is written anew
        assert_eq!(
            target(event, "/a/b%2Fc", Form::Decoded, ""),
            ("/a/b%252Fc".to_owned(), false)
        );
        // a query is appended to a new buffer
        assert_eq!(
            target(event, "/a/b%2Fc", Form::Raw, "q=1"),
            ("/a/b%2Fc?q=1".to_owned(), false)
        );
        // escaping needed (`\`, space, `?`, `#`), a lone `%`, or no leading `/`
        assert_eq!(
            target(event, "/caf\\u00e9 x?y#", Form::Raw, ""),
            ("/caf%5Cu00e9%20x%3Fy%23".to_owned(), false)
        );
        assert_eq!(
            target(event, "/100%", Form::Raw, ""),
            ("/100%25".to_owned(), false)
        );
        assert_eq!(
            target(event, "a/b", Form::Raw, ""),
            ("/a/b".to_owned(), false)
        );
    }

    #[test]
    fn escaped_lengths_agree_with_the_writers() {
        let samples = [
            "/", "/a b", "/%2F", "/%2", "/%zz", "/?", "/#", "/\u{e9}", "/a;b=c,d", "/~user", "",
        ];
        for sample in samples {
            let bytes = sample.as_bytes();
            let mut raw = Vec::new();
            push_raw_path(&mut raw, bytes);
            assert_eq!(raw_path_len(bytes), raw.len(), "{sample:?}");
            let mut decoded = Vec::new();
            push_decoded_path(&mut decoded, bytes);
            assert_eq!(decoded_path_len(bytes), decoded.len(), "{sample:?}");
            let mut query = Vec::new();
            crate::encoding::push_raw_query(&mut query, bytes);
            assert_eq!(raw_query_len(bytes), query.len(), "{sample:?}");
            let mut component = Vec::new();
            crate::encoding::push_query_component(&mut component, bytes);
            assert_eq!(query_component_len(bytes), component.len(), "{sample:?}");
        }
    }

    #[test]
    fn lowercase_and_invalid_methods() {
        assert_eq!(
            parse_method(Source::named("alb"), "httpMethod", Some(&raw("PATCH"))).unwrap(),
            Method::PATCH
        );
        let error =
            parse_method(Source::named("alb"), "httpMethod", Some(&raw("GE T"))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid request in alb event: `httpMethod`: \"GE T\" is not a valid HTTP method token"
        );
        assert!(parse_method(Source::named("alb"), "httpMethod", None).is_err());
    }

    #[test]
    fn long_values_are_quoted_cut_in_messages() {
        assert_eq!(excerpt(b"GE T"), "\"GE T\"");
        let long = "\u{e9}".repeat(1_000_000);
        let quoted = excerpt(long.as_bytes());
        assert!(quoted.len() < 200, "{quoted}");
        assert!(quoted.ends_with("... (2000000 bytes)"), "{quoted}");
        assert_eq!(excerpt(&[b'a'; 64]), format!("{:?}", "a".repeat(64)));
        assert!(excerpt(&[0xff; 300]).ends_with("... (300 bytes)"));
        let method = RawStr(long.into_bytes().into());
        let error = parse_method(Source::named("alb"), "httpMethod", Some(&method)).unwrap_err();
        assert!(error.to_string().len() < 300, "{error}");
    }

    #[test]
    fn more_headers_than_a_header_map_holds_are_refused_without_a_panic() {
        let mut headers = header_map_with_capacity(40_000);
        let (value, event) = (raw("v"), Bytes::new());
        let outcome = (0..40_000).try_for_each(|i| {
            let name = RawStr(format!("x-h{i}").into_bytes().into());
            append_header(
                &mut headers,
                Source::named("alb"),
                "headers",
                &event,
                &name,
                &value,
            )
        });
        let error = outcome.unwrap_err();
        assert!(error.is_client_fault(), "{error}");
        assert!(error.to_string().contains("too many headers"), "{error}");
        default_host(&mut headers, Some("example.com"));
        assert!(!headers.contains_key(http::header::HOST));
    }

    #[test]
    fn header_with_newline_is_refused() {
        let mut headers = HeaderMap::new();
        let error = append_header(
            &mut headers,
            Source::named("apigw_http"),
            "headers",
            &Bytes::new(),
            &raw("x-a"),
            &raw("1\r\nx-b: 2"),
        )
        .unwrap_err();
        assert!(error.to_string().contains("\"x-a\""), "{error}");
    }

    #[test]
    fn invalid_base64_is_described_without_the_base64_crate_wording() {
        let message = |body: &'static str| {
            decode_body(Source::named("alb"), &Bytes::new(), Some(&raw(body)), true)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message("aGVs!G8="),
            "invalid alb event: `body`: isBase64Encoded is true but the body is not valid base64: '!' at offset 4 is not a base64 character"
        );
        assert!(message("aG=sbG8=").ends_with("padding '=' before the end, at offset 2"));
        assert!(message("aGVsb").contains("5 base64 characters cannot encode whole bytes"));
        assert!(message("aGVsbG9=").contains("the last character '9' at offset 6"));
        assert!(message("a\u{e9}b=").contains("byte 0xC3 at offset 1"));
    }

    #[test]
    fn invalid_base64_body_is_an_error() {
        let body = raw("@@");
        assert!(
            decode_body(
                Source::named("apigw_rest"),
                &Bytes::new(),
                Some(&body),
                true
            )
            .is_err()
        );
        assert_eq!(
            decode_body(
                Source::named("apigw_rest"),
                &Bytes::new(),
                Some(&body),
                false
            )
            .unwrap(),
            "@@"
        );
    }

    #[test]
    fn borrowed_fields_share_the_event_buffer_and_others_are_copied() {
        let event = Bytes::from_static(b"{\"a\":\"xyz\"}");
        let inside = RawStr(std::borrow::Cow::Borrowed(&event[6..9]));
        let shared = share(&event, &inside);
        assert_eq!(shared, "xyz");
        assert_eq!(shared.as_ptr(), event[6..].as_ptr());
        let outside = RawStr(std::borrow::Cow::Borrowed(b"xyz"));
        assert_eq!(share(&event, &outside), "xyz");
    }
}
