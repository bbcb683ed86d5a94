//! [`Invocation`]: the future of one event, from its bytes to the response event.

use std::{
    any::Any,
    future::Future,
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use bytes::{Buf, Bytes, BytesMut};
use http::{Request, Response, response::Parts};
use lambda_gateway_core::{Body, BoxError, Error};
use pin_project_lite::pin_project;
use tower::Service;

use crate::gateway::{Route, Settings, panic_message};

/// How a service call failed: the service's error or its body's, with what failed; or the
/// payload of a panic in the service's code.
pub(crate) enum Failure {
    /// An `Err` from the service or its body.
    Error(&'static str, BoxError),
    /// A panic.
    Panic(Panic),
}

/// A panic's payload.
pub(crate) type Panic = Box<dyn Any + Send>;

/// What the future says when polled after it completed (the gateway never does that).
pub(crate) const POLLED_AFTER_DONE: &str = "the invocation was polled after it completed";

const SERVICE_FAILED: &str = "the service failed";

pin_project! {
    /// One invocation: the service made ready, the event converted and handed to it, the
    /// response collected and encoded.
    ///
    /// A hand-written state machine rather than nested `async` functions: each level of `async`
    /// keeps its arguments for its whole life, so the request and the service's future were
    /// held two or three times over (a 1.4 KB future, copied whole on every move). Here the
    /// request goes from its conversion straight into the service's `call` and is never part of
    /// the future; each stage holds only what it needs, and the stages share their space.
    ///
    /// Every step that runs the service's code — `poll_ready`, `call`, polling its future and
    /// its body, dropping them — runs under `catch_unwind`: a panic becomes the service-failure
    /// answer, and the process keeps serving.
    pub(crate) struct Invocation<'a, S, F, B> {
        settings: &'a Settings,
        lambda_request_id: Option<&'a str>,
        // on Lambda: the status is recorded on the invocation's span
        traced: bool,
        timer: Timer<'a>,
        // whether the caller takes a streamed answer (only `LambdaService` does)
        streams: bool,
        route: Route,
        #[pin]
        stage: Stage<S, F, B>,
    }
}

/// An answer that goes out as a Lambda response stream: its prelude, then the service's body
/// frame by frame.
pub(crate) struct Streamed<B> {
    pub(crate) prelude: Vec<u8>,
    /// The body's first data frame, already read (none when the body was empty).
    pub(crate) first: Option<Bytes>,
    /// The rest of the body.
    pub(crate) body: Pin<Box<B>>,
}

impl<S, F, B> Invocation<'_, S, F, B> {
    /// Whether the answer goes out as a Lambda response stream (known once the event is read).
    pub(crate) fn streams(&self) -> bool {
        self.route.stream
    }

    /// The front door's limit on a streamed body, if it documents one.
    pub(crate) fn stream_limit(&self) -> Option<lambda_gateway_core::ResponseLimit> {
        match self.route.target {
            Some(crate::gateway::Target::Source(source)) => source.stream_limit(),
            _ => None,
        }
    }

    /// The streamed answer, once the invocation has answered `Ok` with an empty event on a
    /// streaming route (see [`Invocation::new`]).
    pub(crate) fn take_streamed(self: Pin<&mut Self>) -> Option<Streamed<B>> {
        let mut stage = self.project().stage;
        let taken = match stage.as_mut().project() {
            StageProj::Streamed {
                prelude,
                first,
                body,
            } => body.take().map(|body| Streamed {
                prelude: std::mem::take(prelude),
                first: first.take(),
                body,
            }),
            _ => None,
        };
        stage.set(Stage::Done);
        taken
    }
}

