//! Response streaming: a 50 MiB download (`GET /download?bytes=52428800` on a Function URL) from
//! the `stream` example (lambda-gateway, `stream_responses`) and from the same route written with
//! `lambda_http::run_with_streaming_response`
//! (`crates/lambda-gateway/examples/stream_lambda_http.rs`), under the Lambda Runtime API test
//! server: time to the first frame, total time, and the function process's peak resident memory
//! (`VmHWM`, against the same process before the download).
//!
//! `cargo bench -p lambda-gateway-examples --bench stream`; `STREAM_ROUNDS` (default 5) sets the
//! rounds, each a fresh pair of processes, alternating which goes first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{RuntimeApi, events::Http};

const BYTES: usize = 52_428_800;

fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Run {
    first_frame: Duration,
    total: Duration,
    peak_kib: u64,
    peak_before_kib: u64,
}

async fn run(binary: &std::path::Path, name: &str) -> Run {
    let server = RuntimeApi::start().await;
    let function = server.spawn_program(binary, name, &[]);
    let pid = function.pid().expect("the function's process id");
    // a first, small invocation: the process is up and warm
    let small = Http::get("/download").function_url().event();
    let _ = server.invoke(small).await.stream();
    let peak_before_kib = peak_kib(pid);
    let query = format!("bytes={BYTES}");
    let event = Http {
        raw_query: &query,
        ..Http::get("/download")
    }
    .function_url()
    .event();
    let started = Instant::now();
    let streamed = server.invoke(event).await.stream();
    let total = started.elapsed();
    assert_eq!(streamed.body.len(), BYTES, "{name} streamed the whole body");
    let first_frame = streamed
        .first_frame_at
        .map(|at| at.saturating_duration_since(started))
        .unwrap_or_default();
    Run {
        first_frame,
        total,
        peak_kib: peak_kib(pid),
        peak_before_kib,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    support::build_release_bins("lambda-gateway-examples", &["stream"]);
    support::build_release_examples("lambda-gateway", &["stream_lambda_http"]);
    let release = support::example_binary("stream_lambda_http")
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/release")
        .to_path_buf();
    let contenders = [
        ("lambda-gateway", release.join("stream")),
        (
            "lambda_http",
            release.join("examples").join("stream_lambda_http"),
        ),
    ];
    let rounds: usize = std::env::var("STREAM_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for i in [round % 2, 1 - round % 2] {
            let (name, binary) = &contenders[i];
            runs[i].push(run(binary, name).await);
        }
    }
    println!(
        "{:<16} {:>16} {:>12} {:>18}",
        "", "first frame ms", "total ms", "peak RSS +MiB"
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let first = median(
            runs[i]
                .iter()
                .map(|r| r.first_frame.as_secs_f64() * 1e3)
                .collect(),
        );
        let total = median(
            runs[i]
                .iter()
                .map(|r| r.total.as_secs_f64() * 1e3)
                .collect(),
        );
        let peak = median(
            runs[i]
                .iter()
                .map(|r| r.peak_kib.saturating_sub(r.peak_before_kib) as f64 / 1024.0)
                .collect(),
        );
        println!("{name:<16} {first:>16.2} {total:>12.1} {peak:>18.1}");
    }
    println!(
        "a {} MiB download on a Function URL, median of {rounds} rounds (STREAM_ROUNDS); peak RSS: VmHWM after the download minus VmHWM after a first empty download",
        BYTES / 1024 / 1024
    );
}
