//! The whole loop: a function process polling the Lambda Runtime API test server of the
//! end-to-end tests, converting each event, calling the service and posting the response, for
//! the same service served with `lambda_gateway::run`
//! (`crates/lambda-gateway/examples/loop_gateway.rs`) and with `lambda_http::run_concurrent`
//! (`crates/lambda-gateway/examples/loop_lambda_http.rs`).
//!
//! `cargo bench -p lambda-gateway-examples --bench loop` builds both in release mode, then for
//! each mode — sequential (`AWS_LAMBDA_MAX_CONCURRENCY` unset), 4 and 64 concurrent invocations
//! — and each round, alternating the two, spawns the function, warms it up and measures a batch
//! of HTTP API events (`testdata/apigw_http/get_default_stage_cookies.json`, answered with a small
//! JSON body) with as many invocations outstanding as the mode allows: invocations per second
//! (wall clock, at the test server) and the CPU time the function process spent per invocation
//! (the sum over its threads of `/proc/<pid>/task/*/schedstat`, or `utime + stime` of
//! `/proc/<pid>/stat` where schedstat is missing). Then, sequentially, a response event just under
//! Lambda's 6 MB: time per invocation and the function's peak resident memory (`VmHWM`).
//!
//! `LOOP_ROUNDS` (default 7) and `LOOP_CALLS` (measured invocations per batch, default 4000) set
//! the counts; `LOOP_RUNTIME=multi_thread` is passed on to both functions (their tokio runtime
//! is `current_thread` otherwise). The test server runs on this benchmark's own `current_thread`
//! runtime, so it uses at most one core and leaves the rest to the function.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    process::Command,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use bytes::Bytes;
use serde_json::Value;
use support::{Outcome, RuntimeApi};
use tokio::task::JoinSet;

/// A GET with a query string, cookies and nine headers, as API Gateway's HTTP API sends it.
const EVENT: &str = include_str!("../../testdata/apigw_http/get_default_stage_cookies.json");

const CONTENDERS: [&str; 2] = ["loop_gateway", "loop_lambda_http"];

/// The body size of the large response: its response event stays just under 6,000,000 bytes,
/// below Lambda's 6 MB limit however a megabyte is counted.
const BIG_BYTES: usize = 5_999_000;

/// Invocations of the large response per function process.
const BIG_RUNS: usize = 5;

/// `(label, AWS_LAMBDA_MAX_CONCURRENCY, invocations kept outstanding)`.
const MODES: [(&str, Option<&str>, usize); 3] = [
    ("sequential", None, 1),
    ("concurrency 4", Some("4"), 4),
    ("concurrency 64", Some("64"), 64),
];

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Where a process's CPU time is read from.
#[derive(Clone, Copy)]
enum CpuClock {
    /// The first field of `/proc/<pid>/task/<tid>/schedstat`, summed over the threads: nanoseconds
    /// on a CPU.
    Schedstat,
    /// `utime + stime` of `/proc/<pid>/stat`, in clock ticks of this many nanoseconds.
    Stat { tick_ns: u64 },
}

impl CpuClock {
    fn detect() -> Self {
        if std::fs::metadata("/proc/self/schedstat").is_ok() {
            return Self::Schedstat;
        }
        let ticks_per_second = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100);
        Self::Stat {
            tick_ns: 1_000_000_000 / ticks_per_second,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Schedstat => {
                "/proc/<pid>/task/*/schedstat (ns on CPU, summed over threads)".into()
            }
            Self::Stat { tick_ns } => format!(
                "utime + stime of /proc/<pid>/stat (schedstat missing; {} ms ticks)",
                tick_ns / 1_000_000
            ),
        }
    }

    /// The CPU time process `pid` has used so far.
    fn read(self, pid: u32) -> Duration {
        match self {
            // Threads that exited are missing from the sum: the functions keep theirs.
            Self::Schedstat => {
                let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
                    .unwrap_or_else(|e| panic!("cannot list the threads of process {pid}: {e}"));
                let nanos: u64 = tasks
                    .flatten()
                    .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
                    .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                    .sum();
                Duration::from_nanos(nanos)
            }
            Self::Stat { tick_ns } => {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/stat: {e}"));
                // `pid (comm) state ppid ...`: the command may hold spaces, so count from the `)`.
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map_or("", |(_, rest)| rest)
                    .split_whitespace()
                    .collect();
                let ticks: u64 = fields
                    .get(11..13)
                    .expect("utime and stime in /proc/<pid>/stat")
                    .iter()
                    .map(|f| f.parse::<u64>().expect("a tick count"))
                    .sum();
                Duration::from_nanos(ticks * tick_ns)
            }
        }
    }
}

