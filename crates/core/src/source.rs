//! The one abstraction an event source implements.

use std::any::Any;

use bytes::Bytes;
use http::{Request, response::Parts};

use crate::{
    Body, EncodeOptions, Error, Source,
    event::{Field, SourceView},
    json::JsonWriter,
};

/// Whether a source takes an event, read from its [`SourceView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The event is this source's: it converts it.
    Claimed,
    /// Not this source's; the next source is asked.
    Unclaimed,
    /// Shaped like this source's events but not an HTTP request (a Lambda authorizer request,
    /// say): no source serves it, even one forced with `Gateway::source`. The text says what
    /// it is, for the error that names it (`an API Gateway Lambda authorizer request`), and
    /// the event can still be passed through.
    Refused(&'static str),
}

/// A front door's size limit on the response event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimit {
    /// The most bytes a response event may have.
    pub bytes: usize,
    /// Whose limit it is, for the error (`ALB Lambda target`).
    pub name: &'static str,
}

impl ResponseLimit {
    /// Lambda's own limit on a synchronous invocation's response payload (6 MB): the limit of
    /// every source without a smaller one.
    pub const LAMBDA: ResponseLimit = ResponseLimit {
        bytes: 6 * 1024 * 1024,
        name: "Lambda synchronous response",
    };
}

/// Everything about one event source: the fields it reads, how it claims an event, the
/// request it makes of one, and the response event it writes.
///
/// A source crate implements this on a unit struct and the facade registers it — one line —
/// behind the source's cargo feature. The facade merges every enabled source's
/// [`fields`](Self::fields) into one schema, reads each event against it once, asks the sources
/// in registration order (most specific first) to [`claim`](Self::claim) it, and hands the
/// claiming source the view for [`parse_request`](Self::parse_request); the service's response
/// goes back through [`encode_head`](Self::encode_head) and [`encode_body`](Self::encode_body).
/// With the `local` feature, `front_doors` describes how the facade's local server emulates the
/// source off Lambda.
pub trait EventSource: std::fmt::Debug + Send + Sync + 'static {
    /// The source's name.
    fn source(&self) -> Source;

    /// A few words for messages and docs (`API Gateway REST API (and HTTP API payload 1.0)`).
    fn description(&self) -> &'static str;

    /// Every field the source reads (declared with [`fields!`](crate::fields)).
    fn fields(&self) -> &'static [Field];

    /// Whether the event is this source's, by its discriminating fields.
    fn claim(&self, event: &SourceView<'_, '_>) -> Claim;

    /// The fields at least one of which an event must carry for [`claim`](Self::claim) to
    /// answer anything but [`Claim::Unclaimed`] (dotted paths among [`fields`](Self::fields)):
    /// the facade does not ask a source whose discriminating fields are all absent. Empty (the
    /// default): always asked.
    fn claimed_only_with(&self) -> &'static [&'static str] {
        &[]
    }

    /// For an event no source claimed: the error that says what is wrong with it, when it is a
    /// near miss of this source's format (a payload 2.0 event without `requestContext.http`).
    fn explain(&self, event: &SourceView<'_, '_>) -> Option<Error> {
        let _ = event;
        None
    }

    /// Whether the event carried multi-value maps, so the response is written in that mode
    /// (ALB); passed back in [`EncodeOptions::multi_value`].
    fn multi_value(&self, event: &SourceView<'_, '_>) -> bool {
        let _ = event;
        false
    }

    /// Converts a claimed event into the request the service sees. `raw_event` is the payload
    /// the view was read from: strings of the view are zero-copy slices of it.
    fn parse_request(
        &self,
        event: &SourceView<'_, '_>,
        raw_event: Bytes,
    ) -> Result<Request<Body>, Error>;

    /// Writes the response event's head: `{`, the status and every header, in the source's
    /// format — everything but the body (split from the body so that a streamed response can
    /// write it as its prelude). The first member is `"statusCode"`: the facade reads the
    /// status of an answer from there for its logs.
    fn encode_head(&self, parts: &Parts, json: &mut JsonWriter, options: EncodeOptions<'_>);

    /// Whether an answer to `event` may go out as a Lambda response stream: only for events
    /// whose front door can take one. [`Streaming::Never`] by default: a streamed answer to a
    /// front door that expects a buffered one is garbage to it.
    fn streaming(&self, event: &SourceView<'_, '_>) -> Streaming {
        let _ = event;
        Streaming::Never
    }

    /// The most bytes a streamed answer's body may have, where the front door documents one
    /// (a Function URL: 200 MB): past it the stream goes on (the front door cuts it) and the
    /// gateway logs it once. `None` by default.
    fn stream_limit(&self) -> Option<ResponseLimit> {
        None
    }

    /// Writes a streamed answer's prelude, the JSON object Lambda reads before the 8 NUL bytes
    /// and the body: by default the response event's head, closed (`statusCode`, the headers,
    /// `cookies` — no body fields). Only called for events [`streaming`](Self::streaming) let
    /// stream.
    fn encode_prelude(&self, parts: &Parts, json: &mut JsonWriter, options: EncodeOptions<'_>) {
        self.encode_head(parts, json, options);
        json.end_object();
    }

    /// Writes the body fields after the head (`body`, `isBase64Encoded`; `text` when the body
    /// travels as text) and closes the object.
    fn encode_body(&self, body: &[u8], text: Option<&str>, json: &mut JsonWriter) {
        json.body_fields(body, text);
        json.end_object();
    }

    /// The front door's limit on the response event.
    fn response_limit(&self) -> ResponseLimit {
        ResponseLimit::LAMBDA
    }

    /// The front doors of this source the facade's local server can emulate, the first the one
    /// it emulates when the source is forced with `Gateway::source`; none by default.
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    fn front_doors(&self) -> &'static [crate::local::FrontDoor] {
        &[]
    }
}

/// A source's typed `aws_lambda_events` event, parsed from the raw event on demand.
///
/// Kept out of [`EventSource`] (whose methods a registry links in, whether called or not) so
/// that the typed event's deserializer — often the largest code of a source — is linked only
/// into programs that ask for typed events.
pub trait TypedSource: EventSource {
    /// Parses the whole raw event into the source's typed event, boxed (the facade's
    /// `TypedEvent` downcasts it).
    fn parse_typed_event(raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error>;
}

/// Parses a raw event into `T`, the error naming the source: the body of most sources'
/// [`TypedSource::parse_typed_event`].
pub fn typed_event<T>(source: Source, raw_event: &[u8]) -> Result<Box<dyn Any + Send + Sync>, Error>
where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    match serde_json::from_slice::<T>(raw_event) {
        Ok(event) => Ok(Box::new(event)),
        Err(error) => Err(Error::invalid_event(
            source,
            "(event)",
            format!("cannot be read as a typed {source} event: {error}"),
        )),
    }
}

/// Whether an answer may go out as a Lambda response stream (see [`EventSource::streaming`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streaming {
    /// Never: the front door takes buffered answers only.
    Never,
    /// Whenever the deployment streams (a Function URL: its invoke mode is the function's).
    Always,
    /// When the deployment lists this route (`"GET /items/{id}"`: method and resource): a REST
    /// API chooses buffered or streamed per method.
    IfRouteListed(String),
}
