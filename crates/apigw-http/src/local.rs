//! The HTTP API (payload 2.0) and Function URL front doors for the facade's local server (cargo
//! feature `local`): how a real HTTP request becomes the event they send, and how their
//! response event is delivered.

use bytes::Bytes;
use http::{HeaderValue, Response, header::SET_COOKIE, request::Parts};
use lambda_gateway_core::local::{
    ACCOUNT_ID, API_ID, Connection, FrontDoor, LAMBDA_INVOCATION_LIMIT, LAMBDA_PAYLOAD_LIMIT,
    ResponseEvent, append_header, body_fields, group, header_lists, host, now_ms, percent_decode,
    raw_pairs, single_map, string, strings, user_agent,
};
use serde_json::{Map, Value, json};

use crate::SOURCE;

/// An HTTP API with payload 2.0, stage `$default`: `apigw_http`.
///
/// The request's path and query stay raw, `Cookie` moves into `cookies` and repeated headers
/// are comma-joined; a response event without `statusCode` is delivered as a 200 JSON body.
pub const APIGW_HTTP: FrontDoor = FrontDoor {
    name: "apigw_http",
    description: "an API Gateway HTTP API (payload 2.0, stage `$default`)",
    source: SOURCE,
    request_body_limit: LAMBDA_PAYLOAD_LIMIT,
    response_limit: LAMBDA_INVOCATION_LIMIT,
    event: http_api_event,
    deliver,
};

/// A Lambda Function URL: `function_url`. As [`APIGW_HTTP`], with a Function URL's domain and
/// account.
pub const FUNCTION_URL: FrontDoor = FrontDoor {
    name: "function_url",
    description: "a Lambda Function URL",
    source: SOURCE,
    request_body_limit: LAMBDA_PAYLOAD_LIMIT,
    response_limit: LAMBDA_INVOCATION_LIMIT,
    event: function_url_event,
    deliver,
};

/// This source's front doors, the HTTP API first.
pub(crate) const FRONT_DOORS: &[FrontDoor] = &[APIGW_HTTP, FUNCTION_URL];

fn http_api_event(parts: &Parts, body: &[u8], connection: &Connection, request_id: &str) -> Value {
    event(parts, body, connection, request_id, false)
}

fn function_url_event(
    parts: &Parts,
    body: &[u8],
    connection: &Connection,
    request_id: &str,
) -> Value {
    event(parts, body, connection, request_id, true)
}

/// HTTP API payload 2.0 / Function URL event: raw path and query, `cookies`, joined headers.
fn event(
    parts: &Parts,
    body: &[u8],
    connection: &Connection,
    request_id: &str,
    function_url: bool,
) -> Value {
    let raw_path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or_default();
    let mut cookies = Vec::new();
    let mut headers = Map::new();
    for (name, values) in header_lists(&parts.headers) {
        if name == "cookie" {
            for value in &values {
                cookies.extend(
                    value
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            }
            continue;
        }
        headers.insert(name.to_owned(), Value::String(values.join(",")));
    }
    let query = group(raw_pairs(raw_query).map(|(k, v)| {
        let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
        (decode(k), decode(v))
    }));
    let domain = if function_url {
        "local.lambda-url.us-east-1.on.aws".to_owned()
    } else {
        host(parts)
    };
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!("$default"));
    event.insert("rawPath".into(), json!(raw_path));
    event.insert("rawQueryString".into(), json!(raw_query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        event.insert(
            "queryStringParameters".into(),
            single_map(&query, Some(",")),
        );
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": if function_url { "anonymous" } else { ACCOUNT_ID },
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or_default(),
            "http": {
                "method": parts.method.as_str(),
                "path": percent_decode(raw_path, false).unwrap_or_else(|| raw_path.to_owned()),
                "protocol": "HTTP/1.1",
                "sourceIp": connection.peer.ip().to_string(),
                "userAgent": user_agent(parts),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": now_ms(),
        }),
    );
    body_fields(&mut event, body);
    Value::Object(event)
}

/// `headers` one value each, then every `cookies` entry as a `Set-Cookie`; payload 2.0 reads an
/// object without `statusCode` as a 200 JSON body.
fn deliver(event: &[u8]) -> Result<Response<Bytes>, String> {
    let event = ResponseEvent::read(event)?;
    if !event.has_status_code() {
        let mut response = Response::new(Bytes::copy_from_slice(event.raw()));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    let (mut response, objects) = event.response()?;
    let headers = response.headers_mut();
    for (name, value) in objects.headers.iter().flatten() {
        append_header(headers, name, &string(value, name)?)?;
    }
    let cookies = objects.cookies.filter(|c| c.get() != "null");
    for cookie in cookies
        .map(|c| strings(c, "cookies"))
        .transpose()?
        .into_iter()
        .flatten()
    {
        append_header(headers, SET_COOKIE.as_str(), &cookie)?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_that_are_not_utf8_reach_the_client_byte_for_byte() {
        let event = r#"{"statusCode":200,"headers":{"x-raw":"\u00ff\u00fe\u0080","x-text":"caf\u00e9 \u00e9t\u00e9","x-utf8":"café \ud83d\ude00 \"q\" \\"},"cookies":[]}"#;
        let response = APIGW_HTTP.client_response(event.as_bytes()).unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-raw"].as_bytes(), b"\xff\xfe\x80");
        assert_eq!(headers["x-text"].as_bytes(), b"caf\xe9 \xe9t\xe9");
        assert_eq!(headers["x-utf8"].as_bytes(), "café 😀 \"q\" \\".as_bytes());
    }

    #[test]
    fn a_repeated_header_object_is_a_502_not_dropped_cookies() {
        let event = br#"{"statusCode":200,"headers":{},"cookies":["a=1"],"cookies":["b=2"]}"#;
        assert!(FUNCTION_URL.client_response(event).is_err());
    }
}
