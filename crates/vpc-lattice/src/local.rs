//! The VPC Lattice front doors for the facade's local server (cargo feature `local`): how a real
//! HTTP request becomes the event a Lattice target group of type Lambda sends, in either event
//! structure, and how its response event is delivered.
//!
//! The emulated request comes from inside a VPC of the service network, without an auth policy
//! of type `AWS_IAM`: `requestContext.identity` names only the source VPC (Lattice adds the
//! caller's `type`, `principal`... only for IAM-authenticated requests).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Response, header::SET_COOKIE, request::Parts};
use lambda_gateway_core::{
    ResponseLimit,
    local::{
        ACCOUNT_ID, Connection, FrontDoor, LAMBDA_PAYLOAD_LIMIT, ResponseEvent,
        append_forwarded_for, append_header, body_fields, group, header_lists, multi_map,
        percent_decode, raw_pairs, single_map, string, strings,
    },
};
use serde_json::{Map, Value, json};

use crate::SOURCE;

/// A VPC Lattice target group of type Lambda with event structure **v2**: `vpc_lattice`.
///
/// `path` is the client's path with its raw query after the `?`, as AWS documents; header
/// values (names lower-cased) and decoded query values are lists, every value kept; the client's
/// address is appended to `X-Forwarded-For`; `requestContext` names a fixed local service
/// network, service, target group and source VPC, without an IAM identity. The response event
/// must have `headers`, string values but for `Set-Cookie`, which may be a list.
pub const VPC_LATTICE: FrontDoor = FrontDoor {
    name: "vpc_lattice",
    description: "a VPC Lattice target group (event structure v2)",
    source: SOURCE,
    request_body_limit: LAMBDA_PAYLOAD_LIMIT,
    response_limit: LIMIT,
    event: v2_event,
    deliver,
};

/// A VPC Lattice target group of type Lambda with event structure **v1** (the API's default):
/// `vpc_lattice_v1`.
///
/// snake_case fields without a request context: `raw_path` with the raw query, repeated headers
/// joined with `, ` (`cookie` too), the last decoded value of a repeated query key; the client's
/// address appended to `X-Forwarded-For`. Responses are delivered as [`VPC_LATTICE`]'s.
pub const VPC_LATTICE_V1: FrontDoor = FrontDoor {
    name: "vpc_lattice_v1",
    description: "a VPC Lattice target group (event structure v1)",
    source: SOURCE,
    request_body_limit: LAMBDA_PAYLOAD_LIMIT,
    response_limit: LIMIT,
    event: v1_event,
    deliver,
};

/// This source's front doors, v2 (the structure to prefer) first.
pub(crate) const FRONT_DOORS: &[FrontDoor] = &[VPC_LATTICE, VPC_LATTICE_V1];

/// Lattice's limits on a Lambda target: 6 MB of request body, 6 MB of response JSON (Lambda's
/// own).
const LIMIT: ResponseLimit = ResponseLimit {
    bytes: LAMBDA_PAYLOAD_LIMIT,
    name: "VPC Lattice Lambda target",
};

/// The emulated region.
const REGION: &str = "us-east-1";

/// v2 event: `path` with the raw query, list-valued headers and decoded query values, the
/// request context of a caller inside a VPC without IAM auth.
fn v2_event(parts: &Parts, body: &[u8], connection: &Connection, _: &str) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("path".into(), json!(path_with_query(parts)));
    event.insert("method".into(), json!(parts.method.as_str()));
    event.insert("headers".into(), multi_map(&headers(parts, connection)));
    event.insert("queryStringParameters".into(), multi_map(&query(parts)));
    body_fields(&mut event, body);
    event.insert(
        "requestContext".into(),
        json!({
            "serviceNetworkArn": format!("arn:aws:vpc-lattice:{REGION}:{ACCOUNT_ID}:servicenetwork/sn-0123456789abcdef0"),
            "serviceArn": format!("arn:aws:vpc-lattice:{REGION}:{ACCOUNT_ID}:service/svc-0123456789abcdef0"),
            "targetGroupArn": format!("arn:aws:vpc-lattice:{REGION}:{ACCOUNT_ID}:targetgroup/tg-0123456789abcdef0"),
            "identity": {
                "sourceVpcArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/vpc-0123456789abcdef0"),
            },
            "region": REGION,
            "timeEpoch": now_us().to_string(),
        }),
    );
    Value::Object(event)
}

