//! The request-context extension every converted request carries.

use std::fmt;

use bytes::Bytes;

use crate::event::RawStr;

/// Which AWS front door sent an event, by the source's stable short name.
///
/// An open name: each source crate defines its own as a constant (`lambda_gateway_alb::SOURCE`
/// is `alb`, the same word as the facade's cargo feature), and core names none of them but
/// [`Source::PASS_THROUGH`]. Constants of this type can be used as `match` patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source(&'static str);

impl Source {
    /// An event no HTTP source claims (SQS, SNS, S3, EventBridge, a direct invoke...), handed
    /// to the service as a `POST` when the gateway passes such events through.
    pub const PASS_THROUGH: Source = Source::named("pass_through");

    /// The source named `name` (a source crate's constant).
    pub const fn named(name: &'static str) -> Self {
        Self(name)
    }

    /// The source's stable short name (`apigw_rest`, `alb`, `pass_through`...).
    pub const fn as_str(self) -> &'static str {
        self.0
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
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) source: Source,
    pub(crate) request_id: Option<EventText>,
    pub(crate) source_ip: Option<EventText>,
    pub(crate) stage: Option<EventText>,
    pub(crate) domain_name: Option<EventText>,
    pub(crate) event_kind: Option<EventText>,
    pub(crate) multi_value: bool,
    pub(crate) function_url: bool,
    pub(crate) context_fields: &'static crate::ContextFields,
    pub(crate) raw_event: Bytes,
}

/// A field of a raw event kept as text for later: a range of the event when the field stands in
/// it as it is (no copy, no reference count to keep), else text of its own. The
/// [`RequestContext`] keeps its fields so, and a source's context extension can too; read one
/// back with [`resolve`](Self::resolve) against the same raw event.
#[derive(Clone, Debug)]
pub struct EventText(Repr);

#[derive(Clone, Debug)]
enum Repr {
    /// `raw_event[start..start + len]`, checked to be UTF-8 when set.
    InEvent { start: u32, len: u32 },
    /// Text that is not in the raw event as it is (it had JSON escapes, or came from elsewhere).
    Own(SharedStr),
}

impl EventText {
    /// `text`, a string of the view read from `raw_event`, kept: a range of the event when it
    /// lies in it as it is (a view string without JSON escapes, or part of one), a copy
    /// otherwise; `None` when absent or not UTF-8.
    #[inline]
    pub fn from_event(raw_event: &Bytes, text: Option<&RawStr<'_>>) -> Option<Self> {
        let text = text?;
        let bytes = text.as_bytes();
        let start = (bytes.as_ptr() as usize).wrapping_sub(raw_event.as_ptr() as usize);
        let inside = text.is_borrowed()
            && start <= raw_event.len()
            && bytes.len() <= raw_event.len() - start;
        match (u32::try_from(start), u32::try_from(bytes.len())) {
            (Ok(start), Ok(len)) if inside => {
                std::str::from_utf8(bytes).ok()?;
                Some(Self(Repr::InEvent { start, len }))
            }
            _ => SharedStr::from_utf8(Bytes::copy_from_slice(bytes))
                .ok()
                .map(|text| Self(Repr::Own(text))),
        }
    }

    /// The text, `raw_event` being the event it was kept from.
    #[inline]
    pub fn resolve<'s>(&'s self, raw_event: &'s Bytes) -> Option<&'s str> {
        match &self.0 {
            Repr::InEvent { start, len } => {
                let start = usize::try_from(*start).ok()?;
                let end = start.checked_add(usize::try_from(*len).ok()?)?;
                // in bounds and UTF-8: both checked when the text was kept
                std::str::from_utf8(raw_event.get(start..end)?).ok()
            }
            Repr::Own(text) => Some(text.as_str()),
        }
    }
}

impl From<SharedStr> for EventText {
    #[inline]
    fn from(text: SharedStr) -> Self {
        Self(Repr::Own(text))
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("source", &self.source)
            .field("request_id", &self.request_id())
            .field("source_ip", &self.source_ip())
            .field("stage", &self.stage())
            .field("domain_name", &self.domain_name())
            .field("event_kind", &self.event_kind())
            .field("multi_value", &self.multi_value)
            .field("raw_event", &format_args!("{} bytes", self.raw_event.len()))
            .finish()
    }
}

impl RequestContext {
    #[doc(hidden)] // built by the source crates, not by users
    /// A context for a request that came from `source`, with the raw event it was parsed from.
    #[inline]
    pub fn new(source: Source, raw_event: Bytes) -> Self {
        Self {
            source,
            request_id: None,
            source_ip: None,
            stage: None,
            domain_name: None,
            event_kind: None,
            multi_value: false,
            function_url: false,
            context_fields: &crate::ContextFields::NONE,
            raw_event,
        }
    }

    /// Text of the raw event as a field (see [`EventText::from_event`]).
    #[inline]
    fn event_text(&self, text: Option<&RawStr<'_>>) -> Option<EventText> {
        EventText::from_event(&self.raw_event, text)
    }

