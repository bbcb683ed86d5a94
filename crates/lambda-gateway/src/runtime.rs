//! Running a [`Gateway`] on the Lambda Runtime API: [`LambdaService`], the gateway as a tower
//! service over `lambda_runtime`'s invocations, and the `run` family that serves it.

use std::{
    any::Any,
    env, fmt,
    future::Future,
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use http_body_util::BodyExt;
use lambda_gateway_core::{Body, BoxError, Error};
use lambda_runtime::{
    Diagnostic, LambdaEvent, LambdaInvocation, Runtime, SnapStartResource, service_fn,
};
use lambda_runtime_api_client::{PooledClient, body, build_request};
use serde::{Serialize, Serializer, ser::SerializeStruct};
use tower::{Layer, Service, ServiceExt, util::BoxCloneService};
use tracing::{Instrument, field::Empty};

use crate::{
    Gateway,
    gateway::Settings,
    invocation::Invocation,
    stream::{EndOnFailure, stream_request, streamed_answer},
};

/// The gateway as a tower service over `lambda_runtime`'s invocations: each call converts the
/// event, calls the HTTP service, and answers the Runtime API with the response event (or the
/// invocation's error).
///
/// It is the service of the `lambda_runtime::Runtime` that [`Gateway::into_runtime`] builds and
/// [`Gateway::run_with`] hands over, so any `lambda_runtime` layer (`TracingLayer`,
/// `OpenTelemetryLayer`, your own) wraps it like any Lambda handler.
///
/// Cloning it clones the HTTP service (each concurrent worker owns one) and shares the rest: the
/// HTTP service needs only `Clone + Send`, not `Sync`.
///
/// How the answer travels: the response event is JSON by construction (the encoders' golden,
/// property and fuzz tests hold them to it), so it is never parsed again. Up to 64 KiB it is
/// handed to the handler chain `lambda_runtime` built, which posts it on the connection that
/// brought the event — one connection to the Runtime API, as a `lambda_http` function has,
/// instead of a second one to open at the first answer (a cold start's critical path) — at the
/// cost of a UTF-8 check and one copy of at most 64 KiB. A larger response event, a streamed
/// answer and an invocation's error are posted by this service itself, as the bytes the encoder
/// wrote. On the chain's path, what `lambda_runtime` logs is `lambda_runtime`'s, as for a
/// `lambda_http` function: a refused answer is logged with its status (not the Runtime API's
/// message, which the gateway's own posts quote), an invocation id header that is not text is
/// dropped with a warning, and its TRACE record of the event shows the `null` it was handed.
pub struct LambdaService<S> {
    service: S,
    shared: Arc<Shared>,
    /// The handler chain `Runtime::new` built around [`take_answer`](Shared::take_answer),
    /// behind a lock only so that this service stays `Sync` when `S` is (the chain is not); each
    /// call takes a clone of it.
    chain: Mutex<Chain>,
}

/// `lambda_runtime`'s handler chain: it posts what [`Shared::take_answer`] hands it.
type Chain = BoxCloneService<LambdaInvocation, (), BoxError>;

impl<S: Clone> Clone for LambdaService<S> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            shared: Arc::clone(&self.shared),
            chain: Mutex::new(self.chain()),
        }
    }
}

impl<S> fmt::Debug for LambdaService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaService").finish_non_exhaustive()
    }
}

/// What every clone of a [`LambdaService`] shares.
struct Shared {
    settings: Settings,
    client: Arc<PooledClient>,
    /// Response events on their way through the handler chain, by request id (one per
    /// invocation in flight at most).
    answers: Mutex<Vec<(String, RawJson)>>,
}

impl<S, B> Service<LambdaInvocation> for LambdaService<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    /// Always ready: the HTTP service's own readiness is awaited in each call, on the clone that
    /// call owns.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        Box::pin(Arc::clone(&self.shared).serve(self.service.clone(), self.chain(), invocation))
    }
}

