//! The `lambda_http` feature: one `lambda_http` handler, answering with what `RequestExt` and
//! the request tell it, runs under `lambda_http`'s own conversion and under
//! `lambda_gateway::lambda_http::service`, on every HTTP event of `testdata/`; its answers must
//! be the same but for the differences the module documents (the path — `raw_http_path()` is
//! compared instead —, the URI, repeated headers, WebSocket methods).

#![cfg(all(
    feature = "lambda_http",
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    fs,
    panic::{self, AssertUnwindSafe},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use lambda_gateway::Gateway;
use lambda_gateway_test_support::testdata::source_events;
use lambda_http::{Body, Error, Request, RequestExt, Response, Service, service_fn};
use serde_json::{Value, json};

/// What the handler reports: everything `RequestExt` answers, the body's variant, the method.
async fn report(request: Request) -> Result<Response<Body>, Error> {
    let map = |pairs: Option<lambda_http::aws_lambda_events::query_map::QueryMap>| {
        let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in pairs.iter().flat_map(|map| map.iter()) {
            all.entry(key.to_owned())
                .or_default()
                .push(value.to_owned());
        }
        json!(all)
    };
    let body = match request.body() {
        Body::Empty => json!("empty"),
        Body::Text(text) => json!(["text", text]),
        Body::Binary(bytes) => json!(["binary", STANDARD.encode(bytes)]),
        _ => json!("other"),
    };
    let report = json!({
        "method": request.method().as_str(),
        "raw_http_path": request.raw_http_path(),
        "query": map(request.query_string_parameters_ref().cloned()),
        "path_parameters": map(request.path_parameters_ref().cloned()),
        "stage_variables": map(request.stage_variables_ref().cloned()),
        "request_context": request.request_context_ref().map(|c| serde_json::to_value(c).unwrap()),
        "body": body,
        "content_type": request.headers().get("content-type").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
    });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .header("x-from", "handler")
        .body(report.to_string().into())?)
}

/// The handler's answer under `lambda_http`'s conversion; `None` when lambda_http rejects or
/// panics on the event (the differential test records those).
async fn under_lambda_http(event: &str) -> Option<Value> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let request = panic::catch_unwind(AssertUnwindSafe(|| lambda_http::request::from_str(event)));
    panic::set_hook(previous);
    let request = request.ok()?.ok()?;
    let response = service_fn(report).call(request).await.unwrap();
    assert_eq!(response.status(), 201);
    Some(serde_json::from_slice(response.body().as_ref()).unwrap())
}

/// The handler's answer through the compat service, read back from the response event.
async fn under_compat(event: &str) -> Option<Value> {
    let gateway = Gateway::new(lambda_gateway::lambda_http::service(service_fn(report)));
    let answer = gateway
        .invoke_bytes(Bytes::copy_from_slice(event.as_bytes()))
        .await
        .ok()?;
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    if answer["statusCode"] != 201 {
        return None;
    }
    let body = answer["body"].as_str().unwrap();
    let body = if answer["isBase64Encoded"] == true {
        STANDARD.decode(body).unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    Some(serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_lambda_http_handler_answers_the_same_under_the_compat_feature() {
    let mut compared = 0;
    let mut differences = Vec::new();
    for source in [
        "apigw_rest",
        "apigw_http",
        "alb",
        "vpc_lattice",
        "apigw_websocket",
    ] {
        for file in source_events(source) {
            let event = fs::read_to_string(&file).unwrap();
            let (Some(mut theirs), Some(mut ours)) =
                (under_lambda_http(&event).await, under_compat(&event).await)
            else {
                continue;
            };
            let case = format!("{source}/{}", file.file_stem().unwrap().to_string_lossy());
            if source == "apigw_websocket" {
                // documented: lambda_http makes every WebSocket event `GET /{stage}` (and takes a
                // `$connect` carrying `httpMethod` for a REST request)
                if theirs["request_context"].get("connectionId").is_none() {
                    continue;
                }
                theirs["method"] = Value::Null;
                ours["method"] = Value::Null;
            }
            compared += 1;
            if theirs != ours {
                differences.push(format!(
                    "{case}:\n  lambda_http: {theirs}\n  compat:      {ours}"
                ));
            }
        }
    }
    eprintln!("{compared} events compared");
    assert!(compared >= 60, "only {compared} events compared");
    assert!(
        differences.is_empty(),
        "{} of {compared} differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[tokio::test]
async fn handler_errors_are_500s_and_responses_keep_their_bytes() {
    let event = r#"{"version":"2.0","rawPath":"/png","rawQueryString":"","headers":{"host":"example.com"},
        "requestContext":{"requestId":"r","http":{"method":"GET","path":"/png","sourceIp":"1.2.3.4"}}}"#;
    let failing = Gateway::new(lambda_gateway::lambda_http::service(service_fn(
        |_: Request| async { Err::<Response<Body>, Error>("the handler fails".into()) },
    )));
    let answer: Value =
        serde_json::from_slice(&failing.invoke_bytes(Bytes::from(event)).await.unwrap()).unwrap();
    assert_eq!(answer["statusCode"], 500);

    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let image = Gateway::new(lambda_gateway::lambda_http::service(service_fn(
        move |_: Request| async move {
            Response::builder()
                .header("content-type", "image/png")
                .body(Body::from(png.to_vec()))
                .map_err(Error::from)
        },
    )));
    let answer: Value =
        serde_json::from_slice(&image.invoke_bytes(Bytes::from(event)).await.unwrap()).unwrap();
    assert_eq!(answer["isBase64Encoded"], true);
    assert_eq!(
        STANDARD.decode(answer["body"].as_str().unwrap()).unwrap(),
        png
    );

    // `IntoResponse` values other than a `Response`: a JSON value
    let json = Gateway::new(lambda_gateway::lambda_http::service(service_fn(
        |_: Request| async { Ok::<_, Error>(json!({"ok": true})) },
    )));
    let answer: Value =
        serde_json::from_slice(&json.invoke_bytes(Bytes::from(event)).await.unwrap()).unwrap();
    assert_eq!(answer["headers"]["content-type"], "application/json");
    assert_eq!(answer["body"], r#"{"ok":true}"#);
}
