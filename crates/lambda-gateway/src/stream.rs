//! Lambda response streaming on the Runtime API: the request that carries a streamed answer,
//! and its body — the prelude, the 8 NUL bytes, then the service's body frame by frame, a
//! failure after the first frame ending it with the Runtime API's error trailers.

use std::{
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body::Frame;
use lambda_gateway_core::{BoxError, ResponseLimit, encoding::encode_base64};
use lambda_runtime::Diagnostic;
use lambda_runtime_api_client::{body, build_request};

use crate::{
    gateway::{STREAM_DELIMITER, panic_message},
    invocation::Streamed,
};

/// The trailer that names a failure after the stream began.
const ERROR_TYPE: HeaderName = HeaderName::from_static("lambda-runtime-function-error-type");
/// The trailer that describes it: base64 of `{"errorType", "errorMessage"}`.
const ERROR_BODY: HeaderName = HeaderName::from_static("lambda-runtime-function-error-body");
/// The error type of a body that failed mid-stream, as the invocation's would be.
const BODY_FAILED: &str = "lambda_gateway::ServiceError";

/// `POST /2018-06-01/runtime/invocation/{id}/response` in streaming mode, its body `body`
/// after `prelude` and the delimiter.
pub(crate) fn stream_request<B>(
    request_id: &str,
    invocation_id: Option<HeaderValue>,
    prelude: Vec<u8>,
    body: StreamedBody<B>,
) -> Result<Request<body::Body>, BoxError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut request = build_request()
        .method(Method::POST)
        .uri(format!(
            "/2018-06-01/runtime/invocation/{request_id}/response"
        ))
        .header("lambda-runtime-function-response-mode", "streaming")
        .header("transfer-encoding", "chunked")
        // hyper sends only the trailers declared here
        .header("trailer", ERROR_TYPE.as_str())
        .header("trailer", ERROR_BODY.as_str())
        .header(
            "content-type",
            "application/vnd.awslambda.http-integration-response",
        );
    if let Some(id) = invocation_id {
        request = request.header("lambda-runtime-invocation-id", id);
    }
    let body = StreamedBody {
        prelude: Some(Bytes::from(prelude)),
        delimiter: true,
        ..body
    };
    request
        .body(body::Body::new(body))
        .map_err(|e| format!("cannot build the streamed answer to {request_id}: {e}").into())
}

/// A streamed answer made whole (see `gateway::encode`): its prelude and its body, split at the
/// delimiter (the prelude is JSON, which holds no NUL byte).
pub(crate) fn split_payload(payload: &[u8]) -> (&[u8], &[u8]) {
    let at = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    let (prelude, rest) = payload.split_at(at);
    (
        prelude,
        rest.get(STREAM_DELIMITER.len()..).unwrap_or_default(),
    )
}

/// How a streamed body's failure after its first frame ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndOnFailure {
    /// With the Runtime API's error trailers (on Lambda).
    Trailers,
    /// With the body's error, which cuts a chunked answer short (a local client sees it
    /// incomplete, as a front door's would).
    #[cfg(feature = "local")]
    Error,
}

/// A streaming route's answer, ready to send: its prelude, and its body — the service's, its
/// first data frame already read (`streamed`), or the rest of an answer made whole (a 400, a 500:
/// `answer` is then the stream's payload in one piece).
pub(crate) fn streamed_answer<B>(
    streamed: Option<Streamed<B>>,
    answer: &[u8],
    end: EndOnFailure,
) -> (Vec<u8>, StreamedBody<Pin<Box<B>>>) {
    let (prelude, whole, service) = match streamed {
        Some(streamed) => (streamed.prelude, streamed.first, Some(streamed.body)),
        None => {
            let (prelude, rest) = split_payload(answer);
            (prelude.to_vec(), Some(Bytes::copy_from_slice(rest)), None)
        }
    };
    let body = StreamedBody {
        prelude: None,
        delimiter: false,
        whole,
        service,
        trailers: end == EndOnFailure::Trailers,
        sent: 0,
        limit: None,
    };
    (prelude, body)
}

pin_project_lite::pin_project! {
    /// The body of a streamed answer: the prelude, the delimiter, then the service's body's data
    /// frames as they come (or a body already whole). Its trailers are dropped; its failure (an
    /// error or a panic) ends the stream with the error trailers, and is logged.
    pub(crate) struct StreamedBody<B> {
        prelude: Option<Bytes>,
        delimiter: bool,
        whole: Option<Bytes>,
        #[pin]
        service: Option<B>,
        // a failure ends the body with the Runtime API's trailers (else with the error itself)
        trailers: bool,
        // the body's bytes so far, and the front door's limit on them (logged once when passed)
        sent: u64,
        limit: Option<ResponseLimit>,
    }
}

