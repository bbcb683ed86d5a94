//! The WebSocket API front door for the facade's local server (cargo feature `local`): how a
//! plain HTTP request becomes the event a WebSocket route's Lambda proxy integration receives,
//! and how its response event is delivered.
//!
//! This emulates the **integration**, not a WebSocket connection: there is no upgrade and no
//! socket. Each HTTP request is one WebSocket event — the mapping of the crate docs read
//! backwards — so a WebSocket service can be driven with `curl`:
//!
//! | HTTP request | event | route key |
//! | --- | --- | --- |
//! | `GET` (any path; `/$connect` by convention) | `CONNECT`, with the request's headers and query | `$connect` |
//! | `DELETE /$disconnect` | `DISCONNECT` | `$disconnect` |
//! | anything else: `POST /sendmessage`, `POST /` ... | `MESSAGE`, the request body the message | the path without its `/`, percent-decoded; `$default` for `/` |
//!
//! Every event names the same connection (`local-connection`, connected when the first event
//! was made); the response event is delivered as the HTTP response: `$connect`'s status says
//! whether the connection is accepted, a message's body is what a route response would send
//! back to the client.

use std::{
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{Method, Response, request::Parts};
use lambda_gateway_core::{
    ResponseLimit,
    local::{
        API_ID, Connection, FrontDoor, LAMBDA_PAYLOAD_LIMIT, ResponseEvent, append_header,
        body_fields, group, header_lists, host, multi_map, now_ms, percent_decode, raw_pairs,
        single_map, string, user_agent,
    },
};
use serde_json::{Map, Value, json};

use crate::SOURCE;

/// A WebSocket API whose routes have a Lambda proxy integration, stage `local`:
/// `apigw_websocket`.
///
/// A `GET` is the `$connect` of a connection (the request's headers, in `headers` and
/// `multiValueHeaders`, and its query, decoded, in both query maps; no body), `DELETE
/// /$disconnect` its `$disconnect` (with the few empty headers API Gateway sends), any other
/// request a message on the route its path names (`POST /sendmessage` → `sendmessage`, `/` →
/// `$default`): the body is the message (base64 when not UTF-8); headers and query are not
/// part of a message. A request body over API Gateway's 128 KB message quota is answered
/// `413`. The response event's `statusCode`, `headers` (strings; `multiValueHeaders` is not
/// read: AWS documents none for WebSocket routes) and body are the HTTP response.
pub const APIGW_WEBSOCKET: FrontDoor = FrontDoor {
    name: "apigw_websocket",
    description: "an API Gateway WebSocket API (stage `local`; one HTTP request per event)",
    source: SOURCE,
    request_body_limit: MESSAGE_LIMIT,
    response_limit: RESPONSE_LIMIT,
    event,
    deliver,
};

/// This source's front doors.
pub(crate) const FRONT_DOORS: &[FrontDoor] = &[APIGW_WEBSOCKET];

/// API Gateway's quota on a WebSocket message: 128 KB.
const MESSAGE_LIMIT: usize = 128 * 1024;

/// The limits of the front door: a message's 128 KB ([`MESSAGE_LIMIT`]), Lambda's 6 MB on the
/// response event.
const RESPONSE_LIMIT: ResponseLimit = ResponseLimit {
    bytes: LAMBDA_PAYLOAD_LIMIT,
    name: "API Gateway WebSocket API",
};

/// The emulated stage.
const STAGE: &str = "local";

/// The one emulated connection's id.
const CONNECTION_ID: &str = "local-connection";

/// The `$disconnect` close code and reason: a client that closes without a status (what API
/// Gateway reports for a close frame without one).
const DISCONNECT_STATUS: (u16, &str) = (1005, "Client-side close frame status not set");

/// The event for a request: `CONNECT` for a `GET`, `DISCONNECT` for `DELETE /$disconnect`, a
/// `MESSAGE` otherwise.
fn event(parts: &Parts, body: &[u8], connection: &Connection, request_id: &str) -> Value {
    let domain = host(parts);
    let mut event = Map::new();
    let mut identity = Map::new();
    identity.insert("sourceIp".into(), json!(connection.peer.ip().to_string()));
    let mut context = Map::new();
    if parts.method == Method::GET {
        connect(&mut event, parts);
        context.insert("routeKey".into(), json!("$connect"));
        context.insert("eventType".into(), json!("CONNECT"));
        identity.insert("userAgent".into(), user_agent(parts));
    } else if parts.method == Method::DELETE && parts.uri.path() == "/$disconnect" {
        disconnect(&mut event, &domain);
        context.insert("routeKey".into(), json!("$disconnect"));
        context.insert("eventType".into(), json!("DISCONNECT"));
        context.insert("disconnectStatusCode".into(), json!(DISCONNECT_STATUS.0));
        context.insert("disconnectReason".into(), json!(DISCONNECT_STATUS.1));
    } else {
        context.insert("routeKey".into(), json!(route_key(parts)));
        context.insert("eventType".into(), json!("MESSAGE"));
        context.insert("messageId".into(), json!(request_id));
        body_fields(&mut event, body);
        if event.get("body").is_some_and(Value::is_null) {
            // a message always has a body, if an empty one
            event.insert("body".into(), json!(""));
        }
    }
    context.insert("extendedRequestId".into(), json!(request_id));
    context.insert("messageDirection".into(), json!("IN"));
    context.insert("stage".into(), json!(STAGE));
    context.insert("connectedAt".into(), json!(connected_at()));
    context.insert("requestTimeEpoch".into(), json!(now_ms()));
    context.insert("identity".into(), Value::Object(identity));
    context.insert("requestId".into(), json!(request_id));
    context.insert("domainName".into(), json!(domain));
    context.insert("connectionId".into(), json!(CONNECTION_ID));
    context.insert("apiId".into(), json!(API_ID));
    event.insert("requestContext".into(), Value::Object(context));
    event.entry("isBase64Encoded").or_insert(Value::Bool(false));
    Value::Object(event)
}

/// `$connect`: the upgrade request's headers (single- and multi-value maps, every value kept)
/// and its query, decoded (`+` → space), in both query maps (`null` without one).
fn connect(event: &mut Map<String, Value>, parts: &Parts) {
    let headers = header_lists(&parts.headers);
    let headers = group(
        headers
            .into_iter()
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.to_owned(), v))),
    );
    let query = group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| {
            let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
            (decode(k), decode(v))
        }),
    );
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (single_map(&query, None), multi_map(&query))
    };
    event.insert("headers".into(), single_map(&headers, None));
    event.insert("multiValueHeaders".into(), multi_map(&headers));
    event.insert("queryStringParameters".into(), single_query);
    event.insert("multiValueQueryStringParameters".into(), multi_query);
}

