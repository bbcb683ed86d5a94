//! The error type shared by every crate of the workspace.

use std::borrow::Cow;

use crate::Source;

/// A boxed error from a service or a response body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong between an event arriving and a response event leaving.
///
/// Messages say what was found and what was expected, and name the event field at fault.
/// [`Error::kind`] gives a stable name for each kind, used as the Lambda `errorType`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The payload is not JSON at all.
    #[error("event is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),

    /// The payload is JSON but no known front door sends events of that shape.
    #[error(
        "unrecognized event: expected an API Gateway, Function URL or ALB request, or a VPC Lattice one; found {found}"
    )]
    UnrecognizedEvent {
        /// A short description of what arrived (`an object with keys [Records]`).
        found: String,
    },

    /// The event came from a source whose cargo feature is compiled out.
    #[error(
        "received an {event_source} event, but lambda-gateway was built without its `{event_source}` feature; \
         enable the feature in Cargo.toml to accept these events"
    )]
    SourceDisabled {
        /// The source the event came from.
        event_source: Source,
    },

    /// The event has the shape of a known source but a field is missing, mistyped or invalid.
    #[error("invalid {event_source} event: `{field}`: {reason}")]
    InvalidEvent {
        /// The source whose format the event has.
        event_source: Source,
        /// The JSON path of the faulty field (`headers.x-id`, `body`).
        field: Cow<'static, str>,
        /// What was wrong with it.
        reason: String,
    },

    /// The event is well formed, but the HTTP request it carries cannot be represented: an
    /// invalid header name or value (CR, LF, NUL...), method token, cookie or URI. The content
    /// came from the client, so the facade answers it with a 400 in the source's format rather
    /// than failing the invocation.
    #[error("invalid request in {event_source} event: `{field}`: {reason}")]
    InvalidRequest {
        /// The source whose format the event has.
        event_source: Source,
        /// The JSON path of the faulty field.
        field: Cow<'static, str>,
        /// What was wrong with it.
        reason: String,
    },

    /// The service returned an error.
    #[error("the service failed: {0}")]
    Service(#[source] BoxError),

    /// The service's response body failed while being read.
    #[error("the response body failed: {0}")]
    ResponseBody(#[source] BoxError),

    /// The service answered a passed-through event with a status other than 2xx: the invocation
    /// fails, so the platform retries the event (or sends it to its dead-letter destination).
    #[error("the service answered {status} to the passed-through event: {reason}")]
    PassThroughRejected {
        /// The service's status code.
        status: u16,
        /// The start of the service's response body.
        reason: String,
    },

    /// lambda-gateway itself failed (a bug: it panicked outside the service); the invocation
    /// fails and the function keeps serving.
    #[error("lambda-gateway failed: {0}")]
    Internal(String),

    /// The response cannot be written in the source's format.
    #[error("invalid response for {event_source}: {reason}")]
    InvalidResponse {
        /// The source the response was meant for.
        event_source: Source,
        /// What was wrong with it.
        reason: String,
    },
}

impl Error {
    /// An [`Error::InvalidEvent`] for `field` of a `source` event.
    pub fn invalid_event(
        source: Source,
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidEvent {
            event_source: source,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::InvalidRequest`] for `field` of a `source` event.
    pub fn invalid_request(
        source: Source,
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidRequest {
            event_source: source,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Whether the fault lies in what the client sent (answered with a 400), not in the event.
    pub fn is_client_fault(&self) -> bool {
        matches!(self, Self::InvalidRequest { .. })
    }

    /// Whether the event is at fault rather than this function: not JSON, of no known shape, a
    /// missing or mistyped field, or a request `http` cannot carry. Whoever invoked the function
    /// sent what it should not have, so it is logged as a warning, not as an error of ours.
    #[must_use]
    pub fn is_event_fault(&self) -> bool {
        matches!(
            self,
            Self::NotJson(_)
                | Self::UnrecognizedEvent { .. }
                | Self::InvalidEvent { .. }
                | Self::InvalidRequest { .. }
        )
    }

    /// The source the event came from, when it was recognized.
    pub fn event_source(&self) -> Option<Source> {
        match self {
            Self::SourceDisabled { event_source }
            | Self::InvalidEvent { event_source, .. }
            | Self::InvalidRequest { event_source, .. }
            | Self::InvalidResponse { event_source, .. } => Some(*event_source),
            _ => None,
        }
    }

    /// The kind's stable name, as reported in the Lambda invocation error's `errorType`
    /// (`lambda_gateway::InvalidEvent`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "lambda_gateway::NotJson",
            Self::UnrecognizedEvent { .. } => "lambda_gateway::UnrecognizedEvent",
            Self::SourceDisabled { .. } => "lambda_gateway::SourceDisabled",
            Self::InvalidEvent { .. } => "lambda_gateway::InvalidEvent",
            Self::InvalidRequest { .. } => "lambda_gateway::InvalidRequest",
            Self::Service(_) => "lambda_gateway::ServiceError",
            Self::ResponseBody(_) => "lambda_gateway::ResponseBodyError",
            Self::InvalidResponse { .. } => "lambda_gateway::InvalidResponse",
            Self::Internal(_) => "lambda_gateway::InternalError",
            Self::PassThroughRejected { .. } => "lambda_gateway::PassThroughRejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_event_message_names_source_field_and_reason() {
        let error = Error::invalid_event(Source::named("alb"), "body", "invalid base64 at byte 3");
        assert_eq!(
            error.to_string(),
            "invalid alb event: `body`: invalid base64 at byte 3"
        );
        assert_eq!(error.kind(), "lambda_gateway::InvalidEvent");
    }

    #[test]
    fn disabled_source_names_the_feature() {
        let error = Error::SourceDisabled {
            event_source: Source::named("apigw_rest"),
        };
        assert!(
            error.to_string().contains("`apigw_rest` feature"),
            "{error}"
        );
    }
}
