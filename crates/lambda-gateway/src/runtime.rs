//! Running a [`Gateway`] on the Lambda Runtime API through `lambda_runtime`.

use std::{
    collections::HashMap,
    env, fmt,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use lambda_gateway_core::{Body, BoxError, Error};
use lambda_runtime::{
    Diagnostic, LambdaEvent, LambdaInvocation, Runtime, layers::TracingLayer, service_fn,
};
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tower::{Layer, Service};

use crate::Gateway;

/// Event bodies taken off invocations before `lambda_runtime` parses them, by request id.
///
/// `lambda_runtime` deserializes every body into the handler's payload type and answers a body
/// that is not JSON with its own error, before any handler code runs. Taking the body first
/// keeps the bytes exactly as delivered (no parse, no copy) and lets every failure, not-JSON
/// included, be reported as a `lambda_gateway::*` error.
#[derive(Clone, Default)]
struct Stash(Arc<Mutex<HashMap<String, Bytes>>>);

impl Stash {
    fn put(&self, request_id: String, body: Bytes) {
        if let Ok(mut bodies) = self.0.lock() {
            bodies.insert(request_id, body);
        }
    }

    fn take(&self, request_id: &str) -> Option<Bytes> {
        self.0.lock().ok()?.remove(request_id)
    }
}

/// Replaces each invocation's body with `null` after stashing it.
struct StashLayer(Stash);

impl<S> Layer<S> for StashLayer {
    type Service = StashService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        StashService {
            inner,
            stash: self.0.clone(),
        }
    }
}

struct StashService<S> {
    inner: S,
    stash: Stash,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for StashService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        let body = std::mem::replace(&mut invocation.body, Bytes::from_static(b"null"));
        self.stash.put(invocation.context.request_id.clone(), body);
        self.inner.call(invocation)
    }
}

/// An invocation error reported to Lambda, `errorType` naming the kind
/// (`lambda_gateway::InvalidEvent`).
struct InvocationError(Error);

impl fmt::Debug for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Self {
        Diagnostic {
            error_type: error.0.kind().to_owned(),
            error_message: error.0.to_string(),
        }
    }
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
    pub async fn run(self) -> Result<(), BoxError> {
        if env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
            #[cfg(feature = "local")]
            return self.run_local().await;
            #[cfg(not(feature = "local"))]
            return Err("AWS_LAMBDA_RUNTIME_API is not set, so this is not the Lambda execution environment; \
                        enable lambda-gateway's `local` feature to serve on a local HTTP server instead"
                .into());
        }
        check_environment()?;
        let gateway = Arc::new(self);
        let stash = Stash::default();
        let bodies = stash.clone();
        let handler = service_fn(move |event: LambdaEvent<IgnoredAny>| {
            let gateway = Arc::clone(&gateway);
            let body = bodies.take(&event.context.request_id);
            async move {
                // The layer stashes every body before this handler runs.
                let body = body.unwrap_or_default();
                let response = gateway
                    .handle(body, Some(&event.context.request_id), None)
                    .await
                    .map_err(|error| {
                        tracing::warn!(%error, error_type = error.kind(), "invocation failed");
                        InvocationError(error)
                    })?;
                raw_json(response).map_err(InvocationError)
            }
        });
        Runtime::new(handler)
            .layer(TracingLayer::new())
            .layer(StashLayer(stash))
            .run()
            .await
    }
}

/// Hands the already-encoded response event to `lambda_runtime`, which serializes it as is.
fn raw_json(json: Vec<u8>) -> Result<Box<RawValue>, Error> {
    let invalid = |reason: String| Error::ResponseBody(reason.into());
    let text = String::from_utf8(json)
        .map_err(|e| invalid(format!("response event is not UTF-8: {e}")))?;
    RawValue::from_string(text).map_err(|e| invalid(format!("response event is not JSON: {e}")))
}