/// `$disconnect`: the headers API Gateway sends, whatever the request had — `Host` and three
/// empty ones.
fn disconnect(event: &mut Map<String, Value>, domain: &str) {
    let headers = [
        ("Host".to_owned(), vec![domain.to_owned()]),
        ("x-api-key".to_owned(), vec![String::new()]),
        ("X-Forwarded-For".to_owned(), vec![String::new()]),
        ("x-restapi".to_owned(), vec![String::new()]),
    ];
    event.insert("headers".into(), single_map(&headers, None));
    event.insert("multiValueHeaders".into(), multi_map(&headers));
}

/// A message's route key: the path without its leading `/`, percent-decoded (kept as sent when
/// the decoded bytes are not UTF-8); `$default` for `/`.
fn route_key(parts: &Parts) -> String {
    let path = parts.uri.path();
    let key = path.strip_prefix('/').unwrap_or(path);
    if key.is_empty() {
        return "$default".to_owned();
    }
    percent_decode(key, false).unwrap_or_else(|| key.to_owned())
}

/// When the emulated connection was made, in epoch milliseconds: the time of the first event,
/// the same for every later one (as for the events of one real connection).
fn connected_at() -> u64 {
    static CONNECTED_AT: OnceLock<u64> = OnceLock::new();
    *CONNECTED_AT.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    })
}

