//! Benchmark baseline, not a usage example: the `hello` service written against `lambda_http`
//! (the peer we measure ourselves against), for comparing binary size and cold start with
//! `examples/hello`. Same routes and answers: `/add` sums `first` and `second` from the query or
//! a url-encoded form body and sets `X-Hi: foo`; anything else answers `index`. It starts as
//! `lambda_http` starts fastest: on a `current_thread` tokio runtime (`hello` does the same).

use lambda_http::{Body, Error, Request, Response, service_fn};

async fn hello(request: Request) -> Result<Response<Body>, Error> {
    let response = match request.uri().path() {
        "/add" => {
            let is_form = request
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            let body: &[u8] = if is_form {
                request.body().as_ref()
            } else {
                b""
            };
            let query = request.uri().query().unwrap_or_default().as_bytes();
            let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
                .chain(form_urlencoded::parse(query))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let number = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.trim().parse::<i64>().ok())
                    .unwrap_or(0)
            };
            Response::builder()
                .header("x-hi", "foo")
                .header("content-type", "text/plain; charset=utf-8")
                .body(Body::from(
                    number("first").wrapping_add(number("second")).to_string(),
                ))?
        }
        _ => Response::builder()
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::from("index"))?,
    };
    Ok(response)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(hello)).await
}
