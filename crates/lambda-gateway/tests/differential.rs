//! Differential test: every accepted event under
//! `testdata/{apigw_rest,apigw_http,alb,vpc_lattice,apigw_websocket}` goes through lambda-gateway
//! (`Gateway::invoke`) and through the official `lambda_http` crate (`LambdaRequest` deserialized
//! from the event, then `http::Request::<lambda_http::Body>::from`, with its `apigw_websockets` and
//! `vpc_lattice` features), and what the service sees is compared field by field.
//!
//! lambda_http reads VPC Lattice's v2 event structure only, so the v1 events of
//! `testdata/vpc_lattice` (a top-level `raw_path`) are not compared: the test only checks that
//! lambda_http still rejects each of them, and fails when it starts reading them (then compare
//! them too). lambda_http turns every WebSocket event into `GET /{stage}` (a `$connect` event
//! carrying an `httpMethod` is even taken for a REST one), where lambda-gateway gives
//! `GET /$connect`, `POST /{routeKey}` and `DELETE /$disconnect`.
//!
//! Every difference is recorded in `testdata/differential.json`, under its case and field, with a
//! human judgement: `verdict` is `"ours"`, `"lambda_http"` or `"both acceptable"`, and `why` says
//! why, from AWS's documented behaviour (see the foundation issue's conversion rules). The test
//! fails when the differences found now are not exactly the recorded ones (a new one appears, a
//! recorded one disappears or changes value), and while any entry's verdict is `"unreviewed"`.
//!
//! Run with `LAMBDA_GATEWAY_BLESS=1` to rewrite the recorded differences from the current
//! behaviour: entries whose values did not change keep their verdict and why; new or changed
//! entries get the verdict `"unreviewed"` (a changed one keeps its old judgement in `why` for
//! reference), so the test keeps failing until someone has judged each of them.
//!
//! The fields compared, as a plain HTTP/1.1 server would hand them to a handler:
//! - `outcome`: `"accepted"`, `"rejects: <error>"` or `"panics: <message>"` (lambda_http panics
//!   on some events; the panic is caught with the panic hook silenced). When either side does not
//!   accept an event, only `outcome` is compared.
//! - `source`: which event source the adapter took the event for.
//! - `method`.
//! - `scheme_authority`: `scheme://authority` when the URI is in absolute form, null when it is in
//!   origin form (lambda-gateway's choice: `/path?query`, the host in the `host` header).
//! - `path`: the URI path, percent-encoded as the service sees it; `decoded_path`: that path
//!   percent-decoded (lossy UTF-8), what a router matches on.
//! - `query`: the URI query (null when there is none). lambda_http builds REST, ALB and WebSocket
//!   queries from a `HashMap`, so the order of *distinct* keys changes from run to run: queries are compared with
//!   their `&`-separated pairs stable-sorted by raw key (a repeated key's values keep their order),
//!   and lambda_http's query is recorded in that sorted order. For a VPC Lattice v2 event whose
//!   `path` holds the query, lambda_http appends `?` and the query map's query (again in `HashMap`
//!   order) to it, gluing one appended pair to the path query's last value: before anything is
//!   observed, that appended part (after the last `?`; form-encoded, it has no `?` of its own) is
//!   stable-sorted by key too, so the glued pair is the same on every run (in a real process it is
//!   whichever key the map yields first).
//! - `query_param "<key>"`: the values of one query key (JSON-quoted), in order, decoded with
//!   `application/x-www-form-urlencoded` semantics (what `axum::extract::Query` sees).
//! - `header <name>`: the values of one header, in order (null when absent).
//! - `body_base64`: the body bytes.
//!
//! Not covered here: `lambda_http`'s runtime adapter also overwrites `x-amzn-trace-id` with the
//! Lambda invocation's X-Ray trace id after this conversion; `invoke` has no invocation context.

#![cfg(all(
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    any::Any,
    collections::{BTreeMap, BTreeSet},
    convert::Infallible,
    fmt::Write as _,
    fs,
    panic::{self, AssertUnwindSafe},
    sync::{Arc, Mutex},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderMap, Method, Request, Response, Uri};
use lambda_gateway::{Gateway, RequestContext};
use lambda_gateway_test_support::testdata::event_files;
use lambda_http::request::{LambdaRequest, RequestOrigin};
use serde_json::{Value, json};

/// The env var that turns comparing into rewriting the recorded differences.
const BLESS_VAR: &str = "LAMBDA_GATEWAY_BLESS";

