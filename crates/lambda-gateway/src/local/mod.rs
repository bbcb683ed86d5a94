//! Off Lambda: a local HTTP server that sends every request through the Lambda path.
//!
//! Each request is turned into the event the emulated front door would send, serialized to JSON,
//! handed to the very code that handles events on Lambda, and the response event is delivered
//! the way that front door would deliver it — so gateway quirks show up locally, not after
//! deploying.

mod limits;

pub use limits::LocalLimits;
use limits::{Activity, Hit, Hits, Watched};

use std::{
    convert::Infallible,
    env, fmt,
    future::Future,
    hash::{Hash, Hasher},
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header::CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use lambda_gateway_core::{
    Body, BoxError, Source,
    local::{Connection, FrontDoor, LAMBDA_PAYLOAD_LIMIT},
};
use tokio::{net::TcpListener, sync::Semaphore, time::Instant};
use tower::Service;

use crate::{
    Gateway,
    gateway::Settings,
    invocation::Invocation,
    stream::{EndOnFailure, streamed_answer},
};

/// The local server's port when neither `PORT` nor [`Gateway::local_addr`] says otherwise.
const DEFAULT_PORT: u16 = 3000;

/// The front door emulated when none is chosen, when its source is enabled.
const DEFAULT_SOURCE: &str = "apigw_http";

/// Which front door the local server emulates: one of the enabled sources' [`FrontDoor`]s.
///
/// Set with [`Gateway::local_source`] or `LAMBDA_GATEWAY_SOURCE`; the default is `apigw_http`
/// (or the first front door of the source forced with [`Gateway::source`]). An open name: each
/// source crate defines its front doors (under the facade's `local` feature) and the names come
/// from the enabled sources —
///
/// | Name | Front door | Constant |
/// |---|---|---|
/// | `apigw_rest` | a REST API proxy integration, stage `local`: decoded `path`, multi-value maps | `apigw_rest::local::APIGW_REST` |
/// | `apigw_http` | an HTTP API with payload 2.0, stage `$default` | `apigw_http::local::APIGW_HTTP` |
/// | `function_url` | a Lambda Function URL | `apigw_http::local::FUNCTION_URL` |
/// | `alb` | an ALB target group with multi-value headers off | `alb::local::ALB` |
/// | `alb_multi` | an ALB target group with multi-value headers on | `alb::local::ALB_MULTI_VALUE` |
/// | `vpc_lattice` | a VPC Lattice target group, event structure v2 | `vpc_lattice::local::VPC_LATTICE` |
/// | `vpc_lattice_v1` | a VPC Lattice target group, event structure v1 | `vpc_lattice::local::VPC_LATTICE_V1` |
/// | `apigw_websocket` | a WebSocket API's Lambda integration, stage `local`: each HTTP request one event (`GET` → `$connect`, `DELETE /$disconnect` → `$disconnect`, else a message on the route the path names) | `apigw_websocket::local::APIGW_WEBSOCKET` |
///
/// ```
/// # #[cfg(feature = "alb")] {
/// use lambda_gateway::LocalSource;
///
/// let alb = LocalSource::from(&lambda_gateway::alb::local::ALB);
/// assert_eq!("alb".parse::<LocalSource>().ok(), Some(alb));
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct LocalSource(&'static FrontDoor);

impl LocalSource {
    /// The local source emulating `front_door` (a source crate's constant).
    pub const fn new(front_door: &'static FrontDoor) -> Self {
        Self(front_door)
    }

    /// Every front door of the enabled sources, in the order [`UnknownLocalSource`] lists them:
    /// the most general sources first (the reverse of the order sources claim events in), each
    /// source's front doors in its own order.
    pub fn enabled() -> impl Iterator<Item = Self> {
        let sources = crate::registry::registry().map_or(&[][..], |r| r.sources.as_slice());
        sources
            .iter()
            .rev()
            .flat_map(|registered| registered.source.front_doors())
            .map(Self)
    }

    /// The `LAMBDA_GATEWAY_SOURCE` name (`alb_multi`).
    pub const fn as_str(self) -> &'static str {
        self.0.name
    }

    /// A few words on the front door (`an ALB target group (multi-value headers)`).
    pub const fn description(self) -> &'static str {
        self.0.description
    }

    /// The front door: its source, its limits, and how it builds events and delivers responses.
    pub const fn front_door(self) -> &'static FrontDoor {
        self.0
    }

    /// The event this front door would send for a request — what the local server hands to the
    /// adapter. Useful in tests: feed it to [`Gateway::invoke`].
    ///
    /// The request's context (request id `local-test`, source IP 127.0.0.1, a fixed account,
    /// API id and stage) is fixed; the rest follows the front door's rules: REST decodes the
    /// path and query, payload 2.0 keeps them raw, splits `cookie` into `cookies` and
    /// comma-joins repeated headers, ALB passes everything as sent and keeps the last value of a
    /// repeated header or query key in single-value mode, appends the client (127.0.0.1) to
    /// `X-Forwarded-For` and sets `X-Forwarded-Proto: http` and `X-Forwarded-Port: 3000`; VPC
    /// Lattice keeps the raw query in `path` (v2) or `raw_path` (v1) and appends the client to
    /// `X-Forwarded-For`; the WebSocket API maps the request to a `$connect`, a message or a
    /// `$disconnect`.
    pub fn request_event(self, request: &http::request::Parts, body: &[u8]) -> Vec<u8> {
        let connection = Connection {
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
        };
        self.0
            .request_event(request, body, &connection, "local-test")
    }

    /// The HTTP response this front door would deliver for a response event, or why it would
    /// answer 502 instead (over its size limit, not JSON, the wrong header mode for ALB...).
    ///
    /// Header values are read as lambda-gateway writes them: a `\u0080`–`\u00ff` escape is the
    /// one byte of a value that was not UTF-8, so the client gets the service's bytes exactly. A
    /// response event from another writer that escapes ordinary non-ASCII text that way (`caf\u00e9`
    /// for `café`) reads as those single bytes.
    pub fn client_response(self, response_event: &[u8]) -> Result<Response<Bytes>, String> {
        self.0.client_response(response_event)
    }

    /// The front door emulated when none is chosen: `apigw_http` when enabled, else the first.
    fn default_enabled() -> Option<Self> {
        Self::enabled()
            .find(|s| s.as_str() == DEFAULT_SOURCE)
            .or_else(|| Self::enabled().next())
    }

    /// The first front door of `source` (forced with [`Gateway::source`]), else the default.
    fn from_source(source: Source) -> Option<Self> {
        Self::enabled()
            .find(|s| s.0.source == source)
            .or_else(Self::default_enabled)
    }
}

