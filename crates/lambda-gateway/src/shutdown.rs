//! Graceful shutdown: the hook set with [`Gateway::on_shutdown`](crate::Gateway::on_shutdown),
//! the signals that run it, and the internal extension that makes Lambda send them.
//!
//! Lambda sends the runtime process SIGTERM before it shuts an execution environment down only
//! when at least one extension is registered (the time it allows: see `Gateway::on_shutdown`).
//! So when a hook is set, `run` registers one internal extension that subscribes to no events —
//! the same arrangement as `lambda_runtime`'s `graceful-shutdown` feature, written here because
//! that one panics when the registration fails.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use lambda_gateway_core::BoxError;
use lambda_runtime_api_client::{RuntimeApiClient, body::Body, build_request};

/// The name the internal extension registers under (unique within a function).
pub(crate) const EXTENSION_NAME: &str = "lambda-gateway-graceful-shutdown";

/// The most of the Extensions API's answers read (they are a few hundred bytes).
const ANSWER_LIMIT: usize = 64 * 1024;

/// How long the registration may take: it is on the way to the first invocation.
const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The pause before the extension asks for its next event again, when its wait ended.
const WAIT_AGAIN_AFTER: Duration = Duration::from_secs(1);

type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The future to run once on shutdown; clones share it, and whoever takes it first runs it.
#[derive(Clone)]
pub(crate) struct ShutdownHook(Arc<Mutex<Option<HookFuture>>>);

impl ShutdownHook {
    pub(crate) fn new(hook: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Some(Box::pin(hook)))))
    }

    /// Runs the hook, if no one ran it yet.
    pub(crate) async fn run(self) {
        let hook = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(hook) = hook {
            tracing::debug!("running the shutdown hook");
            hook.await;
        }
    }
}

impl fmt::Debug for ShutdownHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutdownHook(..)")
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C), whichever can be listened for; never when neither
/// can (the failure is logged: the process then stops without its graceful steps).
pub(crate) async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind, name: &str| match signal(kind) {
            Ok(signal) => Some(signal),
            Err(error) => {
                error_or_print!(
                    "cannot listen for {}: {}; it will stop the process without its graceful steps", name, error;
                    %error, signal = name, "cannot listen for the signal; it will stop the process without its graceful steps"
                );
                None
            }
        };
        let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
        let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
        /// Waits for `signal`; forever when it could not be listened for.
        async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = received(terminate.as_mut()) => tracing::debug!("SIGTERM received"),
            () = received(interrupt.as_mut()) => tracing::debug!("SIGINT received"),
        }
    }
    #[cfg(not(unix))]
    {
        if let Err(error) = tokio::signal::ctrl_c().await {
            error_or_print!(
                "cannot listen for Ctrl-C: {}; it will stop the process without its graceful steps", error;
                %error, "cannot listen for Ctrl-C; it will stop the process without its graceful steps"
            );
            std::future::pending::<()>().await;
        }
    }
}

/// Registers the internal extension that makes Lambda send SIGTERM, and keeps it waiting on the
/// Extensions API (an extension must ask for its next event to let the Init phase end; with no
/// events subscribed the request stays open until the environment stops).
///
/// Must run before the runtime asks for its first invocation. A failure is returned, saying what
/// the Extensions API answered.
pub(crate) async fn register_extension<C>(client: Arc<C>) -> Result<(), BoxError>
where
    C: RuntimeApiClient + Send + Sync + 'static,
{
    let request = build_request()
        .method(Method::POST)
        .uri("/2020-01-01/extension/register")
        .header("lambda-extension-name", EXTENSION_NAME)
        .header("content-type", "application/json")
        .body(Body::from(r#"{"events":[]}"#))?;
    let response = tokio::time::timeout(REGISTRATION_TIMEOUT, client.call(request))
        .await
        .map_err(|_| {
            format!(
                "the Lambda Extensions API did not answer the shutdown extension's registration \
                 within {REGISTRATION_TIMEOUT:?}"
            )
        })?
        .map_err(|e| {
            format!("cannot reach the Lambda Extensions API to register for SIGTERM: {e}")
        })?;
    let status = response.status();
    let identifier = response
        .headers()
        .get("lambda-extension-identifier")
        .cloned();
    let answer = read_answer(response.into_body()).await;
    if status != StatusCode::OK {
        return Err(format!(
            "the Lambda Extensions API refused to register the shutdown extension: status {status}, {answer}; expected 200 OK"
        )
        .into());
    }
    let Some(identifier) = identifier else {
        return Err(
            "the Lambda Extensions API registered the shutdown extension without a \
             Lambda-Extension-Identifier header; expected one"
                .into(),
        );
    };
    tokio::spawn(async move {
        // Subscribed to no event, the request is answered only if Lambda has something to say
        // to every extension, or the connection ends (a SnapStart restore): the extension asks
        // again after a pause, as an extension must keep doing.
        loop {
            let next = build_request()
                .method(Method::GET)
                .uri("/2020-01-01/extension/event/next")
                .header("lambda-extension-identifier", identifier.clone())
                .body(Body::empty());
            let Ok(next) = next else {
                return;
            };
            match client.call(next).await {
                Ok(response) => tracing::debug!(
                    status = response.status().as_u16(),
                    "the Extensions API answered the shutdown extension's wait"
                ),
                Err(error) => tracing::debug!(%error, "the shutdown extension's wait ended"),
            }
            tokio::time::sleep(WAIT_AGAIN_AFTER).await;
        }
    });
    Ok(())
}

/// The start of an answer's body, for error messages.
async fn read_answer<B>(body: B) -> String
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    match http_body_util::Limited::new(body, ANSWER_LIMIT)
        .collect()
        .await
    {
        Ok(body) => {
            let body: Bytes = body.to_bytes();
            format!(
                "body {:?}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        }
        Err(error) => format!("a body that could not be read ({error})"),
    }
}
