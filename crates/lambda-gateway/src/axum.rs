//! Extractors for axum handlers: what the gateway and Lambda say about a request, as handler
//! arguments (feature `axum`).
//!
//! ```
//! use axum_core::response::IntoResponse;
//! use lambda_gateway::axum::{Claims, LambdaContext, PathParameters};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct User {
//!     sub: String,
//!     email: Option<String>,
//! }
//!
//! #[derive(Deserialize)]
//! struct Order {
//!     #[serde(rename = "orderId")]
//!     order_id: String,
//! }
//!
//! // GET /orders/{orderId} behind a JWT authorizer
//! async fn order(
//!     Claims(user): Claims<User>,
//!     PathParameters(order): PathParameters<Order>,
//!     lambda: Option<LambdaContext>,
//! ) -> impl IntoResponse {
//!     let deadline = lambda.map(|LambdaContext(context)| context.deadline);
//!     format!("{} asks for {} (deadline {deadline:?})", user.sub, order.order_id)
//! }
//! ```
//!
//! | Extractor | What it holds | Rejected with |
//! |---|---|---|
//! | [`Context`] | the [`RequestContext`] | 500: not a request of the gateway |
//! | [`LambdaContext`] | the invocation's `lambda_runtime::Context` (use `Option<LambdaContext>` for code that also runs locally, where there is none) | 500 |
//! | [`Authorizer`] | the [`Authorizer`](crate::Authorizer)'s output (`Option<Authorizer>` on routes with optional auth) | 401: the route has no authorizer |
//! | [`Claims<T>`] | the JWT / Cognito claims, deserialized into `T` | 401: no authorizer or no claims; 403: claims without `T`'s shape |
//! | [`PathParameters<T>`] | API Gateway's `pathParameters`, into `T` (numbers parse from text) | 400: a value that does not parse |
//! | [`StageVariables<T>`] | the stage's `stageVariables`, into `T` | 500: the stage lacks what `T` needs |
//!
//! `T` defaults to [`Parameters`] (every pair, as text). API Gateway's path parameters are the
//! route API Gateway matched (`/orders/{orderId}`); an axum `Router` matching its own routes
//! reads them with axum's `Path` as on any server.

use std::fmt;

use axum_core::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    response::{IntoResponse, Response},
};
use http::{StatusCode, request::Parts};
use lambda_gateway_core::{Error, Parameters, RequestContext};
use serde::de::DeserializeOwned;

/// Why an extractor of this module refused a request; answered with the status it names and a
/// plain-text message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// The request has no [`RequestContext`]: it did not come through the gateway (500).
    NotFromGateway,
    /// The request has no Lambda context: it was served by the local server or an offline
    /// `invoke` (500).
    NoLambdaContext,
    /// The route has no authorizer, or its authorizer gives no claims (401).
    Unauthorized(&'static str),
    /// The authorizer's claims lack what the handler's type needs (403).
    Forbidden(Error),
    /// A path parameter does not parse into the handler's type (400).
    BadPathParameters(Error),
    /// The stage's variables lack what the handler's type needs, or a field of the event could
    /// not be read (500).
    Misconfigured(Error),
}

impl Rejection {
    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden(_) => StatusCode::FORBIDDEN,
            Rejection::BadPathParameters(_) => StatusCode::BAD_REQUEST,
            Rejection::NotFromGateway
            | Rejection::NoLambdaContext
            | Rejection::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotFromGateway => f.write_str(
                "the request has no lambda-gateway RequestContext: expected a request served by lambda-gateway",
            ),
            Rejection::NoLambdaContext => f.write_str(
                "the request has no Lambda context: expected an invocation from the Lambda Runtime API (use Option<LambdaContext> where the app also runs locally)",
            ),
            Rejection::Unauthorized(why) => write!(f, "unauthorized: {why}"),
            Rejection::Forbidden(error) => write!(f, "forbidden: {error}"),
            Rejection::BadPathParameters(error) => write!(f, "invalid path parameters: {error}"),
            Rejection::Misconfigured(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

fn request_context(parts: &Parts) -> Result<&RequestContext, Rejection> {
    parts
        .extensions
        .get::<RequestContext>()
        .ok_or(Rejection::NotFromGateway)
}

/// The gateway's [`RequestContext`]: source, request id, source IP, stage, the raw event.
#[derive(Debug, Clone)]
pub struct Context(pub RequestContext);

impl<S: Sync> FromRequestParts<S> for Context {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        request_context(parts).cloned().map(Context)
    }
}

/// The invocation's `lambda_runtime::Context`: request id, deadline, function ARN, X-Ray trace
/// id, Cognito identity, client context.
#[derive(Debug, Clone)]
pub struct LambdaContext(pub lambda_runtime::Context);

impl<S: Sync> FromRequestParts<S> for LambdaContext {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        parts
            .extensions
            .get::<lambda_runtime::Context>()
            .cloned()
            .map(LambdaContext)
            .ok_or(Rejection::NoLambdaContext)
    }
}

