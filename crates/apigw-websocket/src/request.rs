use bytes::Bytes;
use http::{Method, Request};
use lambda_gateway_core::{
    Body, Error, RequestContext, SharedStr,
    event::{Pairs, RawStr, SourceView},
    request::{
        Form, build_request, decode_body, default_host, excerpt, headers_from, push_query,
        query_capacity, share,
    },
};

use crate::{SOURCE, WebSocketContext, WebSocketEvent, fields::*};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Converts a WebSocket event into the request the service sees (see the crate docs):
///
/// - `CONNECT` → `GET /$connect`, `MESSAGE` → `POST /{routeKey}` (escaped as one path
///   segment), `DISCONNECT` → `DELETE /$disconnect`;
/// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), every value
///   in order, keys and values re-encoded (all but unreserved bytes);
/// - headers from `multiValueHeaders` (else `headers`), every value in order; `host` defaults
///   to `requestContext.domainName`;
/// - body base64-decoded when `isBase64Encoded`;
/// - a [`RequestContext`] and a [`WebSocketContext`] extension.
///
/// `event` must be the view parsed from `raw_event`: header values, the body and the contexts'
/// strings are zero-copy slices of it.
pub(crate) fn parse_request(
    event: &SourceView<'_, '_>,
    raw_event: Bytes,
) -> Result<Request<Body>, Error> {
    let event_type = event.get(EVENT_TYPE).ok_or_else(|| {
        Error::invalid_event(
            SOURCE,
            event.path(EVENT_TYPE),
            "missing; expected CONNECT, MESSAGE or DISCONNECT",
        )
    })?;
    let kind = WebSocketEvent::from_event(event_type.as_bytes()).ok_or_else(|| {
        Error::invalid_event(
            SOURCE,
            event.path(EVENT_TYPE),
            format!(
                "expected CONNECT, MESSAGE or DISCONNECT, found {}",
                excerpt(event_type.as_bytes())
            ),
        )
    })?;
    let connection_id = event.get(CONNECTION_ID).ok_or_else(|| {
        Error::invalid_event(
            SOURCE,
            event.path(CONNECTION_ID),
            "missing; expected the WebSocket connection's id",
        )
    })?;
    let route_key = event
        .get(ROUTE_KEY)
        .filter(|key| !key.as_bytes().is_empty());

    let query = event
        .get(MULTI_VALUE_QUERY)
        .or(event.get(QUERY))
        .filter(|q| !q.is_empty());
    let (method, target, route_key) = match kind {
        WebSocketEvent::Connect => (
            Method::GET,
            fixed_target(b"/$connect", query),
            text_or(&raw_event, route_key, "$connect"),
        ),
        WebSocketEvent::Disconnect => (
            Method::DELETE,
            fixed_target(b"/$disconnect", query),
            text_or(&raw_event, route_key, "$disconnect"),
        ),
        WebSocketEvent::Message => {
            let route_key = route_key.ok_or_else(|| {
                Error::invalid_event(
                    SOURCE,
                    event.path(ROUTE_KEY),
                    "missing; a MESSAGE event names its route ($default or a custom route key)",
                )
            })?;
            (
                Method::POST,
                route_target(route_key.as_bytes(), query),
                text(&raw_event, route_key),
            )
        }
    };

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

    let socket = WebSocketContext::new(kind, text(&raw_event, connection_id), route_key)
        .with_message_id(event.get(MESSAGE_ID).map(|id| text(&raw_event, id)))
        .with_connected_at(
            event
                .get(CONNECTED_AT)
                .and_then(|at| std::str::from_utf8(at.as_bytes()).ok()?.parse().ok()),
        )
        .with_api_id(event.get(API_ID).map(|id| text(&raw_event, id)));
    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_context_fields(&crate::CONTEXT_FIELDS)
        .with_request_id_from_event(event.get(REQUEST_ID))
        .with_source_ip_from_event(event.get(SOURCE_IP))
        .with_stage_from_event(event.get(STAGE))
        .with_domain_name_from_event(event.get(DOMAIN_NAME))
        .with_multi_value(multi_value_headers.is_some());
    default_host(&mut headers, request_context.domain_name());
    let mut request = build_request(SOURCE, method, target, headers, body, request_context)?;
    request.extensions_mut().insert(socket);
    Ok(request)
}

/// A string of the event as shared text (a copy only when it had JSON escapes).
fn text(event: &Bytes, field: &RawStr<'_>) -> SharedStr {
    let bytes = share(event, field);
    match SharedStr::from_utf8(bytes) {
        Ok(text) => text,
        // the reader does not check UTF-8 (JSON escapes can make lone surrogates): lossy then
        Err(_) => SharedStr::from(String::from_utf8_lossy(field.as_bytes()).into_owned()),
    }
}

fn text_or(event: &Bytes, field: Option<&RawStr<'_>>, default: &'static str) -> SharedStr {
    field.map_or_else(|| SharedStr::from(default), |field| text(event, field))
}

