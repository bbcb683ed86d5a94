//! Per-invocation overhead of the adapter, against the floor and against `lambda_http`.
//!
//! `cargo bench -p lambda-gateway --bench adapter` times, for every event in `testdata/` (and
//! large-body cases), in the same run:
//! - (a) the floor: `serde_json::from_slice::<IgnoredAny>` of the event plus `serde_json::to_vec`
//!   of a minimal borrowed response struct;
//! - (b) `lambda_http`: deserialize `LambdaRequest`, call its `Adapter` with a trivial handler,
//!   serialize the `LambdaResponse`;
//! - (c) lambda-gateway: `Gateway::invoke_bytes` with the same trivial handler (200,
//!   `content-type: text/plain`, body `ok`), given the event as `run` is on Lambda: the `Bytes`
//!   the Runtime API client read (a shared buffer; each call takes a clone, a reference count),
//!   not a copy of it — the others read it in place too. (`Gateway::invoke(&[u8])`, the offline
//!   entry point, copies it first; BENCHMARKS.md has what that copy costs.)
//!
//! It prints ns per event and the ratios ours/floor and ours/lambda_http with their geometric
//! means (the ratios are medians of per-round ratios: contenders are timed round-robin, so a
//! shared machine's drifts in speed hit all of them alike). Everything runs on the system allocator, as a deployed function does; peak memory is
//! measured by the `memory` benchmark, whose counting allocator would distort timings. Each timing is the median of several samples of
//! adaptively sized batches, after a warm-up; set `BENCH_QUICK=1` for a fast smoke run, and
//! `BENCH_EVENTS_DIR=<dir>` to time every `*.json` event of a directory instead of `testdata/`.
//!
//! With the facade's `lambda_http` feature and `BENCH_COMPAT=1`
//! (`BENCH_COMPAT=1 cargo bench -p lambda-gateway --features lambda_http --bench adapter`), a
//! fourth contender: lambda_http's trivial handler itself, run unchanged through
//! `lambda_gateway::lambda_http::service` (the compatibility mode, which also reads the typed
//! fields `RequestExt` answers with), and two more columns, compat ns and compat/lambda_http.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::{
    convert::Infallible,
    hint::black_box,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use bytes::Bytes;
use common::{binary_event, block_on};
use http::{Request, Response};
use lambda_gateway::{Body, Gateway};
use serde::Serialize;
use serde::de::IgnoredAny;
use tower::{Service, service_fn};

// ---------------------------------------------------------------- the three contenders

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MinimalResponse<'a> {
    status_code: u16,
    headers: MinimalHeaders<'a>,
    body: &'a str,
}

#[derive(Serialize)]
struct MinimalHeaders<'a> {
    #[serde(rename = "content-type")]
    content_type: &'a str,
}

fn floor(event: &[u8]) -> Vec<u8> {
    let _: IgnoredAny = serde_json::from_slice(event).unwrap();
    serde_json::to_vec(&MinimalResponse {
        status_code: 200,
        headers: MinimalHeaders {
            content_type: "text/plain",
        },
        body: "ok",
    })
    .unwrap()
}

fn ok_response() -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::from("ok"))
        .unwrap()
}

fn ours_gateway()
-> Gateway<impl Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone> {
    Gateway::new(service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(ok_response())
    }))
}

type PeerAdapter = lambda_http::Adapter<
    'static,
    lambda_http::Response<lambda_http::Body>,
    tower::util::ServiceFn<
        fn(
            lambda_http::Request,
        )
            -> std::future::Ready<Result<lambda_http::Response<lambda_http::Body>, Infallible>>,
    >,
>;

fn peer_handler(
    _req: lambda_http::Request,
) -> std::future::Ready<Result<lambda_http::Response<lambda_http::Body>, Infallible>> {
    std::future::ready(Ok(lambda_http::Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(lambda_http::Body::from("ok"))
        .unwrap()))
}

