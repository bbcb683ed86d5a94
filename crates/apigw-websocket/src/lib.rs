//! API Gateway WebSocket API events for `lambda-gateway`.
//!
//! [`ApiGatewayWebSocket`] is the source's [`EventSource`]: it claims events whose
//! `requestContext` has both an `eventType` and a `connectionId` (what only WebSocket APIs
//! send; `routeKey` alone is not enough, HTTP APIs carry it too), and refuses the input of a
//! `$connect` Lambda authorizer (the same fields plus `methodArn`), which expects a policy, not
//! an HTTP response.
//!
//! # The request the service sees
//!
//! A WebSocket event has no method and no path (the client's URL is always
//! `wss://{domainName}/{stage}`), so the mapping is this crate's own, chosen so that any HTTP
//! router can route the three kinds of events — where `lambda_http` makes every one of them a
//! `GET /{stage}`:
//!
//! | `requestContext.eventType` | request | headers | query | body |
//! | --- | --- | --- | --- | --- |
//! | `CONNECT` | `GET /$connect` | the upgrade request's | the upgrade request's | none |
//! | `MESSAGE` | `POST /{routeKey}`: `/$default`, `/sendmessage`... | the event's, if any (usually none) | — | the message |
//! | `DISCONNECT` | `DELETE /$disconnect` | the event's (a few, often empty) | — | none |
//!
//! - Headers come from `multiValueHeaders` (else `headers`), every value in order; `host`
//!   defaults to `requestContext.domainName`.
//! - The query comes from `multiValueQueryStringParameters` (else `queryStringParameters`),
//!   every value in order; keys and values arrive decoded and are percent-encoded again.
//! - The route key is written as one path segment: every byte but unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) and `$` is percent-encoded, so a `/` or `?` in a custom route key
//!   never changes the route (`chat/send` is `/chat%2Fsend`), and a key of `.` or `..` is
//!   escaped whole (`/%2E%2E`) so that no router takes it for a dot segment.
//! - The body is the event's `body`, base64-decoded when `isBase64Encoded` is true.
//! - An `eventType` other than the three, or a `MESSAGE` without a `routeKey`, is an invalid
//!   event.
//! - The [`RequestContext`](lambda_gateway_core::RequestContext) has the request id, the
//!   client's IP (`requestContext.identity.sourceIp`), the stage and the domain name; a
//!   [`WebSocketContext`] extension has the connection id (what the
//!   [`@connections` API](https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html)
//!   needs to send a message back later), the route key, the event type, the message id, when
//!   the connection was made and the API id.
//!
//! ```
//! use http::{Method, Request, Response, StatusCode};
//! use lambda_gateway_apigw_websocket::{WebSocketContext, WebSocketEvent};
//! use lambda_gateway_core::Body;
//!
//! // What a router does with the requests of this source: an axum `Router` reads the same as
//! // `.route("/$connect", get(connect)).route("/$default", post(echo))
//! //  .route("/sendmessage", post(send)).route("/$disconnect", delete(disconnect))`.
//! fn route(request: Request<Body>) -> Response<Body> {
//!     let Some(socket) = request.extensions().get::<WebSocketContext>().cloned() else {
//!         return status(StatusCode::BAD_REQUEST);
//!     };
//!     match (request.method(), request.uri().path()) {
//!         // a 2xx accepts the connection, any other status refuses it
//!         (&Method::GET, "/$connect") => {
//!             let wants_chat = request
//!                 .headers()
//!                 .get("sec-websocket-protocol")
//!                 .and_then(|v| v.to_str().ok())
//!                 .is_some_and(|offered| offered.split(',').any(|p| p.trim() == "chat"));
//!             if !wants_chat {
//!                 return status(StatusCode::FORBIDDEN);
//!             }
//!             Response::builder()
//!                 .header("sec-websocket-protocol", "chat")
//!                 .body(Body::from(()))
//!                 .unwrap_or_default()
//!         }
//!         // the message is the body; what is answered reaches the client only when the route
//!         // has a route response (two-way communication)
//!         (&Method::POST, "/$default") => Response::new(request.into_body()),
//!         (&Method::POST, "/sendmessage") if socket.event_type() == WebSocketEvent::Message => {
//!             // to post to the client later through the @connections API
//!             remember(socket.connection_id());
//!             status(StatusCode::OK)
//!         }
//!         (&Method::DELETE, "/$disconnect") => status(StatusCode::OK),
//!         _ => status(StatusCode::NOT_FOUND),
//!     }
//! }
//!
//! fn remember(_connection_id: &str) {}
//!
//! fn status(status: StatusCode) -> Response<Body> {
//!     let mut response = Response::new(Body::from(()));
//!     *response.status_mut() = status;
//!     response
//! }
//! ```
//!
//! # The response event
//!
//! `statusCode`, `headers`, `body` and `isBase64Encoded`: a REST proxy response without
//! `multiValueHeaders`. AWS's WebSocket documentation shows `statusCode` and `headers` (the
//! [`$connect` subprotocol example](https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html))
//! and never `multiValueHeaders`, documented for REST APIs only; so it is not written: repeated
//! header values are joined with `,` into one string, and since several `Set-Cookie` cannot be
//! joined, only the **first** is kept (like `HeaderMap::get`). Cookies hardly matter here: a
//! WebSocket handshake sets none in practice, and API Gateway is reported to pass only the
//! WebSocket headers of a `$connect` answer on to the client.
//!
//! What API Gateway does with it:
//!
//! - `$connect`: a 2xx status accepts the upgrade, any other status refuses it (the client
//!   sees that status). Headers reach the handshake response: answer `Sec-WebSocket-Protocol`
//!   with **one** of the subprotocols the client offered, or a browser fails the handshake.
//! - Messages: the body is sent back to the client as a message only when the route has a
//!   route response (two-way communication, route response key `$default`); otherwise it is
//!   discarded. A body that is not text is written base64-encoded with `isBase64Encoded:
//!   true`, as for REST; what the client then receives is not documented for WebSocket APIs
//!   (AWS covers binary only through a route's `contentHandlingStrategy`): answer text.
//! - `$disconnect`: runs after the connection is closed and is best-effort; its response goes
//!   nowhere.
//!
//! # Limits
//!
//! The response event is limited by Lambda's 6 MB, like every source (see
//! [`EventSource::response_limit`]). API Gateway's own
//! [WebSocket quotas](https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html)
//! are smaller: a message is at most 128 KB and a frame at most 32 KB (a larger one received
//! closes the connection with code 1009), the integration times out after 29 seconds, an idle
//! connection closes after 10 minutes and any connection after 2 hours. A route response is one
//! message to the client: keep its body well under 128 KB (AWS does not document what happens
//! to a larger one), and send large data in several messages through `@connections`.
//!
//! # Configuring AWS
//!
//! - Give every route you serve (`$connect`, `$disconnect`, `$default`, custom route keys) a
//!   **Lambda proxy** integration (`AWS_PROXY`) with this function; the route selection
//!   expression (`$request.body.action`, say) decides the route key of a message.
//! - For answers to messages, enable two-way communication on the route (a route response
//!   with key `$default`); `$connect` answers the handshake without one.
//! - A `$connect` Lambda authorizer is a separate function: its input is refused here, never
//!   served as a request.
//!
//! # Binary messages
//!
//! AWS documents that API Gateway WebSocket APIs reject incoming binary frames (the connection
//! is closed with code 1003); clients send text, base64 if they must carry bytes. An event with
//! `isBase64Encoded: true` is still decoded, defensively.
//!
//! Most users want the `lambda-gateway` facade, which registers this source.
//!
//! With the `local` feature, the `local` module is the front door the facade's local server
//! emulates (`apigw_websocket`): it emulates the Lambda integration, not a WebSocket connection
//! — each plain HTTP request is one WebSocket event (`GET` a `$connect`, `DELETE /$disconnect`
//! a `$disconnect`, anything else a message on the route its path names).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod context;
#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub mod local;
mod request;
mod response;

