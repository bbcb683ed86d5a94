//! The README's first snippet, as a newcomer writes it: one `lambda-gateway` dependency (plus
//! tokio for `main`), `http` and `tower` through the facade's re-exports.

use lambda_gateway::{Body, http, tower::service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_gateway::BoxError> {
    let app = service_fn(|req: http::Request<Body>| async move {
        let text = format!("you asked for {}", req.uri().path());
        Ok::<_, std::convert::Infallible>(http::Response::new(Body::from(text)))
    });
    lambda_gateway::run(app).await
}
