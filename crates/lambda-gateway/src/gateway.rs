//! The [`Gateway`]: one event in, one response event out.

use std::{any::Any, fmt, future::Future, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header::CONTENT_TYPE, response::Parts};
use lambda_gateway_core::{
    BinaryPolicy, Body, BoxError, Claim, EncodeOptions, Error, EventSource, RequestContext, Source,
    Streaming,
    event::{EventView, SourceView},
    json::JsonWriter,
};
use tower::Service;

use crate::{
    base_path, detect,
    invocation::{Failure, Invocation, POLLED_AFTER_DONE},
    registry::{Registered, Registry, registry},
};

/// Serves a tower HTTP service from Lambda events.
///
/// ```no_run
/// use lambda_gateway::{Body, Gateway, Source};
/// use tower::service_fn;
///
/// # async fn doc() -> Result<(), lambda_gateway::BoxError> {
/// let app = service_fn(|_req: http::Request<Body>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("hi")))
/// });
/// Gateway::new(app)
///     .source(lambda_gateway::apigw_rest::SOURCE) // skip detection: only REST events are accepted
///     .binary_content_types(["image/*", "application/pdf"])
///     .run()
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct Gateway<S> {
    pub(crate) service: S,
    pub(crate) settings: Settings,
}

/// Everything a [`Gateway`] holds besides the service: shared by every invocation (behind an
/// `Arc` on Lambda and in the local server), so the service itself needs only `Clone + Send`.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    source: Option<Source>,
    binary: BinaryPolicy,
    /// Base paths to strip, longest first.
    pub(crate) base_paths: Vec<String>,
    /// Whether the builder set the binary content types (the environment's are then ignored).
    pub(crate) binary_set: bool,
    /// Whether raw events and response events are logged (see [`Gateway::debug_log`]).
    pub(crate) debug_log: bool,
    on_service_error: OnServiceError,
    pub(crate) pass_through: Option<http::Uri>,
    /// Lambda response streaming for the events whose front door takes it.
    pub(crate) stream_responses: bool,
    /// The REST API routes (`METHOD resource`, or `*`) whose method streams.
    pub(crate) stream_rest_routes: Vec<String>,
    #[cfg(feature = "local")]
    pub(crate) local: crate::local::LocalOptions,
    /// Runs once when the process is asked to stop (see [`Gateway::on_shutdown`]).
    pub(crate) on_shutdown: Option<crate::shutdown::ShutdownHook>,
}

