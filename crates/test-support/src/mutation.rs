//! What every answer to a corrupted event must look like — shared by lambda-gateway's
//! `tests/mutation.rs` and the cargo-fuzz targets under `fuzz/`.
//!
//! [`Harness::check`] sends one event through [`Gateway::invoke`] with the `Echo` service and
//! checks the answer:
//! - `Err`: one of the kinds that say the event is at fault (`EVENT_FAULT_KINDS`), with a
//!   message that is non-empty and short enough to log (`MAX_MESSAGE`), and the service was
//!   not called;
//! - `Ok`: a JSON object in exactly one source's response format, under that front door's size
//!   limit, with a numeric `statusCode` that tells what happened — 200 or 502 (over the limit)
//!   when the service was called, in the format of the source it was called for; 400 when the
//!   request was refused, with a short reason — and that front door would deliver it
//!   ([`LocalSource::client_response`]).
//!
//! Each event also goes through a second gateway that passes unclaimed events through
//! ([`Gateway::pass_through`]): there an event the first gateway called unrecognized must reach
//! the service as a `POST` and come back as the result byte for byte (the echo answers with the
//! body it got), and every other event must be answered exactly as by the first gateway.
//!
//! A panic is not caught here: the mutation test catches it, the fuzzer reports it as a crash.

use std::{
    convert::Infallible,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
};

use http::{HeaderValue, Request, Response, header::SET_COOKIE};
use lambda_gateway::{Body, Gateway, LocalSource, RequestContext, Source};
use serde_json::Value;

/// The longest error message (and 400 reason) that is still fit for a log line.
const MAX_MESSAGE: usize = 8 * 1024;
/// Lambda's limit on a synchronous response.
const LAMBDA_LIMIT: usize = 6 * 1024 * 1024;
/// ALB's limit on a Lambda target's response.
const ALB_LIMIT: usize = 1024 * 1024;

/// The error kinds an event can fail with: the event is at fault. (`InvalidRequest` is answered
/// with a 400, and the service never fails.)
const EVENT_FAULT_KINDS: &[&str] = &[
    "lambda_gateway::NotJson",
    "lambda_gateway::UnrecognizedEvent",
    "lambda_gateway::InvalidEvent",
];

/// Echoes the request back — its headers, its body, the URI in `x-uri`, plus a `Set-Cookie` —
/// and records which source it was called for. Never panics and never fails, so a 500 or a
/// panic can only come from the library.
#[derive(Debug, Clone, Default)]
struct Echo {
    called: Arc<Mutex<Option<Source>>>,
}

impl Echo {
    fn respond(&self, request: Request<Body>) -> Response<Body> {
        let source = request
            .extensions()
            .get::<RequestContext>()
            .map(RequestContext::source);
        *self.called.lock().unwrap_or_else(|e| e.into_inner()) = source;
        let (parts, body) = request.into_parts();
        let mut response = Response::new(Body::from(body.into_bytes()));
        let headers = response.headers_mut();
        for (name, value) in &parts.headers {
            let _ = headers.try_append(name.clone(), value.clone());
        }
        if let Ok(uri) = HeaderValue::from_str(&parts.uri.to_string()) {
            let _ = headers.try_append("x-uri", uri);
        }
        let _ = headers.try_append(SET_COOKIE, HeaderValue::from_static("echo=1; Path=/"));
        response
    }

    fn take_called(&self) -> Option<Source> {
        self.called.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl tower::Service<Request<Body>> for Echo {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        std::future::ready(Ok(self.respond(request)))
    }
}

/// A gateway serving an echo service, and the checks on its answers.
#[derive(Debug)]
pub struct Harness {
    schema: Result<lambda_gateway_core::event::Schema, lambda_gateway_core::event::SchemaError>,
    echo: Echo,
    gateway: Gateway<Echo>,
    passing: Gateway<Echo>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A harness: both gateways and the echo service they share.
    #[must_use]
    pub fn new() -> Self {
        let echo = Echo::default();
        Self {
            schema: crate::reader::schema(),
            gateway: Gateway::new(echo.clone()),
            passing: Gateway::new(echo.clone()).pass_through("/events"),
            echo,
        }
    }

    /// Invokes the gateway with `event` and checks the answer: a short description of the
    /// outcome (`apigw_rest 200`, `NotJson`), or what is wrong with it.
    ///
    /// # Errors
    ///
    /// What is wrong with the answer.
    pub fn check(&self, event: &[u8]) -> Result<String, String> {
        let schema = self
            .schema
            .as_ref()
            .map_err(|error| format!("the sources' fields do not merge: {error}"))?;
        crate::reader::check(schema, event)?;
        self.echo.take_called();
        let answer = block_on(self.gateway.invoke(event));
        let called = self.echo.take_called();
        let plain = answer
            .as_ref()
            .map_err(lambda_gateway::Error::kind)
            .cloned();
        let outcome = check_answer(answer, called)?;
        let passed = block_on(self.passing.invoke(event));
        check_pass_through(event, &plain, passed, self.echo.take_called())?;
        Ok(outcome)
    }
}

/// With pass-through on: an unrecognized event comes back as the echo's result, the event itself
/// (or fails as over Lambda's limit); everything else is answered as without it.
fn check_pass_through(
    event: &[u8],
    plain: &Result<Vec<u8>, &'static str>,
    passed: Result<Vec<u8>, lambda_gateway::Error>,
    called: Option<Source>,
) -> Result<(), String> {
    match (plain, passed) {
        (Err("lambda_gateway::UnrecognizedEvent"), passed) => match (called, passed) {
            (Some(Source::PASS_THROUGH), Ok(result)) if result == event => Ok(()),
            (Some(Source::PASS_THROUGH), Err(error))
                if error.kind() == "lambda_gateway::InvalidResponse"
                    && event.len() > LAMBDA_LIMIT =>
            {
                Ok(())
            }
            (called, passed) => Err(format!(
                "an unrecognized event was not passed through: called {called:?}, answered {}",
                match passed {
                    Ok(result) => cut(&String::from_utf8_lossy(&result)),
                    Err(error) => cut(&error.to_string()),
                }
            )),
        },
        (Ok(plain), Ok(passed)) if *plain == passed => Ok(()),
        (Err(kind), Err(error)) if *kind == error.kind() => Ok(()),
        (plain, passed) => Err(format!(
            "pass-through changed the answer to an event it does not take: {} vs {}",
            match plain {
                Ok(json) => cut(&String::from_utf8_lossy(json)),
                Err(kind) => (*kind).to_owned(),
            },
            match passed {
                Ok(json) => cut(&String::from_utf8_lossy(&json)),
                Err(error) => error.kind().to_owned(),
            }
        )),
    }
}

/// Polls `future` to completion on this thread (everything `invoke` awaits is ready at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// Text cut for a failure message.
fn cut(text: &str) -> String {
    const SHOWN: usize = 400;
    match text.char_indices().nth(SHOWN) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}... ({} bytes)", &text[..at], text.len()),
    }
}

