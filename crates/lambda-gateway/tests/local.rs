//! Local mode end to end: `Gateway::serve_local` on an ephemeral loopback port, driven by a real
//! HTTP client (hyper-util's legacy client), for every emulated front door.
//!
//! Each test runs its check against every [`LocalSource`] that forwards the HTTP request as a
//! request (all but the WebSocket API's), one fresh server each, and names the source in every
//! failure. Where the front doors differ (repeated request headers, repeated query keys, the REST
//! path round trip, the payload limits, the client's address) the expected value is stated per
//! source: those differences are AWS behaviour that the local mode reproduces on purpose. The
//! WebSocket API, whose requests become `$connect`, message and `$disconnect` events, has tests
//! of its own, at the end.

#![cfg(all(
    feature = "local",
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "local/support.rs"]
mod support;

use std::{collections::BTreeMap, fs, path::PathBuf, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http::{Method, StatusCode, header::CONTENT_TYPE};
use http_body_util::Full;
use lambda_gateway::{Gateway, LocalLimits, LocalSource};
use serde_json::Value;
use support::{
    ALB, ALL, ALL_HTTP, APIGW_HTTP, APIGW_REST, APIGW_WEBSOCKET, LAMBDA_LIMIT, RAW_HEADER_BYTES,
    Server, VPC_LATTICE, VPC_LATTICE_V1, WEBSOCKET_MESSAGE_LIMIT, app, binary_payload, is_alb,
    is_lattice, limit,
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

/// Query pairs decoded as a plain server decodes them (`application/x-www-form-urlencoded`),
/// grouped by key with every value in order.
fn decode_query(query: &str) -> BTreeMap<String, Vec<String>> {
    let mut decoded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        decoded
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    decoded
}

#[test]
fn the_front_doors_are_named_by_the_enabled_sources() {
    assert_eq!(LocalSource::enabled().collect::<Vec<_>>(), ALL);
    for source in ALL {
        assert_eq!(source.as_str().parse::<LocalSource>().ok(), Some(source));
        assert_eq!(
            format!(" {source}\n").parse::<LocalSource>().ok(),
            Some(source)
        );
    }
    let error = "bogus".parse::<LocalSource>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown local source \"bogus\"; expected one of apigw_rest, apigw_http, function_url, alb, alb_multi, vpc_lattice, vpc_lattice_v1, apigw_websocket"
    );
}

#[tokio::test]
async fn hello_contract_holds_for_a_query_and_a_form_post() {
    for source in ALL_HTTP {
        let server = Server::start(source).await;

        let reply = server.get("/add?first=2&second=3").await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        assert_eq!(reply.text(), "5", "{source}");
        assert_eq!(reply.header_values("x-hi"), ["foo"], "{source}");

        let request = server
            .request(Method::POST, "/add")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"first=2&second=3")))
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        assert_eq!(reply.text(), "5", "{source}");
        assert_eq!(reply.header_values("x-hi"), ["foo"], "{source}");

        server.stop().await;
    }
}