pin_project! {
    #[project = StageProj]
    enum Stage<S, F, B> {
        /// Waiting for the service to be ready; then the event is converted and the service
        /// called (with the invocation's Lambda context, when there is one, as an extension).
        /// (Boxed: the context is a few hundred bytes, which would otherwise be part of every
        /// invocation's future, offline too.)
        Ready { service: S, event: Bytes, lambda_context: Option<Box<lambda_runtime::Context>> },
        /// The service's future.
        Calling { #[pin] future: F },
        /// Reading the response body into one [`Bytes`]: a single data frame is kept as it is (no
        /// copy), several are joined once. Trailers are not part of a Lambda response and are
        /// dropped.
        Collecting {
            parts: Option<Parts>,
            #[pin]
            body: B,
            first: Option<Bytes>,
            joined: Option<BytesMut>,
        },
        /// A streaming route's response: its body's first data frame is awaited before anything
        /// is sent, so that a body failing at once is answered like any failure (a 500) rather
        /// than with a stream cut short. (Boxed: the body moves on into the stream.)
        Starting { parts: Option<Parts>, body: Option<Pin<Box<B>>> },
        /// A streaming route's answer, kept for [`Invocation::take_streamed`].
        Streamed { prelude: Vec<u8>, first: Option<Bytes>, body: Option<Pin<Box<B>>> },
        /// The answer was returned.
        Done,
    }
}

impl<'a, S, B> Invocation<'a, S, S::Future, B>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
{
    /// The invocation of `event` by `service` (a clone the invocation owns); `lambda_request_id`
    /// fills the request id for sources whose events carry none, `lambda_context` becomes a
    /// request extension, `service_time` receives the time spent in the service; with `streams`,
    /// a streaming route's answer is kept for [`take_streamed`](Self::take_streamed) (the
    /// invocation's own answer is then empty), which is otherwise answered whole.
    pub(crate) fn new(
        settings: &'a Settings,
        service: S,
        event: Bytes,
        lambda_request_id: Option<&'a str>,
        lambda_context: Option<Box<lambda_runtime::Context>>,
        service_time: Option<&'a mut Duration>,
        streams: bool,
    ) -> Self {
        Self {
            settings,
            lambda_request_id,
            traced: lambda_context.is_some(),
            timer: Timer {
                service_time,
                started: None,
            },
            streams,
            route: Route::default(),
            stage: Stage::Ready {
                service,
                event,
                lambda_context,
            },
        }
    }
}

/// What a step of the stages came to.
enum Step<B> {
    /// The event gave no request (the error to answer with).
    Refused(Error),
    /// The service failed or panicked.
    Failed(Failure),
    /// The response event, encoded straight from the stage's parts and body (nothing moved).
    Answered(Result<Vec<u8>, Error>),
    /// A streaming route's response, its body's first data frame read (none: the body is
    /// empty).
    Stream(Box<Parts>, Pin<Box<B>>, Option<Bytes>),
}

impl<S, B> Future for Invocation<'_, S, S::Future, B>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Vec<u8>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let step = ready!(run_stages(
            this.stage.as_mut(),
            cx,
            this.settings,
            *this.lambda_request_id,
            this.route,
            this.timer,
            *this.streams,
        ));
        // What is left of the stages (the service, a future or body that failed or panicked)
        // is dropped here, a panic in its `Drop` caught as well.
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Done)))
        {
            error_or_print!(
                "dropping the service panicked: {}", panic_message(&*payload);
                panic = panic_message(&*payload),
                "dropping the service panicked"
            );
        }
        let route = *this.route;
        let mut streamed_status = None;
        let answer = match step {
            Step::Refused(error) => this.settings.refuse(error, route),
            Step::Failed(failure) => this.settings.finish(route, failure),
            Step::Answered(answer) => answer,
            Step::Stream(parts, body, first) => {
                streamed_status = Some(parts.status.as_u16());
                let prelude = this.settings.prelude(route, &parts);
                this.stage.set(Stage::Streamed {
                    prelude,
                    first,
                    body: Some(body),
                });
                Ok(Vec::new())
            }
        };
        if *this.traced {
            // on Lambda, once the answer is final (a 502 may have replaced the service's status)
            let span = tracing::Span::current();
            span.record("source", route.source_name());
            let status = streamed_status.or_else(|| answer.as_deref().ok().and_then(event_status));
            if let Some(status) = status {
                span.record("status", status);
            }
        }
        Poll::Ready(answer)
    }
}