/// v1 event: `raw_path` with the raw query, repeated headers joined with `, `, the last decoded
/// value of a repeated query key, `is_base64_encoded`; no request context.
fn v1_event(parts: &Parts, body: &[u8], connection: &Connection, _: &str) -> Value {
    let mut event = Map::new();
    event.insert("raw_path".into(), json!(path_with_query(parts)));
    event.insert("method".into(), json!(parts.method.as_str()));
    event.insert(
        "headers".into(),
        single_map(&headers(parts, connection), Some(", ")),
    );
    event.insert(
        "query_string_parameters".into(),
        single_map(&query(parts), None),
    );
    let mut fields = Map::new();
    body_fields(&mut fields, body);
    event.insert("body".into(), fields.remove("body").unwrap_or(Value::Null));
    event.insert(
        "is_base64_encoded".into(),
        fields
            .remove("isBase64Encoded")
            .unwrap_or(Value::Bool(false)),
    );
    Value::Object(event)
}

/// The path as the client sent it, with `?` and the raw query when the request has one.
fn path_with_query(parts: &Parts) -> String {
    match parts.uri.query() {
        Some(query) => format!("{}?{query}", parts.uri.path()),
        None => parts.uri.path().to_owned(),
    }
}

/// The query pairs, keys and values percent-decoded (`+` → space; kept as sent when the decoded
/// bytes are not UTF-8), grouped by key.
fn query(parts: &Parts) -> Vec<(String, Vec<String>)> {
    group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| {
            let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
            (decode(k), decode(v))
        }),
    )
}

/// Every header value, names lower-cased, with the client's address appended to
/// `X-Forwarded-For` — to the last line the client sent, or as a new header — as Lattice adds it
/// to every request.
fn headers(parts: &Parts, connection: &Connection) -> Vec<(String, Vec<String>)> {
    let mut headers: Vec<(String, Vec<String>)> = header_lists(&parts.headers)
        .into_iter()
        .map(|(name, values)| (name.to_owned(), values))
        .collect();
    append_forwarded_for(&mut headers, connection.peer.ip().to_string());
    headers
}

