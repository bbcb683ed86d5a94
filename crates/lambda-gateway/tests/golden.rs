//! Golden tests: every event under `testdata/` goes through `Gateway::invoke`, and what the service
//! saw plus the response event are compared with the `.expected.json` file beside the event.
//!
//! Layout (see the foundation issue, "Conversion rules"):
//! - `testdata/{apigw_rest,apigw_http,alb}/<case>.json`: a raw event as Lambda delivers it;
//!   `testdata/invalid/<case>.json`: an event that must be rejected: the invocation fails, or,
//!   when the fault is the client's (a header value with CR/LF...), a 4xx answers it without the
//!   service being called.
//! - `<case>.reply.json` (optional): what the test service answers,
//!   `{"status": N, "headers": [[name, value], ...], "body_base64": "..."}`; without it the service
//!   answers [`default_reply`].
//! - `<case>.expected.json`: `{"request": <what the service saw>, "response": <response event>}`, or
//!   `{"error": {"kind": ..., "message": ...}}` for rejected events.
//!
//! Run with `LAMBDA_GATEWAY_BLESS=1` to rewrite the expected files from the current behaviour, then
//! review the diff of `testdata/`: that review is how behaviour changes are accepted.

#![cfg(all(feature = "apigw_rest", feature = "apigw_http", feature = "alb"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    convert::Infallible,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use lambda_gateway::{Body, Gateway, RequestContext, RequestContextExt};
use serde_json::{Value, json};

/// The env var that turns comparing into rewriting the expected files.
const BLESS_VAR: &str = "LAMBDA_GATEWAY_BLESS";

/// Directories of accepted events, named like [`lambda_gateway::Source::as_str`].
const SOURCES: [&str; 3] = ["apigw_rest", "apigw_http", "alb"];

/// Directory of events that must be rejected.
const INVALID: &str = "invalid";

/// Fewer events than this in a directory means the walk is broken (or testdata was lost).
const MIN_EVENTS_PER_DIR: usize = 10;

/// What the test service answers.
#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The reply used when a case has no `.reply.json`: two `Set-Cookie` (which no source may merge
/// or drop), a repeated `vary` (joined differently per source) and a short text body.
fn default_reply() -> Reply {
    Reply {
        status: 200,
        headers: [
            ("content-type", "text/plain; charset=utf-8"),
            ("set-cookie", "session=abc123; Path=/; Secure; HttpOnly"),
            ("set-cookie", "theme=dark; Path=/; Max-Age=31536000"),
            ("vary", "accept-encoding"),
            ("vary", "origin"),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect(),
        body: b"ok".to_vec(),
    }
}

fn parse_reply(path: &Path) -> Result<Reply, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("expected a JSON object")?;
    if let Some(key) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "status" | "headers" | "body_base64"))
    {
        return Err(format!(
            "unknown key {key:?}; expected status, headers, body_base64"
        ));
    }
    let status = match object.get("status") {
        None => 200,
        Some(status) => status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or("`status` must be a number")?,
    };
    let mut headers = Vec::new();
    for pair in object
        .get("headers")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(name), Value::String(value)]) => {
                headers.push((name.clone(), value.clone()));
            }
            _ => return Err(format!("header {pair} is not a [name, value] pair")),
        }
    }
    let body = match object.get("body_base64").and_then(Value::as_str) {
        None => Vec::new(),
        Some(body) => STANDARD
            .decode(body)
            .map_err(|e| format!("`body_base64` is not base64: {e}"))?,
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn build_response(reply: &Reply) -> Response<Body> {
    let mut response = Response::new(Body::from(reply.body.clone()));
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("reply status");
    for (name, value) in &reply.headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("reply header name"),
            HeaderValue::from_str(value).expect("reply header value"),
        );
    }
    response
}