impl From<&'static FrontDoor> for LocalSource {
    fn from(front_door: &'static FrontDoor) -> Self {
        Self(front_door)
    }
}

/// Local sources are equal when they name the same front door.
impl PartialEq for LocalSource {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for LocalSource {}

impl Hash for LocalSource {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for LocalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LocalSource").field(&self.as_str()).finish()
    }
}

impl fmt::Display for LocalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown `LAMBDA_GATEWAY_SOURCE` value: no enabled source has a front door of that name.
#[derive(Debug, thiserror::Error)]
#[error("unknown local source {found:?}; {expected}")]
pub struct UnknownLocalSource {
    found: String,
    expected: String,
}

impl FromStr for LocalSource {
    type Err = UnknownLocalSource;

    /// The enabled front door named `s` (surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        if let Some(source) = Self::enabled().find(|source| source.as_str() == name) {
            return Ok(source);
        }
        let names: Vec<_> = Self::enabled().map(Self::as_str).collect();
        Err(UnknownLocalSource {
            found: name.to_owned(),
            expected: if names.is_empty() {
                "no enabled event source can be emulated locally".to_owned()
            } else {
                format!("expected one of {}", names.join(", "))
            },
        })
    }
}

/// Local-server settings of a [`Gateway`].
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalOptions {
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) source: Option<LocalSource>,
    pub(crate) capture: Option<PathBuf>,
    pub(crate) limits: LocalLimits,
}

/// What every connection of the local server shares (the service is cloned per request instead,
/// so it need not be `Sync`).
struct LocalState {
    settings: Settings,
    source: LocalSource,
    capture: Option<PathBuf>,
    counter: AtomicU64,
    limits: LocalLimits,
    hits: Hits,
}

