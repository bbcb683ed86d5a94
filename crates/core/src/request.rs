//! Building the `http::Request` every source crate hands to the service.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};

use crate::{Body, Error, RequestContext, Source, encoding::decode_base64, event::Str};

/// Parses an HTTP method token; anything but a valid token is an error (never guessed).
pub fn parse_method(
    source: Source,
    field: &'static str,
    method: Option<&str>,
) -> Result<Method, Error> {
    let method = method.ok_or_else(|| {
        Error::invalid_event(
            source,
            field,
            "missing; expected an HTTP method such as \"GET\"",
        )
    })?;
    Method::from_bytes(method.as_bytes()).map_err(|_| {
        Error::invalid_event(
            source,
            field,
            format!("{method:?} is not a valid HTTP method token"),
        )
    })
}

/// Appends one header, reporting an invalid name or value with the field it came from.
pub fn append_header(
    headers: &mut HeaderMap,
    source: Source,
    field: &'static str,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::invalid_event(
            source,
            field,
            format!("{name:?} is not a valid header name"),
        )
    })?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_event(
            source,
            field,
            format!("the value of header {name:?} contains a byte not allowed in a header (CR, LF, NUL or another control)"),
        )
    })?;
    headers.try_append(header_name, header_value).map_err(|_| {
        Error::invalid_event(source, field, "too many headers: more than 32768 values")
    })?;
    Ok(())
}

/// The request body: the `body` string's bytes, base64-decoded when `isBase64Encoded`.
pub fn decode_body(
    source: Source,
    body: Option<&Str<'_>>,
    is_base64: bool,
) -> Result<Bytes, Error> {
    match body {
        None => Ok(Bytes::new()),
        Some(body) if is_base64 => decode_base64(body).map(Bytes::from).map_err(|error| {
            Error::invalid_event(
                source,
                "body",
                format!("isBase64Encoded is true but the body is not valid base64: {error}"),
            )
        }),
        Some(body) => Ok(match &body.0 {
            std::borrow::Cow::Borrowed(text) => Bytes::copy_from_slice(text.as_bytes()),
            std::borrow::Cow::Owned(text) => Bytes::from(text.clone()),
        }),
    }
}

/// Assembles the request: `path_and_query` must already be escaped for a URI.
pub fn build_request(
    source: Source,
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
    context: RequestContext,
) -> Result<Request<Body>, Error> {
    let uri = Uri::try_from(path_and_query).map_err(|error| {
        Error::invalid_event(
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
pub fn default_host(headers: &mut HeaderMap, domain_name: Option<&str>) {
    if headers.contains_key(http::header::HOST) {
        return;
    }
    if let Some(value) = domain_name.and_then(|d| HeaderValue::from_str(d).ok()) {
        headers.insert(http::header::HOST, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_and_invalid_methods() {
        assert_eq!(
            parse_method(Source::Alb, "httpMethod", Some("PATCH")).unwrap(),
            Method::PATCH
        );
        let error = parse_method(Source::Alb, "httpMethod", Some("GE T")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid alb event: `httpMethod`: \"GE T\" is not a valid HTTP method token"
        );
        assert!(parse_method(Source::Alb, "httpMethod", None).is_err());
    }

    #[test]
    fn header_with_newline_is_refused() {
        let mut headers = HeaderMap::new();
        let error = append_header(
            &mut headers,
            Source::ApiGatewayHttp,
            "headers",
            "x-a",
            "1\r\nx-b: 2",
        )
        .unwrap_err();
        assert!(error.to_string().contains("\"x-a\""), "{error}");
    }

    #[test]
    fn invalid_base64_body_is_an_error() {
        let body = Str("@@".into());
        assert!(decode_body(Source::ApiGatewayRest, Some(&body), true).is_err());
        assert_eq!(
            decode_body(Source::ApiGatewayRest, Some(&body), false).unwrap(),
            "@@"
        );
    }
}