    /// A field's text.
    #[inline]
    fn resolve<'s>(&'s self, text: &'s Option<EventText>) -> Option<&'s str> {
        text.as_ref()?.resolve(&self.raw_event)
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Marks a request that came through a Lambda Function URL.
    #[inline]
    pub fn with_function_url(mut self, function_url: bool) -> Self {
        self.function_url = function_url;
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the request id.
    #[inline]
    pub fn with_request_id(mut self, request_id: Option<SharedStr>) -> Self {
        self.request_id = request_id.map(EventText::from);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the request id from a string of the raw event (see
    /// [`with_source_ip_from_event`](Self::with_source_ip_from_event)).
    #[inline]
    pub fn with_request_id_from_event(mut self, request_id: Option<&RawStr<'_>>) -> Self {
        self.request_id = self.event_text(request_id);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the source IP.
    #[inline]
    pub fn with_source_ip(mut self, source_ip: Option<SharedStr>) -> Self {
        self.source_ip = source_ip.map(EventText::from);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the source IP from a string of the raw event — a field of the event's view, or part
    /// of one: kept as a range of the event when it lies there as it is (no copy, no reference
    /// count), copied when it does not (JSON escapes); left unset when it is not UTF-8.
    #[inline]
    pub fn with_source_ip_from_event(mut self, source_ip: Option<&RawStr<'_>>) -> Self {
        self.source_ip = self.event_text(source_ip);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the stage.
    #[inline]
    pub fn with_stage(mut self, stage: Option<SharedStr>) -> Self {
        self.stage = stage.map(EventText::from);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the stage from a string of the raw event (see
    /// [`with_source_ip_from_event`](Self::with_source_ip_from_event)).
    #[inline]
    pub fn with_stage_from_event(mut self, stage: Option<&RawStr<'_>>) -> Self {
        self.stage = self.event_text(stage);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the domain name.
    #[inline]
    pub fn with_domain_name(mut self, domain_name: Option<SharedStr>) -> Self {
        self.domain_name = domain_name.map(EventText::from);
        self
    }

    #[doc(hidden)] // built by the facade, not by users
    /// Sets the kind of a passed-through event.
    #[inline]
    #[must_use]
    pub fn with_event_kind(mut self, kind: Option<SharedStr>) -> Self {
        self.event_kind = kind.map(EventText::from);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Sets the domain name from a string of the raw event (see
    /// [`with_source_ip_from_event`](Self::with_source_ip_from_event)).
    #[inline]
    pub fn with_domain_name_from_event(mut self, domain_name: Option<&RawStr<'_>>) -> Self {
        self.domain_name = self.event_text(domain_name);
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Records whether the event carried multi-value header maps.
    #[inline]
    pub fn with_multi_value(mut self, multi_value: bool) -> Self {
        self.multi_value = multi_value;
        self
    }

    #[doc(hidden)] // built by the source crates, not by users
    /// Fills in the request id when the event had none (ALB events carry no request id; the
    /// facade uses the Lambda invocation's id then).
    #[inline]
    pub fn or_request_id(&mut self, request_id: impl FnOnce() -> Option<String>) {
        if self.request_id.is_none() {
            self.request_id = request_id().map(|id| EventText::from(SharedStr::from(id)));
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
        self.resolve(&self.request_id)
    }

    /// The client's IP address as the gateway saw it.
    #[inline]
    pub fn source_ip(&self) -> Option<&str> {
        self.resolve(&self.source_ip)
    }

    /// The API Gateway stage (`prod`, `$default`); `None` for ALB.
    #[inline]
    pub fn stage(&self) -> Option<&str> {
        self.resolve(&self.stage)
    }

    /// The domain name the client called (`requestContext.domainName`), when the event has one.
    #[inline]
    pub fn domain_name(&self) -> Option<&str> {
        self.resolve(&self.domain_name)
    }

    /// For a passed-through event, what kind it is where the event says so: the
    /// `eventSource` of its first record (`aws:sqs`, `aws:s3`, `aws:sns`, `aws:dynamodb`,
    /// `aws:kinesis`), the `source` of an EventBridge event (`aws.events` for schedules),
    /// `aws:logs` for CloudWatch Logs, `apigw_authorizer` or `apigw_websocket`; `None` otherwise
    /// (a direct invoke) and on every other source.
    pub fn event_kind(&self) -> Option<&str> {
        self.resolve(&self.event_kind)
    }

    /// Whether the event came through a Lambda Function URL (a payload 2.0 event whose domain
    /// is `*.lambda-url.<region>.on.aws`).
    pub fn is_function_url(&self) -> bool {
        self.function_url
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
    fn fields_from_the_event_are_ranges_of_it_and_others_are_copied() {
        let event = Bytes::from_static(br#"{"requestId":"abc","stage":"caf\u00e9","ip":"\xff"}"#);
        let at = |needle: &str| {
            let start = event
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap();
            RawStr(std::borrow::Cow::Borrowed(
                &event[start..start + needle.len()],
            ))
        };
        let escaped = RawStr(std::borrow::Cow::Owned("caf\u{e9}".as_bytes().to_vec()));
        let context = RequestContext::new(Source::named("apigw_rest"), event.clone())
            .with_request_id_from_event(Some(&at("abc")))
            .with_stage_from_event(Some(&escaped))
            .with_source_ip_from_event(Some(&RawStr(std::borrow::Cow::Borrowed(b"\xff"))))
            .with_domain_name_from_event(Some(&RawStr(std::borrow::Cow::Borrowed(b"elsewhere"))));
        assert!(matches!(
            context.request_id,
            Some(EventText(Repr::InEvent { .. }))
        ));
        assert_eq!(context.request_id(), Some("abc"));
        assert!(matches!(context.stage, Some(EventText(Repr::Own(_)))));
        assert_eq!(context.stage(), Some("caf\u{e9}"));
        // not UTF-8: left unset
        assert_eq!(context.source_ip(), None);
        // borrowed from another buffer: copied
        assert!(matches!(context.domain_name, Some(EventText(Repr::Own(_)))));
        assert_eq!(context.domain_name(), Some("elsewhere"));
        let shown = format!("{context:?}");
        assert!(shown.contains(r#"request_id: Some("abc")"#), "{shown}");
    }
}