impl<S, B> Gateway<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Serves on `listener` until `shutdown` completes, then lets open requests finish (up to 10 s)
    /// and runs the [`on_shutdown`](Self::on_shutdown) hook, if any.
    ///
    /// [`run`](Self::run) calls this off Lambda with a loopback listener on `PORT` (default 3000)
    /// and Ctrl-C / SIGTERM as `shutdown`; call it directly to choose both (tests bind port 0).
    pub async fn serve_local(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), BoxError> {
        self.serve_until(listener, shutdown)
            .await
            .map_err(crate::RunError::wrap)
    }

    async fn serve_until(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), BoxError> {
        let source = self.resolve_local_source()?;
        let on_shutdown = self.settings.on_shutdown.take();
        let capture = match self.settings.local.capture.clone() {
            Some(dir) => Some(dir),
            None => env::var_os("LAMBDA_GATEWAY_CAPTURE").map(PathBuf::from),
        };
        if let Some(dir) = &capture {
            tokio::fs::create_dir_all(dir).await.map_err(|e| {
                format!("cannot create the capture directory {}: {e}", dir.display())
            })?;
        }
        let limits = self.settings.local.limits;
        let service = self.service;
        let state = Arc::new(LocalState {
            settings: self.settings,
            source,
            capture,
            counter: AtomicU64::new(0),
            limits,
            hits: Hits::default(),
        });
        let connections = Arc::new(Semaphore::new(
            limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
        ));
        let bound = listener.local_addr()?;
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // A slot first: at the cap, new connections wait in the listen backlog.
            let permit = match Arc::clone(&connections).try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    state.hits.record(Hit::MaxConnections, &limits);
                    tokio::select! {
                        permit = Arc::clone(&connections).acquire_owned() => match permit {
                            Ok(permit) => permit,
                            Err(_) => break,
                        },
                        () = &mut shutdown => break,
                    }
                }
            };
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            tracing::warn!(%error, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let connection = Connection {
                        peer,
                        local: stream.local_addr().unwrap_or(bound),
                    };
                    let activity = Activity::new();
                    let service = {
                        let state = Arc::clone(&state);
                        let activity = activity.clone();
                        let service = service.clone();
                        hyper::service::service_fn(move |request| {
                            let state = Arc::clone(&state);
                            let activity = activity.clone();
                            let service = service.clone();
                            activity.head_read();
                            async move {
                                let response =
                                    state.serve(service, request, connection, &activity).await;
                                activity.answered();
                                Ok::<_, Infallible>(response)
                            }
                        })
                    };
                    let io = TokioIo::new(Watched::new(stream, activity.clone()));
                    // The deadlines are kept by `watch_deadlines`; hyper's own header timer (which
                    // would also cut idle keep-alive connections at the same time) needs a timer,
                    // which is not given, so it stays off.
                    let connection = http1::Builder::new().serve_connection(io, service);
                    let connection = graceful.watch(connection);
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let _slot = permit;
                        watch_deadlines(connection, &activity, &state.limits, &state.hits).await;
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("open connections did not finish within 10 s of shutdown");
        }
        if let Some(hook) = on_shutdown {
            hook.run().await;
        }
        Ok(())
    }

    pub(crate) async fn run_local(self) -> Result<(), BoxError> {
        let source = self.resolve_local_source()?;
        let addr = match self.settings.local.addr {
            Some(addr) => addr,
            None => {
                let port = match env::var("PORT") {
                    Ok(port) => port.trim().parse::<u16>().map_err(|_| {
                        format!("PORT is {port:?}; expected a port number from 0 to 65535")
                    })?,
                    Err(_) => DEFAULT_PORT,
                };
                SocketAddr::from((Ipv4Addr::LOCALHOST, port))
            }
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr()?;
        eprintln!(
            "lambda-gateway: AWS_LAMBDA_RUNTIME_API is not set, so serving locally on http://{bound} as {} \
             (LAMBDA_GATEWAY_SOURCE={source}); Ctrl-C stops",
            source.description()
        );
        let shutdown = async {
            crate::shutdown::signal().await;
            eprintln!("lambda-gateway: shutting down");
        };
        self.serve_until(listener, shutdown).await
    }

    fn resolve_local_source(&self) -> Result<LocalSource, BoxError> {
        if let Some(source) = self.settings.local.source {
            return Ok(source);
        }
        if let Ok(name) = env::var("LAMBDA_GATEWAY_SOURCE") {
            return Ok(name.parse::<LocalSource>()?);
        }
        let source = match self.forced_source() {
            Some(forced) => LocalSource::from_source(forced),
            None => LocalSource::default_enabled(),
        };
        source.ok_or_else(|| "no enabled event source can be emulated locally".into())
    }
}

impl LocalState {
    async fn serve<S, B>(
        &self,
        service: S,
        request: Request<Incoming>,
        connection: Connection,
        activity: &Activity,
    ) -> Response<LocalBody>
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let front_door = self.source.front_door();
        let limit = front_door.request_body_limit;
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let request_id = format!("local-{n:08}");
        let mut service_time = Duration::ZERO;

