//! Benchmark baseline, not a usage example: the `stream` example's `/download?bytes=N` (N bytes,
//! 0x00 to 0xFF repeating, in 64 KiB frames, `application/octet-stream`) served with
//! `lambda_http::run_with_streaming_response`, for the `stream` benchmark
//! (`examples/benches/stream.rs`). Any other path answers an empty body. On a `current_thread`
//! runtime, as the `stream` example.

#[path = "../../../examples/stream/download.rs"]
mod download;

use download::Download;
use lambda_http::{Error, Request, Response, service_fn};

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
    Ok(Response::builder()
        .header("content-type", "application/octet-stream")
        .body(Download::new(bytes))?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run_with_streaming_response(service_fn(download)).await
}