/// Runs the stages as far as they go.
fn run_stages<S, B>(
    mut stage: Pin<&mut Stage<S, S::Future, B>>,
    cx: &mut Context<'_>,
    settings: &Settings,
    lambda_request_id: Option<&str>,
    route: &mut Route,
    timer: &mut Timer<'_>,
    streams: bool,
) -> Poll<Step<B>>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    loop {
        match stage.as_mut().project() {
            StageProj::Ready {
                service,
                event,
                lambda_context,
            } => {
                let mut not_ready = match ready!(guarded(|| service.poll_ready(cx))) {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => Some(Failure::Error(SERVICE_FAILED, error.into())),
                    Err(panic) => Some(Failure::Panic(panic)),
                };
                // The event is converted even when the service failed: a faulty event is
                // refused as it would be with a working service, and a good one tells the
                // source whose format the failure is answered in. The conversion runs inside
                // the guard with `call`, so the request goes from one to the other without a
                // copy into the closure (a panic in the conversion, a bug, is answered as a
                // service panic rather than ending the process).
                let event = std::mem::take(event);
                let lambda_context = lambda_context.take();
                let called = panic::catch_unwind(AssertUnwindSafe(|| {
                    let request = settings
                        .prepare(event, lambda_request_id, lambda_context, route)
                        .map_err(Step::Refused)?;
                    // a caller that does not take a stream (`invoke`) is answered whole
                    route.stream &= streams;
                    if let Some(failure) = not_ready.take() {
                        return Err(Step::Failed(failure));
                    }
                    timer.start();
                    Ok(service.call(request))
                }));
                let future = match called {
                    Ok(Ok(future)) => future,
                    Ok(Err(step)) => return Poll::Ready(step),
                    Err(panic) => return Poll::Ready(Step::Failed(Failure::Panic(panic))),
                };
                // dropping the service's clone runs the service's code too
                let set = panic::catch_unwind(AssertUnwindSafe(|| {
                    stage.set(Stage::Calling { future });
                }));
                if let Err(panic) = set {
                    return Poll::Ready(Step::Failed(Failure::Panic(panic)));
                }
            }
            StageProj::Calling { future } => {
                let (parts, body) = match ready!(guarded(|| future.poll(cx))) {
                    Ok(Ok(response)) if route.stream => {
                        let (parts, body) = response.into_parts();
                        // dropping the finished future runs the service's code too
                        let set = panic::catch_unwind(AssertUnwindSafe(|| {
                            stage.set(Stage::Starting {
                                parts: Some(parts),
                                body: Some(Box::pin(body)),
                            });
                        }));
                        if let Err(panic) = set {
                            timer.stop();
                            return Poll::Ready(Step::Failed(Failure::Panic(panic)));
                        }
                        continue;
                    }
                    Ok(Ok(response)) => response.into_parts(),
                    Ok(Err(error)) => {
                        timer.stop();
                        return Poll::Ready(Step::Failed(Failure::Error(
                            SERVICE_FAILED,
                            error.into(),
                        )));
                    }
                    Err(panic) => {
                        timer.stop();
                        return Poll::Ready(Step::Failed(Failure::Panic(panic)));
                    }
                };
                // dropping the finished future runs the service's code too
                let set = panic::catch_unwind(AssertUnwindSafe(|| {
                    stage.set(Stage::Collecting {
                        parts: Some(parts),
                        body,
                        first: None,
                        joined: None,
                    });
                }));
                if let Err(panic) = set {
                    timer.stop();
                    return Poll::Ready(Step::Failed(Failure::Panic(panic)));
                }
            }
            StageProj::Collecting {
                parts,
                body,
                first,
                joined,
            } => {
                let collected = ready!(guarded(|| collect(body, first, joined, cx)));
                timer.stop();
                return Poll::Ready(match (collected, parts.as_ref()) {
                    (Ok(Ok(body)), Some(parts)) => {
                        Step::Answered(settings.answer(*route, parts, &body))
                    }
                    (Ok(Ok(_)), None) => {
                        Step::Failed(Failure::Error(SERVICE_FAILED, POLLED_AFTER_DONE.into()))
                    }
                    (Ok(Err(error)), _) => {
                        Step::Failed(Failure::Error("the response body failed", error.into()))
                    }
                    (Err(panic), _) => Step::Failed(Failure::Panic(panic)),
                });
            }
            StageProj::Starting { parts, body } => {
                let Some(stream) = body.as_mut() else {
                    return Poll::Ready(Step::Refused(Error::Service(POLLED_AFTER_DONE.into())));
                };
                let first = loop {
                    match ready!(guarded(|| stream.as_mut().poll_frame(cx))) {
                        Ok(None) => break None,
                        Ok(Some(Ok(frame))) => match frame.into_data() {
                            Ok(mut data) if data.has_remaining() => {
                                break Some(data.copy_to_bytes(data.remaining()));
                            }
                            // an empty frame, or trailers (a Lambda response has none)
                            _ => {}
                        },
                        Ok(Some(Err(error))) => {
                            timer.stop();
                            return Poll::Ready(Step::Failed(Failure::Error(
                                "the response body failed",
                                error.into(),
                            )));
                        }
                        Err(panic) => {
                            timer.stop();
                            return Poll::Ready(Step::Failed(Failure::Panic(panic)));
                        }
                    }
                };
                timer.stop();
                let (Some(head), Some(stream)) = (parts.take(), body.take()) else {
                    return Poll::Ready(Step::Refused(Error::Service(POLLED_AFTER_DONE.into())));
                };
                return Poll::Ready(Step::Stream(Box::new(head), stream, first));
            }
            StageProj::Streamed { .. } | StageProj::Done => {
                return Poll::Ready(Step::Refused(Error::Service(POLLED_AFTER_DONE.into())));
            }
        }
    }
}