use std::any::Any;

use bytes::Bytes;
use http::{Request, response::Parts};
use lambda_gateway_core::{
    Body, Claim, ContextFields, EncodeOptions, Error, EventSource, ResponseLimit, Source,
    TypedSource,
    event::{Field, SourceView},
    json::JsonWriter,
};

pub use context::{WebSocketContext, WebSocketEvent};

/// The full typed event of this source.
pub use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest as TypedEvent;

/// This source's name: `apigw_websocket`.
pub const SOURCE: Source = Source::named("apigw_websocket");

/// Where WebSocket events carry the authorizer (on `$connect`, and on every message of a
/// connection it authorized) and stage variables; they have no path parameters (read on demand:
/// [`RequestContext::parse_authorizer`](lambda_gateway_core::RequestContext::parse_authorizer)).
pub const CONTEXT_FIELDS: ContextFields = ContextFields {
    authorizer: Some("requestContext.authorizer"),
    path_parameters: None,
    stage_variables: Some("stageVariables"),
};

/// The fields a WebSocket event is read by.
pub mod fields {
    lambda_gateway_core::fields! {
        /// Every field below, for the schema.
        pub static FIELDS;
        /// `requestContext.eventType`: `CONNECT`, `MESSAGE` or `DISCONNECT`.
        pub const EVENT_TYPE: Str = "requestContext.eventType";
        /// `requestContext.connectionId`: with `eventType`, what makes a WebSocket event.
        pub const CONNECTION_ID: Str = "requestContext.connectionId";
        /// `requestContext.routeKey`: `$connect`, `$disconnect`, `$default` or a custom key.
        pub const ROUTE_KEY: Str = "requestContext.routeKey";
        /// `requestContext.messageId`: only on messages.
        pub const MESSAGE_ID: Str = "requestContext.messageId";
        /// `requestContext.connectedAt`: when the connection was made, in epoch milliseconds.
        pub const CONNECTED_AT: Number = "requestContext.connectedAt";
        /// `requestContext.apiId`.
        pub const API_ID: Str = "requestContext.apiId";
        /// `requestContext.requestId`.
        pub const REQUEST_ID: Str = "requestContext.requestId";
        /// `requestContext.stage`.
        pub const STAGE: Str = "requestContext.stage";
        /// `requestContext.domainName`.
        pub const DOMAIN_NAME: Str = "requestContext.domainName";
        /// `requestContext.identity.sourceIp`.
        pub const SOURCE_IP: Str = "requestContext.identity.sourceIp";
        /// `headers`: read only without `multiValueHeaders`, which repeats it.
        pub const HEADERS: Map = "headers", superseded_by "multiValueHeaders";
        /// `multiValueHeaders`: every header value, in order.
        pub const MULTI_VALUE_HEADERS: Map = "multiValueHeaders";
        /// `queryStringParameters`: read only without `multiValueQueryStringParameters`.
        pub const QUERY: Map = "queryStringParameters", superseded_by "multiValueQueryStringParameters";
        /// `multiValueQueryStringParameters`: every query value, in order.
        pub const MULTI_VALUE_QUERY: Map = "multiValueQueryStringParameters";
        /// `body`: the message.
        pub const BODY: Str = "body";
        /// `isBase64Encoded`.
        pub const IS_BASE64_ENCODED: Flag = "isBase64Encoded";
        /// `methodArn`: only on Lambda authorizer requests.
        pub const METHOD_ARN: Present = "methodArn";
    }
}