#[tokio::test]
async fn binary_upload_reaches_the_service_byte_for_byte() {
    let payload = binary_payload(12 * 1024 + 7, 0x5eed);
    for source in ALL_HTTP {
        let server = Server::start(source).await;
        for content_type in [Some("application/octet-stream"), None] {
            let mut request = server.request(Method::POST, "/upload");
            if let Some(content_type) = content_type {
                request = request.header(CONTENT_TYPE, content_type);
            }
            let request = request
                .body(Full::new(Bytes::from(payload.clone())))
                .unwrap();
            let seen = server.send(request).await.seen(source);
            assert_eq!(seen.str("method"), Some("POST"), "{source}");
            assert!(
                seen.body() == payload,
                "{source} ({content_type:?}): the service received {} bytes that differ from the {} sent",
                seen.body().len(),
                payload.len()
            );
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn binary_download_reaches_the_client_byte_for_byte() {
    let payload = binary_payload(16 * 1024 + 3, 0xd0_d0);
    // A gzip member header in front of random bytes: binary, and flagged by Content-Encoding.
    let gzipped: Vec<u8> = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]
        .into_iter()
        .chain(binary_payload(9000, 0x9219))
        .collect();
    for source in ALL_HTTP {
        let server = Server::start(source).await;

        let reply = server
            .get_scripted(
                "/download",
                200,
                &[("content-type", "application/octet-stream")],
                &payload,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        assert_eq!(
            reply.header_values("content-type"),
            ["application/octet-stream"],
            "{source}"
        );
        assert!(
            reply.body == payload,
            "{source}: octet-stream download differs ({} bytes received)",
            reply.body.len()
        );

        // A textual content type: only Content-Encoding says the bytes are not text.
        let reply = server
            .get_scripted(
                "/download.json",
                200,
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                ],
                &gzipped,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        assert_eq!(
            reply.header_values("content-encoding"),
            ["gzip"],
            "{source}"
        );
        assert!(
            reply.body == gzipped,
            "{source}: gzip download differs ({} bytes received)",
            reply.body.len()
        );

        server.stop().await;
    }
}

#[tokio::test]
async fn every_set_cookie_reaches_the_client_as_its_own_header() {
    // The Expires comma shows the cookies are never comma-joined; `a` twice shows order matters.
    let cookies = [
        "a=1; Path=/",
        "b=2; HttpOnly; Secure",
        "c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        "a=4; Path=/sub",
    ];
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "text/plain")];
    headers.extend(cookies.iter().map(|c| ("set-cookie", *c)));
    for source in ALL_HTTP {
        let server = Server::start(source).await;
        let reply = server.get_scripted("/cookies", 200, &headers, b"ok").await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        assert_eq!(reply.text(), "ok", "{source}");
        // ALB single-value mode sends them under letter-case variants of the name; they arrive as
        // ordinary Set-Cookie headers.
        assert_eq!(
            reply.header_values("set-cookie"),
            cookies,
            "{source}: every Set-Cookie, separately, in order"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn repeated_request_headers_arrive_as_each_front_door_sends_them() {
    for source in ALL_HTTP {
        // What each front door puts in the event for a header sent twice:
        // - REST (`multiValueHeaders`) and ALB multi-value keep every value, in order;
        // - HTTP API 2.0 and Function URLs comma-join the values into one (`Cookie` goes to the
        //   `cookies` array instead, which the adapter joins with "; ");
        // - ALB single-value keeps the last value only;
        // - VPC Lattice v2 keeps every value (the adapter joins several `cookie` with "; ");
        // - VPC Lattice v1 joins the values with ", " (`cookie` too).
        let (multi, cookie): (&[&str], &[&str]) = match source.as_str() {
            "apigw_rest" | "alb_multi" => (&["one", "two"], &["a=1", "b=2"]),
            "apigw_http" | "function_url" => (&["one,two"], &["a=1; b=2"]),
            "alb" => (&["two"], &["b=2"]),
            "vpc_lattice" => (&["one", "two"], &["a=1; b=2"]),
            "vpc_lattice_v1" => (&["one, two"], &["a=1, b=2"]),
            other => panic!("no expectation for {other}"),
        };
        let server = Server::start(source).await;
        let request = server
            .request(Method::GET, "/headers")
            .header("x-multi", "one")
            .header("x-multi", "two")
            .header("x-single", "only")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .body(Full::default())
            .unwrap();
        let seen = server.send(request).await.seen(source);
        assert_eq!(seen.header("x-multi"), multi, "{source}: x-multi");
        assert_eq!(seen.header("x-single"), ["only"], "{source}: x-single");
        assert_eq!(seen.header("cookie"), cookie, "{source}: cookie");
        server.stop().await;
    }
}

#[tokio::test]
async fn query_decodes_as_a_plain_server_would_decode_it() {
    // `+` is a space, `%2B` a plus, `%E2%9C%93` the client's encoding of "✓".
    let query = "plus=a+b&enc=%2B&uni=%E2%9C%93&mix=x+%2B%20y%26z&sp%20ace=1";
    let expected = decode_query(query);
    assert_eq!(expected["plus"], ["a b"]);
    assert_eq!(expected["enc"], ["+"]);
    assert_eq!(expected["uni"], ["✓"]);
    assert_eq!(expected["mix"], ["x + y&z"]);
    assert_eq!(expected["sp ace"], ["1"]);
    for source in ALL_HTTP {
        let server = Server::start(source).await;

        let seen = server.get(&format!("/q?{query}")).await.seen(source);
        let decoded = decode_query(seen.str("query").unwrap_or_default());
        assert_eq!(decoded, expected, "{source}: query {:?}", seen.str("query"));

        // A repeated key: all values, in order, except on ALB single-value, which keeps the
        // last (its `queryStringParameters` is a single-value map).
        let seen = server.get("/q?k=1&k=2&k=3").await.seen(source);
        let decoded = decode_query(seen.str("query").unwrap_or_default());
        let k: &[&str] = if source == ALB {
            &["3"]
        } else {
            &["1", "2", "3"]
        };
        assert_eq!(decoded["k"], k, "{source}: query {:?}", seen.str("query"));

        server.stop().await;
    }
}

#[tokio::test]
async fn service_path_keeps_its_percent_encoding() {
    for source in ALL_HTTP {
        let server = Server::start(source).await;
        // REST decodes the path into the event and the adapter re-encodes it; the others pass the
        // path through as the client sent it. Either way the service sees the client's path.
        let seen = server.get("/a%20b/caf%C3%A9?x=1").await.seen(source);
        assert_eq!(seen.str("path"), Some("/a%20b/caf%C3%A9"), "{source}");
        assert_eq!(seen.str("uri"), Some("/a%20b/caf%C3%A9?x=1"), "{source}");

        // An encoded slash: a REST API's decoded `path` cannot tell it from a separator.
        let seen = server.get("/a%2Fb").await.seen(source);
        let expected = if source == APIGW_REST {
            "/a/b"
        } else {
            "/a%2Fb"
        };
        assert_eq!(seen.str("path"), Some(expected), "{source}");
        server.stop().await;
    }
}

#[tokio::test]
async fn request_over_the_payload_limit_answers_413() {
    for source in ALL_HTTP {
        let limit = limit(source);
        let server = Server::start(source).await;

        // Well under the limit (leaving room for the event around the body): accepted.
        let request = server
            .request(Method::POST, "/add?first=40&second=2")
            .header(CONTENT_TYPE, "text/plain")
            .body(Full::new(Bytes::from(vec![b'a'; limit - 64 * 1024])))
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {:?}", reply.text());
        assert_eq!(reply.text(), "42", "{source}");

        // Over it: 413 with a plain-text reason naming the limit.
        let request = server
            .request(Method::POST, "/add?first=40&second=2")
            .header(CONTENT_TYPE, "text/plain")
            .body(Full::new(Bytes::from(vec![b'a'; limit + 1024])))
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{source}: {:?}",
            reply.text()
        );
        assert!(
            reply.header_values("content-type")[0].starts_with("text/plain"),
            "{source}: {:?}",
            reply.headers
        );
        let text = reply.text();
        assert!(
            text.contains("request body is over") && text.contains(&limit.to_string()),
            "{source}: {text:?}"
        );

        if !is_alb(source) {
            // A binary body under 6 MB whose base64 event is over it: Lambda refuses the event.
            let request = server
                .request(Method::POST, "/add")
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(Full::new(Bytes::from(binary_payload(
                    LAMBDA_LIMIT * 4 / 5,
                    7,
                ))))
                .unwrap();
            let reply = server.send(request).await;
            assert_eq!(
                reply.status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{source}: {:?}",
                reply.text()
            );
            let text = reply.text();
            assert!(
                text.contains("request event is") && text.contains(&LAMBDA_LIMIT.to_string()),
                "{source}: {text:?}"
            );
        }

        // The server still serves.
        assert_eq!(server.get("/add?first=1&second=1").await.text(), "2");
        server.stop().await;
    }
}

#[tokio::test]
async fn response_over_the_payload_limit_answers_502() {
    for source in ALL_HTTP {
        let limit = limit(source);
        let server = Server::start(source).await;

        let fits = limit - 64 * 1024;
        let reply = server.get(&format!("/big?bytes={fits}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {:?}", reply.text());
        assert_eq!(reply.body.len(), fits, "{source}");

        let reply = server.get(&format!("/big?bytes={}", limit + 1)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_GATEWAY,
            "{source}: {:?}",
            reply.text()
        );
        let text = reply.text();
        // "... the response event is N bytes, over the ... limit of L bytes"
        let size: usize = text
            .split("response event is ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{source}: no size in {text:?}"));
        assert!(size > limit, "{source}: {text:?}");
        assert!(
            text.contains(&format!("limit of {limit} bytes")),
            "{source}: {text:?}"
        );

        assert_eq!(server.get("/add?first=1&second=1").await.text(), "2");
        server.stop().await;
    }
}

#[tokio::test]
async fn failing_or_panicking_service_answers_500_and_the_server_keeps_serving() {
    for source in ALL_HTTP {
        let server = Server::start(source).await;
        for switch in ["x-test-panic", "x-test-error"] {
            let request = server
                .request(Method::GET, "/fail")
                .header(switch, "1")
                .body(Full::default())
                .unwrap();
            let reply = server.send(request).await;
            assert_eq!(
                reply.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{source} {switch}: {:?}",
                reply.text()
            );
            assert_eq!(reply.text(), "Internal Server Error", "{source} {switch}");

            let reply = server.get("/add?first=2&second=3").await;
            assert_eq!(reply.text(), "5", "{source} after {switch}");
        }
        server.stop().await;
    }
}

/// A fresh, empty directory for one test's captures.
fn capture_dir(source: LocalSource) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lambda-gateway-local-test-{}-{source}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn captured_events_replay_to_the_same_response() {
    let upload = binary_payload(3000, 0xca97);
    let download = binary_payload(2000, 0xd0_d1);
    for source in ALL_HTTP {
        let dir = capture_dir(source);
        let server = Server::start_capturing(source, dir.clone()).await;
        let get = server
            .send(
                server
                    .request(Method::GET, "/captured?x=1&y=a+b")
                    .header("x-multi", "one")
                    .header("x-multi", "two")
                    .body(Full::default())
                    .unwrap(),
            )
            .await;
        let post = server
            .send(
                server
                    .request(Method::POST, "/upload/it")
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(Full::new(Bytes::from(upload.clone())))
                    .unwrap(),
            )
            .await;
        let scripted = server
            .get_scripted(
                "/",
                201,
                &[
                    ("content-type", "image/png"),
                    ("set-cookie", "a=1"),
                    ("set-cookie", "b=2; Path=/"),
                    ("x-custom", "yes"),
                ],
                &download,
            )
            .await;
        server.stop().await;

        assert_eq!(
            get.seen(source).header("x-multi").len(),
            match source.as_str() {
                "apigw_rest" | "alb_multi" | "vpc_lattice" => 2,
                _ => 1,
            },
            "{source}"
        );
        assert!(post.seen(source).body() == upload, "{source}");
        assert_eq!(scripted.status, StatusCode::CREATED, "{source}");
        assert!(scripted.body == download, "{source}");

        let mut files: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "0001-GET-captured.json",
                "0002-POST-upload_it.json",
                "0003-GET-root.json"
            ],
            "{source}"
        );

        for (file, live) in files.iter().zip([&get, &post, &scripted]) {
            let event = fs::read(dir.join(file)).unwrap();
            let parsed: Value = serde_json::from_slice(&event).unwrap();
            check_event_shape(source, &parsed, file);

            // Replaying the file offline gives the response event the client's answer came from:
            // same status, every header, the same body bytes (and the same request seen by the
            // echo, which is in the body).
            let replayed = Gateway::new(tower::service_fn(app))
                .invoke(&event)
                .await
                .unwrap_or_else(|e| panic!("{source}: replaying {file} failed: {e}"));
            let replayed: Value = serde_json::from_slice(&replayed).unwrap();
            assert_eq!(
                replayed["statusCode"].as_u64(),
                Some(u64::from(live.status.as_u16())),
                "{source} {file}: {replayed}"
            );
            let body = replayed["body"].as_str().unwrap_or_default();
            let body = if replayed["isBase64Encoded"] == Value::Bool(true) {
                STANDARD.decode(body).unwrap()
            } else {
                body.as_bytes().to_vec()
            };
            assert!(
                body == live.body,
                "{source} {file}: the replayed body differs: {:?} vs {:?}",
                String::from_utf8_lossy(&body),
                live.text()
            );
            let mut live_headers: Vec<(String, String)> = live
                .headers
                .iter()
                .filter(|(name, _)| *name != "content-length" && *name != "date")
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            live_headers.sort();
            assert_eq!(
                event_headers(source, &replayed),
                live_headers,
                "{source} {file}: {replayed}"
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Every header a response event of `source` carries, names lower-cased, sorted.
fn event_headers(source: LocalSource, event: &Value) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let single = event["headers"].as_object().into_iter().flatten();
    let multi = event["multiValueHeaders"].as_object().into_iter().flatten();
    match source.as_str() {
        "apigw_rest" | "alb_multi" => {
            for (name, values) in multi {
                for value in values.as_array().unwrap() {
                    headers.push((name.to_lowercase(), value.as_str().unwrap().to_owned()));
                }
            }
            if source == APIGW_REST {
                // API Gateway merges `headers` into `multiValueHeaders`.
                for (name, value) in single {
                    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                        headers.push((name.to_lowercase(), value.as_str().unwrap().to_owned()));
                    }
                }
            }
        }
        "vpc_lattice" | "vpc_lattice_v1" => {
            // strings, but several `Set-Cookie` are a list
            for (name, value) in single {
                let values = match value {
                    Value::Array(values) => values.iter().collect(),
                    value => vec![value],
                };
                for value in values {
                    headers.push((name.to_lowercase(), value.as_str().unwrap().to_owned()));
                }
            }
        }
        _ => {
            for (name, value) in single {
                headers.push((name.to_lowercase(), value.as_str().unwrap().to_owned()));
            }
            for cookie in event["cookies"].as_array().into_iter().flatten() {
                headers.push(("set-cookie".into(), cookie.as_str().unwrap().to_owned()));
            }
        }
    }
    headers.sort();
    headers
}

/// The captured event has the shape of `source`'s events.
fn check_event_shape(source: LocalSource, event: &Value, file: &str) {
    let context = &event["requestContext"];
    let ok = match source.as_str() {
        "apigw_rest" => {
            event["httpMethod"].is_string()
                && event["multiValueHeaders"].is_object()
                && context["stage"] == "local"
                && event.get("version").is_none()
        }
        "apigw_http" => {
            event["version"] == "2.0"
                && event["rawPath"].is_string()
                && context["stage"] == "$default"
                && !context["domainName"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with(".on.aws")
        }
        "function_url" => {
            event["version"] == "2.0"
                && context["domainName"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with(".lambda-url.us-east-1.on.aws")
        }
        "alb" => {
            context["elb"]["targetGroupArn"].is_string()
                && event["headers"].is_object()
                && event.get("multiValueHeaders").is_none()
        }
        "alb_multi" => {
            context["elb"]["targetGroupArn"].is_string()
                && event["multiValueHeaders"].is_object()
                && event.get("headers").is_none()
        }
        "vpc_lattice" => {
            event["version"] == "2.0"
                && event["path"].is_string()
                && event["headers"]
                    .as_object()
                    .is_some_and(|h| h.values().all(Value::is_array))
                && event["queryStringParameters"].is_object()
                && context["serviceArn"].is_string()
                && context["identity"]["sourceVpcArn"].is_string()
                && context["timeEpoch"].is_string()
        }
        "vpc_lattice_v1" => {
            event["raw_path"].is_string()
                && event["headers"]
                    .as_object()
                    .is_some_and(|h| h.values().all(Value::is_string))
                && event["is_base64_encoded"].is_boolean()
                && event.get("requestContext").is_none()
        }
        other => panic!("no expectation for {other}"),
    };
    assert!(ok, "{source}: {file} is not such an event: {event:#}");
}

/// Connection limits small enough for a test; `header`, `idle` in milliseconds.
fn limits(header: u64, idle: u64, connections: usize) -> LocalLimits {
    LocalLimits::default()
        .header_read_timeout(Duration::from_millis(header))
        .idle_timeout(Duration::from_millis(idle))
        .max_connections(connections)
}

/// How long a test waits for the server to close a connection it must close (many times the
/// limits used here: a slow machine cannot make a correct server fail this).
const CLOSE_PATIENCE: Duration = Duration::from_secs(20);

/// Whether the server closed `stream`: reading gives the end of the stream or an error within
/// [`CLOSE_PATIENCE`] (anything it had sent before is read and dropped).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    tokio::time::timeout(CLOSE_PATIENCE, stream.read_to_end(&mut sink))
        .await
        .is_ok()
}

/// One HTTP/1.1 request on a raw connection, read up to the end of the response headers.
async fn raw_exchange(stream: &mut TcpStream, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(CLOSE_PATIENCE, stream.read(&mut byte))
            .await
            .expect("a response")
            .unwrap();
        assert_eq!(n, 1, "the connection closed mid-response: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn slow_header_connections_are_closed_within_the_timeout_while_requests_keep_being_served() {
    let server = Server::start_limited(APIGW_HTTP, limits(300, 60_000, 256)).await;
    // 50 clients that start a request and never finish its headers
    let mut slow = Vec::new();
    for i in 0..50 {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(
                format!("GET /add?first={i} HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").as_bytes(),
            )
            .await
            .unwrap();
        slow.push(stream);
    }
    // one that dribbles a header byte every 50 ms, for longer than the timeout allows
    let dribbler = {
        let addr = server.addr();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: {}\r\n\r\n",
                "a".repeat(400)
            );
            for byte in request.bytes() {
                if stream.write_all(&[byte]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // the whole request went through: the server never cut it
            false
        })
    };
    // meanwhile, ordinary requests are answered
    for _ in 0..5 {
        let reply = server.get("/add?first=2&second=3").await;
        assert_eq!((reply.status, reply.text().as_str()), (StatusCode::OK, "5"));
    }
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_by_server(stream).await,
            "slow connection {i} is still open"
        );
    }
    assert!(
        dribbler.await.unwrap(),
        "a request dribbled byte by byte was let through"
    );
    let reply = server.get("/add?first=20&second=22").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "42")
    );
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_and_stalled_bodies_are_closed_after_the_idle_timeout() {
    let server = Server::start_limited(ALB, limits(60_000, 300, 256)).await;
    // a connection that never sends anything
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    // a keep-alive connection after one exchange
    let mut kept = TcpStream::connect(server.addr()).await.unwrap();
    let head = raw_exchange(&mut kept, "/add?first=1&second=1").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        closed_by_server(&mut silent).await,
        "a silent connection is kept open"
    );
    assert!(
        closed_by_server(&mut kept).await,
        "an idle keep-alive connection is kept open"
    );
    server.stop().await;
}

