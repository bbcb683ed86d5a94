//! The full typed `aws_lambda_events` event, parsed on demand.

use lambda_gateway_core::{Error, RequestContext, Source};

/// The full typed event a request came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TypedEvent {
    /// A REST API or HTTP API payload 1.0 event.
    #[cfg(feature = "apigw_rest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "apigw_rest")))]
    ApiGatewayRest(Box<aws_lambda_events::apigw::ApiGatewayProxyRequest>),
    /// An HTTP API payload 2.0 or Function URL event.
    #[cfg(feature = "apigw_http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "apigw_http")))]
    ApiGatewayHttp(Box<aws_lambda_events::apigw::ApiGatewayV2httpRequest>),
    /// An ALB event.
    #[cfg(feature = "alb")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alb")))]
    Alb(Box<aws_lambda_events::alb::AlbTargetGroupRequest>),
}

/// Reads the typed event out of a [`RequestContext`].
pub trait RequestContextExt {
    /// Parses the raw event into its full `aws_lambda_events` type. The hot path never does
    /// this; call it only when a handler needs a field the request itself does not carry
    /// (authorizer claims, stage variables, ...).
    fn parse_typed_event(&self) -> Result<TypedEvent, Error>;
}

impl RequestContextExt for RequestContext {
    fn parse_typed_event(&self) -> Result<TypedEvent, Error> {
        match self.source() {
            #[cfg(feature = "apigw_rest")]
            Source::ApiGatewayRest => lambda_gateway_apigw_rest::parse_typed_event(self)
                .map(|e| TypedEvent::ApiGatewayRest(Box::new(e))),
            #[cfg(feature = "apigw_http")]
            Source::ApiGatewayHttp => lambda_gateway_apigw_http::parse_typed_event(self)
                .map(|e| TypedEvent::ApiGatewayHttp(Box::new(e))),
            #[cfg(feature = "alb")]
            Source::Alb => {
                lambda_gateway_alb::parse_typed_event(self).map(|e| TypedEvent::Alb(Box::new(e)))
            }
            other => Err(Error::SourceDisabled {
                event_source: other,
            }),
        }
    }
}