use fields::*;

/// What a `$connect` authorizer's input is, for the error that refuses it.
const AUTHORIZER: &str = "an API Gateway Lambda authorizer request (WebSocket $connect), which expects an authorization policy, not an HTTP response";

/// The API Gateway WebSocket API event source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayWebSocket;

impl EventSource for ApiGatewayWebSocket {
    fn source(&self) -> Source {
        SOURCE
    }

    fn description(&self) -> &'static str {
        "API Gateway WebSocket API"
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    #[inline]
    fn claimed_only_with(&self) -> &'static [&'static str] {
        &["requestContext.eventType"]
    }

    fn claim(&self, event: &SourceView<'_, '_>) -> Claim {
        if event.get(EVENT_TYPE).is_none() || event.get(CONNECTION_ID).is_none() {
            Claim::Unclaimed
        } else if event.get(METHOD_ARN) {
            Claim::Refused(AUTHORIZER)
        } else {
            Claim::Claimed
        }
    }

    /// An event with a WebSocket `eventType` but no `connectionId` (which no other source
    /// claims either): says what is missing.
    fn explain(&self, event: &SourceView<'_, '_>) -> Option<Error> {
        let event_type = event.get(EVENT_TYPE)?;
        if event.get(CONNECTION_ID).is_some() || event.get(METHOD_ARN) {
            return None;
        }
        context::WebSocketEvent::from_event(event_type.as_bytes())?;
        Some(Error::invalid_event(
            SOURCE,
            event.path(CONNECTION_ID),
            "missing; a WebSocket event (it has requestContext.eventType) carries its connection id",
        ))
    }

    /// See the crate docs: `CONNECT` is `GET /$connect`, `MESSAGE` is `POST /{routeKey}`,
    /// `DISCONNECT` is `DELETE /$disconnect`.
    #[inline]
    fn parse_request(
        &self,
        event: &SourceView<'_, '_>,
        raw_event: Bytes,
    ) -> Result<Request<Body>, Error> {
        request::parse_request(event, raw_event)
    }

    fn encode_head(&self, parts: &Parts, json: &mut JsonWriter, options: EncodeOptions<'_>) {
        response::encode_head(parts, json, options);
    }

    /// Lambda's 6 MB. API Gateway's WebSocket message quota (128 KB) is smaller, but applies
    /// only to what reaches the client (see the crate docs).
    fn response_limit(&self) -> ResponseLimit {
        ResponseLimit::LAMBDA
    }

    #[cfg(feature = "local")]
    fn front_doors(&self) -> &'static [lambda_gateway_core::local::FrontDoor] {
        local::FRONT_DOORS
    }
}

impl TypedSource for ApiGatewayWebSocket {
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error> {
        lambda_gateway_core::typed_event::<TypedEvent>(SOURCE, raw_event)
    }
}

