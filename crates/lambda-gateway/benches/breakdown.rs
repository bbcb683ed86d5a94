//! Where an invocation's time goes: each stage of `Gateway::invoke` timed alone on one event.
//!
//! `cargo bench -p lambda-gateway --bench breakdown -- alb/health_check_multi_value` (any
//! `testdata/` event, default the ALB health check) prints ns for: the floor's parse
//! (`IgnoredAny`), a `serde_json::Value` parse, the serde path of the event view, the scanner
//! (`EventView::parse`), view + request for each source (only the event's own source is
//! meaningful), the handler's response, the response encoders, the service call, and the
//! whole `invoke`. A profiling aid, not a contest: `adapter` is the benchmark.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
mod common;
use common::block_on;
use http::{Request, Response};
use lambda_gateway::{Body, Gateway};
use lambda_gateway_core::event::EventView;
use serde::de::IgnoredAny;
use std::{convert::Infallible, hint::black_box, time::Instant};
use tower::service_fn;

fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..20000 {
        f();
    }
    let mut v: Vec<f64> = (0..7)
        .map(|_| {
            let n = 100_000;
            let s = Instant::now();
            for _ in 0..n {
                f();
            }
            s.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[3]
}

fn main() {
    let name = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or("alb/health_check_multi_value".into());
    let path = format!("{}/../../testdata/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let event = std::fs::read(path).unwrap();
    let bytes = bytes::Bytes::from(event.clone());
    let gateway = Gateway::new(service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(Body::from("ok"))
                .unwrap(),
        )
    }));
    println!(
        "event {} bytes; invoke future {} bytes, invoke_bytes future {} bytes, Request<Body> {} bytes",
        event.len(),
        std::mem::size_of_val(&gateway.invoke(&event)),
        std::mem::size_of_val(&gateway.invoke_bytes(bytes.clone())),
        std::mem::size_of::<Request<Body>>()
    );
    println!(
        "bytes slice+drop ×10 {:>7.0}",
        time(|| {
            for i in 0..10 {
                black_box(bytes.slice(i..i + 5));
            }
        })
    );
    println!(
        "malloc+free ×10  {:>7.0}",
        time(|| {
            for i in 0..10 {
                black_box(Vec::<u8>::with_capacity(black_box(32 + i)));
            }
        })
    );
    println!(
        "header name x-forwarded-for ×10  {:>7.0}",
        time(|| {
            for _ in 0..10 {
                black_box(http::HeaderName::from_bytes(black_box(b"x-forwarded-for")).unwrap());
            }
        })
    );
    println!(
        "header name content-type ×10  {:>7.0}",
        time(|| {
            for _ in 0..10 {
                black_box(http::HeaderName::from_bytes(black_box(b"content-type")).unwrap());
            }
        })
    );
    println!(
        "ignored_any      {:>7.0}",
        time(|| {
            black_box(serde_json::from_slice::<IgnoredAny>(black_box(&event)).unwrap());
        })
    );
    println!(
        "value            {:>7.0}",
        time(|| {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&event)).unwrap());
        })
    );
    println!(
        "view             {:>7.0}",
        time(|| {
            black_box(serde_json::from_slice::<EventView<'_>>(black_box(&event)).unwrap());
        })
    );
    println!(
        "scan             {:>7.0}",
        time(|| {
            black_box(EventView::parse(black_box(&event)).unwrap());
        })
    );
    println!(
        "view+alb request {:>7.0}",
        time(|| {
            let v = EventView::parse(black_box(&bytes)).unwrap();
            black_box(lambda_gateway_alb::parse_request(&v, bytes.clone()).unwrap());
        })
    );
    println!(
        "view+rest request {:>7.0}",
        time(|| {
            let v = EventView::parse(black_box(&bytes)).unwrap();
            black_box(lambda_gateway_apigw_rest::parse_request(&v, bytes.clone()).ok());
        })
    );
    println!(
        "view+http request {:>7.0}",
        time(|| {
            let v = EventView::parse(black_box(&bytes)).unwrap();
            black_box(lambda_gateway_apigw_http::parse_request(&v, bytes.clone()).ok());
        })
    );
    println!(
        "response build   {:>7.0}",
        time(|| {
            black_box(
                Response::builder()
                    .status(200)
                    .header("content-type", "text/plain")
                    .body(Body::from("ok"))
                    .unwrap(),
            );
        })
    );
    let (parts, _) = Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::from("ok"))
        .unwrap()
        .into_parts();
    let policy = lambda_gateway_core::BinaryPolicy::default();
    let options = lambda_gateway_core::EncodeOptions {
        binary: &policy,
        multi_value: true,
    };
    println!(
        "encode alb       {:>7.0}",
        time(|| {
            black_box(lambda_gateway_alb::encode_response(
                black_box(&parts),
                b"ok",
                options,
            ));
        })
    );
    println!(
        "encode rest      {:>7.0}",
        time(|| {
            black_box(lambda_gateway_apigw_rest::encode_response(
                black_box(&parts),
                b"ok",
                options,
            ));
        })
    );
    println!(
        "text_body        {:>7.0}",
        time(|| {
            black_box(policy.text_body(black_box(&parts.headers), b"ok"));
        })
    );
    let svc = service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(Body::from("ok"))
                .unwrap(),
        )
    });
    println!(
        "req+service call {:>7.0}",
        time(|| {
            let v = EventView::parse(black_box(&bytes)).unwrap();
            let req = lambda_gateway_alb::parse_request(&v, bytes.clone()).unwrap();
            let mut s = svc;
            black_box(block_on(tower::Service::call(&mut s, req)).unwrap());
        })
    );
    println!(
        "manual pipeline  {:>7.0}",
        time(|| {
            let v = EventView::parse(black_box(&bytes)).unwrap();
            let req = lambda_gateway_alb::parse_request(&v, bytes.clone()).unwrap();
            drop(v);
            let mut s = svc;
            let response = block_on(tower::Service::call(&mut s, req)).unwrap();
            let (parts, body) = response.into_parts();
            black_box(lambda_gateway_alb::encode_response(
                &parts,
                body.as_bytes(),
                options,
            ));
        })
    );
    println!(
        "invoke_bytes     {:>7.0}",
        time(|| {
            black_box(block_on(gateway.invoke_bytes(bytes.clone())).unwrap());
        })
    );
    println!(
        "invoke           {:>7.0}",
        time(|| {
            black_box(block_on(gateway.invoke(black_box(&event))).unwrap());
        })
    );
}