impl<S> fmt::Debug for Gateway<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        f.debug_struct("Gateway")
            .field("source", &settings.source.map_or("auto", Source::as_str))
            .field("binary", &settings.binary)
            .field("base_paths", &settings.base_paths)
            .field("on_service_error", &settings.on_service_error)
            .field("on_shutdown", &settings.on_shutdown.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Gateway<S> {
    /// A gateway serving `service`, detecting each event's source.
    pub fn new(service: S) -> Self {
        Self {
            service,
            settings: Settings::default(),
        }
    }

    /// The settings `run` reads from the environment (see [`crate::environment`]).
    pub(crate) fn with_environment(self) -> Result<Self, crate::environment::ConfigError> {
        crate::environment::apply(self, |name| std::env::var(name).ok())
    }

    /// Hands events no HTTP source claims to the service as `POST {path}` (off by default;
    /// `run` also reads `LAMBDA_GATEWAY_PASS_THROUGH_PATH`, this setting winning).
    ///
    /// An SQS, SNS, S3, EventBridge, DynamoDB or Kinesis event, a schedule, a direct invoke, an
    /// API Gateway authorizer request — whatever would otherwise fail as `UnrecognizedEvent` —
    /// reaches the service as a `POST` to `path` with `content-type: application/json`, the raw
    /// event bytes as the body, and [`RequestContext::event_kind`] telling its kind where the
    /// event says it (`aws:sqs`, `aws.events`, ...); [`RequestContext::source`] is
    /// [`Source::PASS_THROUGH`].
    ///
    /// The service's 2xx answer body is the invocation's result as it is (it must be JSON; an
    /// empty body is `null`), so an SQS `{"batchItemFailures": [...]}` answer works. Any other
    /// status fails the invocation (`lambda_gateway::PassThroughRejected`), and so does a
    /// service error or panic (`lambda_gateway::ServiceError`, whatever
    /// [`on_service_error`](Self::on_service_error) says): the platform then retries the event.
    /// A path that is not a URI path (`"/a b"`) leaves pass-through off, with a warning.
    #[must_use]
    pub fn pass_through(mut self, path: impl AsRef<str>) -> Self {
        self.settings.pass_through = crate::pass_through::normalize(path.as_ref());
        if self.settings.pass_through.is_none() {
            warn_or_print!(
                "the pass-through path {:?} is not a URI path; pass-through stays off", path.as_ref();
                path = path.as_ref(),
                "the pass-through path is not a URI path; pass-through stays off"
            );
        }
        self
    }

    /// A path prefix to strip before the service sees the request — a custom domain's base path
    /// mapping (`/api`) or a named stage in payload 2.0 `rawPath` (`/prod`).
    ///
    /// The prefix is stripped only on a segment boundary (`/api/x` → `/x`, `/api` → `/`, but
    /// `/apix` is left alone), and never when the rest holds a `..` segment under any common
    /// decoding (`/api/../admin`, `/api/%2e%2e/admin`, `/api/..%2Fadmin`, `/api/..%5Cadmin`,
    /// `/api/..;/admin`, `/api/%252e%252e/admin` are all left unstripped, so a service mounted
    /// without the prefix does not route them, whatever it decodes first). A path outside the
    /// prefix reaches the service unchanged.
    ///
    /// `run` also reads `LAMBDA_GATEWAY_BASE_PATH` (this setting winning), so a deployment can set
    /// the mapping without a rebuild.
    ///
    /// Call it once per mapping when several custom domains map the API under different base
    /// paths (`/api`, `/v2`): a path is stripped of the longest one it falls under.
    #[must_use]
    pub fn base_path(mut self, prefix: impl AsRef<str>) -> Self {
        let prefix = prefix.as_ref().trim().trim_end_matches('/');
        if !prefix.is_empty() {
            let prefix = if prefix.starts_with('/') {
                prefix.to_owned()
            } else {
                format!("/{prefix}")
            };
            if !self.settings.base_paths.contains(&prefix) {
                self.settings.base_paths.push(prefix);
                self.settings
                    .base_paths
                    .sort_by_key(|base| std::cmp::Reverse(base.len()));
            }
        }
        self
    }

    /// Answers a service failure — an `Err`, a failing response body or a panic — with the
    /// response `respond` makes from the error, instead of the default generic 500. The error is
    /// logged either way.
    pub fn on_service_error<F>(mut self, respond: F) -> Self
    where
        F: Fn(&BoxError) -> Response<Body> + Send + Sync + 'static,
    {
        self.settings.on_service_error = OnServiceError::Respond(Arc::new(respond));
        self
    }

    /// Fails the invocation on a service failure (`errorType` `lambda_gateway::ServiceError`), so
    /// Lambda's own error handling — retries, destinations, the gateway's 502 — takes over,
    /// instead of answering a 500.
    pub fn fail_invocation_on_service_error(mut self) -> Self {
        self.settings.on_service_error = OnServiceError::FailInvocation;
        self
    }

    /// Runs `hook` once when the process is asked to stop: on Lambda when it sends SIGTERM before
    /// shutting the execution environment down, locally on Ctrl-C or SIGTERM (after the local
    /// server has let open requests finish). For flushing telemetry, closing pools, saying
    /// goodbye.
    ///
    /// On Lambda, `run` then registers an internal extension (subscribed to no events) before
    /// the first invocation: Lambda sends SIGTERM only to functions with an extension, and
    /// allows the hook about **500 ms** before SIGKILL (AWS's Shutdown phase: 500 ms with an
    /// internal extension; with external extensions too, the runtime's share of their 2,000 ms is
    /// 300 to 500 ms). The registration is one request to the Extensions API at start; without a hook
    /// none is made. If it fails, the error is logged and the function serves anyway. After the
    /// hook, `run` returns `Ok(())`.
    ///
    /// ```no_run
    /// # async fn doc(app: tower::util::BoxCloneService<http::Request<lambda_gateway::Body>, http::Response<lambda_gateway::Body>, std::convert::Infallible>) -> Result<(), lambda_gateway::BoxError> {
    /// lambda_gateway::Gateway::new(app)
    ///     .on_shutdown(async { eprintln!("flushing before the environment stops") })
    ///     .run()
    ///     .await
    /// # }
    /// ```
    #[must_use]
    pub fn on_shutdown(mut self, hook: impl Future<Output = ()> + Send + 'static) -> Self {
        self.settings.on_shutdown = Some(crate::shutdown::ShutdownHook::new(hook));
        self
    }

    /// Answers the events whose front door can take a Lambda response stream — Function URLs in
    /// `RESPONSE_STREAM` invoke mode — as a stream: the service's body goes out frame by frame as
    /// it produces them (server-sent events, downloads past 6 MB), after a prelude with the status
    /// and headers. Off by default; `run` also reads `LAMBDA_GATEWAY_RESPONSE_MODE=stream`.
    ///
    /// Only turn it on for a function whose Function URL is in `RESPONSE_STREAM` mode: nothing in
    /// an event tells the two modes apart, and a buffered front door would pass the prelude and
    /// its NUL bytes to the client. Every other source (HTTP APIs, ALB, VPC Lattice, WebSocket,
    /// pass-through) is answered buffered by the same binary, and so is `invoke`. On a streaming
    /// route every answer streams, a 400 or 500 too; a body that fails after its first frame ends
    /// the stream with the Runtime API's error trailers (`Lambda-Runtime-Function-Error-Type`,
    /// `-Error-Body`).
    #[must_use]
    pub fn stream_responses(mut self) -> Self {
        self.settings.stream_responses = true;
        self
    }

    /// Answers these REST API routes as Lambda response streams: `METHOD resource` as the event
    /// names them (`"GET /download/{name}"`: the method and the resource template), or `"*"` for
    /// every method. A REST API streams per method (its integration's `responseTransferMode:
    /// STREAM`, with the `response-streaming-invocations` URI) and nothing in an event tells
    /// which: list exactly those methods — a method configured for buffered responses answers a
    /// streamed one with its status and headers but no body. The prelude is `statusCode` and
    /// `multiValueHeaders`. HTTP API payload 1.0 events never stream. `run` also reads
    /// `LAMBDA_GATEWAY_STREAM_REST_ROUTES` (comma-separated), this setting winning.
    #[must_use]
    pub fn stream_rest_routes<I, T>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.settings.stream_rest_routes = routes
            .into_iter()
            .map(|route| route.as_ref().trim().to_owned())
            .filter(|route| !route.is_empty())
            .collect();
        self
    }

    /// The source forced with [`source`](Self::source), if any.
    #[cfg_attr(not(feature = "local"), allow(dead_code))]
    pub(crate) fn forced_source(&self) -> Option<Source> {
        self.settings.source
    }

    /// Off Lambda: the address the local server listens on (default `127.0.0.1:$PORT`, `PORT`
    /// defaulting to 3000). Takes precedence over `PORT`.
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    pub fn local_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.settings.local.addr = Some(addr);
        self
    }

    /// Off Lambda: the front door the local server emulates. Takes precedence over
    /// `LAMBDA_GATEWAY_SOURCE`; without either, the first front door of a source forced with
    /// [`source`](Self::source) is emulated, else an HTTP API (payload 2.0, `apigw_http`) when
    /// that source is enabled, else the first enabled front door.
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    pub fn local_source(mut self, source: crate::LocalSource) -> Self {
        self.settings.local.source = Some(source);
        self
    }

    /// Off Lambda: write every synthesized event to `dir/<n>-<method>-<path>.json`, ready to
    /// replay. Takes precedence over `LAMBDA_GATEWAY_CAPTURE`.
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    pub fn capture_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.settings.local.capture = Some(dir.into());
        self
    }

    /// Off Lambda: the local server's connection limits — header read timeout, idle keep-alive
    /// timeout, most connections at once (see [`LocalLimits`](crate::LocalLimits) for the
    /// defaults).
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    #[must_use]
    pub fn local_limits(mut self, limits: crate::LocalLimits) -> Self {
        self.settings.local.limits = limits;
        self
    }

    /// Accepts only events of this source, without detection. An event of another shape is then
    /// reported as an invalid event of this source.
    pub fn source(mut self, source: Source) -> Self {
        self.settings.source = Some(source);
        self
    }

    /// Detects each event's source (the default).
    pub fn auto_detect(mut self) -> Self {
        self.settings.source = None;
        self
    }

    /// Response content types always sent base64-encoded: exact types (`image/png`), type
    /// patterns (`image/*`) or `*/*`. See [`BinaryPolicy`] for the full rule.
    ///
    /// REST APIs decode a base64 body for the client only when the API's *binary media types*
    /// setting matches the request's `Accept` header; configure both alike.
    pub fn binary_content_types<I, T>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.settings.binary = BinaryPolicy::new(types);
        self.settings.binary_set = true;
        self
    }

    /// Logs each raw event and the response event answering it, on Lambda (off by default;
    /// `run` also reads `LAMBDA_GATEWAY_DEBUG_LOG`). For finding out what a front door really
    /// sends: events carry credentials (`Authorization`, cookies) — never leave it on in
    /// production. Logged at INFO under the invocation's span (to stderr without a `tracing`
    /// subscriber), each payload cut at 64 KiB.
    #[must_use]
    pub fn debug_log(mut self, on: bool) -> Self {
        self.settings.debug_log = on;
        self
    }
}