/// The response event's `statusCode`, `headers` (strings) and body; `multiValueHeaders` is not
/// read.
fn deliver(event: &[u8]) -> Result<Response<Bytes>, String> {
    let (mut response, objects) = ResponseEvent::read(event)?.response()?;
    let headers = response.headers_mut();
    for (name, value) in objects.headers.iter().flatten() {
        append_header(headers, name, &string(value, name)?)?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::net::SocketAddr;

    use http::{Request, header::SET_COOKIE};
    use lambda_gateway_core::{
        Body, Claim, EventSource,
        event::{EventView, Schema},
    };

    use super::*;
    use crate::{ApiGatewayWebSocket, WebSocketContext, WebSocketEvent, fields::FIELDS};

    fn connection() -> Connection {
        Connection {
            peer: SocketAddr::from(([192, 0, 2, 7], 50_000)),
            local: SocketAddr::from(([127, 0, 0, 1], 3000)),
        }
    }

    fn parts(method: Method, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn event(parts: &Parts, body: &[u8]) -> Value {
        let event = APIGW_WEBSOCKET.request_event(parts, body, &connection(), "req-1");
        serde_json::from_slice(&event).unwrap()
    }

    /// The request the source makes of `event`.
    fn request(event: &Value) -> Request<Body> {
        let raw = Bytes::from(serde_json::to_vec(event).unwrap());
        let schema = Schema::build(&[FIELDS]).unwrap();
        EventView::parse(&schema, &raw, |view| {
            let view = view.unwrap().for_source(schema.binding(0).unwrap());
            assert_eq!(
                ApiGatewayWebSocket.claim(&view),
                Claim::Claimed,
                "{event:#}"
            );
            ApiGatewayWebSocket
                .parse_request(&view, raw.clone())
                .unwrap()
        })
    }

    #[test]
    fn a_get_is_a_connect_with_the_request_s_headers_and_decoded_query() {
        let parts = parts(
            Method::GET,
            "/$connect?room=lobby&name=Jane+Doe&tag=red&tag=%2Bblue",
            &[
                ("host", "ws.local:3000"),
                ("sec-websocket-protocol", "chat.v2, chat.v1"),
                ("x-tag", "a"),
                ("x-tag", "b"),
                ("user-agent", "wscat"),
            ],
        );
        let event = event(&parts, b"ignored");
        assert_eq!(event["headers"]["x-tag"], "b");
        assert_eq!(event["multiValueHeaders"]["x-tag"], json!(["a", "b"]));
        assert_eq!(event["headers"]["host"], "ws.local:3000");
        assert_eq!(
            event["queryStringParameters"],
            json!({"room": "lobby", "name": "Jane Doe", "tag": "+blue"})
        );
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"room": ["lobby"], "name": ["Jane Doe"], "tag": ["red", "+blue"]})
        );
        assert!(event.get("body").is_none(), "{event:#}");
        assert_eq!(event["isBase64Encoded"], false);
        let context = &event["requestContext"];
        assert_eq!(context["eventType"], "CONNECT");
        assert_eq!(context["routeKey"], "$connect");
        assert_eq!(context["connectionId"], "local-connection");
        assert_eq!(context["requestId"], "req-1");
        assert_eq!(context["stage"], "local");
        assert_eq!(context["domainName"], "ws.local:3000");
        assert_eq!(context["apiId"], "local");
        assert_eq!(
            context["identity"],
            json!({"sourceIp": "192.0.2.7", "userAgent": "wscat"})
        );
        assert!(context["connectedAt"].as_u64().is_some_and(|at| at > 0));
        assert!(context["requestTimeEpoch"].as_u64() >= context["connectedAt"].as_u64());
        assert!(context.get("messageId").is_none());

        let request = request(&event);
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri().path(), "/$connect");
        // the query maps are JSON objects: the keys' order is not kept, each key's values' is
        let mut pairs: Vec<_> = request.uri().query().unwrap().split('&').collect();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            ["name=Jane%20Doe", "room=lobby", "tag=%2Bblue", "tag=red"]
        );
        assert!(
            request
                .uri()
                .query()
                .unwrap()
                .contains("tag=red&tag=%2Bblue")
        );
        let tags: Vec<_> = request.headers().get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        let socket = request.extensions().get::<WebSocketContext>().unwrap();
        assert_eq!(socket.event_type(), WebSocketEvent::Connect);
        assert_eq!(socket.connection_id(), "local-connection");
    }

    #[test]
    fn a_connect_without_a_query_has_null_query_maps() {
        let event = event(&parts(Method::GET, "/", &[]), b"");
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
        assert_eq!(event["requestContext"]["domainName"], "localhost");
        assert_eq!(request(&event).uri(), "/$connect");
    }

    #[test]
    fn other_requests_are_messages_on_the_route_their_path_names() {
        for (path, route, target) in [
            ("/sendmessage", "sendmessage", "/sendmessage"),
            ("/", "$default", "/$default"),
            ("/chat%2Fsend", "chat/send", "/chat%2Fsend"),
            ("/chat/send?ignored=1", "chat/send", "/chat%2Fsend"),
            ("/caf%C3%A9", "café", "/caf%C3%A9"),
            ("/%FF", "%FF", "/%25FF"),
        ] {
            let event = event(
                &parts(Method::POST, path, &[("x-ignored", "1")]),
                br#"{"action":"sendmessage"}"#,
            );
            let context = &event["requestContext"];
            assert_eq!(context["eventType"], "MESSAGE", "{path}");
            assert_eq!(context["routeKey"], route, "{path}");
            assert_eq!(context["messageId"], "req-1", "{path}");
            assert!(context["identity"].get("userAgent").is_none(), "{path}");
            assert!(event.get("headers").is_none(), "{path}: {event:#}");
            assert!(event.get("queryStringParameters").is_none(), "{path}");
            assert_eq!(event["body"], r#"{"action":"sendmessage"}"#, "{path}");
            assert_eq!(event["isBase64Encoded"], false, "{path}");
            let request = request(&event);
            assert_eq!(request.method(), Method::POST, "{path}");
            assert_eq!(request.uri(), target, "{path}");
            assert_eq!(
                request.body().as_bytes(),
                br#"{"action":"sendmessage"}"#,
                "{path}"
            );
        }
        // a DELETE elsewhere, or a PUT, is a message too
        let event = event(&parts(Method::DELETE, "/items", &[]), b"");
        assert_eq!(event["requestContext"]["routeKey"], "items");
        assert_eq!(event["body"], "");
    }

    #[test]
    fn a_binary_message_is_base64() {
        let event = event(&parts(Method::POST, "/bin", &[]), b"\xff\x00");
        assert_eq!(event["body"], "/wA=");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(request(&event).body().as_bytes(), b"\xff\x00");
    }

    #[test]
    fn delete_disconnect_is_a_disconnect() {
        let event = event(
            &parts(
                Method::DELETE,
                "/$disconnect",
                &[("host", "ws.local"), ("x-private", "1")],
            ),
            b"",
        );
        let context = &event["requestContext"];
        assert_eq!(context["eventType"], "DISCONNECT");
        assert_eq!(context["routeKey"], "$disconnect");
        assert_eq!(context["disconnectStatusCode"], 1005);
        assert_eq!(
            event["multiValueHeaders"],
            json!({"Host": ["ws.local"], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]})
        );
        assert!(event.get("body").is_none());
        let request = request(&event);
        assert_eq!(request.method(), Method::DELETE);
        assert_eq!(request.uri(), "/$disconnect");
        assert!(request.headers().get("x-private").is_none());
    }

    #[test]
    fn every_event_names_the_same_connection_made_at_the_same_time() {
        let first = event(&parts(Method::GET, "/$connect", &[]), b"");
        let second = event(&parts(Method::POST, "/", &[]), b"hi");
        for key in ["connectionId", "connectedAt"] {
            assert_eq!(
                first["requestContext"][key], second["requestContext"][key],
                "{key}"
            );
        }
    }

    #[test]
    fn the_response_event_the_source_writes_is_delivered() {
        let mut response = http::Response::new(());
        let headers = response.headers_mut();
        headers.append("sec-websocket-protocol", "chat.v2".parse().unwrap());
        headers.append(SET_COOKIE, "a=1".parse().unwrap());
        headers.append(SET_COOKIE, "b=2".parse().unwrap());
        headers.append("vary", "origin".parse().unwrap());
        headers.append("vary", "accept".parse().unwrap());
        let (parts, ()) = response.into_parts();
        let mut json = lambda_gateway_core::json::JsonWriter::with_capacity(256);
        let binary = lambda_gateway_core::BinaryPolicy::default();
        let options = lambda_gateway_core::EncodeOptions {
            binary: &binary,
            multi_value: true,
        };
        ApiGatewayWebSocket.encode_head(&parts, &mut json, options);
        ApiGatewayWebSocket.encode_body(b"\xff", None, &mut json);
        let delivered = APIGW_WEBSOCKET.client_response(&json.finish()).unwrap();
        assert_eq!(delivered.status(), 200);
        assert_eq!(delivered.headers()["sec-websocket-protocol"], "chat.v2");
        // the source writes only the first cookie, and joins repeated headers
        let cookies: Vec<_> = delivered.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1"]);
        assert_eq!(delivered.headers()["vary"], "origin,accept");
        assert_eq!(delivered.body().as_ref(), b"\xff");
    }

    #[test]
    fn malformed_response_events_are_errors_never_panics() {
        for event in [
            &b""[..],
            b"null",
            b"[]",
            b"{",
            br#"{}"#,
            br#"{"statusCode":"200"}"#,
            br#"{"statusCode":99}"#,
            br#"{"statusCode":200,"headers":{"x":1}}"#,
            br#"{"statusCode":200,"headers":{"x":["a"]}}"#,
            br#"{"statusCode":200,"headers":{"bad name":"v"}}"#,
            br#"{"statusCode":200,"headers":{},"headers":{}}"#,
            br#"{"statusCode":200,"body":[]}"#,
            br#"{"statusCode":200,"body":"%","isBase64Encoded":true}"#,
        ] {
            assert!(
                APIGW_WEBSOCKET.client_response(event).is_err(),
                "{}",
                String::from_utf8_lossy(event)
            );
        }
        // no headers at all, or `null`: a response without headers
        let response = APIGW_WEBSOCKET
            .client_response(
                br#"{"statusCode":403,"headers":null,"multiValueHeaders":{"x":["1"]}}"#,
            )
            .unwrap();
        assert_eq!(response.status(), 403);
        assert!(response.headers().is_empty());
        let oversized = vec![b' '; LAMBDA_PAYLOAD_LIMIT + 1];
        let error = APIGW_WEBSOCKET.client_response(&oversized).unwrap_err();
        assert!(error.contains("API Gateway WebSocket API"), "{error}");
    }

    #[test]
    fn the_source_lists_its_front_door() {
        let names: Vec<_> = ApiGatewayWebSocket
            .front_doors()
            .iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["apigw_websocket"]);
        assert_eq!(APIGW_WEBSOCKET.request_body_limit, 128 * 1024);
    }
}
