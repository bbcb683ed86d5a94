//! Where an invocation's time goes: each stage of `Gateway::invoke` timed alone on one event.
//!
//! `cargo bench -p lambda-gateway --bench breakdown -- alb/health_check_multi_value` (any
//! `testdata/` event; default the ALB health check) prints ns per call for: the floor's parse
//! (`IgnoredAny`), a `serde_json::Value` parse, the event view by the serde path and by the
//! scanner, view + request for the event's source, the handler's response, the response
//! encoder, a hand-assembled pipeline, and the whole `invoke`. A profiling aid, not a contest:
//! `adapter` is the benchmark.
//!
//! `BREAKDOWN_ONLY=<label prefix>` runs only the matching stages, and `BREAKDOWN_CALLS=N` calls
//! each N times untimed, so that `valgrind --tool=callgrind` counts one stage's instructions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::{convert::Infallible, hint::black_box, time::Instant};

use bytes::Bytes;
use common::block_on;
use http::{Request, Response, response::Parts};
use lambda_gateway::{Body, Gateway, Source};
use lambda_gateway_core::{BinaryPolicy, EncodeOptions, Error, event::EventView};
use serde::de::IgnoredAny;
use tower::{Service, service_fn};

/// Prints the stage's time, or runs only the stages `BREAKDOWN_ONLY` selects.
fn stage(label: &str, f: impl FnMut()) {
    if std::env::var("BREAKDOWN_ONLY").is_ok_and(|only| !label.starts_with(&only)) {
        return;
    }
    println!("{label:<24} {:>7.0}", time(f));
}

/// Median ns per call over 7 batches of 100 000 calls, after 20 000 warm-up calls.
fn time(mut f: impl FnMut()) -> f64 {
    if let Some(n) = std::env::var("BREAKDOWN_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        for _ in 0..n {
            f();
        }
        return 0.0;
    }
    for _ in 0..20_000 {
        f();
    }
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let n = 100_000;
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[3]
}

fn ok_response() -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::from("ok"))
        .unwrap()
}

fn source_of(event: &[u8]) -> Source {
    let view = EventView::parse(event).unwrap();
    match view.request_context {
        Some(context) if context.elb.0 => Source::Alb,
        _ if view.version.is_some_and(|v| v.as_bytes() == b"2.0") => Source::ApiGatewayHttp,
        _ => Source::ApiGatewayRest,
    }
}

fn parse_request(
    source: Source,
    view: &EventView<'_>,
    event: Bytes,
) -> Result<Request<Body>, Error> {
    match source {
        Source::Alb => lambda_gateway_alb::parse_request(view, event),
        Source::ApiGatewayHttp => lambda_gateway_apigw_http::parse_request(view, event),
        _ => lambda_gateway_apigw_rest::parse_request(view, event),
    }
}

fn encode_response(
    source: Source,
    parts: &Parts,
    body: &[u8],
    options: EncodeOptions<'_>,
) -> Vec<u8> {
    match source {
        Source::Alb => lambda_gateway_alb::encode_response(parts, body, options),
        Source::ApiGatewayHttp => lambda_gateway_apigw_http::encode_response(parts, body, options),
        _ => lambda_gateway_apigw_rest::encode_response(parts, body, options),
    }
}

fn main() {
    let name = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "alb/health_check_multi_value".into());
    // a testdata event by name, or any event file by path
    let path = if std::path::Path::new(&name).is_file() {
        name.clone()
    } else {
        format!("{}/../../testdata/{name}.json", env!("CARGO_MANIFEST_DIR"))
    };
    let event = std::fs::read(path).unwrap();
    let bytes = Bytes::from(event.clone());
    let source = source_of(&event);
    let service = service_fn(|_req: Request<Body>| async { Ok::<_, Infallible>(ok_response()) });
    let gateway = Gateway::new(service);
    let multi_value = {
        let view = EventView::parse(&event).unwrap();
        view.multi_value_headers.is_some() || view.multi_value_query_string_parameters.is_some()
    };
    let policy = BinaryPolicy::default();
    let options = EncodeOptions {
        binary: &policy,
        multi_value,
    };
    let (parts, _) = ok_response().into_parts();
    println!(
        "{name}: {} bytes; invoke future {} bytes",
        event.len(),
        std::mem::size_of_val(&gateway.invoke(&event)),
    );

    stage("floor parse (IgnoredAny)", || {
        black_box(serde_json::from_slice::<IgnoredAny>(black_box(&event)).unwrap());
    });
    stage("serde_json::Value", || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&event)).unwrap());
    });
    stage("view, serde path", || {
        black_box(serde_json::from_slice::<EventView<'_>>(black_box(&event)).unwrap());
    });
    stage("view, scanner", || {
        black_box(EventView::parse(black_box(&event)).unwrap());
    });
    stage("view + request", || {
        let view = EventView::parse(black_box(&bytes)).unwrap();
        black_box(parse_request(source, &view, bytes.clone()).unwrap());
    });
    stage("handler's response", || {
        black_box(ok_response());
    });
    stage("encode", || {
        black_box(encode_response(source, black_box(&parts), b"ok", options));
    });
    stage("pipeline by hand", || {
        let event = Bytes::copy_from_slice(black_box(&event));
        let view = EventView::parse(&event).unwrap();
        let request = parse_request(source, &view, event.clone()).unwrap();
        drop(view);
        let mut service = service;
        let response = block_on(service.call(request)).unwrap();
        let (parts, body) = response.into_parts();
        black_box(encode_response(source, &parts, body.as_bytes(), options));
    });
    stage("invoke", || {
        black_box(block_on(gateway.invoke(black_box(&event))).unwrap());
    });
}