impl<S, B> Gateway<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    /// Handles one raw event offline, without the Lambda runtime: parses it, calls the service
    /// and returns the response event's JSON. For unit tests, benchmarks and replaying events.
    ///
    /// ```
    /// # async fn doc() {
    /// use lambda_gateway::{Body, Gateway};
    /// let app = tower::service_fn(|_req: http::Request<Body>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("ok")))
    /// });
    /// let event = br#"{"version":"2.0","rawPath":"/","rawQueryString":"",
    ///     "requestContext":{"http":{"method":"GET","path":"/","sourceIp":"1.2.3.4"}}}"#;
    /// let response = Gateway::new(app).invoke(event).await.unwrap();
    /// assert!(response.starts_with(br#"{"statusCode":200"#));
    /// # }
    /// ```
    pub fn invoke(&self, event: &[u8]) -> impl Future<Output = Result<Vec<u8>, Error>> {
        // Not an `async fn` awaiting `invoke_bytes`: each level of `async` nesting moves the
        // inner future into the outer one, a copy per invocation for nothing.
        self.handle(Bytes::copy_from_slice(event), None, None)
    }

    /// Like [`invoke`](Self::invoke), taking ownership of the event without copying it.
    pub fn invoke_bytes(&self, event: Bytes) -> impl Future<Output = Result<Vec<u8>, Error>> {
        self.handle(event, None, None)
    }

    /// Like [`invoke`](Self::invoke), answering as a deployment with streaming on does (see
    /// [`stream_responses`](Self::stream_responses)): for an event whose answer streams, the
    /// stream's whole payload — the prelude, 8 NUL bytes, the body, read to its end (a body that
    /// fails midway is an `Err` here) — else the response event. For tests; a buffered response
    /// event holds no NUL byte (JSON escapes it), so the first one marks a stream.
    pub fn invoke_streamed(&self, event: &[u8]) -> impl Future<Output = Result<Vec<u8>, Error>> + '_
    where
        B: 'static,
    {
        let invocation = Invocation::new(
            &self.settings,
            self.service.clone(),
            Bytes::copy_from_slice(event),
            None,
            None,
            None,
            true,
        );
        async move {
            let mut invocation = std::pin::pin!(invocation);
            let answer = invocation.as_mut().await?;
            let Some(streamed) = invocation.as_mut().take_streamed() else {
                return Ok(answer);
            };
            let mut payload = streamed.prelude;
            payload.extend_from_slice(&STREAM_DELIMITER);
            payload.extend_from_slice(streamed.first.as_deref().unwrap_or_default());
            let rest = http_body_util::BodyExt::collect(streamed.body)
                .await
                .map_err(|error| Error::Service(error.into()))?;
            payload.extend_from_slice(&rest.to_bytes());
            Ok(payload)
        }
    }

    /// Like [`invoke_bytes`](Self::invoke_bytes), with the Lambda context the invocation would
    /// have on Lambda: the service finds it as a request extension (with its trace id as
    /// `x-amzn-trace-id` when the request has none), and its request id stands in for sources
    /// whose events carry none. Offline, [`invoke`](Self::invoke) hands the service no context.
    pub fn invoke_with_context(
        &self,
        event: Bytes,
        context: lambda_runtime::Context,
    ) -> impl Future<Output = Result<Vec<u8>, Error>> {
        Invocation::new(
            &self.settings,
            self.service.clone(),
            event,
            None,
            Some(Box::new(context)),
            None,
            false,
        )
    }

    /// Converts, calls, encodes; `lambda_request_id` fills the context's request id for sources
    /// whose events carry none; `service_time`, when given, receives the time spent in the
    /// service.
    ///
    /// The answer to each kind of failure:
    /// - an event that is not JSON, of no known shape, from a disabled source, or with a missing or
    ///   mistyped field: `Err` (the invocation fails, `errorType` naming the kind);
    /// - a well-formed event carrying a request `http` cannot represent (a header value with CR/LF,
    ///   an invalid header name or method token...): a 400 in the source's format, since the
    ///   content came from the client;
    /// - a service error, a failing body or a panic: see [`Gateway::on_service_error`] (a generic
    ///   500 by default);
    /// - a response event over the front door's size limit: a 502 saying so.
    ///
    /// The service is asked whether it is ready before the event is read, so the request goes
    /// straight from its conversion into the service's `call`, never into the future's state
    /// (see [`Invocation`]).
    pub(crate) fn handle<'a>(
        &'a self,
        event: Bytes,
        lambda_request_id: Option<&'a str>,
        service_time: Option<&'a mut Duration>,
    ) -> Invocation<'a, S, S::Future, B> {
        Invocation::new(
            &self.settings,
            self.service.clone(),
            event,
            lambda_request_id,
            None,
            service_time,
            false,
        )
    }
}

