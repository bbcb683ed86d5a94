//! Benchmark baseline, not a usage example: the `stream` example's `/download?bytes=N` (N bytes,
//! 0x00 to 0xFF repeating, in 64 KiB frames, `application/octet-stream`) served with
//! `lambda_http::run_with_streaming_response`, for the `stream` benchmark
//! (`examples/benches/stream.rs`). Any other path answers an empty body. On a `current_thread`
//! runtime, as the `stream` example.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::Frame;
use lambda_http::{Error, Request, Response, service_fn};

const FRAME: usize = 64 * 1024;

struct Download {
    pattern: Bytes,
    remaining: usize,
}

impl http_body::Body for Download {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let size = self.remaining.min(FRAME);
        self.remaining -= size;
        Poll::Ready(Some(Ok(Frame::data(self.pattern.slice(..size)))))
    }
}

async fn download(request: Request) -> Result<Response<Download>, Error> {
    let bytes = if request.uri().path() == "/download" {
        request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("bytes="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    let pattern: Vec<u8> = (0..FRAME).map(|i| (i % 256) as u8).collect();
    Ok(Response::builder()
        .header("content-type", "application/octet-stream")
        .body(Download {
            pattern: Bytes::from(pattern),
            remaining: bytes,
        })?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run_with_streaming_response(service_fn(download)).await
}
