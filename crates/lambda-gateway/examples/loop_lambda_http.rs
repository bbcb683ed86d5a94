//! Benchmark baseline, not a usage example: the service of the `loop` benchmark
//! (`examples/benches/loop.rs`) written against `lambda_http` (the peer we measure ourselves
//! against) and served with `lambda_http::run_concurrent`, which polls
//! `AWS_LAMBDA_MAX_CONCURRENCY` events at once when that is above 1 and one at a time otherwise.
//! Same routes and answers as `loop_gateway.rs`: `GET /big?bytes=N` answers N bytes of
//! `text/plain` (N at most 6,000,000); any other path answers `{"path":"...","ok":true}` as
//! `application/json`.
//!
//! The tokio runtime is `current_thread` unless `LOOP_RUNTIME=multi_thread`.

use lambda_http::{Body, Error, Request, Response, service_fn};

/// The largest body `/big` answers: a response event must stay under Lambda's 6 MB.
const MAX_BYTES: usize = 6_000_000;

async fn app(request: Request) -> Result<Response<Body>, Error> {
    let uri = request.uri();
    let (content_type, body) = if uri.path() == "/big" {
        let bytes = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("bytes="))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_BYTES);
        ("text/plain", "a".repeat(bytes))
    } else {
        let json = serde_json::json!({ "path": uri.path(), "ok": true });
        ("application/json", json.to_string())
    };
    Ok(Response::builder()
        .header("content-type", content_type)
        .body(Body::from(body))?)
}

fn main() -> Result<(), Error> {
    let runtime = if std::env::var("LOOP_RUNTIME").is_ok_and(|v| v == "multi_thread") {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()?;
    runtime.block_on(lambda_http::run_concurrent(service_fn(app)))
}