impl Settings {
    /// Everything before the service call: the event parsed and converted, the source and
    /// header mode recorded in `route` as soon as they are known.
    ///
    /// One `Result` type from the source crate's conversion to the caller: the request (about
    /// 250 bytes) is written once and not re-wrapped on the way.
    #[inline]
    pub(crate) fn prepare(
        &self,
        event: Bytes,
        lambda_request_id: Option<&str>,
        lambda_context: Option<Box<lambda_runtime::Context>>,
        route: &mut Route,
    ) -> Result<Request<Body>, Error> {
        let registry = match registry() {
            Ok(registry) => registry,
            Err(error) => {
                return Err(Error::Internal(format!(
                    "the enabled sources' fields cannot be merged: {error}"
                )));
            }
        };
        // The view is read in place and used by reference: see `EventView::parse`.
        let mut result = EventView::parse(&registry.schema, &event, |view| match view {
            Some(view) => self.convert(registry, view, &event, route),
            None => self.unclaimed(&event, route, None),
        });
        if let Ok(request) = &mut result {
            let lambda_request_id = lambda_request_id.or_else(|| {
                lambda_context
                    .as_ref()
                    .map(|context| context.request_id.as_str())
                    .filter(|id| !id.is_empty())
            });
            if let Some(id) = lambda_request_id {
                if let Some(context) = request.extensions_mut().get_mut::<RequestContext>() {
                    context.or_request_id(|| Some(id.to_owned()));
                }
            }
            if let Some(context) = lambda_context {
                with_lambda_context(request, context);
                // on Lambda, the invocation's span (see `LambdaService`)
                let span = tracing::Span::current();
                span.record("method", request.method().as_str());
                span.record("path", request.uri().path());
            }
            if !self.base_paths.is_empty() {
                base_path::strip_first(request, &self.base_paths);
            }
        }
        result
    }

