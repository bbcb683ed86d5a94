//! Emulating a source's front doors off Lambda, for the facade's local server (cargo feature
//! `local`).
//!
//! A source that can be emulated describes each of its front doors as a [`FrontDoor`] — how a
//! real HTTP request becomes the event that front door would send, and how a response event
//! becomes the HTTP response it would deliver — and lists them in
//! [`EventSource::front_doors`](crate::EventSource::front_doors). The facade knows no front door
//! by name: it serves whichever of the enabled sources' front doors is chosen.
//!
//! The helpers here are what the formats share, so a source crate writes only its own format:
//! on the request side, reading the request ([`header_lists`], [`raw_pairs`], [`percent_decode`],
//! [`host`]...) and writing the event's maps and body ([`group`], [`single_map`], [`multi_map`],
//! [`body_fields`]); on the response side, [`ResponseEvent`] reads the status and body and
//! [`string`], [`strings`] and [`append_header`] the headers.

mod deliver;
mod emulate;

pub use deliver::{
    HeaderObjects, ResponseEvent, append_header, body, header_bytes, members, string, strings,
};
pub use emulate::{
    ACCOUNT_ID, API_ID, append_forwarded_for, body_fields, group, header_lists, host, multi_map,
    now_ms, percent_decode, raw_pairs, single_map, user_agent,
};

use std::{fmt, net::SocketAddr};

use bytes::Bytes;
use http::{Response, request::Parts};
use serde_json::Value;

use crate::{ResponseLimit, Source};

/// Lambda's limit on a synchronous invocation's request and response payloads: 6 MB.
pub const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// The limit of a front door without a smaller one: Lambda's on a synchronous invocation's
/// payloads ([`LAMBDA_PAYLOAD_LIMIT`]), named so in the local server's errors.
pub const LAMBDA_INVOCATION_LIMIT: ResponseLimit = ResponseLimit {
    bytes: LAMBDA_PAYLOAD_LIMIT,
    name: "Lambda synchronous invocation",
};

/// Builds a front door's event for a request: its head, its whole body, the connection it came
/// on, and the request id to report (see [`FrontDoor::event`]).
pub type EventFn = fn(&Parts, &[u8], &Connection, &str) -> Value;

/// Delivers a response event as the front door would (see [`FrontDoor::deliver`]).
pub type DeliverFn = fn(&[u8]) -> Result<Response<Bytes>, String>;

/// One front door the local server can emulate: a source's event format in one of its
/// configurations (an ALB target group with multi-value headers on, say).
///
/// A source crate defines each as a constant and lists them in
/// [`EventSource::front_doors`](crate::EventSource::front_doors):
///
/// ```
/// use lambda_gateway_core::{Source, local::{self, Connection, FrontDoor}};
///
/// pub const MY_DOOR: FrontDoor = FrontDoor {
///     name: "my_door",
///     description: "my front door",
///     source: Source::named("my_source"),
///     request_body_limit: local::LAMBDA_PAYLOAD_LIMIT,
///     response_limit: local::LAMBDA_INVOCATION_LIMIT,
///     event,
///     deliver,
/// };
///
/// fn event(
///     parts: &http::request::Parts,
///     body: &[u8],
///     _: &Connection,
///     _: &str,
/// ) -> serde_json::Value {
///     let mut event = serde_json::Map::new();
///     event.insert("path".into(), parts.uri.path().into());
///     local::body_fields(&mut event, body);
///     event.into()
/// }
///
/// fn deliver(event: &[u8]) -> Result<http::Response<bytes::Bytes>, String> {
///     let (response, _headers) = local::ResponseEvent::read(event)?.response()?;
///     Ok(response)
/// }
/// ```
#[derive(Clone, Copy)]
pub struct FrontDoor {
    /// The front door's name, as `LAMBDA_GATEWAY_SOURCE` gives it (`alb_multi`): unique among
    /// every source's front doors.
    pub name: &'static str,
    /// A few words for the local server's start-up line (`an ALB target group (multi-value
    /// headers)`).
    pub description: &'static str,
    /// The source whose events this front door sends.
    pub source: Source,
    /// The most bytes a request body may have; a bigger one is answered `413`.
    pub request_body_limit: usize,
    /// The front door's limit on the response event, checked before [`deliver`](Self::deliver)
    /// is called; its name is also the one the request body limit is reported under.
    pub response_limit: ResponseLimit,
    /// The event the front door sends for a request: its head, its whole body (within
    /// [`request_body_limit`](Self::request_body_limit)), the connection it came on, and the
    /// request id to report.
    pub event: EventFn,
    /// The HTTP response the front door delivers for a response event (within
    /// [`response_limit`](Self::response_limit)), or why it would answer 502 instead. The event
    /// is the service's answer as the adapter wrote it: anything at all must be an `Err`, never
    /// a panic.
    pub deliver: DeliverFn,
}

impl FrontDoor {
    /// The event for a request, as JSON (pretty-printed: it is also what capture files hold).
    pub fn request_event(
        &self,
        parts: &Parts,
        body: &[u8],
        connection: &Connection,
        request_id: &str,
    ) -> Vec<u8> {
        let value = (self.event)(parts, body, connection, request_id);
        // Serializing a Value into a Vec cannot fail.
        serde_json::to_vec_pretty(&value).unwrap_or_default()
    }

    /// The HTTP response the client receives for a response event, or why the front door would
    /// answer 502 instead: over [`response_limit`](Self::response_limit), or whatever
    /// [`deliver`](Self::deliver) finds wrong with it.
    pub fn client_response(&self, event: &[u8]) -> Result<Response<Bytes>, String> {
        let limit = self.response_limit.bytes;
        if event.len() > limit {
            return Err(format!(
                "the response event is {} bytes, over the {} limit of {limit} bytes",
                event.len(),
                self.response_limit.name
            ));
        }
        (self.deliver)(event)
    }
}

impl fmt::Debug for FrontDoor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontDoor")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("source", &self.source)
            .field("request_body_limit", &self.request_body_limit)
            .field("response_limit", &self.response_limit)
            .finish_non_exhaustive()
    }
}

/// The two ends of the client's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The client's address: the source IP each front door reports.
    pub peer: SocketAddr,
    /// The server's address the client connected to (ALB's `X-Forwarded-Port`).
    pub local: SocketAddr,
}
