//! End to end under Cargo Lambda, the local emulator most Rust Lambda developers start with: the
//! README's quickstart app and the `hello` and `echo` examples run under `cargo lambda watch`,
//! driven by real HTTP requests through its Function URL emulation
//! (`http://127.0.0.1:<port>/lambda-url/<binary>/<path>`), and by `cargo lambda invoke
//! --data-file` with REST, ALB and payload 2.0 events from `testdata/`.
//!
//! Cargo Lambda is found as `$CARGO_LAMBDA`, else `cargo-lambda` on `PATH` (`.ci/run` installs the
//! pinned version), else installed from PyPI into the target directory
//! ([`PINNED_VERSION`]). The binaries are built first with the command Cargo Lambda runs
//! (`cargo run --bin <name>` from the workspace root, same target directory), so the first request
//! does not wait for a compile.
//!
//! Where Cargo Lambda's emulator differs from AWS, these tests follow AWS:
//! - it sends the request's cookies both in `headers.cookie` and in `cookies`; API Gateway and
//!   Function URLs send only `cookies` — the service must see one `cookie` header;
//! - it answers 500 to a payload 2.0 response without `cookies`, which AWS accepts — every
//!   response must come through, with or without cookies;
//! - it adds a `lambda-runtime-aws-request-id` request header AWS does not send: ignored here;
//! - it keeps only the first value of a repeated request header (AWS comma-joins them): no check
//!   here depends on repeated request headers (`tests/e2e.rs` covers them with AWS's events);
//! - it adds CORS headers to every response unless started with `--disable-cors` (a Function URL
//!   without a CORS configuration adds none): started with it.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

/// The Cargo Lambda version `.ci/run` installs and this test installs when none is found.
const PINNED_VERSION: &str = "1.9.2";

/// The workspace root: Cargo Lambda runs `cargo run --manifest-path Cargo.toml` from here.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("examples/ is inside the workspace")
        .to_path_buf()
}

/// The target directory this test was built into (`target/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let test = std::env::current_exe().expect("the test executable's path");
    let mut dir = test.parent();
    while let Some(candidate) = dir {
        if candidate.join("CACHEDIR.TAG").is_file() {
            return candidate.to_path_buf();
        }
        dir = candidate.parent();
    }
    panic!("no target directory above {}", test.display());
}

/// The `cargo-lambda` executable: `$CARGO_LAMBDA`, `PATH`, or the pinned version from PyPI.
fn cargo_lambda() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_LAMBDA") {
        return PathBuf::from(path);
    }
    let on_path = Command::new("cargo-lambda")
        .args(["lambda", "--version"])
        .output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("cargo-lambda");
    }
    let dir = target_dir()
        .join("tools")
        .join(format!("cargo-lambda-{PINNED_VERSION}"));
    let binary = dir.join("bin").join("cargo-lambda");
    if !binary.is_file() {
        eprintln!(
            "installing cargo-lambda {PINNED_VERSION} from PyPI into {}",
            dir.display()
        );
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--target")
            .arg(&dir)
            .arg(format!("cargo-lambda=={PINNED_VERSION}"))
            .status();
        assert!(
            status.is_ok_and(|s| s.success()) && binary.is_file(),
            "cargo-lambda is not installed and installing it failed: \
             `pip install cargo-lambda=={PINNED_VERSION}` (or set CARGO_LAMBDA to its path)"
        );
    }
    binary
}

/// Builds the binaries Cargo Lambda will run, as it will run them.
fn build_binaries(names: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "--quiet"]);
    for name in names {
        command.args(["--bin", name]);
    }
    let status = command
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(workspace_root())
        .status()
        .expect("running cargo");
    assert!(status.success(), "building {names:?} failed");
}

/// `cargo lambda watch` on a free port, in its own process group (it starts `cargo run`, which
/// starts the function); the whole group is killed on drop.
struct Watch {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
}