/// Directories of accepted events, named like [`lambda_gateway::Source::as_str`].
const SOURCES: [&str; 5] = [
    "apigw_rest",
    "apigw_http",
    "alb",
    "vpc_lattice",
    "apigw_websocket",
];

/// The directory of VPC Lattice events, whose v1 events lambda_http does not read.
const VPC_LATTICE: &str = "vpc_lattice";

/// The recorded differences, relative to `testdata/`.
const RECORD: &str = "differential.json";

/// Judgements a reviewer may give.
const VERDICTS: [&str; 3] = ["ours", "lambda_http", "both acceptable"];

/// The verdict of an entry nobody has judged yet.
const UNREVIEWED: &str = "unreviewed";

/// The `about` text written at the top of the record.
const ABOUT: &str = "What a service sees through lambda-gateway vs through lambda_http for every event in \
testdata/{apigw_rest,apigw_http,alb,vpc_lattice,apigw_websocket}, field by field (see crates/lambda-gateway/tests/differential.rs). \
Only differing fields are listed. verdict: which side is right (\"ours\", \"lambda_http\", \"both acceptable\"); \
\"unreviewed\" fails the test until someone judges it. Regenerate with LAMBDA_GATEWAY_BLESS=1.";

/// What one adapter handed to the service: field → value.
type Observed = BTreeMap<String, Value>;

/// One differing field: (ours, lambda_http).
type Difference = (Value, Value);

/// An adapter that did not hand a request to the service.
fn failed(outcome: String) -> Observed {
    BTreeMap::from([("outcome".to_owned(), Value::String(outcome))])
}

/// Percent-decodes `%XX` escapes; anything else (a lone `%`) is kept.
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(hi * 16 + lo).unwrap());
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The query with its `&`-separated pairs stable-sorted by raw key (see the module docs).
fn sorted_query(query: &str) -> String {
    let mut pairs: Vec<&str> = query.split('&').collect();
    pairs.sort_by_key(|pair| pair.split_once('=').map_or(*pair, |(key, _)| key));
    pairs.join("&")
}

/// lambda_http's URI for a VPC Lattice v2 event with the part it appends after the query's last
/// `?` (the query map's, in `HashMap` order) stable-sorted by key (see the module docs).
fn lattice_sorted_uri(uri: &Uri) -> Uri {
    let Some((path_query, appended)) = uri.query().and_then(|q| q.rsplit_once('?')) else {
        return uri.clone();
    };
    let mut parts = uri.clone().into_parts();
    let path_and_query = format!("{}?{path_query}?{}", uri.path(), sorted_query(appended));
    parts.path_and_query = Some(path_and_query.parse().unwrap());
    Uri::from_parts(parts).unwrap()
}

/// The fields both adapters are compared on.
fn observe(source: &str, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Observed {
    let mut fields = Observed::new();
    let mut set = |name: String, value: Value| {
        fields.insert(name, value);
    };
    set("outcome".into(), "accepted".into());
    set("source".into(), source.into());
    set("method".into(), method.as_str().into());
    set(
        "scheme_authority".into(),
        match (uri.scheme_str(), uri.authority()) {
            (None, None) => Value::Null,
            (scheme, authority) => format!(
                "{}://{}",
                scheme.unwrap_or(""),
                authority.map_or("", |a| a.as_str())
            )
            .into(),
        },
    );
    set("path".into(), uri.path().into());
    set(
        "decoded_path".into(),
        String::from_utf8_lossy(&percent_decode(uri.path())).into(),
    );
    set("query".into(), uri.query().into());
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        params
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    for (key, values) in params {
        set(format!("query_param {}", Value::from(key)), json!(values));
    }
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        set(format!("header {name}"), json!(values));
    }
    set("body_base64".into(), STANDARD.encode(body).into());
    fields
}

/// What the service sees through lambda-gateway.
async fn through_ours(event: &[u8]) -> Observed {
    let seen = Arc::new(Mutex::new(None::<Observed>));
    let recorder = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<lambda_gateway::Body>| {
        let recorder = Arc::clone(&recorder);
        async move {
            let (parts, body) = request.into_parts();
            let source = parts.extensions.get::<RequestContext>().map_or_else(
                || "no RequestContext".to_owned(),
                |c| c.source().as_str().to_owned(),
            );
            let observed = observe(
                &source,
                &parts.method,
                &parts.uri,
                &parts.headers,
                &body.into_bytes(),
            );
            *recorder.lock().unwrap() = Some(observed);
            Ok::<_, Infallible>(Response::new(lambda_gateway::Body::from("ok")))
        }
    });
    match Gateway::new(service).invoke(event).await {
        Ok(_) => seen
            .lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| failed("accepted, but the service was not called".to_owned())),
        Err(error) => failed(format!("rejects: {error}")),
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned())
}

