//! A Lambda Runtime API test server, and the built example binaries run against it.
//!
//! [`RuntimeApi::start`] binds a hyper server on `127.0.0.1:0` that speaks the part of the
//! Runtime API `lambda_runtime` uses:
//! - `GET /2018-06-01/runtime/invocation/next` long-polls until [`RuntimeApi::invoke`] queues an
//!   event, then answers it with `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`
//!   (now + 30 s), `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error` complete that
//!   invocation (answered `202 Accepted`, as Lambda does);
//! - `POST /2018-06-01/runtime/init/error` is recorded;
//! - the Extensions API's `POST /2020-01-01/extension/register` (answered with a
//!   `Lambda-Extension-Identifier`, the name recorded) and `GET /2020-01-01/extension/event/next`
//!   (held open: the server sends no lifecycle events).
//!
//! It counts the long-polls waiting for an event and the invocations handed out but not yet
//! answered ([`RuntimeApi::waiting_polls`], [`RuntimeApi::max_in_flight`]): how concurrent the
//! function really is; and the connections the function opened ([`RuntimeApi::connections`]).
//!
//! Anything else — an unknown path, an unknown or already completed request id — is answered
//! with an error status and recorded as a stray request, which [`RuntimeApi::assert_no_strays`]
//! turns into a test failure.
//!
//! [`RuntimeApi::spawn_example`] runs a built example binary (`target/<profile>/examples/<name>`,
//! found from the test executable's path) with the Lambda environment pointing at the server.
//! `cargo test -p lambda-gateway-examples` builds the examples before it runs any test; when the
//! binary is missing, or older than a source file cargo's dep-info lists for it (`cargo test
//! --test e2e` does not build examples), it is built here with `cargo build --example`.

pub(crate) mod events;

use std::{
    collections::{HashMap, HashSet},
    convert::Infallible,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    net::TcpListener,
    process::Command,
    sync::{mpsc, oneshot, watch},
    task::{JoinHandle, JoinSet},
};

/// The function ARN every invocation is handed (`Lambda-Runtime-Invoked-Function-Arn`).
pub(crate) const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:example";
/// The X-Ray trace id every invocation is handed (`Lambda-Runtime-Trace-Id`).
pub(crate) const TRACE_ID: &str =
    "Root=1-65a0c2f4-5f2b3c4d5e6f708192a3b4c5;Parent=53995c3f42cd8ad8;Sampled=0";

/// How long one invocation may take before the test fails instead of hanging.
pub(crate) const INVOCATION_TIMEOUT: Duration = Duration::from_secs(20);

/// What the function posted back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// `POST .../{id}/response` with a JSON body.
    Response(Value),
    /// `POST .../{id}/response` with a body that is not JSON.
    ResponseNotJson(Bytes),
    /// `POST .../{id}/response` in streaming mode (`Lambda-Runtime-Function-Response-Mode:
    /// streaming`).
    Stream(Box<Streamed>),
    /// `POST .../{id}/error`.
    Error {
        /// `errorType` of the posted body.
        error_type: String,
        /// `errorMessage` of the posted body.
        error_message: String,
        /// The `Lambda-Runtime-Function-Error-Type` header, if any.
        function_error_type: Option<String>,
    },
}

impl Outcome {
    /// The response event; fails the test on anything else.
    #[track_caller]
    pub(crate) fn response(self) -> Value {
        match self {
            Self::Response(value) => value,
            other => panic!("expected a response event, the function posted {other:?}"),
        }
    }

    /// `(errorType, errorMessage)` of an invocation error; fails the test on anything else.
    #[track_caller]
    pub(crate) fn error(self) -> (String, String) {
        match self {
            Self::Error {
                error_type,
                error_message,
                ..
            } => (error_type, error_message),
            other => panic!("expected an invocation error, the function posted {other:?}"),
        }
    }
}