impl Watch {
    async fn start(cargo_lambda: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = target_dir().join(format!("cargo-lambda-watch-{port}.log"));
        let output = std::fs::File::create(&log).expect("the watch log file");
        let child = Command::new(cargo_lambda)
            .args(["lambda", "watch", "--ignore-changes", "--disable-cors"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .env("CARGO_TARGET_DIR", target_dir())
            .env("RUST_LOG", "info")
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("the log file"))
            .stderr(output)
            .process_group(0)
            .spawn()
            .expect("starting cargo lambda watch");
        let mut watch = Self { child, port, log };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = watch.child.try_wait() {
                panic!("cargo lambda watch exited ({status}):\n{}", watch.log());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "cargo lambda watch did not listen within 120 s:\n{}",
                watch.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        watch
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends one request through the Function URL emulation of `function`.
    async fn request(
        &self,
        function: &str,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connecting to cargo lambda watch");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/lambda-url/{function}{path_and_query}"))
            .header(header::HOST, format!("127.0.0.1:{}", self.port));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("a valid request");
        let response = tokio::time::timeout(Duration::from_secs(120), sender.send_request(request))
            .await
            .unwrap_or_else(|_| panic!("no answer within 120 s:\n{}", self.log()))
            .expect("an HTTP response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the response body").to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// `cargo lambda invoke <function> --data-file <event>`: the response event it prints.
    fn invoke(&self, cargo_lambda: &Path, function: &str, event: &Path) -> Value {
        let output = Command::new(cargo_lambda)
            .args(["lambda", "invoke", function, "--output-format", "json"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(event)
            .current_dir(workspace_root())
            .output()
            .expect("running cargo lambda invoke");
        assert!(
            output.status.success(),
            "cargo lambda invoke {function} --data-file {}: {}\n{}\n{}",
            event.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "cargo lambda invoke printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // the group: cargo lambda, the `cargo run` it started and the functions
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a text body")
    }

    /// The echo example's JSON, with Cargo Lambda's own request header left out.
    fn echoed(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        let mut echoed: Value = serde_json::from_slice(&self.body).expect("echo's JSON");
        if let Some(headers) = echoed["headers"].as_array_mut() {
            headers.retain(|pair| pair[0] != "lambda-runtime-aws-request-id");
        }
        echoed
    }

    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("a text header"))
            .collect()
    }
}

/// The values of `name` among echo's `[[name, value], ...]`.
fn echoed_header<'a>(echoed: &'a Value, name: &str) -> Vec<&'a str> {
    echoed["headers"]
        .as_array()
        .expect("echo's headers")
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().expect("a header value"))
        .collect()
}

