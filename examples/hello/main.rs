//! The original Go `algnhsa` hello service, ported: `/add` sums `first` and `second` from the
//! query string or a url-encoded form body and sets `X-Hi: foo`; every other path answers
//! `index`, as Go's `ServeMux` does for `/`.
//!
//! On Lambda: `lambda_gateway::run(app)`. Offline: `cargo run --example hello -- --event FILE`
//! replays one event file and prints the response event.

#[path = "../replay.rs"]
mod replay;

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header::CONTENT_TYPE};
use lambda_gateway::{Body, Gateway};
use tower::service_fn;

async fn hello(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = match request.uri().path() {
        "/add" => {
            let form = form_values(&request);
            // Like Go's strconv.Atoi with the error ignored: a missing or bad number counts as 0.
            let number = |name: &str| {
                form.iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.trim().parse::<i64>().ok())
                    .unwrap_or(0)
            };
            let mut response = Response::new(Body::from(
                number("first").wrapping_add(number("second")).to_string(),
            ));
            response
                .headers_mut()
                .insert("x-hi", HeaderValue::from_static("foo"));
            response
        }
        _ => Response::new(Body::from("index")),
    };
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

/// Form values as Go's `Request.FormValue` sees them: a url-encoded body first, then the query.
fn form_values(request: &Request<Body>) -> Vec<(String, String)> {
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let body: &[u8] = if is_form {
        request.body().as_bytes()
    } else {
        b""
    };
    let query = request.uri().query().unwrap_or_default().as_bytes();
    form_urlencoded::parse(body)
        .chain(form_urlencoded::parse(query))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), lambda_gateway::BoxError> {
    // Locally, a log line per request. On Lambda none is installed: a subscriber's set-up is
    // start-up time on every cold start, and lambda-gateway prints its warnings and errors to
    // stderr (CloudWatch) by itself when no subscriber is there. Install one on Lambda too when
    // you want your own INFO logs under each invocation's span.
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .init();
    }
    let app = service_fn(hello);
    if let Some(path) = replay::event_file() {
        let gateway = Gateway::new(app);
        return replay::replay(path, |event| async move {
            gateway.invoke_bytes(Bytes::from(event)).await
        })
        .await;
    }
    lambda_gateway::run(app).await
}