impl<S: Sync> OptionalFromRequestParts<S> for LambdaContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<lambda_runtime::Context>()
            .cloned()
            .map(LambdaContext))
    }
}

/// The API Gateway authorizer's output (see [`crate::Authorizer`]).
#[derive(Debug, Clone)]
pub struct Authorizer(pub crate::Authorizer);

fn authorizer(parts: &Parts) -> Result<Option<crate::Authorizer>, Rejection> {
    request_context(parts)?
        .parse_authorizer()
        .map_err(Rejection::Misconfigured)
}

impl<S: Sync> FromRequestParts<S> for Authorizer {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        authorizer(parts)?
            .map(Authorizer)
            .ok_or(Rejection::Unauthorized("the route has no authorizer"))
    }
}

impl<S: Sync> OptionalFromRequestParts<S> for Authorizer {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        Ok(authorizer(parts)?.map(Authorizer))
    }
}

/// The verified token's claims (JWT authorizers; Cognito user pool authorizers on REST APIs),
/// deserialized into `T`. Mind that REST APIs send every claim as a string.
#[derive(Debug, Clone)]
pub struct Claims<T>(pub T);

fn claims<T: DeserializeOwned>(authorizer: &crate::Authorizer) -> Result<T, Rejection> {
    if authorizer.claims().is_none() {
        return Err(Rejection::Unauthorized(
            "the route's authorizer gives no claims (expected a JWT or Cognito user pool authorizer)",
        ));
    }
    authorizer.parse_claims().map_err(Rejection::Forbidden)
}

impl<S: Sync, T: DeserializeOwned> FromRequestParts<S> for Claims<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let authorizer =
            authorizer(parts)?.ok_or(Rejection::Unauthorized("the route has no authorizer"))?;
        claims(&authorizer).map(Claims)
    }
}

impl<S: Sync, T: DeserializeOwned> OptionalFromRequestParts<S> for Claims<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        match authorizer(parts)? {
            Some(authorizer) if authorizer.claims().is_some() => claims(&authorizer).map(Some),
            _ => Ok(None),
        }
        .map(|claims| claims.map(Claims))
    }
}

/// API Gateway's path parameters (`pathParameters`) into `T` — by default [`Parameters`], every
/// pair as text.
#[derive(Debug, Clone)]
pub struct PathParameters<T = Parameters>(pub T);

impl<S: Sync, T: DeserializeOwned + 'static> FromRequestParts<S> for PathParameters<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let parameters = request_context(parts)?
            .parse_path_parameters()
            .map_err(Rejection::Misconfigured)?;
        into(parameters, Rejection::BadPathParameters).map(PathParameters)
    }
}

/// The stage's variables (`stageVariables`) into `T` — by default [`Parameters`], every pair as
/// text.
#[derive(Debug, Clone)]
pub struct StageVariables<T = Parameters>(pub T);

impl<S: Sync, T: DeserializeOwned + 'static> FromRequestParts<S> for StageVariables<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let variables = request_context(parts)?
            .parse_stage_variables()
            .map_err(Rejection::Misconfigured)?;
        into(variables, Rejection::Misconfigured).map(StageVariables)
    }
}

