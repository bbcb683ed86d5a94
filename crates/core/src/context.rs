//! The request-context extension every converted request carries.

use std::fmt;

use bytes::Bytes;

/// Which AWS front door sent an event, named by the event format it used.
///
/// HTTP API payload 1.0 events share the REST format and are reported as
/// [`Source::ApiGatewayRest`]; Function URL events share the payload 2.0 format and are reported as
/// [`Source::ApiGatewayHttp`] (see [`RequestContext::is_function_url`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// API Gateway REST API proxy integration, or HTTP API with payload format 1.0.
    ApiGatewayRest,
    /// API Gateway HTTP API with payload format 2.0, or a Lambda Function URL.
    ApiGatewayHttp,
    /// Application Load Balancer target group.
    Alb,
}

impl Source {
    /// The source's stable short name: `apigw_rest`, `apigw_http` or `alb`, the same words as the
    /// facade's cargo features.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ApiGatewayRest => "apigw_rest",
            Self::ApiGatewayHttp => "apigw_http",
            Self::Alb => "alb",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// UTF-8 text that shares the event's buffer instead of copying it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct SharedStr(Bytes);

impl SharedStr {
    /// Text from bytes, if they are UTF-8.
    #[inline]
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }

    /// Text from bytes that were a `&str` (no check needed).
    #[inline]
    pub(crate) fn from_str_bytes(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // Checked to be UTF-8 when built, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for SharedStr {
    #[inline]
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&'static str> for SharedStr {
    #[inline]
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}

/// What the gateway said about a request, beyond the HTTP request itself.
///
/// Inserted as a request extension on every converted request; read it with
/// `request.extensions().get::<RequestContext>()`. Its fields come from the gateway's part of
/// the event (`requestContext`), never from client-controlled headers, with one documented
/// exception: on ALB, which has no request context, [`source_ip`](Self::source_ip) is the
/// right-most `X-Forwarded-For` entry, the one the load balancer itself appended.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub(crate) source: Source,
    pub(crate) request_id: Option<SharedStr>,
    pub(crate) source_ip: Option<SharedStr>,
    pub(crate) stage: Option<SharedStr>,
    pub(crate) domain_name: Option<SharedStr>,
    pub(crate) multi_value: bool,
    pub(crate) raw_event: Bytes,
}

impl RequestContext {
    /// A context for a request that came from `source`, with the raw event it was parsed from.
    #[inline]
    pub fn new(source: Source, raw_event: Bytes) -> Self {
        Self {
            source,
            request_id: None,
            source_ip: None,
            stage: None,
            domain_name: None,
            multi_value: false,
            raw_event,
        }
    }

    /// Sets the request id.
    #[inline]
    pub fn with_request_id(mut self, request_id: Option<SharedStr>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Sets the source IP.
    #[inline]
    pub fn with_source_ip(mut self, source_ip: Option<SharedStr>) -> Self {
        self.source_ip = source_ip;
        self
    }

    /// Sets the stage.
    #[inline]
    pub fn with_stage(mut self, stage: Option<SharedStr>) -> Self {
        self.stage = stage;
        self
    }

    /// Sets the domain name.
    #[inline]
    pub fn with_domain_name(mut self, domain_name: Option<SharedStr>) -> Self {
        self.domain_name = domain_name;
        self
    }

    /// Records whether the event carried multi-value header maps.
    #[inline]
    pub fn with_multi_value(mut self, multi_value: bool) -> Self {
        self.multi_value = multi_value;
        self
    }

    /// Fills in the request id when the event had none (ALB events carry no request id; the
    /// facade uses the Lambda invocation's id then).
    #[inline]
    pub fn or_request_id(&mut self, request_id: impl FnOnce() -> Option<String>) {
        if self.request_id.is_none() {
            self.request_id = request_id().map(SharedStr::from);
        }
    }

    /// Which front door sent the event.
    #[inline]
    pub fn source(&self) -> Source {
        self.source
    }

    /// The gateway's request id (`requestContext.requestId`); for ALB events, which have none,
    /// the Lambda invocation's request id when running on Lambda.
    #[inline]
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().map(SharedStr::as_str)
    }

    /// The client's IP address as the gateway saw it.
    #[inline]
    pub fn source_ip(&self) -> Option<&str> {
        self.source_ip.as_ref().map(SharedStr::as_str)
    }

    /// The API Gateway stage (`prod`, `$default`); `None` for ALB.
    #[inline]
    pub fn stage(&self) -> Option<&str> {
        self.stage.as_ref().map(SharedStr::as_str)
    }

    /// The domain name the client called (`requestContext.domainName`), when the event has one.
    #[inline]
    pub fn domain_name(&self) -> Option<&str> {
        self.domain_name.as_ref().map(SharedStr::as_str)
    }

    /// Whether the event came through a Lambda Function URL (a payload 2.0 event whose domain
    /// is `*.lambda-url.<region>.on.aws`).
    pub fn is_function_url(&self) -> bool {
        self.source == Source::ApiGatewayHttp
            && self
                .domain_name
                .as_ref()
                .is_some_and(|domain| domain.as_str().contains(".lambda-url."))
    }

    /// Whether the event carried multi-value maps (`multiValueHeaders`); an ALB response is
    /// written in the same header mode as its request.
    #[inline]
    pub fn is_multi_value(&self) -> bool {
        self.multi_value
    }

    /// The event exactly as Lambda delivered it, for parsing into the full typed
    /// `aws_lambda_events` event on demand (see the source crates' `parse_typed_event`).
    #[inline]
    pub fn raw_event(&self) -> &Bytes {
        &self.raw_event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_url_is_recognized_by_its_domain() {
        let ctx = RequestContext::new(Source::ApiGatewayHttp, Bytes::new())
            .with_domain_name(Some("abc.lambda-url.eu-west-1.on.aws".into()));
        assert!(ctx.is_function_url());
        let ctx = RequestContext::new(Source::ApiGatewayHttp, Bytes::new())
            .with_domain_name(Some("abc.execute-api.eu-west-1.amazonaws.com".into()));
        assert!(!ctx.is_function_url());
    }
}