    /// An event no source claims: passed through when that is on, else the error that says
    /// what it is (`refused`: what a source that refused it said) or what arrived. A payload
    /// that is not JSON is an error either way.
    #[cold]
    fn unclaimed(
        &self,
        event: &Bytes,
        route: &mut Route,
        refused: Option<&'static str>,
    ) -> Result<Request<Body>, Error> {
        let value = detect::json(event)?;
        match &self.pass_through {
            Some(uri) => {
                route.target = Some(Target::PassThrough);
                Ok(crate::pass_through::request(uri, event.clone(), &value))
            }
            None => Err(detect::unrecognized(&value, refused)),
        }
    }

    /// Finds the source of a parsed event (the forced one, or the first enabled source that
    /// claims it) and converts the event.
    fn convert(
        &self,
        registry: &'static Registry,
        view: &EventView<'_>,
        event: &Bytes,
        route: &mut Route,
    ) -> Result<Request<Body>, Error> {
        if let Some(forced) = self.source {
            let Some(registered) = registry.find(forced) else {
                return Err(Error::SourceDisabled {
                    event_source: forced,
                });
            };
            let source_view = view.for_source(&registered.binding);
            if let Claim::Refused(what) = registered.source.claim(&source_view) {
                return self.unclaimed(event, route, Some(what));
            }
            return self.convert_with(registered, &source_view, event, route);
        }
        for registered in &registry.sources {
            if !registered.may_claim(view) {
                continue;
            }
            let source_view = view.for_source(&registered.binding);
            match registered.source.claim(&source_view) {
                Claim::Claimed => {
                    return self.convert_with(registered, &source_view, event, route);
                }
                Claim::Refused(what) => {
                    return self.explain(registry, view, event, route, Some(what));
                }
                Claim::Unclaimed => {}
            }
        }
        self.explain(registry, view, event, route, None)
    }

