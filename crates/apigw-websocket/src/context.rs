//! The [`WebSocketContext`] request extension.

use std::fmt;

use lambda_gateway_core::SharedStr;

/// Which of a connection's events a request is (`requestContext.eventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebSocketEvent {
    /// `CONNECT`: the client asks to connect (the `$connect` route), served as
    /// `GET /$connect`.
    Connect,
    /// `MESSAGE`: the client sent a message (the `$default` route or a custom one), served as
    /// `POST /{routeKey}`.
    Message,
    /// `DISCONNECT`: the connection was closed (the `$disconnect` route), served as
    /// `DELETE /$disconnect`.
    Disconnect,
}

impl WebSocketEvent {
    /// The event type as AWS writes it: `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Message => "MESSAGE",
            Self::Disconnect => "DISCONNECT",
        }
    }

    /// The event type named by an event's `requestContext.eventType`, if it is one of the
    /// three (exact, upper case).
    pub(crate) fn from_event(event_type: &[u8]) -> Option<Self> {
        match event_type {
            b"CONNECT" => Some(Self::Connect),
            b"MESSAGE" => Some(Self::Message),
            b"DISCONNECT" => Some(Self::Disconnect),
            _ => None,
        }
    }
}

impl fmt::Display for WebSocketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What API Gateway said about the WebSocket connection a request belongs to.
///
/// Inserted as a request extension on every request of this source, beside the
/// [`RequestContext`](lambda_gateway_core::RequestContext); read it with
/// `request.extensions().get::<WebSocketContext>()`. Its text shares the event's buffer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebSocketContext {
    event_type: WebSocketEvent,
    connection_id: SharedStr,
    route_key: SharedStr,
    message_id: Option<SharedStr>,
    connected_at: Option<u64>,
    api_id: Option<SharedStr>,
}

impl WebSocketContext {
    /// A context with the event type, connection id and route key (for tests of a service:
    /// requests of this source carry one already).
    pub fn new(
        event_type: WebSocketEvent,
        connection_id: impl Into<SharedStr>,
        route_key: impl Into<SharedStr>,
    ) -> Self {
        Self {
            event_type,
            connection_id: connection_id.into(),
            route_key: route_key.into(),
            message_id: None,
            connected_at: None,
            api_id: None,
        }
    }

    /// With a message id (see [`message_id`](Self::message_id)).
    #[must_use]
    pub fn with_message_id(mut self, message_id: Option<SharedStr>) -> Self {
        self.message_id = message_id;
        self
    }

    /// With the time the connection was made (see [`connected_at`](Self::connected_at)).
    #[must_use]
    pub fn with_connected_at(mut self, connected_at: Option<u64>) -> Self {
        self.connected_at = connected_at;
        self
    }

    /// With the API id (see [`api_id`](Self::api_id)).
    #[must_use]
    pub fn with_api_id(mut self, api_id: Option<SharedStr>) -> Self {
        self.api_id = api_id;
        self
    }

    /// Which event this is (`requestContext.eventType`).
    #[inline]
    pub fn event_type(&self) -> WebSocketEvent {
        self.event_type
    }

    /// The connection's id (`requestContext.connectionId`): what the `@connections` API
    /// (`PostToConnection`) needs to send the client a message later.
    #[inline]
    pub fn connection_id(&self) -> &str {
        self.connection_id.as_str()
    }

    /// The route the event was sent on (`requestContext.routeKey`): `$connect`, `$disconnect`,
    /// `$default` or a custom route key, unescaped (the request path has it escaped).
    #[inline]
    pub fn route_key(&self) -> &str {
        self.route_key.as_str()
    }

    /// The message's id (`requestContext.messageId`): messages only.
    #[inline]
    pub fn message_id(&self) -> Option<&str> {
        self.message_id.as_ref().map(SharedStr::as_str)
    }

    /// When the connection was made (`requestContext.connectedAt`), in milliseconds since the
    /// Unix epoch; `None` when the event has none (or not as a whole number).
    #[inline]
    pub fn connected_at(&self) -> Option<u64> {
        self.connected_at
    }

    /// The WebSocket API's id (`requestContext.apiId`), part of the `@connections` endpoint
    /// (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`) unless the API has a
    /// custom domain.
    #[inline]
    pub fn api_id(&self) -> Option<&str> {
        self.api_id.as_ref().map(SharedStr::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_and_print_as_aws_writes_them() {
        for event in [
            WebSocketEvent::Connect,
            WebSocketEvent::Message,
            WebSocketEvent::Disconnect,
        ] {
            assert_eq!(
                WebSocketEvent::from_event(event.as_str().as_bytes()),
                Some(event)
            );
            assert_eq!(event.to_string(), event.as_str());
        }
        assert_eq!(WebSocketEvent::from_event(b"connect"), None);
        assert_eq!(WebSocketEvent::from_event(b""), None);
    }

    #[test]
    fn a_context_can_be_built_for_tests() {
        let context = WebSocketContext::new(WebSocketEvent::Message, "c=", "$default")
            .with_message_id(Some("m".into()))
            .with_connected_at(Some(5))
            .with_api_id(Some("abc".into()));
        assert_eq!(context.event_type(), WebSocketEvent::Message);
        assert_eq!(context.connection_id(), "c=");
        assert_eq!(context.route_key(), "$default");
        assert_eq!(context.message_id(), Some("m"));
        assert_eq!(context.connected_at(), Some(5));
        assert_eq!(context.api_id(), Some("abc"));
    }
}
