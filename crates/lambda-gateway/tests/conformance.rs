//! Conformance over example events this repository did not write: the `aws_lambda_events`
//! crate's fixtures (found through `cargo metadata`, read in place, not copied). Every HTTP proxy
//! event among them (REST, HTTP API, ALB, VPC Lattice v1 and v2, WebSocket) must be claimed by
//! the right source and answered; authorizer requests and non-HTTP events must fail as
//! `UnrecognizedEvent` naming what they are — never be served as something else — and reach the
//! service when pass-through is on.

#![cfg(all(
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::PathBuf,
    process::Command,
    sync::{Arc, Mutex},
};

use http::{Request, Response};
use lambda_gateway::{Body, BoxError, Gateway, RequestContext, Source};
use serde_json::Value;
use tower::util::BoxCloneSyncService;

/// The `src/fixtures` directory of the `aws_lambda_events` this workspace builds with.
fn fixtures() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "aws_lambda_events")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("aws_lambda_events in the dependency graph");
    PathBuf::from(manifest)
        .with_file_name("src")
        .join("fixtures")
}

/// What an example event must come to.
#[derive(Debug, PartialEq)]
enum Expected {
    /// Answered by the service, from this source.
    Served(Source),
    /// Refused as `UnrecognizedEvent`, the message naming this.
    Unrecognized(&'static str),
}

fn expected(name: &str) -> Option<Expected> {
    use Expected::{Served, Unrecognized};
    if name.contains("-response") || !name.ends_with(".json") {
        return None;
    }
    let apigw = name.starts_with("example-apigw-");
    Some(
        if apigw && (name.contains("custom-auth") || name.contains("custom-authorizer")) {
            Unrecognized("authorizer request")
        } else if name.contains("websocket") {
            Served(lambda_gateway::apigw_websocket::SOURCE)
        } else if name.contains("vpc-lattice") {
            Served(lambda_gateway::vpc_lattice::SOURCE)
        } else if name.starts_with("example-alb-") {
            Served(lambda_gateway::alb::SOURCE)
        } else if name.starts_with("example-apigw-v2-")
            || name == "example-apigw-sam-http-request.json"
        {
            Served(lambda_gateway::apigw_http::SOURCE)
        } else if name.starts_with("example-apigw-") {
            Served(lambda_gateway::apigw_rest::SOURCE)
        } else {
            Unrecognized("")
        },
    )
}

type TestGateway = Gateway<BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>>;

fn gateway(pass_through: bool) -> (TestGateway, Arc<Mutex<Vec<Source>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<Body>| {
        let source = request
            .extensions()
            .get::<RequestContext>()
            .unwrap()
            .source();
        record.lock().unwrap().push(source);
        async { Ok::<_, BoxError>(Response::new(Body::from("{}"))) }
    });
    let mut gateway = Gateway::new(BoxCloneSyncService::new(service));
    if pass_through {
        gateway = gateway.pass_through("/events");
    }
    (gateway, seen)
}

#[tokio::test]
async fn every_example_event_is_claimed_by_the_right_source_or_named() {
    let dir = fixtures();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(expected) = expected(&name) else {
            continue;
        };
        let event = std::fs::read(&path).unwrap();
        // some fixtures are not JSON objects of an event (a bare string): skip what is not JSON
        if serde_json::from_slice::<Value>(&event).is_err() {
            continue;
        }
        checked += 1;
        let (plain, seen) = gateway(false);
        let outcome = plain.invoke(&event).await;
        match (&expected, outcome) {
            (Expected::Served(source), Ok(response)) => {
                let response: Value = serde_json::from_slice(&response).unwrap();
                let served = seen.lock().unwrap().first().copied();
                if response["statusCode"] != 200 || served != Some(*source) {
                    failures.push(format!(
                        "{name}: expected served by {source}, got {served:?} / {response}"
                    ));
                }
            }
            (Expected::Unrecognized(what), Err(error))
                if error.kind() == "lambda_gateway::UnrecognizedEvent"
                    && error.to_string().contains(what) =>
            {
                // ... and with pass-through on, it reaches the service as a POST
                let (passing, seen) = gateway(true);
                match passing.invoke(&event).await {
                    Ok(result)
                        if result == b"{}"
                            && seen.lock().unwrap()[..] == [Source::PASS_THROUGH] => {}
                    other => failures.push(format!("{name}: not passed through: {other:?}")),
                }
            }
            (expected, outcome) => failures.push(format!(
                "{name}: expected {expected:?}, got {}",
                match outcome {
                    Ok(response) => format!("an answer {}", String::from_utf8_lossy(&response)),
                    Err(error) => format!("{} {error}", error.kind()),
                }
            )),
        }
    }
    assert!(
        checked > 100,
        "only {checked} example events found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