/// A streamed answer as the test server received it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Streamed {
    /// The request's headers (the response mode, content type, declared trailers).
    pub(crate) headers: http::HeaderMap,
    /// The prelude, the JSON before the first NUL byte (`Value::Null` when it is not JSON).
    pub(crate) prelude: Value,
    /// Whether 8 NUL bytes followed the prelude.
    pub(crate) delimited: bool,
    /// Everything after the delimiter.
    pub(crate) body: Bytes,
    /// Every data frame as it arrived, with the time since the first one arrived.
    pub(crate) frames: Vec<(Duration, Bytes)>,
    /// When the first frame arrived.
    pub(crate) first_frame_at: Option<std::time::Instant>,
    /// The trailers, if any.
    pub(crate) trailers: Option<http::HeaderMap>,
}

impl Outcome {
    /// The streamed answer; fails the test on anything else.
    #[track_caller]
    #[allow(dead_code, reason = "only the streaming tests read streamed answers")]
    pub(crate) fn stream(self) -> Streamed {
        match self {
            Self::Stream(streamed) => *streamed,
            other => panic!("expected a streamed answer, the function posted {other:?}"),
        }
    }
}

/// Reads a streamed answer's body frame by frame, noting when each arrived.
async fn read_stream(parts: &http::request::Parts, mut body: Incoming) -> Result<Streamed, String> {
    let mut frames = Vec::new();
    let mut trailers = None;
    let mut first = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the streamed body failed: {e}"))?;
        let at = *first.get_or_insert_with(std::time::Instant::now);
        match frame.into_data() {
            Ok(data) => frames.push((at.elapsed(), data)),
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    let all: Vec<u8> = frames
        .iter()
        .flat_map(|(_, data)| data.iter().copied())
        .collect();
    let end = all.iter().position(|&b| b == 0).unwrap_or(all.len());
    let prelude = serde_json::from_slice(&all[..end]).unwrap_or(Value::Null);
    let delimited = all.get(end..end + 8) == Some(&[0u8; 8][..]);
    let body = Bytes::copy_from_slice(all.get(end + 8..).unwrap_or_default());
    Ok(Streamed {
        headers: parts.headers.clone(),
        prelude,
        delimited,
        body,
        frames,
        first_frame_at: first,
        trailers,
    })
}

/// An event waiting for the function's next `GET .../invocation/next`.
struct Queued {
    request_id: String,
    payload: Bytes,
}

struct State {
    /// Events not yet handed out; only one function polls a server.
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    /// Invocations handed out or queued, not yet completed.
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Request ids already completed.
    completed: Mutex<HashSet<String>>,
    /// Bodies of `POST .../init/error`.
    init_errors: Mutex<Vec<String>>,
    /// Requests the server did not expect.
    strays: Mutex<Vec<String>>,
    /// Names of the extensions registered.
    extensions: Mutex<Vec<String>>,
    /// Whether a runtime asked for an event: the Init phase is over, no extension may register.
    init_done: std::sync::atomic::AtomicBool,
    /// `GET .../invocation/next` requests waiting for an event.
    waiting_polls: AtomicUsize,
    /// Invocations handed out and not answered yet, and the most there were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// TCP connections accepted.
    connections: AtomicUsize,
    /// Set when a spawned function exits: how it exited.
    exited: watch::Sender<Option<String>>,
    /// Everything spawned functions wrote to stdout and stderr (the tail of it).
    output: Mutex<Vec<u8>>,
}

/// Keeps the tail of the functions' output for failure messages.
const OUTPUT_KEPT: usize = 64 * 1024;

/// A Lambda Runtime API server on loopback; stops when dropped.
pub(crate) struct RuntimeApi {
    address: SocketAddr,
    state: Arc<State>,
    events: mpsc::UnboundedSender<Queued>,
    next_id: AtomicU64,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every connection task.
        self.server.abort();
    }
}

/// A running example process; killed when dropped.
pub(crate) struct Function {
    _kill: oneshot::Sender<()>,
    pid: Option<u32>,
}

