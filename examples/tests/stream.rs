//! The `stream` contract end to end: the built example under the Lambda Runtime API test server,
//! answering Function URL events as Lambda response streams and every other source buffered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(
    dead_code,
    reason = "the support module serves every end-to-end test file"
)]
mod support;

use std::time::Duration;

use serde_json::json;
use support::{
    RuntimeApi, Streamed,
    events::{Alb, Format, Http, Rest, read_answer},
};

fn url_get(path: &str) -> String {
    Http::get(path).function_url().event()
}

/// The prelude, the content type and the response mode every streamed answer carries.
#[track_caller]
fn assert_streamed(streamed: &Streamed, status: u16, content_type: &str) {
    assert_eq!(
        streamed.headers["lambda-runtime-function-response-mode"],
        "streaming"
    );
    assert_eq!(
        streamed.headers["content-type"],
        "application/vnd.awslambda.http-integration-response"
    );
    assert!(streamed.delimited, "8 NUL bytes after the prelude");
    assert_eq!(
        streamed.prelude,
        json!({"statusCode": status, "headers": {"content-type": content_type}, "cookies": []}),
        "the prelude"
    );
    // the prelude and the delimiter are frames of their own (Cargo Lambda's parser needs it)
    assert!(streamed.frames.len() >= 2, "{:?}", streamed.frames);
    assert_eq!(&streamed.frames[1].1[..], &[0u8; 8][..]);
}

#[tokio::test]
async fn sse_events_arrive_in_separate_frames_as_they_are_produced() {
    let server = RuntimeApi::start().await;
    let _function = server.spawn_example("stream");
    let streamed = server.invoke(url_get("/sse")).await.stream();
    assert_streamed(&streamed, 200, "text/event-stream");
    let expected: String = (0..10).map(|i| format!("data: {i}\n\n")).collect();
    assert_eq!(String::from_utf8_lossy(&streamed.body), expected);
    // one frame per event after the prelude and the delimiter, each arriving when it was sent:
    // the service waits 100 ms between events, so the last arrives at least 900 ms after the
    // first (a lower bound the sleeps guarantee, not a timing expectation)
    let events = &streamed.frames[2..];
    assert_eq!(events.len(), 10, "{events:?}");
    let spread = events[9].0.saturating_sub(events[0].0);
    assert!(spread >= Duration::from_millis(850), "{spread:?}");
    assert!(streamed.trailers.is_none());
    server.assert_no_strays();
}

#[tokio::test]
async fn a_50_mb_download_streams_without_holding_the_body() {
    let server = RuntimeApi::start().await;
    let function = server.spawn_example("stream");
    let bytes = 52_428_800;
    let query = format!("bytes={bytes}");
    let event = Http {
        raw_query: &query,
        ..Http::get("/download")
    }
    .function_url()
    .event();
    let streamed = server.invoke(event).await.stream();
    assert_streamed(&streamed, 200, "application/octet-stream");
    assert_eq!(streamed.body.len(), bytes);
    assert!(
        streamed
            .body
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 256) as u8),
        "the bytes 0x00 to 0xFF repeating"
    );
    let pid = function.pid().expect("the stream process id");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    eprintln!("stream's peak resident memory after a 50 MiB download: {peak_kib} KiB");
    assert!(
        peak_kib < 50 * 1024 / 4,
        "peak RSS {peak_kib} KiB, expected far below the 51,200 KiB body"
    );
    server.assert_no_strays();
}

#[tokio::test]
async fn buffered_routes_stream_in_one_piece_and_other_sources_are_answered_buffered() {
    let server = RuntimeApi::start().await;
    let _function = server.spawn_example("stream");
    let streamed = server.invoke(url_get("/buffered")).await.stream();
    assert_streamed(&streamed, 200, "text/plain");
    assert_eq!(&streamed.body[..], b"ok");

    // an HTTP API and an ALB event: the same binary answers them buffered
    let answer = read_answer(
        Format::Http,
        &server
            .invoke(Http::get("/buffered").event())
            .await
            .response(),
    );
    assert_eq!((answer.status, answer.text()), (200, "ok"));
    let answer = read_answer(
        Format::AlbSingle,
        &server.invoke(Alb::get("/sse").event()).await.response(),
    );
    assert_eq!(answer.status, 200);
    assert!(
        answer.text().starts_with("data: 0\n\ndata: 1\n\n"),
        "{answer:?}"
    );

    // a 404 on a streaming route streams too
    let streamed = server.invoke(url_get("/nowhere")).await.stream();
    assert_streamed(&streamed, 404, "text/plain");
    server.assert_no_strays();
}

#[tokio::test]
async fn a_body_failing_midway_ends_with_error_trailers_and_the_next_event_is_served() {
    let server = RuntimeApi::start().await;
    let _function = server.spawn_example("stream");
    let streamed = server.invoke(url_get("/fail-midway")).await.stream();
    assert_streamed(&streamed, 200, "text/event-stream");
    assert_eq!(
        String::from_utf8_lossy(&streamed.body),
        "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    );
    let trailers = streamed.trailers.expect("the error trailers");
    assert_eq!(
        trailers["lambda-runtime-function-error-type"],
        "lambda_gateway::ServiceError"
    );
    let body = trailers["lambda-runtime-function-error-body"]
        .to_str()
        .expect("base64 text");
    let body =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).expect("base64");
    let diagnostic: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(diagnostic["errorType"], "lambda_gateway::ServiceError");
    assert!(
        diagnostic["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("fail-midway")),
        "{diagnostic}"
    );
    // served on
    let streamed = server.invoke(url_get("/buffered")).await.stream();
    assert_eq!(&streamed.body[..], b"ok");
    server.assert_no_strays();
}

#[tokio::test]
async fn rest_api_methods_stream_and_http_api_payload_1_events_are_answered_buffered() {
    let server = RuntimeApi::start().await;
    let _function = server.spawn_example("stream");
    // the stream example lists every REST method (`stream_rest_routes(["*"])`)
    let streamed = server.invoke(Rest::get("/sse").event()).await.stream();
    assert!(streamed.delimited);
    assert_eq!(
        streamed.prelude,
        json!({"statusCode": 200, "multiValueHeaders": {"content-type": ["text/event-stream"]}}),
        "a REST prelude"
    );
    assert_eq!(streamed.frames.len(), 12, "prelude, delimiter, 10 events");
    // the same request as an HTTP API payload 1.0 event: HTTP APIs cannot stream
    let answer = read_answer(
        Format::Rest,
        &server
            .invoke(Rest::get("/buffered").http_api().event())
            .await
            .response(),
    );
    assert_eq!((answer.status, answer.text()), (200, "ok"));
    server.assert_no_strays();
}