/// Runs `f`, catching a panic, with the panic hook silenced meanwhile (nothing printed).
fn catch_silently<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // The hook is process-global: serialize the swaps.
    static HOOK: Mutex<()> = Mutex::new(());
    let _guard = HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// What the service sees through lambda_http.
fn through_lambda_http(event: &[u8]) -> Observed {
    let outcome = catch_silently(|| {
        let request: LambdaRequest = serde_json::from_slice(event).map_err(|e| e.to_string())?;
        let source = match request.request_origin() {
            RequestOrigin::ApiGatewayV1 => "apigw_rest",
            RequestOrigin::ApiGatewayV2 => "apigw_http",
            RequestOrigin::Alb => "alb",
            RequestOrigin::VpcLatticeV2 => "vpc_lattice",
            RequestOrigin::WebSocket => "apigw_websocket",
            _ => "other",
        };
        let mut request = Request::<lambda_http::Body>::from(request);
        if source == "vpc_lattice" {
            *request.uri_mut() = lattice_sorted_uri(request.uri());
        }
        let mut observed = observe(
            source,
            request.method(),
            request.uri(),
            request.headers(),
            request.body(),
        );
        if let Some(Value::String(query)) = observed.get_mut("query") {
            *query = sorted_query(query);
        }
        Ok::<_, String>(observed)
    });
    match outcome {
        Ok(Ok(observed)) => observed,
        Ok(Err(error)) => failed(format!("rejects: {error}")),
        Err(message) => failed(format!("panics: {message}")),
    }
}

/// Whether two values of `field` count as the same.
fn same(field: &str, ours: &Value, theirs: &Value) -> bool {
    match (field, ours, theirs) {
        ("query", Value::String(a), Value::String(b)) => sorted_query(a) == sorted_query(b),
        _ => ours == theirs,
    }
}

/// The fields that differ. When either side did not accept the event, only `outcome` counts.
fn differences(ours: &Observed, theirs: &Observed) -> BTreeMap<String, Difference> {
    let accepted = |o: &Observed| o.get("outcome") == Some(&Value::from("accepted"));
    let fields: BTreeSet<&String> = if accepted(ours) && accepted(theirs) {
        ours.keys().chain(theirs.keys()).collect()
    } else {
        ours.keys().filter(|k| *k == "outcome").collect()
    };
    fields
        .into_iter()
        .filter_map(|field| {
            let a = ours.get(field).cloned().unwrap_or(Value::Null);
            let b = theirs.get(field).cloned().unwrap_or(Value::Null);
            (!same(field, &a, &b)).then(|| (field.clone(), (a, b)))
        })
        .collect()
}

/// Whether a VPC Lattice event has the v1 event structure (a top-level `raw_path`), which
/// lambda_http 1.3 does not read.
fn is_lattice_v1(event: &[u8]) -> bool {
    serde_json::from_slice::<Value>(event).is_ok_and(|v| v.get("raw_path").is_some())
}

/// One recorded difference.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    ours: Value,
    lambda_http: Value,
    verdict: String,
    why: String,
}

/// case → field → entry.
type Record = BTreeMap<String, BTreeMap<String, Entry>>;

fn parse_record(text: &str) -> Result<Record, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let cases = value
        .get("differences")
        .and_then(Value::as_object)
        .ok_or("expected an object with a `differences` object")?;
    let mut record = Record::new();
    for (case, fields) in cases {
        let fields = fields
            .as_object()
            .ok_or_else(|| format!("{case}: expected an object of fields"))?;
        for (field, entry) in fields {
            let text = |key: &str| {
                entry
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{case} {field}: `{key}` must be a string"))
            };
            let parsed = Entry {
                ours: entry.get("ours").cloned().unwrap_or(Value::Null),
                lambda_http: entry.get("lambda_http").cloned().unwrap_or(Value::Null),
                verdict: text("verdict")?,
                why: text("why")?,
            };
            record
                .entry(case.clone())
                .or_default()
                .insert(field.clone(), parsed);
        }
    }
    Ok(record)
}