#[tokio::test]
async fn at_the_connection_cap_new_connections_wait_until_one_closes() {
    let server = Server::start_limited(APIGW_REST, limits(60_000, 60_000, 2)).await;
    let first = TcpStream::connect(server.addr()).await.unwrap();
    let mut second = TcpStream::connect(server.addr()).await.unwrap();
    // the second is accepted (it is answered), so both slots are taken
    let head = raw_exchange(&mut second, "/").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let mut third = TcpStream::connect(server.addr()).await.unwrap();
    third
        .write_all(
            b"GET /add?first=2&second=3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut byte = [0_u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut byte))
            .await
            .is_err(),
        "a third connection was served while two were open"
    );
    drop(first);
    let mut response = Vec::new();
    let read = tokio::time::timeout(CLOSE_PATIENCE, third.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert!(
        read.is_ok() && text.starts_with("HTTP/1.1 200 OK") && text.ends_with('5'),
        "the third connection was not served after a slot freed: {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_client_address_is_the_source_ip_and_alb_and_lattice_append_it_to_x_forwarded_for() {
    for source in ALL_HTTP {
        // VPC Lattice names the client only in X-Forwarded-For, which is not trusted
        let source_ip = if is_lattice(source) {
            None
        } else {
            Some("127.0.0.1")
        };
        let server = Server::start(source).await;
        let request = server
            .request(Method::GET, "/echo")
            .header("x-forwarded-for", "203.0.113.66")
            .header("x-forwarded-proto", "gopher")
            .body(Full::default())
            .unwrap();
        let seen = server.send(request).await.seen(source);
        assert_eq!(seen.str("source_ip"), source_ip, "{source}");
        if is_lattice(source) {
            assert_eq!(
                seen.header("x-forwarded-for"),
                ["203.0.113.66, 127.0.0.1"],
                "{source}"
            );
            assert_eq!(seen.header("x-forwarded-proto"), ["gopher"], "{source}");
        } else if is_alb(source) {
            assert_eq!(
                seen.header("x-forwarded-for"),
                ["203.0.113.66, 127.0.0.1"],
                "{source}"
            );
            assert_eq!(seen.header("x-forwarded-proto"), ["http"], "{source}");
            assert_eq!(
                seen.header("x-forwarded-port"),
                [server.addr().port().to_string()],
                "{source}"
            );
        } else {
            // API Gateway passes the client's headers on; the source IP is its own field
            assert_eq!(seen.header("x-forwarded-for"), ["203.0.113.66"], "{source}");
        }
        // without a client header, ALB and Lattice create it
        let seen = server.get("/echo").await.seen(source);
        assert_eq!(seen.str("source_ip"), source_ip, "{source}");
        if is_alb(source) || is_lattice(source) {
            assert_eq!(seen.header("x-forwarded-for"), ["127.0.0.1"], "{source}");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn response_header_bytes_that_are_not_utf8_reach_the_client_byte_for_byte() {
    for source in ALL_HTTP {
        let server = Server::start(source).await;
        let reply = server.get("/raw-header-bytes").await;
        assert_eq!(reply.status, StatusCode::OK, "{source}: {reply:?}");
        let raw: Vec<&[u8]> = reply
            .headers
            .get_all("x-raw")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        assert_eq!(raw, [RAW_HEADER_BYTES], "{source}");
        server.stop().await;
    }
}

#[tokio::test]
async fn vpc_lattice_round_trips_a_query_repeated_headers_a_binary_body_and_cookies() {
    let upload = binary_payload(5000, 0x1a77);
    for source in [VPC_LATTICE, VPC_LATTICE_V1] {
        let server = Server::start(source).await;

        // a GET with a query and a repeated header: the query in `path` / `raw_path` verbatim;
        // v2 lists every header value, v1 joins them with ", "
        let request = server
            .request(
                Method::GET,
                "/items/a%2Fb?color=red&color=blue&name=Jane+Doe",
            )
            .header("x-tag", "alpha")
            .header("x-tag", "beta")
            .body(Full::default())
            .unwrap();
        let seen = server.send(request).await.seen(source);
        assert_eq!(seen.str("method"), Some("GET"), "{source}");
        assert_eq!(
            seen.str("uri"),
            Some("/items/a%2Fb?color=red&color=blue&name=Jane+Doe"),
            "{source}"
        );
        let tags: &[&str] = if source == VPC_LATTICE {
            &["alpha", "beta"]
        } else {
            &["alpha, beta"]
        };
        assert_eq!(seen.header("x-tag"), tags, "{source}");
        assert_eq!(seen.header("x-forwarded-for"), ["127.0.0.1"], "{source}");

        // a binary POST
        let request = server
            .request(Method::POST, "/upload")
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from(upload.clone())))
            .unwrap();
        let seen = server.send(request).await.seen(source);
        assert_eq!(seen.str("method"), Some("POST"), "{source}");
        assert!(seen.body() == upload, "{source}: the upload differs");

        // two Set-Cookie: a list in the response event, two headers for the client
        let cookies = ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"];
        let reply = server
            .get_scripted(
                "/cookies",
                201,
                &[
                    ("set-cookie", cookies[0]),
                    ("set-cookie", cookies[1]),
                    ("vary", "origin"),
                    ("vary", "accept"),
                ],
                b"made",
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{source}: {reply:?}");
        assert_eq!(reply.header_values("set-cookie"), cookies, "{source}");
        assert_eq!(reply.header_values("vary"), ["origin, accept"], "{source}");
        assert_eq!(reply.text(), "made", "{source}");

        server.stop().await;
    }
}

#[tokio::test]
async fn vpc_lattice_events_are_what_a_lambda_target_group_sends() {
    let parts = http::Request::get("/q?k=1&k=2")
        .header("host", "svc.local")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let event: Value = serde_json::from_slice(&VPC_LATTICE.request_event(&parts, b"")).unwrap();
    assert_eq!(event["path"], "/q?k=1&k=2");
    assert_eq!(
        event["queryStringParameters"]["k"],
        serde_json::json!(["1", "2"])
    );
    assert_eq!(event["headers"]["host"], serde_json::json!(["svc.local"]));
    assert_eq!(event["requestContext"]["region"], "us-east-1");
    // the facade detects it as a Lattice v2 event, and the v1 event as v1
    for source in [VPC_LATTICE, VPC_LATTICE_V1] {
        let event = source.request_event(&parts, b"");
        let response = Gateway::new(tower::service_fn(app))
            .invoke(&event)
            .await
            .unwrap();
        let response: Value = serde_json::from_slice(&response).unwrap();
        assert_eq!(response["statusCode"], 200, "{source}: {response}");
        assert_eq!(
            response["statusDescription"], "200 OK",
            "{source}: {response}"
        );
    }
}

/// What the echo app saw of a WebSocket event.
async fn websocket_exchange(
    server: &Server,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> support::Seen {
    let mut request = server.request(method, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    server.send(request).await.seen(APIGW_WEBSOCKET)
}

#[tokio::test]
async fn apigw_websocket_maps_connect_messages_and_disconnect_as_the_source_does() {
    let server = Server::start(APIGW_WEBSOCKET).await;

    // GET /$connect with a query and the upgrade's headers: GET /$connect, the query decoded
    // and encoded again, every header
    let seen = websocket_exchange(
        &server,
        Method::GET,
        "/$connect?room=lobby&name=Jane+Doe&tag=red&tag=blue",
        &[
            ("sec-websocket-protocol", "chat.v2, chat.v1"),
            ("x-tag", "a"),
            ("x-tag", "b"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(seen.str("method"), Some("GET"));
    assert_eq!(seen.str("path"), Some("/$connect"));
    let query = decode_query(seen.str("query").unwrap_or_default());
    assert_eq!(query["room"], ["lobby"]);
    assert_eq!(query["name"], ["Jane Doe"]);
    assert_eq!(query["tag"], ["red", "blue"]);
    assert_eq!(seen.header("sec-websocket-protocol"), ["chat.v2, chat.v1"]);
    assert_eq!(seen.header("x-tag"), ["a", "b"]);
    assert_eq!(seen.str("source_ip"), Some("127.0.0.1"));

    // POST /sendmessage with a body: POST /sendmessage, the message as the body; a message
    // carries no headers or query
    let message = br#"{"action":"sendmessage","message":"hi \"all\""}"#.to_vec();
    let seen = websocket_exchange(
        &server,
        Method::POST,
        "/sendmessage?dropped=1",
        &[("x-dropped", "1")],
        message.clone(),
    )
    .await;
    assert_eq!(seen.str("method"), Some("POST"));
    assert_eq!(seen.str("uri"), Some("/sendmessage"));
    assert!(seen.body() == message);
    assert!(seen.header("x-dropped").is_empty());

    // `/` is the `$default` route; a custom route key with a `/` stays one path segment; a
    // binary message arrives byte for byte
    let binary = binary_payload(3000, 0x3e55);
    let seen = websocket_exchange(&server, Method::POST, "/", &[], binary.clone()).await;
    assert_eq!(seen.str("uri"), Some("/$default"));
    assert!(seen.body() == binary);
    let seen = websocket_exchange(&server, Method::PUT, "/chat%2Fsend", &[], b"x".to_vec()).await;
    assert_eq!(
        (seen.str("method"), seen.str("uri")),
        (Some("POST"), Some("/chat%2Fsend"))
    );

    // DELETE /$disconnect: DELETE /$disconnect, with the host API Gateway names
    let seen = websocket_exchange(
        &server,
        Method::DELETE,
        "/$disconnect",
        &[("x-dropped", "1")],
        Vec::new(),
    )
    .await;
    assert_eq!(seen.str("method"), Some("DELETE"));
    assert_eq!(seen.str("uri"), Some("/$disconnect"));
    assert_eq!(seen.header("host"), [server.addr().to_string()]);
    assert!(seen.header("x-dropped").is_empty());

    server.stop().await;
}

#[tokio::test]
async fn apigw_websocket_delivers_the_connect_answer_and_limits_a_message_to_128_kb() {
    let server = Server::start(APIGW_WEBSOCKET).await;

    // the $connect answer: its status accepts or refuses, its headers reach the handshake;
    // the source writes only the first of several Set-Cookie
    let reply = server
        .get_scripted(
            "/$connect",
            200,
            &[
                ("sec-websocket-protocol", "chat.v2"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
            b"",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header_values("sec-websocket-protocol"), ["chat.v2"]);
    assert_eq!(reply.header_values("set-cookie"), ["a=1"]);
    let reply = server.get_scripted("/$connect", 403, &[], b"").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");

    // a message at API Gateway's quota passes, one byte more is refused
    let request = server
        .request(Method::POST, "/add")
        .body(Full::new(Bytes::from(vec![b'a'; WEBSOCKET_MESSAGE_LIMIT])))
        .unwrap();
    let reply = server.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.text());
    let request = server
        .request(Method::POST, "/add")
        .body(Full::new(Bytes::from(vec![
            b'a';
            WEBSOCKET_MESSAGE_LIMIT + 1
        ])))
        .unwrap();
    let reply = server.send(request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        reply.text()
    );
    assert!(
        reply.text().contains(&WEBSOCKET_MESSAGE_LIMIT.to_string()),
        "{:?}",
        reply.text()
    );

    // a failing service is a 500, and the server keeps serving
    let request = server
        .request(Method::GET, "/$connect")
        .header("x-test-error", "1")
        .body(Full::default())
        .unwrap();
    assert_eq!(
        server.send(request).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        server.get("/add?first=2&second=3").await.status,
        StatusCode::OK
    );

    server.stop().await;
}

#[tokio::test]
async fn the_shutdown_hook_runs_once_the_server_has_stopped() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let runs = Arc::new(AtomicUsize::new(0));
    let stopped_first = Arc::new(AtomicBool::new(false));
    let hook = {
        let (runs, stopped_first) = (Arc::clone(&runs), Arc::clone(&stopped_first));
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            // the server no longer listens when the hook runs
            let refused = tokio::net::TcpStream::connect(addr).await.is_err();
            stopped_first.store(refused, Ordering::SeqCst);
        }
    };
    let app = tower::service_fn(|_request: http::Request<lambda_gateway::Body>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(lambda_gateway::Body::empty()))
    });
    // asked to stop at once: the server stops, then the hook runs, then serve_local returns
    Gateway::new(app)
        .on_shutdown(hook)
        .serve_local(listener, async {})
        .await
        .expect("the local server stops cleanly");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the hook ran once");
    assert!(
        stopped_first.load(Ordering::SeqCst),
        "after the listener closed"
    );
}

/// Five frames `tick {i}\n`, the first at once, then one every 100 ms.
struct Ticks {
    next: u32,
    wait: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Ticks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.next == 5 {
            return std::task::Poll::Ready(None);
        }
        if let Some(wait) = self.wait.as_mut() {
            std::task::ready!(wait.as_mut().poll(cx));
        }
        let tick = format!("tick {}\n", self.next);
        self.next += 1;
        self.wait = Some(Box::pin(tokio::time::sleep(Duration::from_millis(100))));
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(tick)))))
    }
}

/// Serves the ticking service locally as `source`, with streaming on; the frames the client
/// got, with the time each arrived after the first.
async fn ticks_through(source: &str) -> (http::response::Parts, Vec<(Duration, Bytes)>) {
    use http_body_util::BodyExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let app = tower::service_fn(|_request: http::Request<lambda_gateway::Body>| async {
        let mut response = http::Response::new(Ticks {
            next: 0,
            wait: None,
        });
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("text/event-stream"),
        );
        Ok::<_, std::convert::Infallible>(response)
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Gateway::new(app)
            .stream_responses()
            .local_source(source.parse().expect("a local source"))
            .serve_local(listener, async move {
                let _ = stopped.await;
            }),
    );
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = client
        .get(format!("http://{addr}/ticks").parse().expect("a URI"))
        .await
        .expect("an answer");
    let (parts, mut body) = response.into_parts();
    let mut frames = Vec::new();
    let mut first = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("a frame");
        let at = *first.get_or_insert_with(std::time::Instant::now);
        if let Ok(data) = frame.into_data() {
            frames.push((at.elapsed(), data));
        }
    }
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("the server stops cleanly");
    (parts, frames)
}

#[tokio::test]
async fn with_streaming_on_the_function_url_front_door_streams_and_the_http_api_answers_whole() {
    let (parts, frames) = ticks_through("function_url").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers[CONTENT_TYPE], "text/event-stream");
    let text: String = frames
        .iter()
        .map(|(_, data)| String::from_utf8_lossy(data).into_owned())
        .collect();
    assert_eq!(text, "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n");
    // as produced: the service waits 100 ms between ticks, so the last arrives at least 400 ms
    // after the first (a lower bound the sleeps guarantee)
    assert!(frames.len() >= 5, "{frames:?}");
    let spread = frames[frames.len() - 1].0.saturating_sub(frames[0].0);
    assert!(spread >= Duration::from_millis(350), "{spread:?}");

    // an HTTP API cannot stream: the same service's answer arrives whole
    let (parts, frames) = ticks_through("apigw_http").await;
    assert_eq!(parts.status, StatusCode::OK);
    let text: String = frames
        .iter()
        .map(|(_, data)| String::from_utf8_lossy(data).into_owned())
        .collect();
    assert_eq!(text, "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n");
    assert_eq!(frames.len(), 1, "one piece: {frames:?}");
}