fn cpu_clock() -> CpuClock {
    static CLOCK: OnceLock<CpuClock> = OnceLock::new();
    *CLOCK.get_or_init(CpuClock::detect)
}

/// `VmHWM` of process `pid` (its peak resident set so far), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line in /proc/<pid>/status")
}

/// The small event's expected answer: `{"ok":true,"path":"/items/42"}`, not base64.
fn check_small(name: &str, outcome: Outcome) {
    let response = match outcome {
        Outcome::Response(response) => response,
        other => panic!("{name} did not answer the small event: {other:?}"),
    };
    let body: Value = response["body"]
        .as_str()
        .and_then(|body| serde_json::from_str(body).ok())
        .unwrap_or_else(|| panic!("{name} answered a body that is not JSON: {response}"));
    assert_eq!(
        (response["statusCode"].as_u64(), &body["ok"], &body["path"]),
        (Some(200), &Value::Bool(true), &Value::from("/items/42")),
        "{name} answered {response}"
    );
}

/// Runs `calls` invocations of `event`, `lanes` of them outstanding at a time; the wall time.
async fn batch(server: &Arc<RuntimeApi>, event: &Bytes, calls: usize, lanes: usize) -> Duration {
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for lane in 0..lanes {
        let count = calls / lanes + usize::from(lane < calls % lanes);
        let server = Arc::clone(server);
        let event = event.clone();
        tasks.spawn(async move {
            for _ in 0..count {
                match server.invoke(event.clone()).await {
                    Outcome::Response(_) => {}
                    other => panic!("an invocation was not answered with a response: {other:?}"),
                }
            }
        });
    }
    while let Some(lane) = tasks.join_next().await {
        lane.expect("an invocation lane failed");
    }
    started.elapsed()
}

/// One contender's measures in one round of one mode.
struct LoopSample {
    per_second: f64,
    cpu_per_call: Duration,
    server_busy: f64,
    /// The most invocations the function held at once (handed out, not yet answered).
    in_flight: usize,
}