    /// An event no source claimed (`refused`: what a source that refused it said it is): a near
    /// miss of a source's format is that source's error (a WebSocket event without its
    /// connection id, which REST refuses as WebSocket-shaped, is explained by the WebSocket
    /// source); anything else is unclaimed.
    #[cold]
    fn explain(
        &self,
        registry: &'static Registry,
        view: &EventView<'_>,
        event: &Bytes,
        route: &mut Route,
        refused: Option<&'static str>,
    ) -> Result<Request<Body>, Error> {
        for registered in &registry.sources {
            if let Some(error) = registered
                .source
                .explain(&view.for_source(&registered.binding))
            {
                return Err(error);
            }
        }
        self.unclaimed(event, route, refused)
    }

    /// Converts an event with its source; a mistyped or repeated field is that source's
    /// invalid event.
    #[inline]
    fn convert_with(
        &self,
        registered: &'static Registered,
        event: &SourceView<'_, '_>,
        raw_event: &Bytes,
        route: &mut Route,
    ) -> Result<Request<Body>, Error> {
        let source = registered.source;
        if let Some(problem) = event.problem() {
            return Err(Error::invalid_event(
                source.source(),
                problem.field.clone(),
                problem.reason.clone(),
            ));
        }
        route.target = Some(Target::Source(source));
        route.multi_value = source.multi_value(event);
        if self.stream_responses || !self.stream_rest_routes.is_empty() {
            route.stream = match source.streaming(event) {
                Streaming::Never => false,
                Streaming::Always => self.stream_responses,
                Streaming::IfRouteListed(route) => self
                    .stream_rest_routes
                    .iter()
                    .any(|listed| listed == "*" || *listed == route),
            };
        }
        source.parse_request(event, raw_event.clone())
    }
}

impl Settings {
    /// The answer to an event that gave no request: a 400 in the source's format for a client
    /// fault in a well-formed event, the error itself (a failed invocation) otherwise.
    #[cold]
    pub(crate) fn refuse(&self, error: Error, route: Route) -> Result<Vec<u8>, Error> {
        let Some(Target::Source(source)) = route.target.filter(|_| error.is_client_fault()) else {
            return Err(error);
        };
        warn_or_print!("answering 400 ({}): {}", error.kind(), error; %error, error_type = error.kind(), "answering 400");
        let reason = match &error {
            Error::InvalidRequest { field, reason, .. } => format!("{field}: {reason}"),
            other => other.to_string(),
        };
        let options = self.options(route.multi_value);
        let json = plain(
            source,
            StatusCode::BAD_REQUEST,
            &format!("Bad Request: {reason}\n"),
            options,
            route.stream,
        );
        Ok(within_limit(source, json, options, route.stream))
    }