/// lambda_http's trivial handler under the compatibility mode, when asked for (`BENCH_COMPAT`).
#[cfg(feature = "lambda_http")]
fn compat_gateway() -> Option<Gateway<lambda_gateway::lambda_http::LambdaHttpService<PeerHandler>>>
{
    std::env::var_os("BENCH_COMPAT").map(|_| {
        Gateway::new(lambda_gateway::lambda_http::service(service_fn(
            peer_handler as fn(_) -> _,
        )))
    })
}

#[cfg(feature = "lambda_http")]
type PeerHandler = tower::util::ServiceFn<
    fn(
        lambda_http::Request,
    ) -> std::future::Ready<Result<lambda_http::Response<lambda_http::Body>, Infallible>>,
>;

/// Without the `lambda_http` feature there is no compatibility mode to time.
#[cfg(not(feature = "lambda_http"))]
fn compat_gateway() -> Option<Gateway<NoCompat>> {
    None
}

/// The type of the compatibility mode's gateway when there is none.
#[cfg(not(feature = "lambda_http"))]
type NoCompat = tower::util::ServiceFn<
    fn(Request<Body>) -> std::future::Ready<Result<Response<Body>, Infallible>>,
>;

fn peer_adapter() -> PeerAdapter {
    lambda_http::Adapter::from(service_fn(peer_handler as fn(_) -> _))
}

/// `None` when lambda_http rejects the event (or panics on it: some events make it panic).
fn peer_accepts(adapter: &mut PeerAdapter, event: &[u8]) -> bool {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let accepted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        peer(adapter, event).is_some()
    }));
    std::panic::set_hook(hook);
    accepted.unwrap_or(false)
}

fn peer(adapter: &mut PeerAdapter, event: &[u8]) -> Option<Vec<u8>> {
    let request: lambda_http::request::LambdaRequest = serde_json::from_slice(event).ok()?;
    let invocation = lambda_runtime::LambdaEvent::new(request, lambda_runtime::Context::default());
    let response = block_on(adapter.call(invocation)).ok()?;
    Some(serde_json::to_vec(&response).unwrap())
}

// ---------------------------------------------------------------- timing

struct Timer {
    rounds: usize,
    target: Duration,
}

/// Medians of one event's contenders, timed round-robin.
struct Timings {
    /// Median ns per call, per contender.
    ns: Vec<f64>,
    /// Median over rounds of each contender's time divided by the first contender's.
    ratio_to_first: Vec<f64>,
    /// Each contender's ns per call, round by round.
    samples: Vec<Vec<f64>>,
}

impl Timer {
    fn from_env() -> Self {
        if std::env::var_os("BENCH_QUICK").is_some() {
            Self {
                rounds: 5,
                target: Duration::from_millis(4),
            }
        } else {
            Self {
                rounds: 21,
                target: Duration::from_millis(15),
            }
        }
    }

    /// Batch size so that one batch of `f` lasts about `target` (after a warm-up).
    fn batch(&self, f: &mut dyn FnMut()) -> u64 {
        let mut batch = 1u64;
        loop {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            let elapsed = start.elapsed();
            if elapsed >= self.target / 4 || batch >= 1 << 24 {
                let per = elapsed.as_secs_f64() / batch as f64;
                return ((self.target.as_secs_f64() / per) as u64).max(1);
            }
            batch *= 4;
        }
    }

    /// Times the contenders round-robin — one batch of each per round — so that a machine
    /// that speeds up or slows down during the run (shared VMs do) affects all of them alike;
    /// ratios are taken within each round, then their median.
    fn time(&self, contenders: &mut [&mut dyn FnMut()]) -> Timings {
        let batches: Vec<u64> = contenders.iter_mut().map(|f| self.batch(*f)).collect();
        let mut samples = vec![Vec::with_capacity(self.rounds); contenders.len()];
        for _ in 0..self.rounds {
            for ((f, &batch), samples) in contenders.iter_mut().zip(&batches).zip(&mut samples) {
                let start = Instant::now();
                for _ in 0..batch {
                    f();
                }
                samples.push(start.elapsed().as_nanos() as f64 / batch as f64);
            }
        }
        let ratio_to_first = samples
            .iter()
            .map(|own| median(own.iter().zip(&samples[0]).map(|(a, b)| a / b).collect()))
            .collect();
        Timings {
            ns: samples.iter().cloned().map(median).collect(),
            ratio_to_first,
            samples,
        }
    }
}