/// Checks one answer. `called` is the source the service was called for, if it was.
fn check_answer(
    answer: Result<Vec<u8>, lambda_gateway::Error>,
    called: Option<Source>,
) -> Result<String, String> {
    let json = match answer {
        Err(error) => {
            let kind = error.kind();
            let message = error.to_string();
            if !EVENT_FAULT_KINDS.contains(&kind) {
                return Err(format!("unexpected error kind {kind}: {}", cut(&message)));
            }
            if message.trim().is_empty() {
                return Err(format!("{kind} with an empty message"));
            }
            if message.len() > MAX_MESSAGE {
                return Err(format!(
                    "{kind} message is {} bytes, over {MAX_MESSAGE}: {}",
                    message.len(),
                    cut(&message)
                ));
            }
            if called.is_some() {
                return Err(format!(
                    "the service was called, yet the invocation failed: {}",
                    cut(&message)
                ));
            }
            return Ok(kind.trim_start_matches("lambda_gateway::").to_owned());
        }
        Ok(json) => json,
    };
    let value: Value = serde_json::from_slice(&json)
        .map_err(|e| format!("the response event is not JSON: {e}"))?;
    let shown = || cut(&value.to_string());
    let object = value
        .as_object()
        .ok_or("the response event is not an object")?;
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .ok_or("the response event has no numeric statusCode")?;
    let has = |key: &str| object.contains_key(key);
    let only = |allowed: &[&str]| object.keys().all(|k| allowed.contains(&k.as_str()));
    let (format, local) = if has("statusDescription") {
        let keys = [
            "statusCode",
            "statusDescription",
            "headers",
            "multiValueHeaders",
            "body",
            "isBase64Encoded",
        ];
        if !only(&keys) || has("headers") == has("multiValueHeaders") {
            return Err(format!("malformed ALB response: {}", shown()));
        }
        let local = if has("headers") {
            LocalSource::from(&lambda_gateway::alb::local::ALB)
        } else {
            LocalSource::from(&lambda_gateway::alb::local::ALB_MULTI_VALUE)
        };
        (["alb", "vpc_lattice"], local)
    } else if has("multiValueHeaders") {
        if !only(&["statusCode", "multiValueHeaders", "body", "isBase64Encoded"]) {
            return Err(format!("malformed REST response: {}", shown()));
        }
        (
            ["apigw_rest", "apigw_websocket"],
            LocalSource::from(&lambda_gateway::apigw_rest::local::APIGW_REST),
        )
    } else if has("headers") {
        let keys = [
            "statusCode",
            "headers",
            "cookies",
            "body",
            "isBase64Encoded",
        ];
        if !only(&keys) {
            return Err(format!("malformed payload 2.0 response: {}", shown()));
        }
        (
            ["apigw_http", "apigw_websocket"],
            LocalSource::from(&lambda_gateway::apigw_http::local::APIGW_HTTP),
        )
    } else {
        return Err(format!(
            "a response event in no source's format: {}",
            shown()
        ));
    };
    let format = match called {
        Some(source) if format.contains(&source.as_str()) => source.as_str(),
        Some(source) => {
            return Err(format!(
                "the service was called for {source}, but the response is in the {} format",
                format.join("/")
            ));
        }
        None => format[0],
    };
    let limit = if format == "alb" {
        ALB_LIMIT
    } else {
        LAMBDA_LIMIT
    };
    if json.len() > limit {
        return Err(format!(
            "the {format} response event is {} bytes, over the {limit}-byte limit",
            json.len()
        ));
    }
    match called {
        Some(_) if status != 200 && status != 502 => {
            return Err(format!(
                "the service answered 200, yet the status is {status}"
            ));
        }
        None if status != 400 => {
            return Err(format!(
                "the service was not called, yet the status is {status}: {}",
                shown()
            ));
        }
        _ => {}
    }
    if status == 400 {
        let body = object
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if body.len() > MAX_MESSAGE {
            return Err(format!(
                "the 400 body is {} bytes, over {MAX_MESSAGE}",
                body.len()
            ));
        }
    }
    // (the local server emulates the first three sources so far)
    if matches!(format, "alb" | "apigw_rest" | "apigw_http") {
        local
            .client_response(&json)
            .map_err(|e| format!("{local} would not deliver the response: {}", cut(&e)))?;
    }
    Ok(format!("{format} {status}"))
}
