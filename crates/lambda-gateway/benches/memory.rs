//! Peak heap of large-body round trips, measured with a counting global allocator.
//!
//! `cargo bench -p lambda-gateway --bench memory` prints the peak heap above the baseline while
//! `Gateway::invoke` handles a 6 MB-class binary request and 4.5 MB / 5 MiB binary responses,
//! as a multiple of the body size. It lives apart from the `adapter` timing benchmark so that
//! the counting allocator (atomic operations on every allocation) does not distort the timings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::convert::Infallible;

use common::{binary_event, block_on};
use http::{Request, Response};
use lambda_gateway::{Body, Gateway};
use tower::service_fn;

#[global_allocator]
static ALLOCATOR: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = f();
    (out, ALLOCATOR.peak_usage().saturating_sub(base))
}

fn main() {
    const MB: f64 = 1024.0 * 1024.0;
    // 6 MB binary request body (base64 in the event), service answers a small response
    let request_size = 6 * 1024 * 1024 - 64 * 1024; // keeps the event under Lambda's 6 MB
    let request_size = request_size * 3 / 4; // base64 grows by 4/3: the body the event can hold
    let event = binary_event(request_size);
    let gateway = Gateway::new(service_fn(|req: Request<Body>| async move {
        let n = req.body().len();
        Ok::<_, Infallible>(Response::new(Body::from(n.to_string())))
    }));
    let event = bytes::Bytes::from(event);
    let (response, peak) = peak_during(|| block_on(gateway.invoke_bytes(event.clone())).unwrap());
    assert!(response.len() < 200);
    println!(
        "\npeak heap, {:.2} MB binary request body (event {:.2} MB, already in memory): {:.2} MB = {:.2}x the body",
        request_size as f64 / MB,
        event.len() as f64 / MB,
        peak as f64 / MB,
        peak as f64 / request_size as f64
    );

    // binary response bodies: 4.5 MB fits Lambda's 6 MB after base64; 5 MiB does not, and is
    // encoded, found over the limit and replaced by a 502 (the peak still counts the encoding)
    let small = binary_event(16);
    for response_size in [4_500_000usize, 5 * 1024 * 1024] {
        let payload = bytes::Bytes::from(
            (0..response_size)
                .map(|i| (i * 13 + i / 7) as u8)
                .collect::<Vec<u8>>(),
        );
        let gateway = Gateway::new(service_fn(move |_req: Request<Body>| {
            let payload = payload.clone();
            async move {
                Ok::<_, Infallible>(
                    Response::builder()
                        .header("content-type", "application/octet-stream")
                        .body(Body::from(payload))
                        .unwrap(),
                )
            }
        }));
        let (response, peak) = peak_during(|| block_on(gateway.invoke(&small)).unwrap());
        let status =
            serde_json::from_slice::<serde_json::Value>(&response).unwrap()["statusCode"].clone();
        println!(
            "peak heap, {:.2} MB binary response body (body already in memory; answered {status}, event {:.2} MB): {:.2} MB = {:.2}x the body",
            response_size as f64 / MB,
            response.len() as f64 / MB,
            peak as f64 / MB,
            peak as f64 / response_size as f64
        );
    }
}