/// What the service saw, in the golden files' shape, and whether the context's raw event parses
/// as the full typed `aws_lambda_events` event (a check that the hand-written events are faithful
/// to AWS's formats, and that `parse_typed_event` works on them).
fn normalize(request: Request<Body>) -> (Value, Result<(), String>) {
    let (parts, body) = request.into_parts();
    let typed = match parts.extensions.get::<RequestContext>() {
        Some(context) => context
            .parse_typed_event()
            .map(drop)
            .map_err(|e| e.to_string()),
        None => Err("no RequestContext extension".to_owned()),
    };
    let headers: Vec<Value> = parts
        .headers
        .iter()
        .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
        .collect();
    let context = parts
        .extensions
        .get::<RequestContext>()
        .map_or(Value::Null, |c| {
            json!({
                "source": c.source().as_str(),
                "request_id": c.request_id(),
                "source_ip": c.source_ip(),
                "stage": c.stage(),
                "domain_name": c.domain_name(),
                "multi_value": c.is_multi_value(),
                "is_function_url": c.is_function_url(),
            })
        });
    let request = json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body_base64": STANDARD.encode(body.into_bytes()),
        "context": context,
    });
    (request, typed)
}

/// What one run produced.
struct Outcome {
    /// The value compared with the expected file.
    actual: Value,
    /// Whether the service was called, and if so whether the typed event parsed.
    typed_event: Option<Result<(), String>>,
}

/// Runs one event through a fresh gateway.
async fn run_case(event: &[u8], reply: Reply) -> Outcome {
    let seen = Arc::new(Mutex::new(None::<(Value, Result<(), String>)>));
    let recorder = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<Body>| {
        let recorder = Arc::clone(&recorder);
        let reply = reply.clone();
        async move {
            *recorder.lock().unwrap() = Some(normalize(request));
            Ok::<_, Infallible>(build_response(&reply))
        }
    });
    let outcome = Gateway::new(service).invoke(event).await;
    let (request, typed_event) = seen.lock().unwrap().take().unzip();
    let actual = match outcome {
        Ok(response) => {
            let response = serde_json::from_slice::<Value>(&response).unwrap_or_else(|error| {
                Value::String(format!(
                    "response event is not JSON ({error}): {}",
                    String::from_utf8_lossy(&response)
                ))
            });
            let mut actual = json!({"request": request, "response": response});
            // An event the adapter accepts but `aws_lambda_events` cannot read says so in its
            // expected file, so the limitation is reviewed rather than hidden.
            if let Some(Err(error)) = &typed_event {
                actual["typed_event_error"] = Value::String(error.clone());
            }
            actual
        }
        Err(error) => json!({"error": {"kind": error.kind(), "message": error.to_string()}}),
    };
    Outcome {
        actual,
        typed_event,
    }
}

/// Event files of a directory, sorted: `<case>.json` but not `.expected.json` / `.reply.json`.
fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && !name.ends_with(".reply.json")
        })
        .collect();
    files.sort();
    files
}

/// `dir/<case>.json` → `dir/<case><suffix>`.
fn sibling(event: &Path, suffix: &str) -> PathBuf {
    let stem = event.file_stem().and_then(|s| s.to_str()).unwrap();
    event.with_file_name(format!("{stem}{suffix}"))
}

/// `.expected.json` / `.reply.json` files whose event is gone: stale goldens hide nothing.
fn orphans(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let case = name
                .strip_suffix(".expected.json")
                .or_else(|| name.strip_suffix(".reply.json"));
            case.is_some_and(|case| !dir.join(format!("{case}.json")).exists())
        })
        .collect()
}