/// Microseconds since the Unix epoch (0 on a clock set before it): v2's `timeEpoch`.
fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// The response event's `statusCode`, body and `headers` — required, string values; a
/// `Set-Cookie` (any letter case) may be a list of strings, each a header of its own. Headers
/// come in document order.
fn deliver(event: &[u8]) -> Result<Response<Bytes>, String> {
    let (mut response, objects) = ResponseEvent::read(event)?.response()?;
    let members = objects
        .headers
        .ok_or("VPC Lattice requires a `headers` object in the response event")?;
    let headers = response.headers_mut();
    for (name, value) in &members {
        if name.eq_ignore_ascii_case(SET_COOKIE.as_str()) && value.get().starts_with('[') {
            for cookie in strings(value, name)? {
                append_header(headers, name, &cookie)?;
            }
        } else {
            append_header(headers, name, &string(value, name)?)?;
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::net::SocketAddr;

    use http::{Method, Request};
    use lambda_gateway_core::{
        Claim, EventSource,
        event::{EventView, Schema},
    };

    use super::*;
    use crate::{VpcLattice, fields::FIELDS};

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

    fn event(door: &FrontDoor, parts: &Parts, body: &[u8]) -> Value {
        serde_json::from_slice(&door.request_event(parts, body, &connection(), "req-1")).unwrap()
    }

    /// The request the source makes of `event`.
    fn request(event: &Value) -> Request<lambda_gateway_core::Body> {
        let raw = Bytes::from(serde_json::to_vec(event).unwrap());
        let schema = Schema::build(&[FIELDS]).unwrap();
        EventView::parse(&schema, &raw, |view| {
            let view = view.unwrap().for_source(schema.binding(0).unwrap());
            assert_eq!(VpcLattice.claim(&view), Claim::Claimed, "{event:#}");
            VpcLattice.parse_request(&view, raw.clone()).unwrap()
        })
    }

    #[test]
    fn a_v2_get_has_the_raw_query_in_path_and_every_value_as_lists() {
        let parts = parts(
            Method::GET,
            "/items/a%2Fb?color=red&color=blue&q=a+b%21&flag",
            &[
                ("host", "svc.local"),
                ("x-tag", "alpha"),
                ("X-Tag", "beta"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        );
        let event = event(&VPC_LATTICE, &parts, b"");
        assert_eq!(event["version"], "2.0");
        assert_eq!(
            event["path"],
            "/items/a%2Fb?color=red&color=blue&q=a+b%21&flag"
        );
        assert_eq!(event["method"], "GET");
        assert_eq!(event["headers"]["x-tag"], json!(["alpha", "beta"]));
        assert_eq!(event["headers"]["host"], json!(["svc.local"]));
        assert_eq!(
            event["headers"]["x-forwarded-for"],
            json!(["203.0.113.9, 192.0.2.7"])
        );
        assert_eq!(
            event["queryStringParameters"],
            json!({"color": ["red", "blue"], "q": ["a b!"], "flag": [""]})
        );
        assert_eq!(event["body"], Value::Null);
        assert_eq!(event["isBase64Encoded"], false);
        let context = &event["requestContext"];
        for arn in ["serviceNetworkArn", "serviceArn", "targetGroupArn"] {
            assert!(
                context[arn]
                    .as_str()
                    .is_some_and(|a| a.starts_with("arn:aws:vpc-lattice:us-east-1:")),
                "{arn}: {context}"
            );
        }
        assert_eq!(
            context["identity"],
            json!({"sourceVpcArn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0"})
        );
        assert_eq!(context["region"], "us-east-1");
        let micros: u128 = context["timeEpoch"].as_str().unwrap().parse().unwrap();
        assert!(micros > 1_700_000_000_000_000, "{micros}");

        // the source reads it back into the client's request
        let request = request(&event);
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "/items/a%2Fb?color=red&color=blue&q=a+b%21&flag"
        );
        let tags: Vec<_> = request.headers().get_all("x-tag").iter().collect();
        assert_eq!(tags, ["alpha", "beta"]);
    }

    #[test]
    fn without_a_query_the_map_is_empty_and_the_peer_makes_x_forwarded_for() {
        let parts = parts(Method::GET, "/health", &[]);
        let event = event(&VPC_LATTICE, &parts, b"");
        assert_eq!(event["path"], "/health");
        assert_eq!(event["queryStringParameters"], json!({}));
        assert_eq!(event["headers"], json!({"x-forwarded-for": ["192.0.2.7"]}));
        let event = self::event(
            &VPC_LATTICE,
            &super::tests::parts(Method::GET, "/", &[("x-forwarded-for", " ")]),
            b"",
        );
        assert_eq!(event["headers"]["x-forwarded-for"], json!(["192.0.2.7"]));
    }

    #[test]
    fn bodies_are_text_when_utf8_and_base64_otherwise() {
        let parts = parts(Method::POST, "/upload", &[]);
        let event = event(&VPC_LATTICE, &parts, "héllo".as_bytes());
        assert_eq!(
            (&event["body"], &event["isBase64Encoded"]),
            (&json!("héllo"), &json!(false))
        );
        let event = self::event(&VPC_LATTICE, &parts, b"\xff\x00\x80");
        assert_eq!(
            (&event["body"], &event["isBase64Encoded"]),
            (&json!("/wCA"), &json!(true))
        );
        let request = request(&event);
        assert_eq!(request.body().as_bytes(), b"\xff\x00\x80");
    }

    #[test]
    fn a_v1_event_joins_headers_and_keeps_the_last_query_value() {
        let parts = parts(
            Method::PUT,
            "/search?tag=a&tag=b&name=Jane%20Doe",
            &[("x-tag", "alpha"), ("x-tag", "beta")],
        );
        let event = event(&VPC_LATTICE_V1, &parts, b"\xfe");
        assert_eq!(
            event,
            json!({
                "raw_path": "/search?tag=a&tag=b&name=Jane%20Doe",
                "method": "PUT",
                "headers": {"x-tag": "alpha, beta", "x-forwarded-for": "192.0.2.7"},
                "query_string_parameters": {"tag": "b", "name": "Jane Doe"},
                "body": "/g==",
                "is_base64_encoded": true,
            })
        );
        let request = request(&event);
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.uri(), "/search?tag=a&tag=b&name=Jane%20Doe");
        assert_eq!(request.headers()["x-tag"], "alpha, beta");
        assert_eq!(request.body().as_bytes(), b"\xfe");
    }

    #[test]
    fn every_cookie_of_a_list_is_its_own_set_cookie() {
        let event = br#"{"statusCode":201,"statusDescription":"201 Created","headers":{
            "set-cookie":["a=1; Path=/","b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"],
            "Set-Cookie":"c=3","vary":"origin, accept"},"body":"aGk=","isBase64Encoded":true}"#;
        for door in [VPC_LATTICE, VPC_LATTICE_V1] {
            let response = door.client_response(event).unwrap();
            assert_eq!(response.status(), 201);
            let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
            assert_eq!(
                cookies,
                [
                    "a=1; Path=/",
                    "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
                    "c=3"
                ]
            );
            assert_eq!(response.headers()["vary"], "origin, accept");
            assert_eq!(response.body().as_ref(), b"hi");
        }
    }

    #[test]
    fn the_response_event_the_source_writes_is_delivered() {
        let mut response = http::Response::new(());
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        let headers = response.headers_mut();
        headers.append(SET_COOKIE, "a=1".parse().unwrap());
        headers.append(SET_COOKIE, "b=2".parse().unwrap());
        headers.append("x-raw", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let (parts, ()) = response.into_parts();
        let mut json = lambda_gateway_core::json::JsonWriter::with_capacity(256);
        let binary = lambda_gateway_core::BinaryPolicy::default();
        let options = lambda_gateway_core::EncodeOptions {
            binary: &binary,
            multi_value: false,
        };
        VpcLattice.encode_head(&parts, &mut json, options);
        VpcLattice.encode_body(b"gone", Some("gone"), &mut json);
        let delivered = VPC_LATTICE.client_response(&json.finish()).unwrap();
        assert_eq!(delivered.status(), 404);
        let cookies: Vec<_> = delivered.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(delivered.headers()["x-raw"].as_bytes(), b"caf\xe9");
        assert_eq!(delivered.body().as_ref(), b"gone");
    }

    #[test]
    fn malformed_response_events_are_errors_never_panics() {
        for event in [
            &b""[..],
            b"null",
            b"[]",
            b"\"text\"",
            b"{",
            br#"{}"#,
            br#"{"statusCode":200}"#,
            br#"{"statusCode":200,"headers":null}"#,
            br#"{"statusCode":"200","headers":{}}"#,
            br#"{"statusCode":1000,"headers":{}}"#,
            br#"{"statusCode":-1,"headers":{}}"#,
            br#"{"statusCode":200,"headers":{"x":1}}"#,
            br#"{"statusCode":200,"headers":{"x":["a","b"]}}"#,
            br#"{"statusCode":200,"headers":{"set-cookie":["a",1]}}"#,
            br#"{"statusCode":200,"headers":{"set-cookie":{"a":"1"}}}"#,
            br#"{"statusCode":200,"headers":{"bad name":"v"}}"#,
            br#"{"statusCode":200,"headers":{"x":"a\nb"}}"#,
            br#"{"statusCode":200,"headers":{},"headers":{}}"#,
            br#"{"statusCode":200,"headers":{},"body":5}"#,
            br#"{"statusCode":200,"headers":{},"body":"!!","isBase64Encoded":true}"#,
        ] {
            for door in [VPC_LATTICE, VPC_LATTICE_V1] {
                assert!(
                    door.client_response(event).is_err(),
                    "{}: {}",
                    door.name,
                    String::from_utf8_lossy(event)
                );
            }
        }
        let oversized = vec![b' '; LAMBDA_PAYLOAD_LIMIT + 1];
        let error = VPC_LATTICE.client_response(&oversized).unwrap_err();
        assert!(error.contains("VPC Lattice Lambda target"), "{error}");
    }

    #[test]
    fn the_source_lists_both_front_doors() {
        let names: Vec<_> = VpcLattice.front_doors().iter().map(|d| d.name).collect();
        assert_eq!(names, ["vpc_lattice", "vpc_lattice_v1"]);
    }
}