impl Function {
    /// The process id (for reading its CPU time and memory from `/proc`, or signalling it).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and serves the Runtime API until dropped.
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the Runtime API test server on loopback");
        let address = listener.local_addr().expect("local address");
        let (events, queue) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            completed: Mutex::default(),
            init_errors: Mutex::default(),
            strays: Mutex::default(),
            extensions: Mutex::default(),
            init_done: std::sync::atomic::AtomicBool::new(false),
            waiting_polls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            exited: watch::Sender::new(None),
            output: Mutex::default(),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        Self {
            address,
            state,
            events,
            next_id: AtomicU64::new(1),
            server,
        }
    }

    /// Runs the built example `name` against this server. The process is killed when the
    /// returned handle is dropped.
    pub(crate) fn spawn_example(&self, name: &str) -> Function {
        self.spawn_example_with(name, &[])
    }

    /// [`spawn_example`](Self::spawn_example) with extra environment variables.
    pub(crate) fn spawn_example_with(&self, name: &str, env: &[(&str, &str)]) -> Function {
        self.spawn_program(&example_binary(name), name, env)
    }

    /// Runs the program at `binary` as function `name` against this server (see
    /// [`spawn_example`](Self::spawn_example)).
    pub(crate) fn spawn_program(
        &self,
        binary: &Path,
        name: &str,
        env: &[(&str, &str)],
    ) -> Function {
        let mut child = Command::new(binary)
            .env_remove("LAMBDA_GATEWAY_PASS_THROUGH_PATH")
            .env("AWS_LAMBDA_RUNTIME_API", self.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .env_remove("_X_AMZN_TRACE_ID")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        for output in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(collect_output(output, Arc::clone(&self.state)));
        }

        let pid = child.id();
        let (kill, killed) = oneshot::channel::<()>();
        let state = Arc::clone(&self.state);
        let name = name.to_owned();
        tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    let how = match status {
                        Ok(status) => format!("the {name} process exited ({status})"),
                        Err(e) => format!("the {name} process could not be waited for: {e}"),
                    };
                    state.exited.send_replace(Some(how));
                }
                // The Function handle was dropped: stop the process.
                _ = killed => {
                    let _ = child.kill().await;
                }
            }
        });
        Function { _kill: kill, pid }
    }

    /// Queues `event` as the next invocation and waits for what the function posts back.
    ///
    /// Fails the test if the function exits or takes longer than [`INVOCATION_TIMEOUT`].
    pub(crate) async fn invoke(&self, event: impl Into<Bytes>) -> Outcome {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("5c0a3c51-3c56-4cd0-9a1b-{n:012x}");
        self.invoke_as(&request_id, event).await
    }

    /// Like [`invoke`](Self::invoke), with the Lambda request id given.
    pub(crate) async fn invoke_as(&self, request_id: &str, event: impl Into<Bytes>) -> Outcome {
        let (done, outcome) = oneshot::channel();
        lock(&self.state.waiting).insert(request_id.to_owned(), done);
        self.events
            .send(Queued {
                request_id: request_id.to_owned(),
                payload: event.into(),
            })
            .expect("the server holds the queue");
        let mut exited = self.state.exited.subscribe();
        tokio::select! {
            biased;
            outcome = outcome => outcome.expect("the server completes every invocation it was given"),
            how = exited.wait_for(Option::is_some) => {
                let how = how.map(|how| how.clone().unwrap_or_default()).unwrap_or_default();
                panic!("{how} before answering invocation {request_id}\n{}", self.diagnostics());
            }
            () = tokio::time::sleep(INVOCATION_TIMEOUT) => panic!(
                "invocation {request_id} not answered within {INVOCATION_TIMEOUT:?}\n{}",
                self.diagnostics()
            ),
        }
    }

    /// How many `GET .../invocation/next` long-polls are waiting for an event now.
    pub(crate) fn waiting_polls(&self) -> usize {
        self.state.waiting_polls.load(Ordering::SeqCst)
    }

    /// The most invocations handed out and not yet answered at any one time.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many TCP connections the server has accepted.
    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Names of the extensions registered with the Extensions API.
    pub(crate) fn extensions(&self) -> Vec<String> {
        lock(&self.state.extensions).clone()
    }

    /// Waits until a spawned function exits (at most [`INVOCATION_TIMEOUT`]): how it exited.
    pub(crate) async fn exit(&self) -> Option<String> {
        let mut exited = self.state.exited.subscribe();
        let waited = tokio::time::timeout(INVOCATION_TIMEOUT, exited.wait_for(Option::is_some));
        match waited.await {
            Ok(Ok(how)) => how.clone(),
            _ => None,
        }
    }

    /// Bodies of the `POST .../init/error` requests received.
    pub(crate) fn init_errors(&self) -> Vec<String> {
        lock(&self.state.init_errors).clone()
    }

    /// Fails the test if the function sent anything the server did not expect (an unknown path,
    /// an unknown or repeated request id) or reported an init error.
    #[track_caller]
    pub(crate) fn assert_no_strays(&self) {
        let strays = lock(&self.state.strays).clone();
        let init_errors = self.init_errors();
        assert!(
            strays.is_empty() && init_errors.is_empty(),
            "unexpected requests to the Runtime API: {strays:#?}; init errors: {init_errors:#?}\n{}",
            self.diagnostics()
        );
    }

    /// What the functions printed so far (the tail of it), once `ready` holds for it or the
    /// functions have been quiet for a while; ANSI colours stripped.
    pub(crate) async fn output_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let output = String::from_utf8_lossy(&lock(&self.state.output)).into_owned();
            if ready(&output) || tokio::time::Instant::now() > deadline {
                return output;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// What the functions printed, the init errors and stray requests, for failure messages.
    fn diagnostics(&self) -> String {
        let output = lock(&self.state.output);
        format!(
            "init errors: {:?}\nstray requests: {:?}\nfunction output (tail):\n{}",
            lock(&self.state.init_errors),
            lock(&self.state.strays),
            String::from_utf8_lossy(&output)
        )
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn collect_output(mut output: Box<dyn AsyncRead + Send + Unpin>, state: Arc<State>) {
    let mut buffer = [0_u8; 4096];
    while let Ok(n @ 1..) = output.read(&mut buffer).await {
        let mut kept = lock(&state.output);
        kept.extend_from_slice(&buffer[..n]);
        if kept.len() > OUTPUT_KEPT {
            let excess = kept.len() - OUTPUT_KEPT;
            kept.drain(..excess);
        }
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        state.connections.fetch_add(1, Ordering::SeqCst);
        let state = Arc::clone(&state);
        connections.spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&state), request));
            // A connection error (the function was killed mid-request) ends that connection only.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
}