/// The target of `$connect` and `$disconnect`: the path, and the query when there is one.
fn fixed_target(path: &'static [u8], query: Option<&Pairs<'_>>) -> Bytes {
    match query {
        None => Bytes::from_static(path),
        Some(query) => {
            let mut target =
                Vec::with_capacity(path.len() + query_capacity(Some(query), Form::Decoded));
            target.extend_from_slice(path);
            target.push(b'?');
            push_query(&mut target, query, Form::Decoded);
            // counted exactly: no reallocation
            Bytes::from(target.into_boxed_slice())
        }
    }
}

/// Whether a route key byte stands in the path as it is: unreserved characters and `$`.
fn kept(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'$')
}

/// `/{routeKey}` as one path segment: every byte but unreserved characters and `$` escaped, and
/// a key of `.` or `..` escaped whole (no dot segment). A message has no query, but one is kept
/// if the event has it.
fn route_target(route_key: &[u8], query: Option<&Pairs<'_>>) -> Bytes {
    let dots = matches!(route_key, b"." | b"..");
    let escaped = route_key.iter().filter(|&&b| dots || !kept(b)).count();
    let capacity = 1 + route_key.len() + 2 * escaped + query_capacity(query, Form::Decoded);
    let mut target = Vec::with_capacity(capacity);
    target.push(b'/');
    for &b in route_key {
        if kept(b) && !dots {
            target.push(b);
        } else {
            target.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xF)]]);
        }
    }
    if let Some(query) = query {
        target.push(b'?');
        push_query(&mut target, query, Form::Decoded);
    }
    debug_assert_eq!(
        target.len(),
        capacity,
        "the route target's length was miscounted"
    );
    // counted exactly: no reallocation
    Bytes::from(target.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use lambda_gateway_core::{
        RequestContext,
        event::{EventView, Schema},
    };

    use super::*;

    fn parse(event: &str) -> Result<Request<Body>, Error> {
        let event = Bytes::from(event.to_owned());
        let schema = Schema::build(&[FIELDS]).unwrap();
        EventView::parse(&schema, &event, |view| {
            let view = view.unwrap().for_source(schema.binding(0).unwrap());
            parse_request(&view, event.clone())
        })
    }

    fn message(route_key: &str) -> String {
        format!(
            r#"{{"requestContext":{{"eventType":"MESSAGE","connectionId":"c","routeKey":{}}},"body":"x"}}"#,
            serde_json::Value::from(route_key)
        )
    }

    fn path_of(route_key: &str) -> String {
        parse(&message(route_key)).unwrap().uri().to_string()
    }

    #[test]
    fn connect_is_a_get_with_the_upgrade_headers_and_query() {
        let request = parse(
            r#"{"headers":{"Host":"h","X-A":"2"},"multiValueHeaders":{"Host":["h"],"X-A":["1","2"]},
            "queryStringParameters":{"tag":"b"},"multiValueQueryStringParameters":{"tag":["a","b"],"q":["a b&c=d"]},
            "requestContext":{"routeKey":"$connect","eventType":"CONNECT","connectionId":"RgT3kd_xjoECJ8g=",
            "messageId":null,"connectedAt":1705406400123,"apiId":"k8h","requestId":"r","stage":"prod",
            "domainName":"d.example.com","identity":{"sourceIp":"203.0.113.24"}},"isBase64Encoded":false}"#,
        )
        .unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/$connect?tag=a&tag=b&q=a%20b%26c%3Dd");
        let values: Vec<_> = request.headers().get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert_eq!(request.headers()["host"], "h");
        assert!(request.body().is_empty());
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.event_type(), WebSocketEvent::Connect);
        assert_eq!(socket.connection_id(), "RgT3kd_xjoECJ8g=");
        assert_eq!(socket.route_key(), "$connect");
        assert_eq!(socket.message_id(), None);
        assert_eq!(socket.connected_at(), Some(1_705_406_400_123));
        assert_eq!(socket.api_id(), Some("k8h"));
        let context = request.extensions().get::<RequestContext>().unwrap();
        assert_eq!(context.source(), SOURCE);
        assert_eq!(context.request_id(), Some("r"));
        assert_eq!(context.stage(), Some("prod"));
        assert_eq!(context.source_ip(), Some("203.0.113.24"));
        assert_eq!(context.domain_name(), Some("d.example.com"));
        assert!(context.is_multi_value());
    }

    #[test]
    fn a_message_is_a_post_to_its_route_with_the_message_as_body() {
        let request = parse(
            r#"{"requestContext":{"routeKey":"sendmessage","messageId":"m1","eventType":"MESSAGE",
            "connectionId":"c","connectedAt":1.5e3,"domainName":"d.example.com"},
            "body":"{\"action\":\"sendmessage\"}","isBase64Encoded":false}"#,
        )
        .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/sendmessage");
        // no headers in the event: only the host, from the domain name
        assert_eq!(request.headers().len(), 1);
        assert_eq!(request.headers()["host"], "d.example.com");
        assert_eq!(request.body().as_bytes(), br#"{"action":"sendmessage"}"#);
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.event_type(), WebSocketEvent::Message);
        assert_eq!(socket.message_id(), Some("m1"));
        // not a whole number: ignored
        assert_eq!(socket.connected_at(), None);
        assert_eq!(socket.api_id(), None);
        assert!(
            !request
                .extensions()
                .get::<RequestContext>()
                .unwrap()
                .is_multi_value()
        );
    }

    #[test]
    fn disconnect_is_a_delete_with_its_headers() {
        let request = parse(
            r#"{"headers":{"Host":"h","x-api-key":""},"requestContext":{"routeKey":"$disconnect",
            "disconnectStatusCode":1005,"eventType":"DISCONNECT","connectionId":"c"}}"#,
        )
        .unwrap();
        assert_eq!(request.method(), Method::DELETE);
        assert_eq!(request.uri(), "/$disconnect");
        assert_eq!(request.headers()["x-api-key"], "");
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.route_key(), "$disconnect");
        // without a route key, the event type names it
        let request =
            parse(r#"{"requestContext":{"eventType":"DISCONNECT","connectionId":"c"}}"#).unwrap();
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.route_key(), "$disconnect");
    }

    #[test]
    fn route_keys_are_escaped_as_one_path_segment() {
        assert_eq!(path_of("$default"), "/$default");
        assert_eq!(path_of("send-message_v1.2~"), "/send-message_v1.2~");
        assert_eq!(path_of("chat/send"), "/chat%2Fsend");
        assert_eq!(path_of("a?b=c#d"), "/a%3Fb%3Dc%23d");
        assert_eq!(path_of("100%"), "/100%25");
        assert_eq!(path_of("a b+c"), "/a%20b%2Bc");
        assert_eq!(path_of("caf\u{e9}"), "/caf%C3%A9");
        assert_eq!(path_of(".."), "/%2E%2E");
        assert_eq!(path_of("."), "/%2E");
        assert_eq!(path_of("..."), "/...");
        // the context keeps the key as it is
        let request = parse(&message("chat/send?x")).unwrap();
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.route_key(), "chat/send?x");
        // the counted capacity is exact
        for key in ["$default", "a/b", "..", "\u{e9}\u{e9}"] {
            let target = route_target(key.as_bytes(), None);
            assert_eq!(target.len(), path_of(key).len());
        }
    }

    #[test]
    fn an_unknown_event_type_is_an_invalid_event() {
        let error = parse(
            r#"{"requestContext":{"eventType":"PING","connectionId":"c","routeKey":"$default"}}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind(), "lambda_gateway::InvalidEvent");
        assert_eq!(
            error.to_string(),
            "invalid apigw_websocket event: `requestContext.eventType`: expected CONNECT, MESSAGE or DISCONNECT, found \"PING\""
        );
        let long = "X".repeat(10_000);
        let error = parse(&format!(
            r#"{{"requestContext":{{"eventType":"{long}","connectionId":"c"}}}}"#
        ))
        .unwrap_err();
        assert!(error.to_string().len() < 300, "{error}");
    }

    #[test]
    fn missing_fields_are_invalid_events() {
        // a forced source may be handed an event it did not claim
        let error = parse(r#"{"requestContext":{"connectionId":"c"}}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`requestContext.eventType`: missing"),
            "{error}"
        );
        let error = parse(r#"{"requestContext":{"eventType":"CONNECT"}}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`requestContext.connectionId`: missing"),
            "{error}"
        );
        for route_key in ["", r#","routeKey":"""#, r#","routeKey":null"#] {
            let event = format!(
                r#"{{"requestContext":{{"eventType":"MESSAGE","connectionId":"c"{route_key}}}}}"#
            );
            let error = parse(&event).unwrap_err();
            assert_eq!(error.kind(), "lambda_gateway::InvalidEvent");
            assert!(
                error
                    .to_string()
                    .contains("`requestContext.routeKey`: missing"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_base64_message_is_decoded() {
        let request = parse(
            r#"{"requestContext":{"eventType":"MESSAGE","connectionId":"c","routeKey":"$default"},
            "body":"iVBORw0KGgoAAAANSUhEUg==","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(request.body().as_bytes(), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let error = parse(
            r#"{"requestContext":{"eventType":"MESSAGE","connectionId":"c","routeKey":"$default"},
            "body":"not base64!","isBase64Encoded":true}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind(), "lambda_gateway::InvalidEvent");
    }

    #[test]
    fn bad_headers_are_the_clients_fault() {
        let error = parse(
            r#"{"headers":{"x-a":"1\r\nx-b: 2"},"requestContext":{"eventType":"CONNECT","connectionId":"c"}}"#,
        )
        .unwrap_err();
        assert!(error.is_client_fault(), "{error}");
    }

    #[test]
    fn escaped_json_strings_are_unescaped_in_the_context() {
        let request = parse(
            r#"{"requestContext":{"eventType":"MESSAGE","connectionId":"c\u003d","routeKey":"caf\u00e9"}}"#,
        )
        .unwrap();
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.connection_id(), "c=");
        assert_eq!(socket.route_key(), "caf\u{e9}");
        assert_eq!(request.uri(), "/caf%C3%A9");
    }
}