    /// The response event for the service's response.
    pub(crate) fn answer(
        &self,
        route: Route,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let source = match route.target {
            Some(Target::Source(source)) => source,
            Some(Target::PassThrough) => return crate::pass_through::result(parts, body),
            // a call is made only after the source is known
            None => return Err(Error::Service(POLLED_AFTER_DONE.into())),
        };
        let options = self.options(route.multi_value);
        let json = encode(source, parts, body, options, route.stream);
        Ok(within_limit(source, json, options, route.stream))
    }

    /// The answer to a failed service call: the service's error, its body's, or a panic.
    #[cold]
    pub(crate) fn finish(&self, route: Route, failure: Failure) -> Result<Vec<u8>, Error> {
        let Some(target) = route.target else {
            // a call is made only after the source is known
            return Err(Error::Service(POLLED_AFTER_DONE.into()));
        };
        let options = self.options(route.multi_value);
        let (what, error) = match failure {
            Failure::Error(what, error) => (what, error),
            Failure::Panic(panic) => (
                "the service panicked",
                format!("the service panicked: {}", panic_message(&*panic)).into(),
            ),
        };
        let Target::Source(source) = target else {
            // no HTTP answer to make: the invocation fails, so the platform retries the event
            return Err(Error::Service(error));
        };
        let json = self.service_failure(source, what, error, options, route.stream)?;
        Ok(within_limit(source, json, options, route.stream))
    }

    /// The prelude of a streamed answer to `route`'s source (only called for streaming routes).
    pub(crate) fn prelude(&self, route: Route, parts: &Parts) -> Vec<u8> {
        match route.target {
            Some(Target::Source(source)) => prelude(source, parts, self.options(route.multi_value)),
            _ => Vec::new(),
        }
    }

    fn options(&self, multi_value: bool) -> EncodeOptions<'_> {
        EncodeOptions {
            binary: &self.binary,
            multi_value,
        }
    }

    /// The answer to a failed service, per the configured policy. The failure is logged here
    /// when it is answered; a failed invocation is logged once by whoever reports it (`run`), and
    /// returned to the caller of `invoke`.
    fn service_failure(
        &self,
        source: &'static dyn EventSource,
        what: &str,
        error: BoxError,
        options: EncodeOptions<'_>,
        stream: bool,
    ) -> Result<Vec<u8>, Error> {
        match &self.on_service_error {
            OnServiceError::InternalServerError => {
                error_or_print!("{}; answering 500: {}", what, error; %error, "{what}; answering 500");
                Ok(plain(
                    source,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    options,
                    stream,
                ))
            }
            OnServiceError::FailInvocation => Err(Error::Service(error)),
            OnServiceError::Respond(respond) => {
                error_or_print!(
                    "{}; answering with on_service_error's response: {}", what, error;
                    %error, "{what}; answering with on_service_error's response"
                );
                let (parts, body) = respond(&error).into_parts();
                Ok(encode(source, &parts, body.as_bytes(), options, stream))
            }
        }
    }
}

/// Where an event goes once read: its source and header mode (`None` until detected).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Route {
    pub(crate) target: Option<Target>,
    pub(crate) multi_value: bool,
    /// The answer goes out as a Lambda response stream (see [`Gateway::stream_responses`]).
    pub(crate) stream: bool,
}

impl Route {
    /// The name of who answers, for logs.
    pub(crate) fn source_name(&self) -> &'static str {
        match self.target {
            Some(Target::Source(source)) => source.source().as_str(),
            Some(Target::PassThrough) => Source::PASS_THROUGH.as_str(),
            None => "none",
        }
    }
}

/// Who answers an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// The enabled source that claimed it.
    Source(&'static dyn EventSource),
    /// The service, as a passed-through event.
    PassThrough,
}

/// The tracing header a front door adds to the requests it forwards (API Gateway and ALB do).
const X_AMZN_TRACE_ID: http::HeaderName = http::HeaderName::from_static("x-amzn-trace-id");

