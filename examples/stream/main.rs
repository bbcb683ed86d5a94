//! The stream contract, driven by outside tools: keep its behaviour exactly.
//!
//! Served with Lambda response streaming on for Function URL events
//! ([`Gateway::stream_responses`]) and every REST API method ([`Gateway::stream_rest_routes`]
//! `["*"]`); every other source — HTTP APIs (payload 1.0 and 2.0), ALB — is answered buffered by
//! the same binary.
//! - `GET /sse` answers `text/event-stream`: 10 events `data: {i}\n\n` (i = 0..9), the first at
//!   once, then one every 100 ms, each its own frame;
//! - `GET /download?bytes=N` answers `application/octet-stream`: N bytes (0x00 to 0xFF repeating)
//!   in frames of 64 KiB (N defaults to 0);
//! - `GET /buffered` answers `ok` as `text/plain`, in one piece;
//! - `GET /fail-midway` sends 3 events as `/sse` does, then its body fails;
//! - anything else answers 404.
//!
//! Locally: `LAMBDA_GATEWAY_SOURCE=function_url cargo run --example stream`, then
//! `curl -N localhost:3000/sse` shows the events as they are produced. Offline:
//! `cargo run --example stream -- --event FILE` prints the (buffered) response event.

#[path = "../replay.rs"]
mod replay;

#[path = "download.rs"]
mod download;

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header::CONTENT_TYPE};
use http_body::Frame;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use lambda_gateway::{Body, BoxError, Gateway};
use tower::service_fn;

/// The events of `/sse` and `/fail-midway`: `data: {i}\n\n`, one every 100 ms (the first at
/// once), and after `fail_after` events (if any), a failure.
struct Events {
    next: u32,
    count: u32,
    fail_after: Option<u32>,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Events {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.fail_after == Some(self.next) {
            return Poll::Ready(Some(Err(
                "fail-midway: the body fails after 3 events".into()
            )));
        }
        if self.next == self.count {
            return Poll::Ready(None);
        }
        if let Some(wait) = self.wait.as_mut() {
            ready!(wait.as_mut().poll(cx));
        }
        let event = format!("data: {}\n\n", self.next);
        self.next += 1;
        self.wait = Some(Box::pin(tokio::time::sleep(Duration::from_millis(100))));
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(event)))))
    }
}

type StreamBody = BoxBody<Bytes, BoxError>;

fn answer(content_type: &'static str, body: StreamBody) -> Response<StreamBody> {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn events(fail_after: Option<u32>) -> StreamBody {
    let count = fail_after.unwrap_or(10);
    let events = Events {
        next: 0,
        count,
        fail_after,
        wait: None,
    };
    BoxBody::new(events)
}

fn whole(text: &'static str) -> StreamBody {
    BoxBody::new(Full::new(Bytes::from_static(text.as_bytes())).map_err(|e: Infallible| match e {}))
}

/// `bytes=N` from a query, 0 when absent or not a number.
fn bytes_asked(request: &Request<Body>) -> usize {
    request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("bytes="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn stream(request: Request<Body>) -> Result<Response<StreamBody>, Infallible> {
    Ok(match request.uri().path() {
        "/sse" => answer("text/event-stream", events(None)),
        "/fail-midway" => answer("text/event-stream", events(Some(3))),
        "/download" => {
            let download = download::Download::new(bytes_asked(&request));
            answer(
                "application/octet-stream",
                BoxBody::new(download.map_err(|never| match never {})),
            )
        }
        "/buffered" => answer("text/plain", whole("ok")),
        _ => {
            let mut response = answer("text/plain", whole("not found"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    })
}

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), BoxError> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .init();
    }
    let app = service_fn(stream);
    if let Some(path) = replay::event_file() {
        let gateway = Gateway::new(app);
        return replay::replay(path, |event| async move {
            gateway.invoke_bytes(Bytes::from(event)).await
        })
        .await;
    }
    Gateway::new(app)
        .stream_responses()
        .stream_rest_routes(["*"])
        .run()
        .await
}