/// `parameters` as a `T`: themselves when `T` is [`Parameters`], else deserialized.
fn into<T: DeserializeOwned + 'static>(
    parameters: Parameters,
    rejection: fn(Error) -> Rejection,
) -> Result<T, Rejection> {
    let mut slot = Some(parameters);
    if let Some(itself) = (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take)
    {
        return Ok(itself);
    }
    let Some(parameters) = slot else {
        return Err(rejection(Error::Internal(
            "the parameters were taken".to_owned(),
        )));
    };
    parameters.parse().map_err(rejection)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use http::Request;
    use serde::Deserialize;

    use super::*;
    use crate::{Body, Gateway};

    async fn parts_of(event: &'static str) -> Parts {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let keep = std::sync::Arc::clone(&seen);
        let gateway = Gateway::new(tower::service_fn(move |request: Request<Body>| {
            let keep = std::sync::Arc::clone(&keep);
            async move {
                *keep.lock().unwrap() = Some(request.into_parts().0);
                Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
            }
        }));
        gateway
            .invoke_bytes(Bytes::from_static(event.as_bytes()))
            .await
            .unwrap();
        let parts = seen.lock().unwrap().take();
        parts.unwrap()
    }

    const ORDER: &str = r#"{"version":"2.0","routeKey":"GET /orders/{orderId}","rawPath":"/orders/o-1","rawQueryString":"",
        "headers":{"host":"example.com"},"pathParameters":{"orderId":"o-1","n":"7"},"stageVariables":{"table":"t"},
        "requestContext":{"requestId":"r","stage":"$default","http":{"method":"GET","path":"/orders/o-1","sourceIp":"1.2.3.4"},
        "authorizer":{"jwt":{"claims":{"sub":"u-1","email":"a@example.com"},"scopes":null}}}}"#;

    const ANONYMOUS: &str = r#"{"version":"2.0","rawPath":"/","rawQueryString":"","headers":{"host":"example.com"},
        "requestContext":{"requestId":"r","http":{"method":"GET","path":"/","sourceIp":"1.2.3.4"}}}"#;

    #[derive(Debug, Deserialize)]
    struct User {
        sub: String,
    }

    #[derive(Debug, Deserialize)]
    struct Order {
        #[serde(rename = "orderId")]
        order_id: String,
        n: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Admin {
        admin: bool,
    }

    #[tokio::test]
    async fn claims_path_parameters_and_stage_variables_extract_into_the_users_types() {
        let mut parts = parts_of(ORDER).await;
        let Claims(user) =
            <Claims<User> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap();
        assert_eq!(user.sub, "u-1");
        let PathParameters(order) =
            <PathParameters<Order> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap();
        assert_eq!((order.order_id.as_str(), order.n), ("o-1", 7));
        let StageVariables(variables) =
            <StageVariables as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap();
        assert_eq!(variables.get("table"), Some("t"));
        let Context(context) =
            <Context as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap();
        assert_eq!(context.request_id(), Some("r"));
        // offline: no Lambda context
        let lambda =
            <LambdaContext as OptionalFromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap();
        assert!(lambda.is_none());
        let missing =
            <LambdaContext as FromRequestParts<()>>::from_request_parts(&mut parts, &()).await;
        assert_eq!(
            missing.unwrap_err().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[tokio::test]
    async fn rejections_carry_fitting_statuses_and_say_why() {
        let mut parts = parts_of(ORDER).await;
        let wrong = <Claims<Admin> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        assert!(wrong.to_string().contains("admin"), "{wrong}");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Numeric {
            #[serde(rename = "orderId")]
            order_id: u64,
        }
        let bad =
            <PathParameters<Numeric> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap_err();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let stage =
            <StageVariables<Admin> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
                .await
                .unwrap_err();
        assert_eq!(stage.status(), StatusCode::INTERNAL_SERVER_ERROR);

        let mut anonymous = parts_of(ANONYMOUS).await;
        let none = <Claims<User> as FromRequestParts<()>>::from_request_parts(&mut anonymous, &())
            .await
            .unwrap_err();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(none.into_response().status(), StatusCode::UNAUTHORIZED);
        let optional =
            <Claims<User> as OptionalFromRequestParts<()>>::from_request_parts(&mut anonymous, &())
                .await
                .unwrap();
        assert!(optional.is_none());
        let authorizer =
            <Authorizer as OptionalFromRequestParts<()>>::from_request_parts(&mut anonymous, &())
                .await
                .unwrap();
        assert!(authorizer.is_none());

        let (mut bare, ()) = Request::new(()).into_parts();
        let outside = <Context as FromRequestParts<()>>::from_request_parts(&mut bare, &())
            .await
            .unwrap_err();
        assert!(matches!(outside, Rejection::NotFromGateway));
    }
}