async fn measure_loop(
    name: &str,
    env: &[(&str, &str)],
    lanes: usize,
    calls: usize,
    notes: &mut Vec<String>,
) -> LoopSample {
    let server = Arc::new(RuntimeApi::start().await);
    let function = server.spawn_example_with(name, env);
    let pid = function.pid().expect("the function process's id");
    let event = Bytes::from_static(EVENT.as_bytes());
    check_small(name, server.invoke(event.clone()).await);
    batch(&server, &event, 200.max(4 * lanes), lanes).await;

    let clock = cpu_clock();
    let (cpu_before, server_before) = (clock.read(pid), clock.read(std::process::id()));
    let wall = batch(&server, &event, calls, lanes).await;
    let (cpu_after, server_after) = (clock.read(pid), clock.read(std::process::id()));
    let in_flight = server.max_in_flight();
    server.assert_no_strays();

    let output = server.output_when(|_| true).await;
    if let Some(line) = output.lines().find(|line| !line.trim().is_empty()) {
        let note = format!("{name} printed: {}", line.trim());
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    drop(function);
    // Let the killed process go before the next one starts.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let calls = u32::try_from(calls).expect("LOOP_CALLS fits in u32");
    LoopSample {
        per_second: f64::from(calls) / wall.as_secs_f64(),
        cpu_per_call: (cpu_after - cpu_before) / calls,
        server_busy: (server_after - server_before).as_secs_f64() / wall.as_secs_f64(),
        in_flight,
    }
}

/// One contender's measures of the large response in one round.
struct BigSample {
    times: Vec<Duration>,
    cpu_per_call: Duration,
    rss_warm_kib: u64,
    rss_after_kib: u64,
    event_bytes: usize,
}

async fn measure_big(name: &str, big_event: &Bytes) -> BigSample {
    let server = Arc::new(RuntimeApi::start().await);
    let function = server.spawn_example(name);
    let pid = function.pid().expect("the function process's id");
    let small = Bytes::from_static(EVENT.as_bytes());
    check_small(name, server.invoke(small.clone()).await);
    batch(&server, &small, 200, 1).await;
    let rss_warm_kib = peak_rss_kib(pid);

    let clock = cpu_clock();
    let cpu_before = clock.read(pid);
    let mut times = Vec::with_capacity(BIG_RUNS);
    let mut event_bytes = 0;
    for _ in 0..BIG_RUNS {
        let started = Instant::now();
        let outcome = server.invoke(big_event.clone()).await;
        times.push(started.elapsed());
        let response = match outcome {
            Outcome::Response(response) => response,
            other => panic!("{name} did not answer the large event: {other:?}"),
        };
        let body = response["body"].as_str().unwrap_or_default();
        assert!(
            body.len() == BIG_BYTES && response["isBase64Encoded"] != Value::Bool(true),
            "{name} answered the large event with a body of {} bytes (base64: {}), expected {BIG_BYTES} plain",
            body.len(),
            response["isBase64Encoded"]
        );
        event_bytes = serde_json::to_vec(&response)
            .expect("a response event serializes")
            .len();
    }
    let cpu_after = clock.read(pid);
    let rss_after_kib = peak_rss_kib(pid);
    server.assert_no_strays();
    drop(function);
    tokio::time::sleep(Duration::from_millis(50)).await;

    BigSample {
        times,
        cpu_per_call: (cpu_after - cpu_before) / u32::try_from(BIG_RUNS).expect("a small count"),
        rss_warm_kib,
        rss_after_kib,
        event_bytes,
    }
}

/// The large event: the small one, asking for `/big?bytes=BIG_BYTES`.
fn big_event() -> Bytes {
    let mut event: Value = serde_json::from_str(EVENT).expect("the test event is JSON");
    let bytes = BIG_BYTES.to_string();
    event["rawPath"] = "/big".into();
    event["rawQueryString"] = format!("bytes={bytes}").into();
    event["queryStringParameters"] = serde_json::json!({ "bytes": bytes });
    event["requestContext"]["http"]["path"] = "/big".into();
    Bytes::from(serde_json::to_vec(&event).expect("the event serializes"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A table row: the median of each contender's values and the median of the per-round ratios.
struct Row {
    label: String,
    ours: f64,
    peer: f64,
    /// `None` for rows that describe the run rather than score it.
    ratio: Option<f64>,
    decimals: usize,
}

impl Row {
    fn new(label: impl Into<String>, ours: &[f64], peer: &[f64], decimals: usize) -> Self {
        let ratios = ours.iter().zip(peer).map(|(o, p)| o / p).collect();
        Self {
            label: label.into(),
            ours: median(ours.to_vec()),
            peer: median(peer.to_vec()),
            ratio: Some(median(ratios)),
            decimals,
        }
    }

    fn without_ratio(self) -> Self {
        Self {
            ratio: None,
            ..self
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    support::build_release_examples("lambda-gateway", &["loop_gateway", "loop_lambda_http"]);
    let rounds = env_count("LOOP_ROUNDS", 7);
    let calls = env_count("LOOP_CALLS", 4000);
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    for (mode, max_concurrency, lanes) in MODES {
        let env: Vec<(&str, &str)> = max_concurrency
            .map(|c| ("AWS_LAMBDA_MAX_CONCURRENCY", c))
            .into_iter()
            .collect();
        let mut samples: [Vec<LoopSample>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            // Alternate which contender goes first.
            for i in [round % 2, 1 - round % 2] {
                let sample = measure_loop(CONTENDERS[i], &env, lanes, calls, &mut notes).await;
                samples[i].push(sample);
            }
        }
        let column = |i: usize, f: fn(&LoopSample) -> f64| -> Vec<f64> {
            samples[i].iter().map(f).collect()
        };
        let row = |label: &str, f: fn(&LoopSample) -> f64, decimals| {
            Row::new(
                format!("{mode}: {label}"),
                &column(0, f),
                &column(1, f),
                decimals,
            )
        };
        rows.push(row("invocations/s", |s| s.per_second, 0));
        rows.push(row(
            "function CPU µs/invocation",
            |s| s.cpu_per_call.as_secs_f64() * 1e6,
            1,
        ));
        rows.push(row("invocations in flight at most", |s| s.in_flight as f64, 0).without_ratio());
        rows.push(row("test server CPU / wall", |s| s.server_busy, 2).without_ratio());
    }

    let big_event = big_event();
    let mut big: [Vec<BigSample>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for i in [round % 2, 1 - round % 2] {
            big[i].push(measure_big(CONTENDERS[i], &big_event).await);
        }
    }
    // Every run of a round against the same round of the other contender.
    let times = |i: usize| -> Vec<f64> {
        big[i]
            .iter()
            .flat_map(|s| s.times.iter().map(|t| t.as_secs_f64() * 1e3))
            .collect()
    };
    rows.push(Row::new(
        "6 MB response: ms/invocation",
        &times(0),
        &times(1),
        2,
    ));
    let column =
        |i: usize, f: fn(&BigSample) -> f64| -> Vec<f64> { big[i].iter().map(f).collect() };
    let row = |label: &str, f: fn(&BigSample) -> f64, decimals| {
        Row::new(
            format!("6 MB response: {label}"),
            &column(0, f),
            &column(1, f),
            decimals,
        )
    };
    rows.push(row(
        "function CPU ms/invocation",
        |s| s.cpu_per_call.as_secs_f64() * 1e3,
        2,
    ));
    rows.push(row("VmHWM after warm-up (MiB)", |s| mib(s.rss_warm_kib), 1));
    rows.push(row(
        "VmHWM after 6 MB runs (MiB)",
        |s| mib(s.rss_after_kib),
        1,
    ));
    rows.push(row(
        "VmHWM difference (MiB)",
        |s| mib(s.rss_after_kib.saturating_sub(s.rss_warm_kib)),
        1,
    ));
    rows.push(row(
        "response event bytes (re-serialized)",
        |s| s.event_bytes as f64,
        0,
    ));

    print_table(&rows, rounds, calls, big_event.len(), &notes);
}

fn print_table(rows: &[Row], rounds: usize, calls: usize, big_request: usize, notes: &[String]) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let runtime = match std::env::var("LOOP_RUNTIME") {
        Ok(v) if v == "multi_thread" => "multi_thread",
        _ => "current_thread",
    };
    let width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    println!(
        "{:<width$} {:>14} {:>14} {:>8}",
        "", "lambda-gateway", "lambda_http", "ratio"
    );
    for row in rows {
        let ratio = row
            .ratio
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"));
        println!(
            "{:<width$} {:>14.d$} {:>14.d$} {ratio:>8}",
            row.label,
            row.ours,
            row.peer,
            d = row.decimals
        );
    }
    println!(
        "environment: {cores} cores; functions on a {runtime} tokio runtime (LOOP_RUNTIME), the test \
         server on one thread of this process; CPU time from {}",
        cpu_clock().describe()
    );
    println!(
        "{rounds} rounds (LOOP_ROUNDS), contenders alternating; {calls} measured invocations per batch \
         (LOOP_CALLS) after a warm-up, as many outstanding as the mode allows; 6 MB: {BIG_RUNS} runs \
         of a {big_request}-byte request asking for {BIG_BYTES} bytes of text/plain, per process"
    );
    println!(
        "values are medians over rounds (6 MB ms/invocation: over every run); ratio = \
         lambda-gateway / lambda_http, the median of the per-round ratios: the figure to read \
         (absolute numbers depend on this machine, which the test server shares)"
    );
    println!(
        "invocations in flight at most: handed out by the test server and not yet answered, at any \
         one time (an upper bound on the invocations the function served at once); test server CPU / wall: how busy this process \
         was serving the loop (1.00 would make it the limit)"
    );
    for note in notes {
        println!("note: {note}");
    }
}
