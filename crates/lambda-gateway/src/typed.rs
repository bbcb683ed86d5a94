//! The full typed `aws_lambda_events` event, parsed on demand.

use std::{any::Any, fmt};

use lambda_gateway_core::{Error, RequestContext, Source};

/// The full typed event a request came from: the `aws_lambda_events` type of its source (each
/// source crate names it as its `TypedEvent`; VPC Lattice's are `TypedEventV1` and
/// `TypedEventV2`, by the event's structure), behind a downcast.
///
/// ```
/// # fn doc(context: &lambda_gateway::RequestContext) -> Result<(), lambda_gateway::Error> {
/// use lambda_gateway::{RequestContextExt, aws_lambda_events::apigw::ApiGatewayProxyRequest};
///
/// let event = context.parse_typed_event()?;
/// if let Some(rest) = event.downcast_ref::<ApiGatewayProxyRequest>() {
///     println!("stage variables: {:?}", rest.stage_variables);
/// }
/// # Ok(())
/// # }
/// ```
pub struct TypedEvent {
    source: Source,
    event: Box<dyn Any + Send + Sync>,
}

impl fmt::Debug for TypedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedEvent")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl TypedEvent {
    /// The source whose type the event has.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The event, if it is a `T` (`aws_lambda_events::apigw::ApiGatewayProxyRequest` for
    /// `apigw_rest`: the source crate's `TypedEvent`).
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.event.downcast_ref()
    }

    /// The event as a `T`, or `self` back when it is not one.
    pub fn downcast<T: Any>(self) -> Result<Box<T>, Self> {
        let source = self.source;
        self.event
            .downcast()
            .map_err(|event| Self { source, event })
    }
}

/// Reads the typed event out of a [`RequestContext`].
pub trait RequestContextExt {
    /// Parses the raw event into its source's full `aws_lambda_events` type. The hot path never
    /// does this; call it only when a handler needs a field the request itself does not carry
    /// (authorizer claims, stage variables, ...).
    fn parse_typed_event(&self) -> Result<TypedEvent, Error>;
}

impl RequestContextExt for RequestContext {
    fn parse_typed_event(&self) -> Result<TypedEvent, Error> {
        let source = self.source();
        let event = crate::registry::parse_typed_event(source, self.raw_event()).ok_or(
            Error::SourceDisabled {
                event_source: source,
            },
        )??;
        Ok(TypedEvent { source, event })
    }
}