impl<B> StreamedBody<B> {
    /// Logs once when the body passes `limit` (the front door's; the stream goes on).
    pub(crate) fn limited(self, limit: Option<ResponseLimit>) -> Self {
        Self { limit, ..self }
    }
}

impl<B> http_body::Body for StreamedBody<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if let Some(prelude) = this.prelude.take() {
            return Poll::Ready(Some(Ok(Frame::data(prelude))));
        }
        if std::mem::take(this.delimiter) {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&STREAM_DELIMITER)))));
        }
        if let Some(whole) = this.whole.take() {
            if !whole.is_empty() {
                count(this.sent, this.limit, whole.len());
                return Poll::Ready(Some(Ok(Frame::data(whole))));
            }
        }
        loop {
            let Some(service) = this.service.as_mut().as_pin_mut() else {
                return Poll::Ready(None);
            };
            let polled = panic::catch_unwind(AssertUnwindSafe(|| service.poll_frame(cx)));
            let failure = match polled {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Some(Ok(frame)))) => match frame.into_data() {
                    Ok(mut data) => {
                        let data = data.copy_to_bytes(data.remaining());
                        if data.is_empty() {
                            continue;
                        }
                        count(this.sent, this.limit, data.len());
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    // a Lambda response has no trailers of the service's
                    Err(_) => continue,
                },
                Ok(Poll::Ready(None)) => None,
                Ok(Poll::Ready(Some(Err(error)))) => Some(error.into().to_string()),
                Err(panic) => Some(format!(
                    "the response body panicked: {}",
                    panic_message(&*panic)
                )),
            };
            // dropping the body runs the service's code too
            let service = &mut this.service;
            if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| service.set(None))) {
                error_or_print!(
                    "dropping the response body panicked: {}", panic_message(&*panic);
                    panic = panic_message(&*panic), "dropping the response body panicked"
                );
            }
            let trailers = *this.trailers;
            return Poll::Ready(failure.map(|message| {
                error_or_print!(
                    "the response body failed after the stream began: {}", message;
                    error = %message, "the response body failed after the stream began; ending it"
                );
                if trailers {
                    Ok(Frame::trailers(error_trailers(&message)))
                } else {
                    Err(message.into())
                }
            }));
        }
    }
}

/// Adds `bytes` to the body's count; logs once when it passes the front door's limit.
fn count(sent: &mut u64, limit: &mut Option<ResponseLimit>, bytes: usize) {
    *sent = sent.saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
    if let Some(passed) = limit.filter(|limit| *sent > limit.bytes as u64) {
        *limit = None;
        error_or_print!(
            "the streamed body passed the {} limit of {} bytes: the front door cuts it there", passed.name, passed.bytes;
            limit = passed.bytes, "the streamed body passed the {} limit: the front door cuts it there", passed.name
        );
    }
}

/// The Runtime API's trailers for a stream that failed after its first byte.
fn error_trailers(message: &str) -> HeaderMap {
    let diagnostic = Diagnostic {
        error_type: BODY_FAILED.to_owned(),
        error_message: message.to_owned(),
    };
    let json = serde_json::to_vec(&diagnostic).unwrap_or_default();
    let mut trailers = HeaderMap::new();
    trailers.insert(ERROR_TYPE, HeaderValue::from_static(BODY_FAILED));
    if let Ok(value) = HeaderValue::from_str(&encode_base64(&json)) {
        trailers.insert(ERROR_BODY, value);
    }
    trailers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_noted_once_when_passed() {
        let mut sent = 0;
        let mut limit = Some(ResponseLimit {
            bytes: 10,
            name: "a test stream",
        });
        count(&mut sent, &mut limit, 10);
        assert!(limit.is_some(), "at the limit, not past it");
        count(&mut sent, &mut limit, 1);
        assert_eq!(sent, 11);
        assert!(limit.is_none(), "logged, and not again");
    }

    #[test]
    fn a_whole_payload_splits_at_the_delimiter() {
        let mut payload = br#"{"statusCode":500}"#.to_vec();
        payload.extend_from_slice(&STREAM_DELIMITER);
        payload.extend_from_slice(b"body\0with a NUL");
        assert_eq!(
            split_payload(&payload),
            (&br#"{"statusCode":500}"#[..], &b"body\0with a NUL"[..])
        );
        assert_eq!(split_payload(b"{}"), (&b"{}"[..], &b""[..]));
    }
}
