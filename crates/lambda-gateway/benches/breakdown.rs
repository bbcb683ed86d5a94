//! Where an invocation's time goes: each stage of `Gateway::invoke` timed alone on one event.
//!
//! `cargo bench -p lambda-gateway --bench breakdown -- alb/health_check_multi_value` (any
//! `testdata/` event; default the ALB health check) prints ns per call for: the merged field list's
//! build (once per process, at its first event), the floor's parse
//! (`IgnoredAny`), a `serde_json::Value` parse, the event view (the schema-driven reader over
//! every source's fields), view + claim + request for the event's source, the handler's
//! response, the response encoder, a hand-assembled pipeline, and the whole `invoke`. A profiling aid, not a contest:
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
use lambda_gateway::Gateway;
use lambda_gateway_core::{
    BinaryPolicy, Body, Claim, EncodeOptions, Error, EventSource,
    event::{EventView, Schema},
    json::JsonWriter,
};
use serde::de::IgnoredAny;
use tower::{Service, service_fn};

/// The sources in the facade's order.
const SOURCES: [&dyn EventSource; 5] = [
    &lambda_gateway::apigw_websocket::ApiGatewayWebSocket,
    &lambda_gateway::vpc_lattice::VpcLattice,
    &lambda_gateway::alb::Alb,
    &lambda_gateway::apigw_http::ApiGatewayHttp,
    &lambda_gateway::apigw_rest::ApiGatewayRest,
];

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

/// The claiming source's index and whether it answers in multi-value mode.
fn source_of(schema: &Schema, event: &[u8]) -> (usize, bool) {
    EventView::parse(schema, event, |view| {
        let view = view.unwrap();
        SOURCES
            .iter()
            .enumerate()
            .find_map(|(i, source)| {
                let event = view.for_source(schema.binding(i).unwrap());
                (source.claim(&event) == Claim::Claimed).then(|| (i, source.multi_value(&event)))
            })
            .expect("a claimed event")
    })
}

fn parse_request(schema: &Schema, index: usize, event: &Bytes) -> Result<Request<Body>, Error> {
    EventView::parse(schema, event, |view| {
        let view = view.unwrap();
        let binding = schema.binding(index).unwrap();
        let source = SOURCES[index];
        let event_view = view.for_source(binding);
        assert_eq!(source.claim(&event_view), Claim::Claimed);
        source.parse_request(&event_view, event.clone())
    })
}

fn encode_response(
    index: usize,
    parts: &Parts,
    body: &[u8],
    options: EncodeOptions<'_>,
) -> Vec<u8> {
    let text = options.binary.text_body(&parts.headers, body);
    let mut json = JsonWriter::with_capacity(160 + parts.headers.len() * 48 + body.len() * 4 / 3);
    SOURCES[index].encode_head(parts, &mut json, options);
    SOURCES[index].encode_body(body, text, &mut json);
    json.finish()
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
    let fields: Vec<_> = SOURCES.iter().map(|s| s.fields()).collect();
    let schema = Schema::build(&fields).unwrap();
    let (source, multi_value) = source_of(&schema, &event);
    let service = service_fn(|_req: Request<Body>| async { Ok::<_, Infallible>(ok_response()) });
    let gateway = Gateway::new(service);
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

    // once per process, at the first event (a cold start's): the five sources' merged fields
    stage("schema build", || {
        black_box(Schema::build(black_box(&fields)).unwrap());
    });
    stage("floor parse (IgnoredAny)", || {
        black_box(serde_json::from_slice::<IgnoredAny>(black_box(&event)).unwrap());
    });
    stage("serde_json::Value", || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&event)).unwrap());
    });
    stage("reader", || {
        EventView::parse(&schema, black_box(&event), |view| {
            black_box(view.unwrap());
        });
    });
    stage("view + request", || {
        black_box(parse_request(&schema, source, black_box(&bytes)).unwrap());
    });
    stage("handler's response", || {
        black_box(ok_response());
    });
    stage("encode", || {
        black_box(encode_response(source, black_box(&parts), b"ok", options));
    });
    stage("pipeline by hand", || {
        let event = Bytes::copy_from_slice(black_box(&event));
        let request = parse_request(&schema, source, &event).unwrap();
        let mut service = service;
        let response = block_on(service.call(request)).unwrap();
        let (parts, body) = response.into_parts();
        black_box(encode_response(source, &parts, body.as_bytes(), options));
    });
    stage("invoke", || {
        black_box(block_on(gateway.invoke(black_box(&event))).unwrap());
    });
}