#[tokio::test]
async fn apps_answer_through_cargo_lambdas_function_url_emulation_and_invoke() {
    let cargo_lambda = cargo_lambda();
    build_binaries(&["quickstart", "hello", "echo"]);
    let watch = Watch::start(&cargo_lambda).await;

    // The README's quickstart, no cookies anywhere (Cargo Lambda answered 500 to this before
    // payload 2.0 responses always carried `cookies`).
    let answer = watch
        .request("quickstart", Method::GET, "/hello/world", &[], b"")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}\n{}", watch.log());
    assert_eq!(answer.text(), "you asked for /hello/world");
    assert!(answer.header_values("set-cookie").is_empty());

    // hello: the Go original's routes
    let answer = watch
        .request("hello", Method::GET, "/add?first=2&second=3", &[], b"")
        .await;
    assert_eq!((answer.status, answer.text()), (StatusCode::OK, "5"));
    assert_eq!(answer.header_values("x-hi"), ["foo"]);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let answer = watch
        .request("hello", Method::POST, "/add", &form, b"first=20&second=22")
        .await;
    assert_eq!((answer.status, answer.text()), (StatusCode::OK, "42"));
    let answer = watch.request("hello", Method::GET, "/", &[], b"").await;
    assert_eq!((answer.status, answer.text()), (StatusCode::OK, "index"));

    // echo: repeated query keys with `+` and `%2B` reach the service as the client sent them
    let answer = watch
        .request("echo", Method::GET, "/items?q=a+b&q=%2B&q=c%20d", &[], b"")
        .await;
    let echoed = answer.echoed();
    assert_eq!(echoed["method"], "GET");
    assert_eq!(echoed["uri"], "/items?q=a+b&q=%2B&q=c%20d");
    assert_eq!(echoed["source"], "apigw_http");
    // the invocation's Lambda context, as Cargo Lambda's Runtime API hands it out
    let lambda = &echoed["lambda"];
    assert!(
        lambda["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{echoed}"
    );
    // (Cargo Lambda hands out a placeholder ARN, `function-arn`, and its own deadline)
    assert!(lambda["deadline_ms"].as_u64().is_some(), "{echoed}");
    assert!(
        lambda["invoked_function_arn"]
            .as_str()
            .is_some_and(|arn| !arn.is_empty()),
        "{echoed}"
    );
    // its trace id reaches the service as the request's x-amzn-trace-id
    assert_eq!(
        echoed_header(&echoed, "x-amzn-trace-id"),
        [lambda["trace_id"].as_str().unwrap_or("a trace id")],
        "{echoed}"
    );
    // Cargo Lambda sets AWS_LAMBDA_MAX_CONCURRENCY=1: served as Managed Instances would be
    // (sequentially here), without lambda_runtime's warning that concurrency is off
    assert!(
        !watch.log().contains("AWS_LAMBDA_MAX_CONCURRENCY is set"),
        "{}",
        watch.log()
    );
    let query = echoed["query"].as_str().expect("a query");
    let values: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(values, ["a b", "+", "c d"]);
    assert!(echoed_header(&echoed, "cookie").is_empty());

    // echo: a JSON POST, body byte for byte
    let body = br#"{"name":"caf\u00e9","tags":["a","b"],"n":1.5}"#;
    let json_type = [("content-type", "application/json")];
    let answer = watch
        .request("echo", Method::POST, "/orders", &json_type, body)
        .await;
    let echoed = answer.echoed();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["uri"], "/orders");
    assert_eq!(echoed["body_base64"], STANDARD.encode(body));
    assert_eq!(echoed_header(&echoed, "content-type"), ["application/json"]);

    // cookies in: one `cookie` header, though Cargo Lambda sends the cookies twice
    let cookie = [("cookie", "session=abc123; theme=dark")];
    let answer = watch
        .request("echo", Method::GET, "/profile", &cookie, b"")
        .await;
    let echoed = answer.echoed();
    assert_eq!(
        echoed_header(&echoed, "cookie"),
        ["session=abc123; theme=dark"]
    );

    // cookies out, and a binary body with every byte value
    let bytes: Vec<u8> = (0..=255).collect();
    let script = json!({
        "status": 201,
        "headers": [
            ["set-cookie", "session=abc123; Path=/; HttpOnly"],
            ["set-cookie", "theme=dark; Max-Age=60"],
            ["content-type", "application/octet-stream"],
        ],
        "body_base64": STANDARD.encode(&bytes),
    })
    .to_string();
    let answer = watch
        .request(
            "echo",
            Method::GET,
            "/download",
            &[("x-echo-response", &script)],
            b"",
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    assert_eq!(
        answer.header_values("set-cookie"),
        ["session=abc123; Path=/; HttpOnly", "theme=dark; Max-Age=60"]
    );
    assert_eq!(
        answer.header_values("content-type"),
        ["application/octet-stream"]
    );
    assert_eq!(answer.body.as_ref(), bytes.as_slice());

    // a failing route: 500, and the function keeps serving
    let answer = watch
        .request("echo", Method::GET, "/fails", &[("x-echo-error", "1")], b"")
        .await;
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{answer:?}"
    );
    assert_eq!(answer.text(), "Internal Server Error");
    let answer = watch
        .request("echo", Method::GET, "/after-failure", &[], b"")
        .await;
    assert_eq!(answer.echoed()["uri"], "/after-failure");

    // `cargo lambda invoke --data-file`: events from testdata, each answered in its own format
    let testdata = workspace_root().join("testdata");
    for case in [
        "apigw_rest/get_item_prod_stage",
        "apigw_rest/http_api_payload_v1",
        "apigw_http/get_default_stage_cookies",
        "alb/single_value_get",
        "alb/multi_value_get",
    ] {
        let event = testdata.join(format!("{case}.json"));
        let expected: Value = serde_json::from_slice(
            &std::fs::read(testdata.join(format!("{case}.expected.json"))).unwrap(),
        )
        .unwrap();
        let response = watch.invoke(&cargo_lambda, "echo", &event);
        assert_eq!(response["statusCode"], 200, "{case}: {response}");
        let body = response["body"].as_str().expect("a text body");
        let echoed: Value = serde_json::from_str(body).expect("echo's JSON");
        let source = case.split('/').next().unwrap();
        assert_eq!(echoed["source"], source, "{case}");
        assert_eq!(echoed["method"], expected["request"]["method"], "{case}");
        assert_eq!(echoed["uri"], expected["request"]["uri"], "{case}");
        match source {
            "apigw_http" => assert!(response["cookies"].is_array(), "{case}: {response}"),
            "alb" => {
                assert_eq!(response["statusDescription"], "200 OK", "{case}");
                let multi = case.contains("multi_value");
                assert_eq!(response["multiValueHeaders"].is_object(), multi, "{case}");
                assert_eq!(response["headers"].is_object(), !multi, "{case}");
            }
            _ => assert!(response.get("cookies").is_none(), "{case}: {response}"),
        }
    }
}