/// Pretty JSON for review, with arrays of scalars (a `[name, value]` header pair, a header's
/// values) kept on one line; ends with a newline.
fn pretty(value: &Value) -> String {
    fn write(out: &mut String, value: &Value, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match value {
            Value::Object(map) if !map.is_empty() => {
                out.push_str("{\n");
                for (i, (key, value)) in map.iter().enumerate() {
                    pad(out, indent + 2);
                    out.push_str(&Value::from(key.as_str()).to_string());
                    out.push_str(": ");
                    write(out, value, indent + 2);
                    out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
            Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 2);
                    write(out, item, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(Value::to_string).collect();
                out.push('[');
                out.push_str(&items.join(", "));
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut text = String::new();
    write(&mut text, value, 0);
    text.push('\n');
    text
}

/// A line diff (longest common subsequence) of two texts: `-` expected, `+` actual, with three
/// lines of context around each change.
fn line_diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].0 != ' ').collect();
    let near_change = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (mark, line)) in lines.iter().enumerate() {
        if near_change(k) {
            let _ = writeln!(out, "{mark}  {line}");
            skipped = false;
        } else if !skipped {
            out.push_str("   ...\n");
            skipped = true;
        }
    }
    out
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

#[tokio::test]
async fn golden() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let bless = blessing();
    let mut failures: Vec<String> = Vec::new();
    let mut checked = 0;

    for dir_name in SOURCES.iter().copied().chain([INVALID]) {
        let dir = testdata.join(dir_name);
        let events = event_files(&dir);
        if events.len() < MIN_EVENTS_PER_DIR {
            failures.push(format!(
                "testdata/{dir_name}: {} events, expected at least {MIN_EVENTS_PER_DIR}",
                events.len()
            ));
        }
        for orphan in orphans(&dir) {
            failures.push(format!(
                "testdata/{dir_name}/{}: no event file beside it; delete it or restore its event",
                orphan.file_name().unwrap().to_string_lossy()
            ));
        }

        for event_path in events {
            let name = format!(
                "{dir_name}/{}",
                event_path.file_name().unwrap().to_string_lossy()
            );
            let event = fs::read(&event_path).unwrap();
            let reply_path = sibling(&event_path, ".reply.json");
            let reply = if reply_path.exists() {
                match parse_reply(&reply_path) {
                    Ok(reply) => reply,
                    Err(error) => {
                        failures.push(format!("{name}: its .reply.json: {error}"));
                        continue;
                    }
                }
            } else {
                default_reply()
            };

            let Outcome {
                actual,
                typed_event,
            } = run_case(&event, reply).await;
            checked += 1;

            // Sanity checks that hold whatever the expected file says.
            if dir_name == INVALID {
                // Rejected: the invocation fails, or (a client's fault) a 4xx answers it.
                let client_error = actual
                    .pointer("/response/statusCode")
                    .and_then(Value::as_u64)
                    .is_some_and(|status| (400..500).contains(&status));
                if actual.get("error").is_none() && !client_error {
                    failures.push(format!("{name}: must be rejected, but was accepted"));
                }
                if typed_event.is_some() {
                    failures.push(format!("{name}: rejected event reached the service"));
                }
            } else {
                let source = actual.pointer("/request/context/source");
                if source != Some(&Value::from(dir_name)) {
                    failures.push(format!(
                        "{name}: expected a {dir_name} request to reach the service, got {}",
                        actual.get("error").or(source).unwrap_or(&Value::Null)
                    ));
                }
                let recorded = actual.get("typed_event_error").is_some();
                if let Some(Err(error)) = typed_event.filter(|_| !recorded) {
                    failures.push(format!(
                        "{name}: does not parse as the typed aws_lambda_events event: {error}"
                    ));
                }
            }

            let expected_path = sibling(&event_path, ".expected.json");
            if bless {
                fs::write(&expected_path, pretty(&actual)).unwrap();
                continue;
            }
            let expected = match fs::read_to_string(&expected_path) {
                Ok(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(expected) => expected,
                    Err(error) => {
                        failures.push(format!("{name}: its .expected.json is not JSON: {error}"));
                        continue;
                    }
                },
                Err(_) => {
                    failures.push(format!(
                        "{name}: no .expected.json beside it (run with {BLESS_VAR}=1 to create it, then review it)"
                    ));
                    continue;
                }
            };
            if expected != actual {
                failures.push(format!(
                    "{name}: differs from testdata/{dir_name}/{} (- expected, + actual):\n{}",
                    expected_path.file_name().unwrap().to_string_lossy(),
                    line_diff(&pretty(&expected), &pretty(&actual))
                ));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} failures in {checked} golden cases{}:\n\n{}",
        failures.len(),
        if bless {
            ""
        } else {
            "; if the change is intended, re-bless with LAMBDA_GATEWAY_BLESS=1 and review the diff"
        },
        failures.join("\n\n")
    );
    if bless {
        eprintln!("blessed {checked} golden files; review the diff of testdata/");
    }
}
