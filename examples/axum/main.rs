//! An axum app on Lambda, unchanged: routes, JSON in and out, cookies, a 404, tower-http's
//! compression, a binary image, and a handler reading the authorizer's JWT claims, an API
//! Gateway path parameter and the Lambda context.
//!
//! Deploy behind an HTTP API with a JWT authorizer on `GET /orders/{orderId}`, or a Function
//! URL, or any front door; set `LAMBDA_GATEWAY_BASE_PATH=/shop` when a custom domain maps the
//! API under `/shop`. Locally, `cargo run -p lambda-gateway-examples --example axum` serves it
//! on `http://127.0.0.1:3000` (no authorizer there: `/orders/...` answers 401), and
//! `-- --event FILE` replays one event.

#[path = "../replay.rs"]
mod replay;

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use bytes::Bytes;
use lambda_gateway::{
    Gateway,
    axum::{Claims, Context, LambdaContext, PathParameters},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::compression::CompressionLayer;

#[derive(Clone, Serialize, Deserialize)]
struct Item {
    name: String,
    price_cents: u64,
}

type Items = Arc<Mutex<Vec<Item>>>;

async fn list(State(items): State<Items>) -> Json<Vec<Item>> {
    Json(items.lock().map(|items| items.clone()).unwrap_or_default())
}

async fn item(State(items): State<Items>, Path(id): Path<usize>) -> impl IntoResponse {
    match items.lock().ok().and_then(|items| items.get(id).cloned()) {
        Some(item) => Json(item).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such item"})),
        )
            .into_response(),
    }
}

async fn create(State(items): State<Items>, Json(item): Json<Item>) -> impl IntoResponse {
    let Ok(mut items) = items.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    items.push(item.clone());
    (
        StatusCode::CREATED,
        Json(json!({"id": items.len() - 1, "item": item})),
    )
        .into_response()
}

/// Two `Set-Cookie` headers: every front door gets both (HTTP APIs in `cookies`, ALB by header
/// name case, ...).
async fn login() -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        "session=s3cr3t; Path=/; HttpOnly; Secure"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
    );
    headers.append(
        header::SET_COOKIE,
        "theme=dark; Path=/"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
    );
    (headers, "welcome")
}

/// A binary body: a 1x1 PNG, base64-encoded in the response event and decoded by the front door
/// (REST APIs: list `image/png` in the API's binary media types).
async fn logo() -> impl IntoResponse {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    (
        [(header::CONTENT_TYPE, "image/png")],
        Bytes::from_static(PNG),
    )
}

/// What a JWT authorizer (Cognito, Auth0, ...) verified.
#[derive(Deserialize)]
struct User {
    sub: String,
    email: Option<String>,
}

/// API Gateway's path parameters of the route `GET /orders/{orderId}`.
#[derive(Deserialize)]
struct Order {
    #[serde(rename = "orderId")]
    order_id: String,
}

/// Behind an HTTP API route with a JWT authorizer: the claims, API Gateway's path parameter and
/// the Lambda context (absent locally).
async fn order(
    Claims(user): Claims<User>,
    PathParameters(order): PathParameters<Order>,
    Context(context): Context,
    lambda: Option<LambdaContext>,
) -> Json<serde_json::Value> {
    Json(json!({
        "order": order.order_id,
        "user": user.sub,
        "email": user.email,
        "stage": context.stage(),
        "request_id": context.request_id(),
        "deadline_ms": lambda.map(|LambdaContext(lambda)| lambda.deadline),
    }))
}

fn app() -> Router {
    let items: Items = Arc::new(Mutex::new(vec![Item {
        name: "teapot".to_owned(),
        price_cents: 1800,
    }]));
    Router::new()
        .route("/items", get(list).post(create))
        .route("/items/{id}", get(item))
        .route("/login", post(login))
        .route("/logo.png", get(logo))
        .route("/orders/{order_id}", get(order))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .with_state(items)
        .layer(CompressionLayer::new())
}

#[tokio::main(flavor = "current_thread")]
pub(crate) async fn main() -> Result<(), lambda_gateway::BoxError> {
    if let Some(path) = replay::event_file() {
        let gateway = Gateway::new(app());
        return replay::replay(path, |event| async move {
            gateway.invoke_bytes(Bytes::from(event)).await
        })
        .await;
    }
    lambda_gateway::run(app()).await
}