impl<S> LambdaService<S> {
    /// A clone of the handler chain.
    fn chain(&self) -> Chain {
        // nothing panics while holding it
        self.chain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The largest response event handed to `lambda_runtime`'s handler chain (see
/// [`LambdaService`]); a larger one is posted as it is, without the chain's copy.
const CHAIN_LIMIT: usize = 64 * 1024;

/// The header that echoes an invocation's id back to the Runtime API (it rejects stale answers
/// with it); absent with older Runtime API versions.
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";

/// The most of a Runtime API answer read (they are a few dozen bytes).
const ANSWER_LIMIT: usize = 64 * 1024;

impl Shared {
    /// One invocation, under its span: converted, served, answered.
    async fn serve<S, B>(
        self: Arc<Self>,
        service: S,
        chain: Chain,
        invocation: LambdaInvocation,
    ) -> Result<(), BoxError>
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let LambdaInvocation {
            parts,
            body: event,
            context,
        } = invocation;
        let request_id = context.request_id.clone();
        let invocation_id = parts.headers.get(INVOCATION_ID).cloned();
        // The fields after `request_id` are recorded as they become known (see
        // `Settings::prepare` and `Invocation`).
        let span = tracing::info_span!(
            "invocation",
            request_id = request_id.as_str(),
            source = Empty,
            method = Empty,
            path = Empty,
            status = Empty,
        );
        async {
            if self.settings.debug_log {
                crate::report::debug_payload("lambda-gateway debug log: raw event", &event);
            }
            let invocation = Invocation::new(
                &self.settings,
                service,
                event,
                Some(&request_id),
                Some(Box::new(context)),
                None,
                true,
            );
            let mut invocation = std::pin::pin!(invocation);
            // The service's own code is guarded inside the invocation; this catches a panic of
            // the gateway itself, which would otherwise end the worker.
            let handled = CatchPanic {
                future: invocation.as_mut(),
            }
            .await
            .unwrap_or_else(|panic| {
                Err(Error::Internal(format!(
                    "panicked: {}",
                    crate::gateway::panic_message(&*panic)
                )))
            });
            match handled {
                Ok(answer) if invocation.streams() => {
                    let limit = invocation.stream_limit();
                    let streamed = invocation.as_mut().take_streamed();
                    let (prelude, body) =
                        streamed_answer(streamed, &answer, EndOnFailure::Trailers);
                    let body = body.limited(limit);
                    let request = stream_request(&request_id, invocation_id, prelude, body)?;
                    self.send("response", request).await
                }
                Ok(response) => {
                    if self.settings.debug_log {
                        crate::report::debug_payload(
                            "lambda-gateway debug log: response event",
                            &response,
                        );
                    }
                    self.answer(chain, parts, &request_id, invocation_id, response)
                        .await
                }
                Err(error) => {
                    log_failure(&request_id, &error);
                    let diagnostic = Diagnostic {
                        error_type: error.kind().to_owned(),
                        error_message: error.to_string(),
                    };
                    let body = serde_json::to_vec(&diagnostic)?;
                    self.post(&request_id, "error", invocation_id, Some("unhandled"), body)
                        .await
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Posts a response event: through the handler chain up to [`CHAIN_LIMIT`], itself beyond
    /// (see [`LambdaService`]).
    async fn answer(
        &self,
        chain: Chain,
        parts: http::response::Parts,
        request_id: &str,
        invocation_id: Option<HeaderValue>,
        response: Vec<u8>,
    ) -> Result<(), BoxError> {
        let response = if response.len() <= CHAIN_LIMIT {
            match String::from_utf8(response) {
                Ok(json) => {
                    self.lock_answers()
                        .push((request_id.to_owned(), RawJson(json)));
                    // The chain reads the request id from the context and the invocation id from
                    // the parts' headers; its handler takes the answer by that request id.
                    let mut context = lambda_runtime::Context::default();
                    context.request_id = request_id.to_owned();
                    let handed = LambdaInvocation {
                        parts,
                        body: Bytes::from_static(b"null"),
                        context,
                    };
                    let posted = chain.oneshot(handed).await;
                    // Taken by the handler unless the chain failed before calling it.
                    self.discard_answer(request_id);
                    return posted;
                }
                // Never, the encoders being what their tests hold them to; posted as it is.
                Err(not_utf8) => not_utf8.into_bytes(),
            }
        } else {
            response
        };
        self.post(request_id, "response", invocation_id, None, response)
            .await
    }

    /// The handler of `lambda_runtime`'s chain: the response event left for `request_id`.
    fn take_answer(&self, request_id: &str) -> Result<RawJson, Diagnostic> {
        self.remove_answer(request_id).ok_or_else(|| {
            let error = Error::Internal(format!(
                "no response event was left for invocation {request_id}"
            ));
            Diagnostic {
                error_type: error.kind().to_owned(),
                error_message: error.to_string(),
            }
        })
    }

    /// Drops what the handler did not take (nothing, unless the chain failed before it).
    fn discard_answer(&self, request_id: &str) {
        drop(self.remove_answer(request_id));
    }

    fn remove_answer(&self, request_id: &str) -> Option<RawJson> {
        let mut answers = self.lock_answers();
        let found = answers.iter().position(|(id, _)| id == request_id)?;
        Some(answers.swap_remove(found).1)
    }

    fn lock_answers(&self) -> std::sync::MutexGuard<'_, Vec<(String, RawJson)>> {
        // Nothing panics while holding it; a poisoned list is still a list.
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Posts an invocation's answer, `POST /2018-06-01/runtime/invocation/{id}/{what}`.
    ///
    /// An answer the Runtime API refuses (a stale or timed-out invocation, a response over its
    /// limit) is logged and the loop goes on, as `lambda_runtime` does; a transport failure ends
    /// the loop (returned).
    async fn post(
        &self,
        request_id: &str,
        what: &str,
        invocation_id: Option<HeaderValue>,
        function_error_type: Option<&'static str>,
        body: Vec<u8>,
    ) -> Result<(), BoxError> {
        let mut request = build_request().method(Method::POST).uri(format!(
            "/2018-06-01/runtime/invocation/{request_id}/{what}"
        ));
        if let Some(id) = invocation_id {
            request = request.header(INVOCATION_ID, id);
        }
        if let Some(kind) = function_error_type {
            request = request.header("lambda-runtime-function-error-type", kind);
        }
        let request = request
            .body(body::Body::from(Bytes::from(body)))
            .map_err(|e| format!("cannot build the Runtime API request for {request_id}: {e}"))?;
        self.send(what, request).await
    }

    /// Sends a request to the Runtime API and reads its answer (see [`post`](Self::post)).
    async fn send(&self, what: &str, request: Request<body::Body>) -> Result<(), BoxError> {
        let response = self.client.call(request).await.map_err(|e| {
            error_or_print!("the Runtime API could not be reached: {}", e; error = %e, "the Runtime API could not be reached");
            e
        })?;
        let status = response.status();
        // Read to its end, so the connection goes back to the pool.
        let answer = http_body_util::Limited::new(response.into_body(), ANSWER_LIMIT)
            .collect()
            .await
            .map(|answer| answer.to_bytes());
        if !status.is_success() {
            let answer = answer.unwrap_or_default();
            let answer = String::from_utf8_lossy(&answer[..answer.len().min(300)]);
            error_or_print!(
                "the Runtime API refused the invocation's {} (status {}): {}", what, status, answer;
                status = status.as_u16(),
                %answer,
                "the Runtime API refused the invocation's {what}"
            );
        }
        Ok(())
    }
}

pin_project_lite::pin_project! {
    /// `future`, a panic in its `poll` returned as `Err` with the panic's payload.
    struct CatchPanic<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The one log record of a failed invocation (the span carries the request id; the line printed
/// without a subscriber names it itself, since concurrent invocations' lines interleave).
fn log_failure(request_id: &str, error: &Error) {
    if error.is_event_fault() {
        warn_or_print!(
            "invocation {} failed ({}): {}", request_id, error.kind(), error;
            error_type = error.kind(), %error, "invocation failed"
        );
    } else {
        error_or_print!(
            "invocation {} failed ({}): {}", request_id, error.kind(), error;
            error_type = error.kind(), %error, "invocation failed"
        );
    }
}

/// The Lambda environment `lambda_runtime` needs (it panics without it): checked up front so a
/// missing or malformed variable is an error that names it.
fn check_environment() -> Result<(), BoxError> {
    let runtime_api = env::var("AWS_LAMBDA_RUNTIME_API").map_err(|e| {
        format!(
            "environment variable AWS_LAMBDA_RUNTIME_API is {}; expected the Runtime API's host:port",
            unset_or_not_unicode(&e)
        )
    })?;
    let has_authority = runtime_api
        .parse::<http::Uri>()
        .is_ok_and(|uri| uri.authority().is_some());
    if !has_authority {
        return Err(format!(
            "environment variable AWS_LAMBDA_RUNTIME_API is {runtime_api:?}; expected the Runtime API's host:port"
        )
        .into());
    }
    for name in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION"] {
        if let Err(e) = env::var(name) {
            return Err(format!(
                "environment variable {name} is {}; expected the Lambda execution environment",
                unset_or_not_unicode(&e)
            )
            .into());
        }
    }
    let memory = env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(format!(
            "environment variable AWS_LAMBDA_FUNCTION_MEMORY_SIZE is {memory:?}; expected a whole number of megabytes"
        )
        .into());
    }
    Ok(())
}

/// What is wrong with a variable `env::var` refused.
fn unset_or_not_unicode(error: &env::VarError) -> &'static str {
    match error {
        env::VarError::NotPresent => "not set",
        env::VarError::NotUnicode(_) => "not valid UTF-8",
    }
}

/// How many invocations the execution environment hands out at once: `AWS_LAMBDA_MAX_CONCURRENCY`
/// (Lambda Managed Instances) read as `lambda_runtime` reads it, 1 when unset or not a positive
/// number.
fn max_concurrency() -> usize {
    concurrency(env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok().as_deref())
}

fn concurrency(value: Option<&str>) -> usize {
    value
        .and_then(|value| value.parse::<u32>().ok())
        .filter(|&n| n > 0)
        .map_or(1, |n| usize::try_from(n).unwrap_or(1))
}

/// The enabled sources' merged field list is built at its first use; this builds it while the
/// first `/next` waits for its event instead of after the event has arrived (a cold start's
/// critical path). Called just before the runtime starts: on a `current_thread` runtime the task
/// runs when the runtime yields, and after three yields lambda_runtime has connected and sent its
/// request (any earlier, and the build would delay that request instead); on a multi-thread
/// runtime it runs on another worker.
fn build_field_list_meanwhile() {
    tokio::spawn(async {
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let _ = crate::registry::registry();
    });
}

/// A response event as the encoder wrote it, serialized verbatim: serde_json writes a struct of
/// this name the way it writes its own `RawValue` (which serializes so), without parsing it.
/// The name is serde_json's; a test pins the behaviour.
#[derive(Debug)]
struct RawJson(String);

/// serde_json's name for a raw JSON fragment.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl Serialize for RawJson {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut raw = serializer.serialize_struct(RAW_VALUE_TOKEN, 1)?;
        raw.serialize_field(RAW_VALUE_TOKEN, self.0.as_str())?;
        raw.end()
    }
}

/// Puts the gateway's service around the handler chain `Runtime::new` built (whose handler is
/// [`Shared::take_answer`]): every invocation reaches the gateway first, not the chain's event
/// parse.
struct AroundChain<S> {
    service: S,
    shared: Arc<Shared>,
}

impl<S, C> Layer<C> for AroundChain<S>
where
    S: Clone,
    C: Service<LambdaInvocation, Response = (), Error = BoxError> + Clone + Send + 'static,
    C::Future: Send,
{
    type Service = LambdaService<S>;

    fn layer(&self, chain: C) -> LambdaService<S> {
        LambdaService {
            service: self.service.clone(),
            shared: Arc::clone(&self.shared),
            chain: Mutex::new(BoxCloneService::new(chain)),
        }
    }
}

/// Rebuilds the Runtime API client's connections after a SnapStart restore, as `lambda_runtime`
/// does for its own (the snapshot's connections are gone).
struct RestorePool(Arc<Shared>);

impl SnapStartResource for RestorePool {
    fn after_restore(&self) -> lambda_runtime::BoxFuture<'_, Result<(), lambda_runtime::Error>> {
        self.0.client.reset_pool();
        Box::pin(async { Ok(()) })
    }
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
    /// Serves events from the Lambda Runtime API until the process is stopped.
    ///
    /// - Invocations are served one at a time, or — on Lambda Managed Instances, where
    ///   `AWS_LAMBDA_MAX_CONCURRENCY` is above 1 — that many at once, each on its own clone of
    ///   the service (`lambda_runtime`'s `run_concurrent`).
    /// - Each request carries the invocation's `lambda_runtime::Context` as an extension
    ///   (deadline, function ARN, X-Ray trace id...), and the trace id as `x-amzn-trace-id` when
    ///   the request has none.
    /// - Each invocation runs in one INFO span, `invocation`, with `request_id`, `source`,
    ///   `method`, `path` and `status`: the service's own logs nest under it. A failed
    ///   invocation is logged once; the success path logs nothing above DEBUG.
    /// - With an [`on_shutdown`](Self::on_shutdown) hook, SIGTERM (or SIGINT) runs it, then `run`
    ///   returns `Ok`.
    ///
    /// Off Lambda — `AWS_LAMBDA_RUNTIME_API` unset — it serves the app on a local HTTP server
    /// instead (the `local` feature, on by default; see [`serve_local`](Self::serve_local)).
    /// On Lambda it fails at start when a function variable is missing or malformed.
    ///
    /// Its errors are [`RunError`](crate::RunError)s: returned from `main`, they print their
    /// message.
    ///
    /// A `current_thread` tokio runtime starts fastest and serves one invocation at a time best
    /// (`#[tokio::main(flavor = "current_thread")]`); a multi-thread runtime pays with Managed
    /// Instances' concurrent invocations on several vCPUs, or a CPU-heavy service.
    pub async fn run(self) -> Result<(), BoxError> {
        self.run_with(|runtime| runtime).await
    }

    /// [`run`](Self::run), with the `lambda_runtime::Runtime` passed through `configure` first:
    /// to add `lambda_runtime` layers or SnapStart resources.
    ///
    /// ```no_run
    /// use lambda_gateway::{Body, Gateway, lambda_runtime::layers::TracingLayer};
    ///
    /// # async fn doc() -> Result<(), lambda_gateway::BoxError> {
    /// let app = tower::service_fn(|_req: http::Request<Body>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("hi")))
    /// });
    /// Gateway::new(app)
    ///     // lambda_runtime's span (`requestId`, `xrayTraceId`) around ours
    ///     .run_with(|runtime| runtime.layer(TracingLayer::new()))
    ///     .await
    /// # }
    /// ```
    ///
    /// A layer's service must be `Clone` (each concurrent worker owns one): `lambda_runtime`
    /// 1.5's `OpenTelemetryLayer` is not, so it goes through [`into_runtime`](Self::into_runtime).
    /// `configure` is not called off Lambda (the local server has no `Runtime`).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run): a [`RunError`](crate::RunError) when it cannot start or the loop
    /// stops.
    pub async fn run_with<F, L>(self, configure: F) -> Result<(), BoxError>
    where
        F: FnOnce(Runtime<LambdaService<S>>) -> Runtime<L>,
        L: Service<LambdaInvocation, Response = (), Error = BoxError> + Clone + Send + 'static,
        L::Future: Send,
    {
        self.serve_lambda_or_locally(configure)
            .await
            .map_err(crate::RunError::wrap)
    }

    async fn serve_lambda_or_locally<F, L>(self, configure: F) -> Result<(), BoxError>
    where
        F: FnOnce(Runtime<LambdaService<S>>) -> Runtime<L>,
        L: Service<LambdaInvocation, Response = (), Error = BoxError> + Clone + Send + 'static,
        L::Future: Send,
    {
        let mut gateway = self.with_environment()?;
        if env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
            #[cfg(feature = "local")]
            return gateway.run_local().await;
            #[cfg(not(feature = "local"))]
            return Err("AWS_LAMBDA_RUNTIME_API is not set, so this is not the Lambda execution environment; \
                        enable lambda-gateway's `local` feature to serve on a local HTTP server instead"
                .into());
        }
        check_environment()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(
                "run was called outside a tokio runtime; expected one (#[tokio::main])".into(),
            );
        }
        let on_shutdown = gateway.settings.on_shutdown.take();
        let (runtime, shared) = gateway.build_runtime();
        let Some(hook) = on_shutdown else {
            build_field_list_meanwhile();
            return configure(runtime).run_concurrent().await;
        };
        // Registered before the runtime asks for its first event, as extensions must be.
        let listening = match crate::shutdown::register_extension(Arc::clone(&shared.client)).await
        {
            Ok(()) => true,
            Err(error) => {
                error_or_print!(
                    "Lambda will not send SIGTERM: the shutdown hook runs only if the process is interrupted otherwise: {}", error;
                    %error, "Lambda will not send SIGTERM: the shutdown hook runs only if the process is interrupted otherwise"
                );
                false
            }
        };
        build_field_list_meanwhile();
        let served = tokio::select! {
            served = configure(runtime).run_concurrent() => served,
            () = crate::shutdown::signal() => {
                if !listening {
                    tracing::debug!("signalled although the shutdown extension is not registered");
                }
                Ok(())
            }
        };
        // also when the loop ended by itself (the Runtime API unreachable): the hook flushes
        // what it must either way
        hook.run().await;
        served
    }

    /// The gateway as a `lambda_runtime::Runtime` whose service is its [`LambdaService`]: add
    /// layers and SnapStart resources, then call `run_concurrent()` (sequential unless
    /// `AWS_LAMBDA_MAX_CONCURRENCY` is above 1) or `run()`.
    ///
    /// Unlike [`run`](Self::run) it neither falls back to the local server nor runs the
    /// [`on_shutdown`](Self::on_shutdown) hook; it reads the same environment, and fails when a
    /// Lambda variable is missing or malformed.
    ///
    /// OpenTelemetry, with this crate's `opentelemetry` feature (`lambda_runtime`'s layer, whose
    /// service is not `Clone`, so the runtime serves one invocation at a time with `run()`), your
    /// tracer provider and a `tracing-opentelemetry` subscriber:
    ///
    #[cfg_attr(feature = "opentelemetry", doc = "```no_run")]
    #[cfg_attr(not(feature = "opentelemetry"), doc = "```ignore")]
    /// use lambda_gateway::{Body, Gateway, lambda_runtime::layers::OpenTelemetryLayer};
    ///
    /// /// Exports what the invocation recorded (your provider's `force_flush`).
    /// fn flush() {}
    ///
    /// # async fn doc() -> Result<(), lambda_gateway::BoxError> {
    /// let app = tower::service_fn(|_req: http::Request<Body>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("hi")))
    /// });
    /// Gateway::new(app)
    ///     .into_runtime()?
    ///     .layer(OpenTelemetryLayer::new(flush))
    ///     .run()
    ///     .await
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// A [`RunError`](crate::RunError) naming the Lambda environment variable that is missing or
    /// malformed (`lambda_runtime` would panic on it).
    pub fn into_runtime(self) -> Result<Runtime<LambdaService<S>>, BoxError> {
        check_environment().map_err(crate::RunError::wrap)?;
        Ok(self
            .with_environment()
            .map_err(|e| crate::RunError::wrap(e.into()))?
            .build_runtime()
            .0)
    }

    /// The runtime (the environment checked) and what its service's clones share.
    fn build_runtime(self) -> (Runtime<LambdaService<S>>, Arc<Shared>) {
        let client = Arc::new(
            PooledClient::builder()
                .with_pool_size(max_concurrency())
                .build(),
        );
        let shared = Arc::new(Shared {
            settings: self.settings,
            client,
            answers: Mutex::default(),
        });
        let answers = Arc::clone(&shared);
        // Called with the `null` event `answer` hands the chain, never with an invocation's own.
        let handler = service_fn(move |event: LambdaEvent<()>| {
            std::future::ready(answers.take_answer(&event.context.request_id))
        });
        let runtime = Runtime::new(handler)
            .layer(AroundChain {
                service: self.service,
                shared: Arc::clone(&shared),
            })
            .register_snapstart_resource(Arc::new(RestorePool(Arc::clone(&shared))));
        (runtime, shared)
    }
}