/// The record as JSON for review: one block per entry, `ours` and `lambda_http` on one line each,
/// in the order a reviewer reads them.
fn render_record(record: &Record) -> String {
    let quote = |s: &str| Value::from(s).to_string();
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"about\": {},", quote(ABOUT));
    out.push_str("  \"differences\": {");
    for (i, (case, fields)) in record.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(out, "    {}: {{", quote(case));
        for (j, (field, entry)) in fields.iter().enumerate() {
            out.push_str(if j == 0 { "\n" } else { ",\n" });
            let _ = writeln!(out, "      {}: {{", quote(field));
            let _ = writeln!(out, "        \"ours\": {},", entry.ours);
            let _ = writeln!(out, "        \"lambda_http\": {},", entry.lambda_http);
            let _ = writeln!(out, "        \"verdict\": {},", quote(&entry.verdict));
            let _ = writeln!(out, "        \"why\": {}", quote(&entry.why));
            out.push_str("      }");
        }
        out.push_str("\n    }");
    }
    out.push_str(if record.is_empty() {
        "}\n}\n"
    } else {
        "\n  }\n}\n"
    });
    out
}

/// The record to write when blessing: unchanged entries keep their judgement.
fn bless_record(current: &BTreeMap<String, BTreeMap<String, Difference>>, old: &Record) -> Record {
    let mut record = Record::new();
    for (case, fields) in current {
        for (field, (ours, theirs)) in fields {
            let previous = old.get(case).and_then(|f| f.get(field));
            let (verdict, why) = match previous {
                Some(p) if &p.ours == ours && &p.lambda_http == theirs => {
                    (p.verdict.clone(), p.why.clone())
                }
                Some(p) if p.verdict != UNREVIEWED => (
                    UNREVIEWED.to_owned(),
                    format!(
                        "values changed; was {:?} with ours {} and lambda_http {}: {}",
                        p.verdict, p.ours, p.lambda_http, p.why
                    ),
                ),
                Some(p) => (UNREVIEWED.to_owned(), p.why.clone()),
                None => (UNREVIEWED.to_owned(), String::new()),
            };
            record.entry(case.clone()).or_default().insert(
                field.clone(),
                Entry {
                    ours: ours.clone(),
                    lambda_http: theirs.clone(),
                    verdict,
                    why,
                },
            );
        }
    }
    record
}

/// Lines describing how the current differences depart from the record.
fn mismatches(
    current: &BTreeMap<String, BTreeMap<String, Difference>>,
    record: &Record,
) -> Vec<String> {
    let mut out = Vec::new();
    let cases: BTreeSet<&String> = current.keys().chain(record.keys()).collect();
    for case in cases {
        let now = current.get(case);
        let then = record.get(case);
        let fields: BTreeSet<&String> = now
            .into_iter()
            .flat_map(BTreeMap::keys)
            .chain(then.into_iter().flat_map(BTreeMap::keys))
            .collect();
        for field in fields {
            match (now.and_then(|f| f.get(field)), then.and_then(|f| f.get(field))) {
                (Some((ours, theirs)), None) => out.push(format!(
                    "+ {case} · {field}: new difference\n    ours:        {ours}\n    lambda_http: {theirs}"
                )),
                (None, Some(entry)) => out.push(format!(
                    "- {case} · {field}: recorded difference is gone (was {:?})\n    ours:        {}\n    lambda_http: {}",
                    entry.verdict, entry.ours, entry.lambda_http
                )),
                (Some((ours, theirs)), Some(entry))
                    if &entry.ours != ours || &entry.lambda_http != theirs =>
                {
                    let mut text = format!(
                        "~ {case} · {field}: values changed (was {:?})",
                        entry.verdict
                    );
                    if &entry.ours != ours {
                        let _ = write!(text, "\n    ours:        {} → {ours}", entry.ours);
                    }
                    if &entry.lambda_http != theirs {
                        let _ = write!(
                            text,
                            "\n    lambda_http: {} → {theirs}",
                            entry.lambda_http
                        );
                    }
                    out.push(text);
                }
                _ => {}
            }
        }
    }
    out
}

/// Problems with the judgements themselves.
fn judgement_problems(record: &Record) -> Vec<String> {
    let mut out = Vec::new();
    for (case, fields) in record {
        for (field, entry) in fields {
            if entry.verdict == UNREVIEWED {
                out.push(format!(
                    "{case} · {field}: unreviewed; write a verdict and why"
                ));
            } else if !VERDICTS.contains(&entry.verdict.as_str()) {
                out.push(format!(
                    "{case} · {field}: verdict {:?} is none of {VERDICTS:?}",
                    entry.verdict
                ));
            } else if entry.why.trim().is_empty() {
                out.push(format!("{case} · {field}: verdict without a why"));
            }
        }
    }
    out
}

