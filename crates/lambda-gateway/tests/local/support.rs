//! The local server under test, a real HTTP client, and the in-test app.
//!
//! The app ([`app`]) answers:
//! - header `x-test-panic`: panics; header `x-test-error`: returns `Err`;
//! - header `x-test-response: {"status": N, "headers": [[name, value], ...], "body_base64": "..."}`:
//!   exactly that response;
//! - `/add`: the hello contract — `first` + `second` from the query or a url-encoded form body,
//!   header `x-hi: foo`;
//! - `/big?bytes=N`: `N` bytes of `text/plain`;
//! - anything else: what it saw, as JSON `{"method", "uri", "path", "query",
//!   "headers": [[name, value], ...], "body_base64"}`.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header::CONTENT_TYPE,
};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use lambda_gateway::{
    Body, BoxError, Gateway, LocalLimits, LocalSource, alb, apigw_http, apigw_rest,
    apigw_websocket, vpc_lattice,
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// The front doors the local server emulates, by their source crates' constants.
pub(crate) const APIGW_REST: LocalSource = LocalSource::new(&apigw_rest::local::APIGW_REST);
pub(crate) const APIGW_HTTP: LocalSource = LocalSource::new(&apigw_http::local::APIGW_HTTP);
pub(crate) const FUNCTION_URL: LocalSource = LocalSource::new(&apigw_http::local::FUNCTION_URL);
pub(crate) const ALB: LocalSource = LocalSource::new(&alb::local::ALB);
pub(crate) const ALB_MULTI: LocalSource = LocalSource::new(&alb::local::ALB_MULTI_VALUE);
pub(crate) const VPC_LATTICE: LocalSource = LocalSource::new(&vpc_lattice::local::VPC_LATTICE);
pub(crate) const VPC_LATTICE_V1: LocalSource =
    LocalSource::new(&vpc_lattice::local::VPC_LATTICE_V1);
pub(crate) const APIGW_WEBSOCKET: LocalSource =
    LocalSource::new(&apigw_websocket::local::APIGW_WEBSOCKET);

/// Every front door that forwards the HTTP request as a request (method, path, query, headers,
/// body): all but the WebSocket API's, which turns it into a `$connect`, a message or a
/// `$disconnect`.
pub(crate) const ALL_HTTP: [LocalSource; 7] = [
    APIGW_REST,
    APIGW_HTTP,
    FUNCTION_URL,
    ALB,
    ALB_MULTI,
    VPC_LATTICE,
    VPC_LATTICE_V1,
];

/// Every front door the local server emulates, in the order `LocalSource::enabled` lists them.
pub(crate) const ALL: [LocalSource; 8] = [
    APIGW_REST,
    APIGW_HTTP,
    FUNCTION_URL,
    ALB,
    ALB_MULTI,
    VPC_LATTICE,
    VPC_LATTICE_V1,
    APIGW_WEBSOCKET,
];

/// How long one exchange (or the shutdown) may take before the test fails instead of hanging.
/// Generous: the biggest exchanges move 6 MB through unoptimised JSON code on a busy CI box.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// Lambda's synchronous payload limit, which the API Gateway and Function URL emulations enforce.
pub(crate) const LAMBDA_LIMIT: usize = 6 * 1024 * 1024;
/// ALB's limit on a Lambda target's request body and response event.
pub(crate) const ALB_LIMIT: usize = 1024 * 1024;
/// API Gateway's quota on a WebSocket message: the WebSocket emulation's request body limit.
pub(crate) const WEBSOCKET_MESSAGE_LIMIT: usize = 128 * 1024;

/// The payload limit of `source`'s front door (the WebSocket API's response limit is Lambda's).
pub(crate) fn limit(source: LocalSource) -> usize {
    if is_alb(source) {
        ALB_LIMIT
    } else {
        LAMBDA_LIMIT
    }
}

pub(crate) fn is_alb(source: LocalSource) -> bool {
    matches!(source.as_str(), "alb" | "alb_multi")
}

pub(crate) fn is_lattice(source: LocalSource) -> bool {
    matches!(source.as_str(), "vpc_lattice" | "vpc_lattice_v1")
}

/// `len` deterministic, random-looking bytes that start with all 256 byte values.
pub(crate) fn binary_payload(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    // xorshift64*: deterministic, so a failure reproduces.
    let mut state = seed | 1;
    while bytes.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        bytes.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A response the client received.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every value of header `name`, in order.
    pub(crate) fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// What the echo app saw; fails the test unless this is a 200 JSON echo.
    #[track_caller]
    pub(crate) fn seen(&self, source: LocalSource) -> Seen {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{source}: expected the echo, got {} {:?}",
            self.status,
            self.text()
        );
        Seen(
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!("{source}: the echo is not JSON ({e}): {:?}", self.text())
            }),
        )
    }
}