/// Hands the invocation's Lambda context to the service as a request extension
/// (`lambda_runtime::Context`, the type `lambda_http` handlers read), and its X-Ray trace id as
/// `x-amzn-trace-id` when the request has no such header.
///
/// `lambda_http` overwrites the header; here the front door's own header is kept: it is the
/// one API Gateway and ALB forwarded (they add or extend it), and the invocation's trace id is in
/// the context either way.
fn with_lambda_context(request: &mut Request<Body>, context: Box<lambda_runtime::Context>) {
    if let Some(trace_id) = context.xray_trace_id.as_deref() {
        if !request.headers().contains_key(&X_AMZN_TRACE_ID) {
            if let Ok(value) = http::HeaderValue::from_str(trace_id) {
                request.headers_mut().insert(X_AMZN_TRACE_ID, value);
            }
        }
    }
    request.extensions_mut().insert(*context);
}

/// `json`, or a 502 saying so when it is over the front door's size limit (a streamed answer's
/// limit is the stream's, far above the small answers written whole here).
fn within_limit(
    source: &'static dyn EventSource,
    json: Vec<u8>,
    options: EncodeOptions<'_>,
    stream: bool,
) -> Vec<u8> {
    let limit = source.response_limit();
    if stream || json.len() <= limit.bytes {
        return json;
    }
    let reason = format!(
        "the response event is {} bytes, over the {} limit of {} bytes",
        json.len(),
        limit.name,
        limit.bytes
    );
    error_or_print!(
        "{}; answering 502", reason;
        size = json.len(),
        limit = limit.bytes,
        "{reason}; answering 502"
    );
    plain(
        source,
        StatusCode::BAD_GATEWAY,
        &format!("Bad Gateway: {reason}\n"),
        options,
        false,
    )
}

/// A user's mapping from a service failure to a response.
type ErrorResponder = Arc<dyn Fn(&BoxError) -> Response<Body> + Send + Sync>;

/// What a service failure (an `Err`, a failing body, a panic) turns into.
#[derive(Clone, Default)]
pub(crate) enum OnServiceError {
    /// A generic 500 (no internal detail reaches the client).
    #[default]
    InternalServerError,
    /// The invocation fails with `lambda_gateway::ServiceError`: Lambda's own error path.
    FailInvocation,
    /// A response of the user's making.
    Respond(ErrorResponder),
}

impl fmt::Debug for OnServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InternalServerError => "InternalServerError",
            Self::FailInvocation => "FailInvocation",
            Self::Respond(_) => "Respond(..)",
        })
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

/// The 8 NUL bytes between a streamed answer's prelude and its body.
pub(crate) const STREAM_DELIMITER: [u8; 8] = [0; 8];

/// Writes the response event in the source's format: its head, then its body fields — or, for a
/// streamed answer (`stream`), the stream's whole payload: the prelude, the delimiter, the body's
/// bytes as they are.
fn encode(
    source: &'static dyn EventSource,
    parts: &Parts,
    body: &[u8],
    options: EncodeOptions<'_>,
    stream: bool,
) -> Vec<u8> {
    if stream {
        let mut payload = prelude(source, parts, options);
        payload.extend_from_slice(&STREAM_DELIMITER);
        payload.extend_from_slice(body);
        return payload;
    }
    let text = options.binary.text_body(&parts.headers, body);
    let mut json = JsonWriter::with_capacity(160 + parts.headers.len() * 48 + body.len() * 4 / 3);
    source.encode_head(parts, &mut json, options);
    source.encode_body(body, text, &mut json);
    json.finish()
}

/// A streamed answer's prelude, in the source's format.
fn prelude(source: &'static dyn EventSource, parts: &Parts, options: EncodeOptions<'_>) -> Vec<u8> {
    let mut json = JsonWriter::with_capacity(160 + parts.headers.len() * 48);
    source.encode_prelude(parts, &mut json, options);
    json.finish()
}

/// A plain-text answer in the source's format (`stream`: see [`encode`]).
fn plain(
    source: &'static dyn EventSource,
    status: StatusCode,
    text: &str,
    options: EncodeOptions<'_>,
    stream: bool,
) -> Vec<u8> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let (parts, ()) = response.into_parts();
    encode(source, &parts, text.as_bytes(), options, stream)
}