/// The status a response event carries: every source writes `statusCode` first (see
/// `EventSource::encode_head`); `None` for a pass-through result.
fn event_status(event: &[u8]) -> Option<u16> {
    let digits = event.strip_prefix(br#"{"statusCode":"#)?.get(..3)?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The time spent in the service, when asked for.
struct Timer<'a> {
    service_time: Option<&'a mut Duration>,
    started: Option<Instant>,
}

impl Timer<'_> {
    /// The service is called.
    #[inline]
    fn start(&mut self) {
        if self.service_time.is_some() {
            self.started = Some(Instant::now());
        }
    }

    /// The service answered (or failed): the time since `start` is recorded.
    #[inline]
    fn stop(&mut self) {
        if let (Some(started), Some(service_time)) = (self.started, self.service_time.as_mut()) {
            **service_time = started.elapsed();
        }
    }
}

/// Polls the body to its end, keeping the first chunk and joining any more.
fn collect<B: http_body::Body>(
    mut body: Pin<&mut B>,
    first: &mut Option<Bytes>,
    joined: &mut Option<BytesMut>,
    cx: &mut Context<'_>,
) -> Poll<Result<Bytes, B::Error>> {
    // `is_end_stream` spares the poll that would only say the body is over (one-chunk bodies)
    while !body.is_end_stream() {
        let Some(frame) = ready!(body.as_mut().poll_frame(cx)) else {
            break;
        };
        let Ok(mut data) = frame?.into_data() else {
            continue;
        };
        let chunk = data.copy_to_bytes(data.remaining());
        match (&*first, &mut *joined) {
            (None, _) => *first = Some(chunk),
            (Some(first), None) => {
                let mut buffer = BytesMut::with_capacity(first.len() + chunk.len());
                buffer.extend_from_slice(first);
                buffer.extend_from_slice(&chunk);
                *joined = Some(buffer);
            }
            (Some(_), Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    Poll::Ready(Ok(match joined.take() {
        Some(joined) => joined.freeze(),
        None => first.take().unwrap_or_default(),
    }))
}

/// Runs one poll of the service's code, a panic ending the wait with its payload.
#[inline]
fn guarded<T>(poll: impl FnOnce() -> Poll<T>) -> Poll<Result<T, Panic>> {
    match panic::catch_unwind(AssertUnwindSafe(poll)) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::VecDeque,
        convert::Infallible,
        sync::{
            Arc, Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        task::{Wake, Waker},
    };

    use http::HeaderMap;
    use http_body::Frame;
    use lambda_gateway_core::RequestContext;
    use serde_json::Value;

    use super::*;
    use crate::Gateway;

    const ALB_EVENT: &[u8] = br#"{"requestContext":{"elb":{"targetGroupArn":"arn"}},
        "httpMethod":"GET","path":"/","headers":{"host":"example.com"},"body":"","isBase64Encoded":false}"#;

    /// Counts wake-ups, so a test can tell a `Pending` was paired with a wake.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polls to completion, counting the polls.
    fn run<F: Future>(future: F) -> (F::Output, usize) {
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(waker);
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        for polls in 1..100 {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return (output, polls);
            }
        }
        panic!("the invocation did not complete in 100 polls");
    }

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    /// A service that is not ready on its first poll, and answers with the request id it saw.
    #[derive(Clone)]
    struct SlowToStart(Arc<AtomicUsize>);

    impl Service<Request<Body>> for SlowToStart {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(Ok(()))
            }
        }

        fn call(&mut self, request: Request<Body>) -> Self::Future {
            let id = request
                .extensions()
                .get::<RequestContext>()
                .and_then(RequestContext::request_id)
                .unwrap_or("none")
                .to_owned();
            std::future::ready(Ok(Response::new(Body::from(id))))
        }
    }

    #[test]
    fn a_service_not_ready_at_first_gets_the_event_and_request_id_later() {
        let gateway = Gateway::new(SlowToStart(Arc::default()));
        let mut service_time = Duration::MAX;
        let (answer, polls) = run(gateway.handle(
            Bytes::from_static(ALB_EVENT),
            Some("lambda-id"),
            Some(&mut service_time),
        ));
        assert_eq!(json(&answer.unwrap())["body"], "lambda-id");
        assert_eq!(polls, 2);
        assert!(service_time < Duration::MAX, "the service time is recorded");
    }

    /// A body yielding the queued frames, then the error, if any.
    struct Frames(VecDeque<Result<Frame<Bytes>, &'static str>>);

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = &'static str;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
            Poll::Ready(self.0.pop_front())
        }
    }

    fn answer_with(frames: Vec<Result<Frame<Bytes>, &'static str>>) -> Result<Vec<u8>, Error> {
        let frames = Arc::new(Mutex::new(Some(frames)));
        let gateway = Gateway::new(tower::service_fn(move |_request: Request<Body>| {
            let frames = frames.lock().unwrap().take().unwrap_or_default();
            async move { Ok::<_, Infallible>(Response::new(Frames(frames.into()))) }
        }));
        run(gateway.invoke(ALB_EVENT)).0
    }

    #[test]
    fn body_frames_are_joined_and_trailers_dropped() {
        let answer = answer_with(vec![
            Ok(Frame::data(Bytes::from_static(b"one "))),
            Ok(Frame::trailers(HeaderMap::new())),
            Ok(Frame::data(Bytes::from_static(b"two "))),
            Ok(Frame::data(Bytes::from_static(b"three"))),
        ]);
        assert_eq!(json(&answer.unwrap())["body"], "one two three");
    }

    #[test]
    fn a_failing_body_is_a_500() {
        let answer = answer_with(vec![
            Ok(Frame::data(Bytes::from_static(b"x"))),
            Err("broken"),
        ]);
        assert_eq!(json(&answer.unwrap())["statusCode"], 500);
    }

    /// Panics where the switch says.
    #[derive(Clone, Copy)]
    enum PanicIn {
        PollReady,
        Call,
        Future,
        Body,
        /// Dropping the invocation's clone of the service.
        Drop,
    }

    /// The gateway's own copy never panics; the clone an invocation makes does.
    struct Panicking(PanicIn, bool);

    impl Clone for Panicking {
        fn clone(&self) -> Self {
            Self(self.0, true)
        }
    }

    impl Drop for Panicking {
        fn drop(&mut self) {
            assert!(
                !(self.1 && matches!(self.0, PanicIn::Drop)),
                "drop panicked"
            );
        }
    }

    struct PanickingBody;

    impl http_body::Body for PanickingBody {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            panic!("the body panicked")
        }
    }

    impl Service<Request<Body>> for Panicking {
        type Response = Response<PanickingBody>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Response<PanickingBody>, Infallible>>>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            assert!(!matches!(self.0, PanicIn::PollReady), "poll_ready panicked");
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: Request<Body>) -> Self::Future {
            assert!(!matches!(self.0, PanicIn::Call), "call panicked");
            let panic_in = self.0;
            Box::pin(async move {
                assert!(!matches!(panic_in, PanicIn::Future), "the future panicked");
                Ok(Response::new(PanickingBody))
            })
        }
    }

    #[test]
    fn a_panic_anywhere_in_the_service_is_a_500() {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let answers: Vec<_> = [
            PanicIn::PollReady,
            PanicIn::Call,
            PanicIn::Future,
            PanicIn::Body,
            PanicIn::Drop,
        ]
        .into_iter()
        .map(|panic_in| run(Gateway::new(Panicking(panic_in, false)).invoke(ALB_EVENT)).0)
        .collect();
        panic::set_hook(previous);
        for answer in answers {
            let answer = json(&answer.unwrap());
            assert_eq!(answer["statusCode"], 500, "{answer}");
            assert_eq!(answer["body"], "Internal Server Error", "{answer}");
        }
    }

    #[test]
    #[cfg(feature = "local")]
    fn every_sources_answer_starts_with_its_status() {
        let gateway = Gateway::new(tower::service_fn(|_request: Request<Body>| async {
            let mut response = Response::new(Body::from("x"));
            *response.status_mut() = http::StatusCode::IM_A_TEAPOT;
            Ok::<_, Infallible>(response)
        }));
        let parts = Request::get("/s")
            .header("host", "example.com")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        for source in crate::LocalSource::enabled() {
            let event = source.request_event(&parts, b"");
            let answer = run(gateway.invoke(&event)).0.unwrap();
            assert_eq!(event_status(&answer), Some(418), "{source}");
        }
        assert_eq!(event_status(b"null"), None, "a pass-through result");
    }

    /// A Function URL event, answered by `frames` on a gateway that streams.
    #[cfg(all(feature = "apigw_http", feature = "local"))]
    fn stream_of(
        frames: Vec<Result<Frame<Bytes>, &'static str>>,
    ) -> (Vec<u8>, Option<Streamed<Frames>>) {
        let frames = Arc::new(Mutex::new(Some(frames)));
        let gateway = Gateway::new(tower::service_fn(move |_request: Request<Body>| {
            let frames = frames.lock().unwrap().take().unwrap_or_default();
            async move { Ok::<_, Infallible>(Response::new(Frames(frames.into()))) }
        }))
        .stream_responses();
        let parts = Request::get("/s").body(()).unwrap().into_parts().0;
        let event = crate::LocalSource::from(&crate::apigw_http::local::FUNCTION_URL)
            .request_event(&parts, b"");
        let invocation = Invocation::new(
            &gateway.settings,
            gateway.service.clone(),
            Bytes::from(event),
            None,
            None,
            None,
            true,
        );
        let mut invocation = std::pin::pin!(invocation);
        let answer = run(invocation.as_mut()).0.unwrap();
        assert!(invocation.streams());
        (answer, invocation.as_mut().take_streamed())
    }

    #[test]
    #[cfg(all(feature = "apigw_http", feature = "local"))]
    fn a_stream_starts_with_the_first_frame_and_a_body_failing_at_once_is_a_500() {
        let (answer, streamed) = stream_of(vec![
            Ok(Frame::data(Bytes::new())),
            Ok(Frame::data(Bytes::from_static(b"one"))),
            Ok(Frame::data(Bytes::from_static(b"two"))),
        ]);
        assert!(answer.is_empty(), "streamed, not answered whole");
        let streamed = streamed.expect("the stream");
        assert_eq!(streamed.first.as_deref(), Some(&b"one"[..]));
        assert!(streamed.prelude.starts_with(br#"{"statusCode":200"#));

        // failing before its first byte: the service-failure answer, whole, in stream format
        let (answer, streamed) = stream_of(vec![Err("broken at once")]);
        assert!(streamed.is_none());
        let (prelude, body) = crate::stream::split_payload(&answer);
        assert!(
            prelude.starts_with(br#"{"statusCode":500"#),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(body, b"Internal Server Error");
    }

    #[test]
    fn a_refused_event_never_reaches_the_service() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let gateway = Gateway::new(tower::service_fn(move |_request: Request<Body>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Body::empty())) }
        }));
        // a header value with a raw newline: a client fault, answered 400
        let bad_header = br#"{"requestContext":{"elb":{}},"httpMethod":"GET","path":"/",
            "headers":{"x-bad":"a\nb"},"body":"","isBase64Encoded":false}"#;
        let answer = json(&run(gateway.invoke(bad_header)).0.unwrap());
        assert_eq!(answer["statusCode"], 400, "{answer}");
        // not an event at all: the invocation fails
        assert!(run(gateway.invoke(b"[1, 2]")).0.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    #[cfg(all(feature = "apigw_rest", feature = "apigw_websocket"))]
    fn authorizer_and_websocket_events_are_never_served_as_rest_requests() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let counted = Arc::clone(&calls);
        let service = tower::service_fn(move |request: Request<Body>| {
            let source = request
                .extensions()
                .get::<RequestContext>()
                .map(RequestContext::source);
            counted.lock().unwrap().push(source);
            async { Ok::<_, Infallible>(Response::new(Body::empty())) }
        });
        let request_authorizer = br#"{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/",
            "resource":"/","path":"/","httpMethod":"GET","headers":{},"requestContext":{"requestId":"r"}}"#;
        let websocket_connect = br#"{"httpMethod":"GET","path":"/","headers":{},
            "requestContext":{"routeKey":"$connect","eventType":"CONNECT","connectionId":"c1","requestId":"r"}}"#;
        // forced to REST: neither is a REST request
        let forced = Gateway::new(service.clone()).source(crate::apigw_rest::SOURCE);
        for event in [&request_authorizer[..], &websocket_connect[..]] {
            let error = run(forced.invoke(event)).0.unwrap_err();
            assert_eq!(error.kind(), "lambda_gateway::UnrecognizedEvent", "{error}");
        }
        // detected: the authorizer request is no HTTP request; the WebSocket event is the
        // WebSocket source's
        let detecting = Gateway::new(service);
        let error = run(detecting.invoke(request_authorizer)).0.unwrap_err();
        assert_eq!(error.kind(), "lambda_gateway::UnrecognizedEvent", "{error}");
        assert!(run(detecting.invoke(websocket_connect)).0.is_ok());
        assert_eq!(
            *calls.lock().unwrap(),
            [Some(crate::apigw_websocket::SOURCE)]
        );
    }
}