impl Timings {
    /// Median over rounds of contender `a`'s time divided by contender `b`'s.
    fn ratio(&self, a: usize, b: usize) -> Option<f64> {
        let (a, b) = (self.samples.get(a)?, self.samples.get(b)?);
        Some(median(a.iter().zip(b).map(|(a, b)| a / b).collect()))
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn geomean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

fn events(filter: Option<&str>) -> Vec<(String, Vec<u8>)> {
    // BENCH_EVENTS_DIR: every `*.json` of a directory instead (your own events, for example the
    // ones the local server captures with LAMBDA_GATEWAY_CAPTURE)
    if let Some(dir) = std::env::var_os("BENCH_EVENTS_DIR") {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("BENCH_EVENTS_DIR {}: {e}", Path::new(&dir).display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        return files
            .into_iter()
            .map(|file| {
                let name = file.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&file).unwrap())
            })
            .collect();
    }
    let mut events = Vec::new();
    for source in ["apigw_rest", "apigw_http", "alb"] {
        for file in lambda_gateway_test_support::testdata::source_events(source) {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            events.push((format!("{source}/{name}"), std::fs::read(&file).unwrap()));
        }
    }
    if filter.is_none_or(|f| "large/".contains(f) || f.contains("large")) {
        events.extend(large_events());
    }
    events
}

fn large_events() -> Vec<(String, Vec<u8>)> {
    vec![
        ("large/v2-binary-64KiB".to_owned(), binary_event(64 * 1024)),
        ("large/v2-binary-1MiB".to_owned(), binary_event(1024 * 1024)),
    ]
}

/// The event as the Runtime API client hands it over: a `Bytes` over a shared buffer, whose
/// clones count references (a `Bytes` made from a `Vec` turns shared at its first clone).
fn runtime_bytes(event: &[u8]) -> Bytes {
    let bytes = Bytes::copy_from_slice(event);
    drop(bytes.clone());
    bytes
}

// ---------------------------------------------------------------- main

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let timer = Timer::from_env();
    let gateway = ours_gateway();
    let mut adapter = peer_adapter();
    let compat = compat_gateway();