/// The request as the echo app saw it.
#[derive(Debug)]
pub(crate) struct Seen(pub(crate) Value);

impl Seen {
    pub(crate) fn str(&self, field: &str) -> Option<&str> {
        self.0[field].as_str()
    }

    /// Every value of header `name` the app saw, in order.
    pub(crate) fn header(&self, name: &str) -> Vec<String> {
        self.0["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|pair| pair[0].as_str() == Some(name))
            .map(|pair| pair[1].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub(crate) fn body(&self) -> Vec<u8> {
        STANDARD
            .decode(self.str("body_base64").unwrap_or_default())
            .expect("body_base64 is base64")
    }
}

/// The local server on an ephemeral loopback port, with a client for it.
pub(crate) struct Server {
    pub(crate) source: LocalSource,
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), BoxError>>>,
}

impl Server {
    /// Serves [`app`] emulating `source`.
    pub(crate) async fn start(source: LocalSource) -> Self {
        Self::start_with(source, None).await
    }

    /// Serves [`app`] emulating `source`, capturing every event into `dir`.
    pub(crate) async fn start_capturing(source: LocalSource, dir: PathBuf) -> Self {
        Self::start_with(source, Some(dir)).await
    }

    /// Serves [`app`] emulating `source`, with these connection limits.
    pub(crate) async fn start_limited(source: LocalSource, limits: LocalLimits) -> Self {
        Self::start_with_limits(source, None, limits).await
    }

    async fn start_with(source: LocalSource, capture: Option<PathBuf>) -> Self {
        Self::start_with_limits(source, capture, LocalLimits::default()).await
    }

    async fn start_with_limits(
        source: LocalSource,
        capture: Option<PathBuf>,
        limits: LocalLimits,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let mut gateway = Gateway::new(tower::service_fn(app))
            .local_source(source)
            .local_limits(limits);
        if let Some(dir) = capture {
            gateway = gateway.capture_dir(dir);
        }
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(gateway.serve_local(listener, async move {
            // A dropped sender stops the server too.
            let _ = stop.await;
        }));
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            source,
            addr,
            client,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// The address the server listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A request builder for `path_and_query` on this server.
    pub(crate) fn request(&self, method: Method, path_and_query: &str) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(format!("http://{}{path_and_query}", self.addr))
    }

    /// Sends `request`, reads the whole response; fails the test after [`TIMEOUT`].
    pub(crate) async fn send(&self, request: Request<Full<Bytes>>) -> Reply {
        let what = format!("{}: {} {}", self.source, request.method(), request.uri());
        let exchange = async {
            let response = self.client.request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, BoxError>(Reply {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => panic!("{what}: the exchange failed: {error:?}"),
            Err(_) => panic!("{what}: no response within {TIMEOUT:?}"),
        }
    }

    /// `GET path_and_query` with no body.
    pub(crate) async fn get(&self, path_and_query: &str) -> Reply {
        let request = self.request(Method::GET, path_and_query);
        self.send(request.body(Full::default()).expect("request"))
            .await
    }

    /// `GET path_and_query` with header `x-test-response` asking the app for exactly this answer.
    pub(crate) async fn get_scripted(
        &self,
        path_and_query: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let spec = json!({
            "status": status,
            "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "body_base64": STANDARD.encode(body),
        });
        let request = self
            .request(Method::GET, path_and_query)
            .header("x-test-response", spec.to_string())
            .body(Full::default())
            .expect("request");
        self.send(request).await
    }

    /// Stops the server and checks it ended cleanly within [`TIMEOUT`].
    pub(crate) async fn stop(mut self) {
        // Idle pooled connections would otherwise hold the graceful shutdown open.
        self.client = Client::builder(TokioExecutor::new()).build_http();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let task = self.task.take().expect("the server task");
        match tokio::time::timeout(TIMEOUT, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => panic!("{}: serve_local failed: {error}", self.source),
            Ok(Err(join)) => panic!("{}: the server task failed: {join}", self.source),
            Err(_) => panic!(
                "{}: the server did not stop within {TIMEOUT:?}",
                self.source
            ),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave its server running in the shared runtime.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The header value `/raw-header-bytes` answers with: not UTF-8.
pub(crate) const RAW_HEADER_BYTES: &[u8] = b"\xff\xfe\x80 latin-1 caf\xe9";

/// The in-test app; see the module docs.
pub(crate) async fn app(request: Request<Body>) -> Result<Response<Body>, BoxError> {
    let headers = request.headers();
    if headers.contains_key("x-test-panic") {
        panic!("x-test-panic: the test service panics on request");
    }
    if headers.contains_key("x-test-error") {
        return Err("x-test-error: the test service fails on request".into());
    }
    if let Some(spec) = headers.get("x-test-response") {
        return Ok(scripted(spec));
    }
    if request.uri().path() == "/raw-header-bytes" {
        // header bytes that are not UTF-8, which a JSON script cannot ask for
        let mut response = Response::new(Body::from("raw"));
        response.headers_mut().insert(
            "x-raw",
            HeaderValue::from_bytes(RAW_HEADER_BYTES).expect("visible obs-text bytes"),
        );
        return Ok(response);
    }
    match request.uri().path() {
        "/add" => Ok(add(&request)),
        "/big" => {
            let bytes =
                form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                    .find(|(k, _)| k == "bytes")
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .ok_or("/big needs ?bytes=N")?;
            let mut response = Response::new(Body::from(vec![b'x'; bytes]));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(response)
        }
        _ => Ok(echo(&request)),
    }
}

/// The hello contract: `first` + `second` from the query or a url-encoded form body.
fn add(request: &Request<Body>) -> Response<Body> {
    let is_form = request.headers().get(CONTENT_TYPE).is_some_and(|t| {
        t.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    let input = if is_form {
        request.body().as_bytes().to_vec()
    } else {
        request
            .uri()
            .query()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    };
    let number = |name: &str| {
        form_urlencoded::parse(&input)
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut response = Response::new(Body::from((number("first") + number("second")).to_string()));
    response
        .headers_mut()
        .insert("x-hi", HeaderValue::from_static("foo"));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn echo(request: &Request<Body>) -> Response<Body> {
    let headers: Vec<Value> = request
        .headers()
        .iter()
        .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
        .collect();
    let seen = json!({
        "method": request.method().as_str(),
        "uri": request.uri().to_string(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "headers": headers,
        "body_base64": STANDARD.encode(request.body().as_bytes()),
        "source_ip": request
            .extensions()
            .get::<lambda_gateway::RequestContext>()
            .and_then(lambda_gateway::RequestContext::source_ip),
    });
    let mut response = Response::new(Body::from(seen.to_string()));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn scripted(spec: &HeaderValue) -> Response<Body> {
    let spec: Value = serde_json::from_slice(spec.as_bytes()).expect("x-test-response is JSON");
    let body = STANDARD
        .decode(spec["body_base64"].as_str().unwrap_or_default())
        .expect("body_base64 is base64");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = spec["status"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .expect("a status");
    for pair in spec["headers"].as_array().into_iter().flatten() {
        let name = HeaderName::from_bytes(pair[0].as_str().unwrap_or_default().as_bytes())
            .expect("header name");
        let value = HeaderValue::from_str(pair[1].as_str().unwrap_or_default()).expect("value");
        response.headers_mut().append(name, value);
    }
    response
}
