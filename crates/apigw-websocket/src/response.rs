use http::{header::SET_COOKIE, response::Parts};
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// Writes the WebSocket route's response event head: `statusCode` and `headers`, one string per
/// name, repeated values joined with `,` — except `Set-Cookie`, which cannot be joined: only
/// its first value is written. `body` and `isBase64Encoded` follow; no other key.
///
/// AWS documents `statusCode`, `headers` and `body` for a WebSocket Lambda proxy response (the
/// `$connect` subprotocol example), never `multiValueHeaders`, so that is not written.
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter, _options: EncodeOptions<'_>) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.begin_object_field("headers");
    json.joined_header_members(&parts.headers, ",", |json, cookies| {
        if let Some(cookie) = cookies.first() {
            json.begin_header_string_field(&SET_COOKIE);
            json.push_header_value(cookie);
            json.end_string();
        }
    });
    json.end_object();
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Response, StatusCode};
    use lambda_gateway_core::{BinaryPolicy, EventSource};
    use serde_json::{Value, json};

    use super::*;
    use crate::ApiGatewayWebSocket;

    fn encode(response: Response<&[u8]>) -> Value {
        let (parts, body) = response.into_parts();
        let mut json = JsonWriter::with_capacity(256);
        let binary = BinaryPolicy::default();
        let options = EncodeOptions {
            binary: &binary,
            multi_value: true,
        };
        ApiGatewayWebSocket.encode_head(&parts, &mut json, options);
        ApiGatewayWebSocket.encode_body(body, std::str::from_utf8(body).ok(), &mut json);
        serde_json::from_slice(&json.finish()).unwrap()
    }

    #[test]
    fn headers_are_joined_and_only_the_first_cookie_is_kept() {
        let mut response = Response::new(&b"hi"[..]);
        *response.status_mut() = StatusCode::CREATED;
        let headers = response.headers_mut();
        headers.append("sec-websocket-protocol", HeaderValue::from_static("chat"));
        headers.append(
            "set-cookie",
            HeaderValue::from_static("a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        headers.append("vary", HeaderValue::from_static("origin"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append("vary", HeaderValue::from_static("accept-encoding"));
        headers.append("x-latin1", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        assert_eq!(
            encode(response),
            json!({
                "statusCode": 201,
                "headers": {
                    "sec-websocket-protocol": "chat",
                    "set-cookie": "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
                    "vary": "origin,accept-encoding",
                    "x-latin1": "caf\u{e9}",
                },
                "body": "hi",
                "isBase64Encoded": false,
            })
        );
    }

    #[test]
    fn a_refusal_without_headers_or_body() {
        let mut response = Response::new(&b""[..]);
        *response.status_mut() = StatusCode::FORBIDDEN;
        assert_eq!(
            encode(response),
            json!({"statusCode": 403, "headers": {}, "body": "", "isBase64Encoded": false})
        );
    }

    #[test]
    fn a_cookie_between_other_headers_closes_them() {
        let mut response = Response::new(&b"\xff"[..]);
        let headers = response.headers_mut();
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append("set-cookie", HeaderValue::from_static("c=3"));
        headers.append("x-b", HeaderValue::from_static("3"));
        assert_eq!(
            encode(response),
            json!({
                "statusCode": 200,
                "headers": {"set-cookie": "a=1", "x-a": "1,2", "x-b": "3"},
                "body": "/w==",
                "isBase64Encoded": true,
            })
        );
    }
}
