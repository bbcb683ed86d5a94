//! Pass-through: events no HTTP source claims reach the service as `POST {path}` when enabled,
//! and the service's answer becomes the invocation's result.

#![cfg(feature = "apigw_rest")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use lambda_gateway::{Body, BoxError, Gateway, RequestContext, Source};
use tower::util::BoxCloneSyncService;

/// What the service saw: method, URI, content type, body, source, event kind.
type Seen = (
    String,
    String,
    Option<String>,
    Vec<u8>,
    Source,
    Option<String>,
);

type TestGateway = Gateway<BoxCloneSyncService<Request<Body>, Response<Body>, BoxError>>;

/// A gateway passing events through to `/events`, whose service records what it saw and answers
/// `status` with `body` (or fails when `status` is 0).
fn passing_gateway(status: u16, body: &'static [u8]) -> (TestGateway, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<Body>| {
        let context = request
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .unwrap();
        record.lock().unwrap().push((
            request.method().to_string(),
            request.uri().to_string(),
            request
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned()),
            request.body().as_bytes().to_vec(),
            context.source(),
            context.event_kind().map(str::to_owned),
        ));
        async move {
            if status == 0 {
                return Err::<Response<Body>, BoxError>("the consumer failed".into());
            }
            let mut response = Response::new(Body::from(Bytes::from_static(body)));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            Ok(response)
        }
    });
    (
        Gateway::new(BoxCloneSyncService::new(service)).pass_through("/events"),
        seen,
    )
}

fn testdata(file: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(file);
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn an_sqs_event_is_posted_as_it_came_and_the_answer_is_the_result_byte_for_byte() {
    let answer =
        br#"{"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]}"#;
    let (gateway, seen) = passing_gateway(200, answer);
    let event = testdata("pass_through/sqs_batch.json");
    let result = gateway.invoke(&event).await.unwrap();
    assert_eq!(result, answer);
    let seen = seen.lock().unwrap();
    let (method, uri, content_type, body, source, kind) = &seen[0];
    assert_eq!((method.as_str(), uri.as_str()), ("POST", "/events"));
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(body, &event);
    assert_eq!(*source, Source::PASS_THROUGH);
    assert_eq!(kind.as_deref(), Some("aws:sqs"));
}

#[tokio::test]
async fn every_unclaimed_event_is_passed_through_with_its_kind() {
    for (file, kind) in [
        ("sns_notification.json", Some("aws:sns")),
        ("s3_object_created.json", Some("aws:s3")),
        ("eventbridge_custom.json", None),
        ("scheduled_event.json", Some("aws.events")),
        ("dynamodb_stream.json", Some("aws:dynamodb")),
        ("kinesis_stream.json", Some("aws:kinesis")),
        ("direct_invoke_object.json", None),
        ("authorizer_rest_token.json", Some("apigw_authorizer")),
        ("authorizer_rest_request.json", Some("apigw_authorizer")),
        (
            "authorizer_http_api_v2_request.json",
            Some("apigw_authorizer"),
        ),
    ] {
        let (gateway, seen) = passing_gateway(204, b"");
        let result = gateway
            .invoke(&testdata(&format!("pass_through/{file}")))
            .await;
        assert_eq!(
            result.unwrap(),
            b"null",
            "{file}: an empty 2xx body is null"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{file}");
        if let Some(kind) = kind {
            assert_eq!(seen[0].5.as_deref(), Some(kind), "{file}");
        }
    }
    // JSON that is not an object is an event too (a direct invoke)
    for event in [&br#""hello""#[..], b"[1, 2]", b"42", b"null"] {
        let (gateway, seen) = passing_gateway(200, b"{}");
        assert_eq!(gateway.invoke(event).await.unwrap(), b"{}");
        assert_eq!(seen.lock().unwrap()[0].3, event);
    }
}

#[tokio::test]
async fn http_events_and_faulty_events_are_not_passed_through() {
    let (gateway, seen) = passing_gateway(200, b"{}");
    let rest = testdata("apigw_rest/get_item_prod_stage.json");
    let response = gateway.invoke(&rest).await.unwrap();
    assert!(response.starts_with(br#"{"statusCode":200"#));
    assert_eq!(
        seen.lock().unwrap()[0].4,
        lambda_gateway::apigw_rest::SOURCE
    );
    // not JSON, and an HTTP event with a mistyped field, stay errors
    let error = gateway.invoke(b"not json").await.unwrap_err();
    assert_eq!(error.kind(), "lambda_gateway::NotJson");
    let bad = br#"{"httpMethod":"GET","path":5,"requestContext":{"requestId":"r"}}"#;
    let error = gateway.invoke(bad).await.unwrap_err();
    assert_eq!(error.kind(), "lambda_gateway::InvalidEvent");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refusal_or_a_failure_fails_the_invocation_so_the_platform_retries() {
    let event = testdata("pass_through/sqs_batch.json");
    let (gateway, _) = passing_gateway(503, b"queue consumer is paused");
    let error = gateway.invoke(&event).await.unwrap_err();
    assert_eq!(error.kind(), "lambda_gateway::PassThroughRejected");
    assert!(
        error.to_string().contains("503") && error.to_string().contains("paused"),
        "{error}"
    );

    let (gateway, _) = passing_gateway(0, b"");
    let error = gateway.invoke(&event).await.unwrap_err();
    assert_eq!(error.kind(), "lambda_gateway::ServiceError", "{error}");

    let (gateway, _) = passing_gateway(200, b"ok, not JSON");
    let error = gateway.invoke(&event).await.unwrap_err();
    assert_eq!(error.kind(), "lambda_gateway::InvalidResponse", "{error}");
}

#[tokio::test]
async fn without_pass_through_unclaimed_events_are_unrecognized() {
    let service = tower::service_fn(|_request: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    });
    let gateway = Gateway::new(service);
    for file in ["sqs_batch.json", "authorizer_rest_request.json"] {
        let error = gateway
            .invoke(&testdata(&format!("pass_through/{file}")))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "lambda_gateway::UnrecognizedEvent", "{file}");
    }
}