const PREFIX: &str = "/2018-06-01/runtime/";

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let streaming = parts
        .headers
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|mode| mode == "streaming");
    if streaming && parts.method == Method::POST {
        let id = parts
            .uri
            .path()
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix("invocation/"))
            .and_then(|rest| rest.strip_suffix("/response"))
            .unwrap_or_default()
            .to_owned();
        let response = match read_stream(&parts, body).await {
            Ok(streamed) => complete(&state, &id, Outcome::Stream(Box::new(streamed))),
            Err(e) => stray(&state, format!("{} {}: {e}", parts.method, parts.uri)),
        };
        return Ok(response);
    }
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            return Ok(stray(
                &state,
                format!("{} {}: body failed: {e}", parts.method, parts.uri),
            ));
        }
    };
    let path = parts.uri.path();
    let segments: Vec<&str> = path
        .strip_prefix(PREFIX)
        .map(|rest| rest.split('/').collect())
        .unwrap_or_default();
    let response = match (&parts.method, segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(&state).await,
        (&Method::POST, ["invocation", id, "response"]) => {
            let outcome = match serde_json::from_slice(&body) {
                Ok(value) => Outcome::Response(value),
                Err(_) => Outcome::ResponseNotJson(body),
            };
            complete(&state, id, outcome)
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let diagnostic: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let field = |name: &str| {
                diagnostic
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let outcome = Outcome::Error {
                error_type: field("errorType"),
                error_message: field("errorMessage"),
                function_error_type: parts
                    .headers
                    .get("lambda-runtime-function-error-type")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            };
            complete(&state, id, outcome)
        }
        (&Method::POST, ["init", "error"]) => {
            lock(&state.init_errors).push(String::from_utf8_lossy(&body).into_owned());
            accepted()
        }
        _ => match (&parts.method, path) {
            (&Method::POST, "/2020-01-01/extension/register") => register(&state, &parts, &body),
            (&Method::GET, "/2020-01-01/extension/event/next")
                if parts.headers.contains_key(EXTENSION_IDENTIFIER) =>
            {
                // No lifecycle events are sent: the extension waits until the server stops.
                std::future::pending::<()>().await;
                accepted()
            }
            _ => stray(&state, format!("{} {}", parts.method, parts.uri)),
        },
    };
    Ok(response)
}