#[cfg(test)]
mod tests {
    use std::{cell::Cell, convert::Infallible};

    use lambda_runtime::Context as LambdaContext;
    use serde_json::Value;
    use tower::util::BoxCloneService;

    use super::*;

    const HTTP_EVENT: &[u8] = br#"{"version":"2.0","rawPath":"/deadline","rawQueryString":"",
        "headers":{"host":"example.com"},
        "requestContext":{"requestId":"api-id","http":{"method":"GET","path":"/deadline","sourceIp":"1.2.3.4"}}}"#;

    const ALB_TRACED: &[u8] = br#"{"requestContext":{"elb":{"targetGroupArn":"arn"}},
        "httpMethod":"GET","path":"/","headers":{"host":"example.com","x-amzn-trace-id":"Root=from-the-alb"},
        "body":"","isBase64Encoded":false}"#;

    fn context() -> LambdaContext {
        let mut context = LambdaContext::default();
        context.request_id = "lambda-id".to_owned();
        context.deadline = 1_700_000_000_000;
        context.invoked_function_arn =
            "arn:aws:lambda:us-east-1:123456789012:function:f".to_owned();
        context.xray_trace_id = Some("Root=1-abc".to_owned());
        context
    }

    /// Answers with what a handler moving from `lambda_http` reads from its request.
    async fn reads_its_context(request: Request<Body>) -> Result<Response<Body>, Infallible> {
        let lambda = request.extensions().get::<LambdaContext>();
        let seen = serde_json::json!({
            "deadline": lambda.map(|c| c.deadline),
            "arn": lambda.map(|c| c.invoked_function_arn.clone()),
            "trace": request.headers().get("x-amzn-trace-id").and_then(|v| v.to_str().ok()),
            "request_id": request
                .extensions()
                .get::<lambda_gateway_core::RequestContext>()
                .and_then(|c| c.request_id()),
        });
        Ok(Response::new(Body::from(seen.to_string())))
    }

    fn body(response: &[u8]) -> Value {
        let event: Value = serde_json::from_slice(response).unwrap();
        serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_handler_reads_its_deadline_and_function_arn_from_the_request() {
        let gateway = Gateway::new(tower::service_fn(reads_its_context));
        let answer = gateway
            .invoke_with_context(Bytes::from_static(HTTP_EVENT), context())
            .await
            .unwrap();
        let seen = body(&answer);
        assert_eq!(seen["deadline"], 1_700_000_000_000_u64);
        assert_eq!(
            seen["arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        assert_eq!(seen["trace"], "Root=1-abc", "added: the request had none");
        assert_eq!(
            seen["request_id"], "api-id",
            "the event's own id comes first"
        );

        // offline: no context, no trace header
        let seen = body(&gateway.invoke(HTTP_EVENT).await.unwrap());
        assert_eq!(seen["deadline"], Value::Null);
        assert_eq!(seen["trace"], Value::Null);
    }

    #[tokio::test]
    async fn the_front_doors_trace_header_is_kept_and_the_invocation_id_fills_a_missing_request_id()
    {
        let gateway = Gateway::new(tower::service_fn(reads_its_context));
        let answer = gateway
            .invoke_with_context(Bytes::from_static(ALB_TRACED), context())
            .await
            .unwrap();
        let seen = body(&answer);
        assert_eq!(seen["trace"], "Root=from-the-alb");
        assert_eq!(
            seen["request_id"], "lambda-id",
            "ALB events carry no request id"
        );
    }

    /// A service that is `Clone + Send` but not `Sync` (a `Cell`), as `BoxCloneService` is.
    #[derive(Clone)]
    struct NotSync(Cell<u32>);

    impl Service<Request<Body>> for NotSync {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: Request<Body>) -> Self::Future {
            self.0.set(self.0.get() + 1);
            std::future::ready(Ok(Response::new(Body::from(self.0.get().to_string()))))
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn services_that_are_not_sync_compile_with_run_run_with_and_concurrent_workers() {
        let boxed: BoxCloneService<Request<Body>, Response<Body>, Infallible> =
            BoxCloneService::new(tower::service_fn(reads_its_context));
        // futures are never polled here: what matters is that they exist and are `Send`
        let run = crate::run(boxed.clone());
        assert_send(&run);
        let run_with = Gateway::new(NotSync(Cell::new(0))).run_with(|runtime| runtime);
        assert_send(&run_with);
        // the service `run_concurrent` clones into each worker
        fn concurrent_worker<T>(_: &T)
        where
            T: Service<LambdaInvocation, Response = (), Error = BoxError> + Clone + Send + 'static,
            T::Future: Send,
        {
        }
        concurrent_worker::<LambdaService<NotSync>>(&LambdaService {
            service: NotSync(Cell::new(0)),
            shared: Arc::new(shared()),
            chain: Mutex::new(BoxCloneService::new(tower::service_fn(
                |_: LambdaInvocation| async { Ok::<(), BoxError>(()) },
            ))),
        });
    }

    /// Settings by default, a client of a Runtime API that is not there.
    fn shared() -> Shared {
        Shared {
            settings: Settings::default(),
            client: Arc::new(
                PooledClient::builder()
                    .with_endpoint(http::Uri::from_static("http://127.0.0.1:9"))
                    .build(),
            ),
            answers: Mutex::default(),
        }
    }

    #[test]
    fn a_response_event_is_handed_to_lambda_runtime_as_written_not_parsed_or_escaped() {
        for json in [
            r#"{"statusCode":200,"body":"caf\u00e9 \"quoted\"","isBase64Encoded":false}"#,
            "{\"body\":\"café ✓\"}",
            // not JSON: proof that nothing parses it on the way (the encoders' tests do)
            "{not json",
        ] {
            let written = serde_json::to_vec(&RawJson(json.to_owned())).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), json);
        }
    }

    #[test]
    fn an_answer_is_taken_once_by_its_own_request_id() {
        let shared = shared();
        for id in ["a", "b"] {
            shared
                .lock_answers()
                .push((id.to_owned(), RawJson(format!("{{\"id\":\"{id}\"}}"))));
        }
        assert_eq!(shared.take_answer("b").unwrap().0, r#"{"id":"b"}"#);
        assert!(shared.take_answer("b").is_err(), "taken already");
        let missing = shared.take_answer("c").unwrap_err();
        assert_eq!(missing.error_type, "lambda_gateway::InternalError");
        assert!(
            missing
                .error_message
                .ends_with("no response event was left for invocation c"),
            "{}",
            missing.error_message
        );
        assert_eq!(shared.take_answer("a").unwrap().0, r#"{"id":"a"}"#);
        assert!(shared.lock_answers().is_empty());
    }

    #[test]
    fn the_lambda_service_is_sync_when_the_http_service_is() {
        fn sync<T: Sync>(_: &T) {}
        let service = LambdaService {
            service: tower::service_fn(reads_its_context),
            shared: Arc::new(shared()),
            chain: Mutex::new(BoxCloneService::new(tower::service_fn(
                |_: LambdaInvocation| async { Ok::<(), BoxError>(()) },
            ))),
        };
        sync(&service);
        sync(&service.clone());
    }

    #[test]
    fn max_concurrency_reads_as_lambda_runtime_does() {
        for (value, expected) in [
            (None, 1),
            (Some("8"), 8),
            (Some("1"), 1),
            (Some("0"), 1),
            (Some("-1"), 1),
            (Some(" 4"), 1),
            (Some("4294967296"), 1),
            (Some("many"), 1),
        ] {
            assert_eq!(concurrency(value), expected, "{value:?}");
        }
    }
}
