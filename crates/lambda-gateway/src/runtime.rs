//! Running a [`Gateway`] on the Lambda Runtime API through `lambda_runtime`.

use std::{
    any::Any,
    convert::Infallible,
    env,
    future::Future,
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Method, Request, Response};
use lambda_gateway_core::{Body, BoxError, Error};
use lambda_runtime::{
    Diagnostic, LambdaEvent, LambdaInvocation, Runtime, layers::TracingLayer, service_fn,
};
use lambda_runtime_api_client::{Client, RuntimeApiClient, build_request};
use serde_json::value::RawValue;
use tower::{Layer, Service};

use crate::Gateway;

/// Answers each invocation with the gateway, before `lambda_runtime`'s handler chain sees it.
///
/// `lambda_runtime` parses every event into the handler's payload type and logs every handler
/// error at ERROR level as it passes its panic guard — a bad event would be logged twice and
/// look like a panic. So the gateway runs here, on the event's bytes exactly as delivered (no
/// parse, no copy; a body that is not JSON is a `lambda_gateway::NotJson` like any other fault):
/// - answered: the response event replaces the invocation's body and goes on to the handler
///   chain, whose handler hands it back as the invocation's response;
/// - failed: the failure is logged once (WARN when the event is at fault, ERROR otherwise) and
///   reported to the Runtime API's `/error` endpoint here, `errorType` naming its kind.
///
/// (`lambda_runtime`'s TRACE-level record of "the raw JSON event" therefore shows the response
/// event: what its handler chain receives.)
struct GatewayLayer<S> {
    gateway: Arc<Gateway<S>>,
    client: Arc<Client>,
}

impl<S, I> Layer<I> for GatewayLayer<S> {
    type Service = GatewayService<S, I>;

    fn layer(&self, inner: I) -> Self::Service {
        GatewayService {
            gateway: Arc::clone(&self.gateway),
            client: Arc::clone(&self.client),
            inner,
        }
    }
}

struct GatewayService<S, I> {
    gateway: Arc<Gateway<S>>,
    client: Arc<Client>,
    inner: I,
}

impl<S, B, I> Service<LambdaInvocation> for GatewayService<S, I>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
    I: Service<LambdaInvocation, Response = (), Error = BoxError> + Clone + Send + 'static,
    I::Future: Send,
{
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        // the ready service goes into the future, a fresh clone stays for the next call
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gateway = Arc::clone(&self.gateway);
        let client = Arc::clone(&self.client);
        Box::pin(async move {
            let event = std::mem::take(&mut invocation.body);
            let handling = gateway.handle(event, Some(&invocation.context.request_id), None);
            // The service's own code is guarded inside `handle`; this catches a panic of the
            // gateway itself, which would otherwise end `run`.
            let handled = CatchPanic { future: handling }
                .await
                .unwrap_or_else(|panic| {
                    Err(Error::Internal(format!(
                        "panicked: {}",
                        crate::gateway::panic_message(&*panic)
                    )))
                });
            match handled {
                Ok(response) => {
                    invocation.body = Bytes::from(response);
                    inner.call(invocation).await
                }
                Err(error) => {
                    log_failure(&error);
                    report_failure(&*client, &invocation, &error).await
                }
            }
        })
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

/// The one log record of a failed invocation.
fn log_failure(error: &Error) {
    if error.is_event_fault() {
        tracing::warn!(error_type = error.kind(), %error, "invocation failed");
    } else {
        tracing::error!(error_type = error.kind(), %error, "invocation failed");
    }
}

/// The header that echoes an invocation's id back to the Runtime API (it rejects stale answers
/// with it); absent with older Runtime API versions.
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";

/// Posts a failed invocation to the Runtime API's `/error` endpoint, as `lambda_runtime` would
/// for a handler error: `{"errorType", "errorMessage"}`.
async fn report_failure(
    client: &impl RuntimeApiClient,
    invocation: &LambdaInvocation,
    error: &Error,
) -> Result<(), BoxError> {
    let diagnostic = Diagnostic {
        error_type: error.kind().to_owned(),
        error_message: error.to_string(),
    };
    let uri = format!(
        "/2018-06-01/runtime/invocation/{}/error",
        invocation.context.request_id
    );
    let mut request = build_request()
        .method(Method::POST)
        .uri(uri)
        .header("lambda-runtime-function-error-type", "unhandled");
    if let Some(id) = invocation.parts.headers.get(INVOCATION_ID) {
        request = request.header(INVOCATION_ID, id);
    }
    let request = request
        .body(serde_json::to_vec(&diagnostic)?.into())
        .map_err(|e| format!("cannot build the Runtime API error request: {e}"))?;
    let response = client.call(request).await?;
    if !response.status().is_success() {
        tracing::error!(
            status = response.status().as_u16(),
            "the Runtime API refused the invocation's error report"
        );
    }
    Ok(())
}

/// The Lambda environment `lambda_runtime` needs (it panics without it): checked up front so a
/// missing variable is an error that names it.
fn check_environment() -> Result<(), BoxError> {
    for name in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
    ] {
        if env::var_os(name).is_none() {
            return Err(format!(
                "environment variable {name} is not set; expected the Lambda execution environment"
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

impl<S, B> Gateway<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Serves events from the Lambda Runtime API until the process is stopped.
    ///
    /// Off Lambda — `AWS_LAMBDA_RUNTIME_API` unset — it serves the app on a local HTTP server
    /// instead (the `local` feature, on by default; see [`serve_local`](Self::serve_local)).
    /// On Lambda it fails at start when a function variable is missing.
    ///
    /// Its errors are [`RunError`](crate::RunError)s: returned from `main`, they print their
    /// message.
    pub async fn run(self) -> Result<(), BoxError> {
        self.run_on_lambda_or_locally()
            .await
            .map_err(crate::RunError::wrap)
    }

    async fn run_on_lambda_or_locally(self) -> Result<(), BoxError> {
        let gateway = self.with_environment();
        if env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
            #[cfg(feature = "local")]
            return gateway.run_local().await;
            #[cfg(not(feature = "local"))]
            return Err("AWS_LAMBDA_RUNTIME_API is not set, so this is not the Lambda execution environment; \
                        enable lambda-gateway's `local` feature to serve on a local HTTP server instead"
                .into());
        }
        check_environment()?;
        let client = Client::builder()
            .build()
            .map_err(|e| format!("cannot reach the Lambda Runtime API: {e}"))?;
        let layer = GatewayLayer {
            gateway: Arc::new(gateway),
            client: Arc::new(client),
        };
        // What reaches the handler is the response event the gateway already encoded.
        let respond = service_fn(|event: LambdaEvent<Box<RawValue>>| async move {
            Ok::<_, Infallible>(event.payload)
        });
        Runtime::new(respond)
            .layer(layer)
            .layer(TracingLayer::new())
            .run()
            .await
    }
}