const EXTENSION_IDENTIFIER: &str = "lambda-extension-identifier";

/// `POST /2020-01-01/extension/register`: the name must be given and the body a JSON object with
/// an `events` list, and only during the Init phase (before the first `/next`), as Lambda requires.
fn register(state: &State, parts: &http::request::Parts, body: &[u8]) -> Response<Full<Bytes>> {
    if state.init_done.load(Ordering::SeqCst) {
        return stray_with(
            state,
            format!("an extension registration after the Init phase: {parts:?}"),
            StatusCode::FORBIDDEN,
        );
    }
    let name = parts
        .headers
        .get("lambda-extension-name")
        .and_then(|v| v.to_str().ok());
    let events = serde_json::from_slice::<Value>(body)
        .ok()
        .is_some_and(|body| body.get("events").is_some_and(Value::is_array));
    let (Some(name), true) = (name, events) else {
        return stray_with(
            state,
            format!("a malformed extension registration: {parts:?} {body:?}"),
            StatusCode::BAD_REQUEST,
        );
    };
    let mut extensions = lock(&state.extensions);
    extensions.push(name.to_owned());
    let mut response = status(StatusCode::OK, r#"{"functionName":"example"}"#);
    response.headers_mut().insert(
        EXTENSION_IDENTIFIER,
        http::HeaderValue::from_str(&format!("ext-{}", extensions.len()))
            .expect("a valid header value"),
    );
    response
}

/// Counts a waiting long-poll while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Hands out the next queued event, waiting for one.
async fn next(state: &State) -> Response<Full<Bytes>> {
    state.init_done.store(true, Ordering::SeqCst);
    let waiting = Waiting::new(&state.waiting_polls);
    let mut queue = state.queue.lock().await;
    let Some(event) = queue.recv().await else {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the test server is stopping",
        );
    };
    drop(queue);
    drop(waiting);
    let in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(Duration::from_secs(30))
        .as_millis();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &event.request_id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
        .header("lambda-runtime-trace-id", TRACE_ID)
        .body(Full::new(event.payload))
        .expect("a valid response")
}

/// Completes invocation `id` with `outcome`: `202`, or `400` for an unknown or repeated id.
fn complete(state: &State, id: &str, outcome: Outcome) -> Response<Full<Bytes>> {
    let Some(done) = lock(&state.waiting).remove(id) else {
        let what = if lock(&state.completed).contains(id) {
            "a second answer"
        } else {
            "an answer for an unknown request id"
        };
        return stray_with(
            state,
            format!("{what} {id}: {outcome:?}"),
            StatusCode::BAD_REQUEST,
        );
    };
    lock(&state.completed).insert(id.to_owned());
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    // The test may have stopped waiting (it failed already): nothing more to do.
    let _ = done.send(outcome);
    accepted()
}

fn accepted() -> Response<Full<Bytes>> {
    status(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn stray(state: &State, what: String) -> Response<Full<Bytes>> {
    stray_with(state, what, StatusCode::NOT_FOUND)
}

fn stray_with(state: &State, what: String, code: StatusCode) -> Response<Full<Bytes>> {
    lock(&state.strays).push(what);
    status(
        code,
        r#"{"errorType":"TestServer.Stray","errorMessage":"unexpected request"}"#,
    )
}

fn status(code: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = code;
    response
}

/// `target/<profile>/examples/<name>`, next to the `deps` directory holding this test, built
/// first when missing or older than its sources.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());

    let test_executable = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/e2e-<hash>
    let profile_dir = test_executable
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));

    let _building = lock(&BUILD);
    if let Some(reason) = needs_build(&binary) {
        build_example(name, profile_dir, &reason);
    }
    assert!(
        binary.is_file(),
        "example binary {} is missing after building it",
        binary.display()
    );
    binary
}

