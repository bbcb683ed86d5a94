//! Events no HTTP source claims, handed to the service as a `POST` (when enabled).
//!
//! With [`Gateway::pass_through`](crate::Gateway::pass_through) (or
//! `LAMBDA_GATEWAY_PASS_THROUGH_PATH` under `run`), an event that would otherwise fail as
//! `UnrecognizedEvent` — an SQS, SNS, S3, EventBridge, DynamoDB or Kinesis event, a schedule, a
//! direct invoke, an API Gateway authorizer request — reaches the service as
//! `POST {path}` with `content-type: application/json` and the event's bytes as the body. The
//! service's 2xx answer body is the invocation's result; anything else fails the invocation so
//! the platform retries the event.

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, Uri, header::CONTENT_TYPE, response::Parts};
use lambda_gateway_core::{Body, Error, RequestContext, SharedStr, Source, request::excerpt};
use serde_json::{Value, value::RawValue};

/// Lambda's limit on a synchronous invocation's response payload.
const RESULT_LIMIT: usize = 6 * 1024 * 1024;

/// A pass-through path as configured, as the request target: starts with `/`; `None` when it
/// is not a valid URI path.
pub(crate) fn normalize(path: &str) -> Option<Uri> {
    let path = path.trim();
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    path.parse::<Uri>().ok().filter(|uri| uri.query().is_none())
}

/// The request the service sees for a passed-through event; `value` is the event parsed (for its
/// kind).
pub(crate) fn request(target: &Uri, event: Bytes, value: &Value) -> Request<Body> {
    let kind = event_kind(value).map(SharedStr::from);
    let context = RequestContext::new(Source::PASS_THROUGH, event.clone()).with_event_kind(kind);
    let mut request = Request::new(Body::from(event));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = target.clone();
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request.extensions_mut().insert(context);
    request
}

/// The invocation's result for the service's answer: a 2xx body as it is (an empty body is
/// `null`, Lambda's result for "nothing"); another status fails the invocation.
///
/// The result must be JSON: it goes to the Runtime API as the invocation's response, posted as it
/// is (`LambdaService` does not check answers again: this check is what keeps a pass-through
/// answer valid). A 2xx body that is not JSON fails the invocation, saying so.
pub(crate) fn result(parts: &Parts, body: &[u8]) -> Result<Vec<u8>, Error> {
    if !parts.status.is_success() {
        return Err(Error::PassThroughRejected {
            status: parts.status.as_u16(),
            reason: if body.is_empty() {
                status_text(parts.status)
            } else {
                excerpt(body)
            },
        });
    }
    if body.is_empty() {
        return Ok(b"null".to_vec());
    }
    if body.len() > RESULT_LIMIT {
        return Err(Error::InvalidResponse {
            event_source: Source::PASS_THROUGH,
            reason: format!(
                "the result is {} bytes, over the Lambda synchronous invocation limit of {RESULT_LIMIT} bytes",
                body.len()
            ),
        });
    }
    if serde_json::from_slice::<&RawValue>(body).is_err() {
        return Err(Error::InvalidResponse {
            event_source: Source::PASS_THROUGH,
            reason: format!(
                "the result of a passed-through event must be JSON (it is the invocation's response); \
                 the service answered {} bytes that are not: {}",
                body.len(),
                excerpt(body)
            ),
        });
    }
    Ok(body.to_vec())
}

fn status_text(status: StatusCode) -> String {
    format!("{status} with no body")
}

/// The event's kind, where the event says it (see [`RequestContext::event_kind`]), from the
/// JSON value detection already read.
pub(crate) fn event_kind(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    let first_record = object
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first());
    let kind = if present(object.get("methodArn")) || present(object.get("routeArn")) {
        "apigw_authorizer"
    } else if present(
        object
            .get("requestContext")
            .and_then(|c| c.get("connectionId")),
    ) {
        "apigw_websocket"
    } else if let Some(record) = first_record {
        // SNS spells it with a capital E
        record
            .get("eventSource")
            .or_else(|| record.get("EventSource"))
            .and_then(Value::as_str)?
    } else if let Some(source) = object.get("source").and_then(Value::as_str) {
        source
    } else if present(object.get("awslogs")) {
        "aws:logs"
    } else {
        return None;
    };
    // a kind is a short name: anything else is not one
    (kind.len() <= 64 && kind.bytes().all(|b| b.is_ascii_graphic())).then(|| kind.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(file: &str) -> Option<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/pass_through")
            .join(file);
        event_kind(&serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
    }

    #[test]
    fn the_kind_comes_from_what_the_event_says() {
        assert_eq!(kind_of("sqs_batch.json").as_deref(), Some("aws:sqs"));
        assert_eq!(kind_of("sns_notification.json").as_deref(), Some("aws:sns"));
        assert_eq!(kind_of("s3_object_created.json").as_deref(), Some("aws:s3"));
        assert_eq!(
            kind_of("dynamodb_stream.json").as_deref(),
            Some("aws:dynamodb")
        );
        assert_eq!(
            kind_of("kinesis_stream.json").as_deref(),
            Some("aws:kinesis")
        );
        assert_eq!(
            kind_of("scheduled_event.json").as_deref(),
            Some("aws.events")
        );
        assert_eq!(
            kind_of("cloudwatch_logs_subscription.json").as_deref(),
            Some("aws:logs")
        );
        assert_eq!(
            kind_of("authorizer_rest_token.json").as_deref(),
            Some("apigw_authorizer")
        );
        assert_eq!(kind_of("direct_invoke_object.json"), None);
        assert_eq!(event_kind(&serde_json::json!([1, 2])), None);
        assert_eq!(
            event_kind(&serde_json::json!({"source": "has a space"})),
            None
        );
    }

    #[test]
    fn paths_are_normalized_or_refused() {
        assert_eq!(
            normalize("/events").map(|u| u.to_string()).as_deref(),
            Some("/events")
        );
        assert_eq!(
            normalize("events").map(|u| u.to_string()).as_deref(),
            Some("/events")
        );
        assert_eq!(normalize("/a b"), None);
        assert_eq!(normalize("/events?x=1"), None);
    }
}