/// The case-level summary: a differing case counts under its strongest verdict (`lambda_http`
/// over `ours` over `both acceptable`).
fn summary(observed: &BTreeMap<String, (Observed, Observed)>, record: &Record) -> String {
    let total = observed.len();
    let mut identical = 0;
    let mut by_verdict: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut rejects, mut panics) = (0, 0);
    for (case, (_, theirs)) in observed {
        match theirs.get("outcome").and_then(Value::as_str) {
            Some(o) if o.starts_with("rejects") => rejects += 1,
            Some(o) if o.starts_with("panics") => panics += 1,
            _ => {}
        }
        let Some(fields) = record.get(case) else {
            identical += 1;
            continue;
        };
        let verdicts: BTreeSet<&str> = fields.values().map(|e| e.verdict.as_str()).collect();
        let verdict = ["lambda_http", UNREVIEWED, "ours", "both acceptable"]
            .into_iter()
            .find(|v| verdicts.contains(v))
            .unwrap_or("other");
        *by_verdict.entry(verdict).or_default() += 1;
    }
    let entries: usize = record.values().map(BTreeMap::len).sum();
    format!(
        "{total} cases: {identical} identical, {} differ ({entries} differing fields) — by verdict {by_verdict:?}; \
         lambda_http rejects {rejects} and panics on {panics}",
        total - identical
    )
}

#[tokio::test]
async fn differential() {
    let testdata = lambda_gateway_test_support::testdata::root();
    let record_path = testdata.join(RECORD);
    let bless = std::env::var(BLESS_VAR).is_ok_and(|v| !v.is_empty() && v != "0");

    let mut observed = BTreeMap::new();
    let mut lattice_v1 = 0;
    for dir_name in SOURCES {
        let events = event_files(&testdata.join(dir_name));
        assert!(!events.is_empty(), "testdata/{dir_name}: no events");
        for path in events {
            let case = format!("{dir_name}/{}", path.file_stem().unwrap().to_string_lossy());
            let event = fs::read(&path).unwrap();
            let theirs = through_lambda_http(&event);
            if dir_name == VPC_LATTICE && is_lattice_v1(&event) {
                let outcome = theirs.get("outcome").and_then(Value::as_str).unwrap_or("");
                assert!(
                    outcome.starts_with("rejects"),
                    "{case}: lambda_http no longer rejects VPC Lattice v1 events ({outcome}); \
                     compare them too (see is_lattice_v1)"
                );
                lattice_v1 += 1;
                continue;
            }
            let ours = through_ours(&event).await;
            observed.insert(case, (ours, theirs));
        }
    }
    let current: BTreeMap<String, BTreeMap<String, Difference>> = observed
        .iter()
        .map(|(case, (ours, theirs))| (case.clone(), differences(ours, theirs)))
        .filter(|(_, fields)| !fields.is_empty())
        .collect();

    let old_text = match fs::read_to_string(&record_path) {
        Ok(text) => text,
        Err(_) if bless => String::new(),
        Err(e) => panic!(
            "cannot read testdata/{RECORD} ({e}); run with {BLESS_VAR}=1 to create it, then review it"
        ),
    };
    let old = if old_text.is_empty() {
        Record::new()
    } else {
        parse_record(&old_text).unwrap_or_else(|e| panic!("testdata/{RECORD}: {e}"))
    };

    let record = if bless {
        let record = bless_record(&current, &old);
        let text = render_record(&record);
        if text != old_text {
            fs::write(&record_path, text).unwrap();
        }
        record
    } else {
        let mismatches = mismatches(&current, &old);
        assert!(
            mismatches.is_empty(),
            "the differences from lambda_http changed ({} entries; - recorded, + now); \
             if intended, re-bless with {BLESS_VAR}=1 and judge the unreviewed entries in testdata/{RECORD}:\n\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
        old
    };

    let summary = format!(
        "{}; {lattice_v1} VPC Lattice v1 events not compared (lambda_http rejects them)",
        summary(&observed, &record)
    );
    eprintln!("{summary}");
    let problems = judgement_problems(&record);
    assert!(
        problems.is_empty(),
        "{} entries of testdata/{RECORD} need a judgement ({summary}):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