/// Why `binary` must be (re)built, if it must: it is missing, or one of the sources cargo's
/// dep-info file (`<binary>.d`) lists for it is newer — cargo's own freshness rule for path
/// dependencies.
fn needs_build(binary: &Path) -> Option<String> {
    let Ok(built) = binary.metadata().and_then(|m| m.modified()) else {
        return Some(format!("{} does not exist", binary.display()));
    };
    let dep_info = binary.with_extension("d");
    let Ok(dep_info) = std::fs::read_to_string(&dep_info) else {
        return Some(format!("{} does not exist", dep_info.display()));
    };
    // `<binary>: <source> <source> ...`, spaces inside paths escaped as `\ `.
    let sources = dep_info
        .lines()
        .next()
        .and_then(|line| line.split_once(": "))
        .map_or("", |(_, sources)| sources);
    let mut newer = Vec::new();
    let mut path = String::new();
    let mut chars = sources.chars().peekable();
    loop {
        match chars.next() {
            Some('\\') if chars.peek() == Some(&' ') => path.push(' '),
            Some(' ') | None => {
                if !path.is_empty() {
                    let source = PathBuf::from(std::mem::take(&mut path));
                    let modified = source.metadata().and_then(|m| m.modified());
                    if modified.map_or(true, |modified| modified > built) {
                        newer.push(source);
                    }
                }
                if chars.peek().is_none() {
                    break;
                }
            }
            Some(c) => path.push(c),
        }
    }
    (!newer.is_empty()).then(|| format!("{} is older than (or misses) {newer:?}", binary.display()))
}

/// `cargo build -p lambda-gateway-examples --example <name>` into the same target directory and
/// profile as this test.
fn build_example(name: &str, profile_dir: &Path, reason: &str) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("cannot tell the profile from {}", profile_dir.display()),
    };
    // target/<profile> or, when cross-compiling, target/<triple>/<profile>; cargo marks the
    // target directory's root with CACHEDIR.TAG.
    let parent = profile_dir
        .parent()
        .expect("the profile directory's parent");
    let (target_dir, triple) = if parent.join("CACHEDIR.TAG").is_file() {
        (parent, None)
    } else {
        let root = parent.parent().expect("the target directory");
        (root, parent.file_name().and_then(|n| n.to_str()))
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut command = std::process::Command::new(cargo);
    command
        .args([
            "build",
            "--quiet",
            "-p",
            "lambda-gateway-examples",
            "--example",
            name,
        ])
        .args(["--profile", profile])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(triple) = triple {
        command.args(["--target", triple]);
    }
    eprintln!("building example {name}: {reason}");
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build example {name}: {e}"));
    assert!(status.success(), "building example {name} failed: {status}");
}

/// `cargo build --release -p <package> --example <name>...`, for the benchmarks (which time
/// release binaries); fails the run when the build fails.
#[allow(
    dead_code,
    reason = "the benchmarks use it; the tests include this module too"
)]
pub(crate) fn build_release_examples(package: &str, examples: &[&str]) {
    build_release(package, &[], "--example", examples);
}

/// `cargo build --release -p <package> --no-default-features --bin <name>...`: binary targets
/// are built as they are deployed (`cargo lambda build --release --no-default-features`),
/// without the package's dev-dependencies and without the local emulation, which a deployed
/// function never runs.
#[allow(
    dead_code,
    reason = "the benchmarks use it; the tests include this module too"
)]
pub(crate) fn build_release_bins(package: &str, bins: &[&str]) {
    build_release(package, &["--no-default-features"], "--bin", bins);
}

#[allow(
    dead_code,
    reason = "the benchmarks use it; the tests include this module too"
)]
fn build_release(package: &str, options: &[&str], kind: &str, names: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.args(["build", "--release", "--quiet", "-p", package]);
    command.args(options);
    for name in names {
        command.args([kind, name]);
    }
    let status = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building {kind} {names:?} failed: {status}"
    );
}