#[cfg(test)]
mod tests {
    use lambda_gateway_core::event::{EventView, Schema};

    use super::*;

    fn claim(event: &str) -> Claim {
        let schema = Schema::build(&[FIELDS]).unwrap();
        EventView::parse(&schema, event.as_bytes(), |view| {
            ApiGatewayWebSocket.claim(&view.unwrap().for_source(schema.binding(0).unwrap()))
        })
    }

    fn explain(event: &str) -> Option<String> {
        let schema = Schema::build(&[FIELDS]).unwrap();
        EventView::parse(&schema, event.as_bytes(), |view| {
            ApiGatewayWebSocket
                .explain(&view.unwrap().for_source(schema.binding(0).unwrap()))
                .map(|e| e.to_string())
        })
    }

    #[test]
    fn claims_the_three_event_types() {
        for event_type in ["CONNECT", "MESSAGE", "DISCONNECT"] {
            let event = format!(
                r#"{{"requestContext":{{"eventType":"{event_type}","connectionId":"c=","routeKey":"$default"}}}}"#
            );
            assert_eq!(claim(&event), Claim::Claimed, "{event_type}");
        }
        // some producers put an `httpMethod` on `$connect`: still a WebSocket event
        let connect = r#"{"httpMethod":"GET","requestContext":{"eventType":"CONNECT","connectionId":"c","httpMethod":"GET"}}"#;
        assert_eq!(claim(connect), Claim::Claimed);
    }

    #[test]
    fn refuses_a_connect_authorizer_request() {
        let event = r#"{"type":"REQUEST","methodArn":"arn:aws:execute-api:eu-west-1:1:abc/prod/$connect",
            "requestContext":{"routeKey":"$connect","eventType":"CONNECT","connectionId":"c"}}"#;
        assert_eq!(claim(event), Claim::Refused(AUTHORIZER));
        assert!(AUTHORIZER.contains("authorizer request"));
        // an authorizer of another API is not this source's to refuse
        assert_eq!(
            claim(r#"{"type":"TOKEN","methodArn":"arn","authorizationToken":"t"}"#),
            Claim::Unclaimed
        );
    }

    #[test]
    fn a_route_key_alone_is_not_a_websocket_event() {
        // HTTP API payload 1.0 and 2.0 events carry `routeKey` too
        let http = r#"{"version":"2.0","routeKey":"GET /a","rawPath":"/a",
            "requestContext":{"routeKey":"GET /a","http":{"method":"GET"},"requestId":"r"}}"#;
        assert_eq!(claim(http), Claim::Unclaimed);
        assert_eq!(
            claim(r#"{"requestContext":{"eventType":"CONNECT"}}"#),
            Claim::Unclaimed
        );
        assert_eq!(
            claim(r#"{"requestContext":{"connectionId":"c"}}"#),
            Claim::Unclaimed
        );
        assert_eq!(
            claim(r#"{"requestContext":{"eventType":null,"connectionId":"c"}}"#),
            Claim::Unclaimed
        );
        assert_eq!(claim("{}"), Claim::Unclaimed);
    }

    #[test]
    fn a_websocket_event_without_its_connection_id_is_explained() {
        let message =
            explain(r#"{"requestContext":{"eventType":"MESSAGE","routeKey":"$default"}}"#);
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("`requestContext.connectionId`: missing")),
            "{message:?}"
        );
        assert_eq!(explain(r#"{"requestContext":{"eventType":"OTHER"}}"#), None);
        assert_eq!(explain("{}"), None);
    }

    #[test]
    fn the_fields_merge_with_the_rest_declarations() {
        // REST declares `connectionId` and `eventType` as presence only: the shapes merge
        static REST_LIKE: &[Field] = &[
            Field::new(
                "requestContext.connectionId",
                lambda_gateway_core::event::Shape::Present,
            ),
            Field::new(
                "requestContext.eventType",
                lambda_gateway_core::event::Shape::Present,
            ),
            Field::new("requestContext", lambda_gateway_core::event::Shape::Present),
        ];
        assert!(Schema::build(&[FIELDS, REST_LIKE]).is_ok());
        assert!(Schema::build(&[REST_LIKE, FIELDS]).is_ok());
    }

    #[test]
    fn the_typed_event_parses() {
        let event = br#"{"requestContext":{"eventType":"MESSAGE","connectionId":"c","routeKey":"$default",
            "connectedAt":1,"requestTimeEpoch":2,"messageId":"m"},"body":"hi","isBase64Encoded":false}"#;
        let typed = ApiGatewayWebSocket::parse_typed_event(event).unwrap();
        let typed = typed.downcast::<TypedEvent>().unwrap();
        assert_eq!(typed.request_context.connection_id.as_deref(), Some("c"));
        assert!(ApiGatewayWebSocket::parse_typed_event(b"[]").is_err());
    }
}