        let collected = Limited::new(body, limit).collect().await;
        activity.body_read();
        let response = match collected {
            Err(error) if error.is::<http_body_util::LengthLimitError>() => failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over the {} limit of {limit} bytes",
                    front_door.response_limit.name
                ),
            ),
            Err(error) => failure(
                StatusCode::BAD_REQUEST,
                format!("reading the request body failed: {error}"),
            ),
            Ok(body) => {
                let event =
                    front_door.request_event(&parts, &body.to_bytes(), &connection, &request_id);
                if event.len() > LAMBDA_PAYLOAD_LIMIT {
                    failure(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "the request event is {} bytes, over the Lambda synchronous invocation limit of {} bytes",
                            event.len(),
                            LAMBDA_PAYLOAD_LIMIT
                        ),
                    )
                } else {
                    self.capture(n, &parts, &event).await;
                    let invocation = Invocation::new(
                        &self.settings,
                        service,
                        Bytes::from(event),
                        Some(&request_id),
                        None,
                        Some(&mut service_time),
                        true,
                    );
                    let mut invocation = std::pin::pin!(invocation);
                    let handled = invocation.as_mut().await;
                    match handled {
                        // a streamed answer (`Gateway::stream_responses`): the head from its
                        // prelude, the body as the service produces it
                        Ok(answer) if invocation.streams() => {
                            let streamed = invocation.as_mut().take_streamed();
                            let (prelude, body) =
                                streamed_answer(streamed, &answer, EndOnFailure::Error);
                            front_door
                                .client_response(&prelude)
                                .map(|head| {
                                    let (head, _) = head.into_parts();
                                    Response::from_parts(head, UnsyncBoxBody::new(body))
                                })
                                .unwrap_or_else(|reason| failure(StatusCode::BAD_GATEWAY, reason))
                        }
                        Ok(json) => front_door
                            .client_response(&json)
                            .map(|response| response.map(whole))
                            .unwrap_or_else(|reason| failure(StatusCode::BAD_GATEWAY, reason)),
                        Err(error) => failure(
                            StatusCode::BAD_GATEWAY,
                            format!("the invocation failed ({}): {error}", error.kind()),
                        ),
                    }
                }
            }
        };
        let adapter = started.elapsed().saturating_sub(service_time);
        tracing::info!(
            target: "lambda_gateway::local",
            method = %parts.method,
            path = parts.uri.path(),
            status = response.status().as_u16(),
            adapter_us = adapter.as_micros() as u64,
            service_us = service_time.as_micros() as u64,
            "{} {} {}",
            parts.method,
            parts.uri,
            response.status().as_u16()
        );
        response
    }

    async fn capture(&self, n: u64, parts: &http::request::Parts, event: &[u8]) {
        let Some(dir) = &self.capture else { return };
        let path: String = parts
            .uri
            .path()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let path = path.trim_matches('_');
        let name = format!(
            "{n:04}-{}-{}.json",
            parts.method,
            if path.is_empty() { "root" } else { path }
        );
        if let Err(error) = tokio::fs::write(dir.join(&name), event).await {
            tracing::warn!(%error, file = %name, "capturing the event failed");
        }
    }
}

/// Drives a connection until it ends, closing it (by dropping it) when its request head or its
/// idle time runs past the limits.
async fn watch_deadlines<C, E>(
    connection: C,
    activity: &Activity,
    limits: &LocalLimits,
    hits: &Hits,
) where
    C: Future<Output = Result<(), E>>,
    E: fmt::Display,
{
    let mut connection = std::pin::pin!(connection);
    loop {
        // `notify_one` keeps a permit, so a change between reading the deadline and waiting is
        // not missed
        let deadline = activity.deadline(limits);
        let sleep = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = &mut connection => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection closed with an error");
                }
                return;
            }
            () = activity.changed() => {}
            () = sleep => {
                if let Some((at, hit)) = activity.deadline(limits) {
                    if at <= Instant::now() {
                        hits.record(hit, limits);
                        return;
                    }
                }
            }
        }
    }
}

/// A plain-text error answer, logged: what a front door answers when the invocation fails.
/// The local server's answer bodies: whole, or streamed as the service produces them.
type LocalBody = UnsyncBoxBody<Bytes, BoxError>;

/// A whole answer body.
fn whole(body: Bytes) -> LocalBody {
    UnsyncBoxBody::new(Full::new(body).map_err(|never| match never {}))
}

fn failure(status: StatusCode, reason: String) -> Response<LocalBody> {
    tracing::error!(target: "lambda_gateway::local", status = status.as_u16(), "{reason}");
    let mut response = Response::new(whole(Bytes::from(format!(
        "lambda-gateway (local): {reason}\n"
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