    if std::env::var_os("BENCH_PROFILE").is_some() {
        // for `perf record`: only lambda-gateway (or the floor), on the filtered events, for a few seconds
        let events: Vec<_> = events(filter.as_deref())
            .into_iter()
            .filter(|(n, _)| filter.as_deref().is_none_or(|f| n.contains(f)))
            .collect();
        // BENCH_PROFILE=N runs N rounds (for callgrind); any other value runs for 3 seconds
        let rounds = std::env::var("BENCH_PROFILE")
            .ok()
            .and_then(|n| n.parse::<u64>().ok());
        let start = Instant::now();
        let mut round = 0;
        // BENCH_CONTENDER=floor profiles the floor instead, for instruction-count comparisons
        let floor_only = std::env::var("BENCH_CONTENDER").is_ok_and(|c| c == "floor");
        let shared: Vec<Bytes> = events.iter().map(|(_, e)| runtime_bytes(e)).collect();
        while rounds.map_or(start.elapsed() < Duration::from_secs(3), |n| round < n) {
            for ((_, event), shared) in events.iter().zip(&shared) {
                if floor_only {
                    black_box(floor(black_box(event)));
                } else {
                    black_box(block_on(gateway.invoke_bytes(black_box(shared.clone()))).ok());
                }
            }
            round += 1;
        }
        return;
    }
    println!(
        "{:<48} {:>10} {:>12} {:>10} {:>10} {:>11}{}",
        "event",
        "floor ns",
        "lambda_http",
        "ours ns",
        "ours/floor",
        "ours/peer",
        if compat.is_some() {
            "   compat ns compat/peer"
        } else {
            ""
        }
    );
    let (mut vs_floor, mut vs_peer, mut compat_vs_peer) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst = (0.0f64, String::new());
    for (name, event) in events(filter.as_deref()) {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        // ours must answer every event the floor can parse
        if block_on(gateway.invoke(&event)).is_err() {
            println!("{name:<48} (rejected by lambda-gateway: not an HTTP event)");
            continue;
        }
        let mut floor_fn = || {
            black_box(floor(black_box(&event)));
        };
        let shared = runtime_bytes(&event);
        let mut ours_fn = || {
            black_box(block_on(gateway.invoke_bytes(black_box(shared.clone()))).unwrap());
        };
        let peer_ok = peer_accepts(&mut adapter, &event);
        let mut peer_fn = || {
            black_box(peer(&mut adapter, black_box(&event)));
        };
        let mut compat_fn = || {
            if let Some(compat) = &compat {
                black_box(block_on(compat.invoke_bytes(black_box(shared.clone()))).unwrap());
            }
        };
        let timings = match (peer_ok, compat.is_some()) {
            (true, true) => {
                timer.time(&mut [&mut ours_fn, &mut floor_fn, &mut peer_fn, &mut compat_fn])
            }
            (true, false) => timer.time(&mut [&mut ours_fn, &mut floor_fn, &mut peer_fn]),
            (false, _) => timer.time(&mut [&mut ours_fn, &mut floor_fn]),
        };
        let (ours_ns, floor_ns) = (timings.ns[0], timings.ns[1]);
        // ours/floor and ours/peer per round, from floor/ours and peer/ours
        let ratio_floor = 1.0 / timings.ratio_to_first[1];
        let peer_ns = timings.ns.get(2).copied();
        let ratio_peer = timings.ratio_to_first.get(2).map(|r| 1.0 / r);
        vs_floor.push(ratio_floor);
        if ratio_floor > worst.0 {
            worst = (ratio_floor, name.clone());
        }
        let (peer_text, ratio_peer_text) = match (peer_ns, ratio_peer) {
            (Some(peer_ns), Some(ratio_peer)) => {
                vs_peer.push(ratio_peer);
                (format!("{peer_ns:.0}"), format!("{ratio_peer:.3}"))
            }
            _ => ("fails".to_owned(), "-".to_owned()),
        };
        let compat_text = match (timings.ns.get(3), timings.ratio(3, 2)) {
            (Some(compat_ns), Some(compat_peer)) => {
                compat_vs_peer.push(compat_peer);
                format!(" {compat_ns:>11.0} {compat_peer:>11.3}")
            }
            _ => String::new(),
        };
        println!(
            "{name:<48} {floor_ns:>10.0} {peer_text:>12} {ours_ns:>10.0} {ratio_floor:>10.2} {ratio_peer_text:>11}{compat_text}"
        );
    }
    println!(
        "\ngeometric mean: ours/floor {:.2} (target <= 2.5), ours/lambda_http {:.3} (target <= 0.333)",
        geomean(&vs_floor),
        geomean(&vs_peer)
    );
    println!(
        "worst ours/floor: {:.2} on {} (target <= 4)",
        worst.0, worst.1
    );
    let worst_peer = vs_peer.iter().copied().fold(0.0, f64::max);
    println!(
        "worst ours/lambda_http: {worst_peer:.3} (target <= 0.333 on every event lambda_http accepts)"
    );
    if !compat_vs_peer.is_empty() {
        println!(
            "compatibility mode (a lambda_http handler through lambda_gateway::lambda_http::service): geometric mean compat/lambda_http {:.3}, worst {:.3}",
            geomean(&compat_vs_peer),
            compat_vs_peer.iter().copied().fold(0.0, f64::max)
        );
    }
}
