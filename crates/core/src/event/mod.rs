//! A borrowed view of the fields of an incoming event, parsed in one pass.
//!
//! Every front door sends a JSON object whose top-level keys overlap: REST and ALB share
//! `httpMethod`, `path`, the header and query maps; payload 2.0 adds `rawPath`,
//! `rawQueryString` and `cookies`; `requestContext` tells them apart. [`EventView`] reads the
//! union of the fields the adapter needs, borrowing strings from the payload where JSON escaping
//! allows, skipping everything else without building it. The facade parses it once, decides the
//! source from it, and hands it to that source's crate: one parse per event, whatever the source.
//!
//! Maps are kept as ordered `(name, value)` pairs — every value of a multi-value map in order,
//! never collapsed into a hash map — and a `null` map, or a `null` value inside one, is treated
//! as absent.

mod scan;

use std::{borrow::Cow, fmt, marker::PhantomData};

use serde_json::value::RawValue;

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

/// A JSON string's bytes: borrowed from the payload when it has no escapes, owned otherwise.
///
/// The bytes are *not* checked to be UTF-8 while parsing (that check is most of what separates
/// reading a string from skipping it): header values and bodies are bytes anyway, paths and
/// queries are percent-encoded byte by byte, and the few fields read as text are checked with
/// [`RawStr::to_str`] when used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawStr<'a>(pub Cow<'a, [u8]>);

impl RawStr<'_> {
    /// The string's bytes (JSON escapes resolved).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The string as text, if it is UTF-8.
    #[inline]
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// Whether the bytes point into the parsed payload (no escapes had to be resolved).
    #[inline]
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl PartialEq<str> for RawStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

struct RawStrVisitor;

impl<'de> Visitor<'de> for RawStrVisitor {
    type Value = RawStr<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Borrowed(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Owned(v.to_vec())))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Owned(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Borrowed(v.as_bytes())))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Owned(v.as_bytes().to_vec())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawStr(Cow::Owned(v.into_bytes())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde_json reads a string through `deserialize_bytes` without validating UTF-8.
        deserializer.deserialize_bytes(RawStrVisitor)
    }
}

/// An ordered list of `(name, value)` pairs read from a JSON object.
///
/// Reads both single-value maps (`{"a": "1"}`) and multi-value maps (`{"a": ["1", "2"]}`,
/// flattened to one pair per value, in order). A `null` value is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs<'a>(pub Vec<(RawStr<'a>, RawStr<'a>)>);

impl<'a> Pairs<'a> {
    /// Iterates over the pairs in event order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&RawStr<'a>, &RawStr<'a>)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    /// Number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads one map value — a string, an array of strings, or `null` — straight into the pairs.
struct ValuesSeed<'p, 'a> {
    name: RawStr<'a>,
    pairs: &'p mut Vec<(RawStr<'a>, RawStr<'a>)>,
}

impl<'de, 'p> DeserializeSeed<'de> for ValuesSeed<'p, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, 'p> Visitor<'de> for ValuesSeed<'p, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // A string arrives as bytes; an array is handed on to `visit_seq`.
        deserializer.deserialize_bytes(self)
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<(), E> {
        self.pairs.push((self.name, RawStr(Cow::Borrowed(v))));
        Ok(())
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.pairs.push((self.name, RawStr(Cow::Owned(v.to_vec()))));
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.visit_borrowed_bytes(v.as_bytes())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.visit_bytes(v.as_bytes())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Option<RawStr<'de>>>()? {
            if let Some(value) = value {
                self.pairs.push((self.name.clone(), value));
            }
        }
        Ok(())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for PairsVisitor<'de> {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings or of arrays of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(name) = map.next_key::<RawStr<'de>>()? {
                    map.next_value_seed(ValuesSeed {
                        name,
                        pairs: &mut pairs,
                    })?;
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}

/// A list of strings (`cookies`); `null` entries are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrList<'a>(pub Vec<RawStr<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<Option<RawStr<'a>>>::deserialize(deserializer)?;
        Ok(StrList(values.into_iter().flatten().collect()))
    }
}

/// Whether a field was present with a non-null value; its content is skipped unparsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Present(
            Option::<IgnoredAny>::deserialize(deserializer)?.is_some(),
        ))
    }
}

/// The union of the top-level event fields any source crate reads.
///
/// Deserialized by hand rather than derived: keys are matched as bytes (a derived visitor checks
/// every key is UTF-8), unknown fields are skipped unparsed, a repeated field is an error, and a
/// single-value map (`headers`, `queryStringParameters`) is skipped unparsed when its multi-value
/// counterpart was already read — REST events carry both, with the same content.
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventView<'a> {
    /// `version` (`"1.0"`, `"2.0"`): HTTP API and Function URL events.
    pub version: Option<RawStr<'a>>,
    /// `httpMethod`: REST, HTTP API 1.0 and ALB.
    pub http_method: Option<RawStr<'a>>,
    /// `path`: REST (decoded, without the stage) and ALB (as sent).
    pub path: Option<RawStr<'a>>,
    /// `rawPath`: payload 2.0.
    pub raw_path: Option<RawStr<'a>>,
    /// `rawQueryString`: payload 2.0, still encoded.
    pub raw_query_string: Option<RawStr<'a>>,
    /// `headers`: single-value header map (left `None` when `multiValueHeaders` came first).
    pub headers: Option<Pairs<'a>>,
    /// `multiValueHeaders`: every header value, in order.
    pub multi_value_headers: Option<Pairs<'a>>,
    /// `queryStringParameters`: single-value query map (left `None` when
    /// `multiValueQueryStringParameters` came first).
    pub query_string_parameters: Option<Pairs<'a>>,
    /// `multiValueQueryStringParameters`: every query value, in order.
    pub multi_value_query_string_parameters: Option<Pairs<'a>>,
    /// `cookies`: payload 2.0 request cookies (`name=value` each).
    pub cookies: Option<StrList<'a>>,
    /// `body`: text, or base64 when `isBase64Encoded`.
    pub body: Option<RawStr<'a>>,
    /// `isBase64Encoded`.
    pub is_base64_encoded: Option<bool>,
    /// `requestContext`.
    pub request_context: Option<ContextView<'a>>,
    /// `methodArn`: present only on API Gateway Lambda authorizer requests (REST TOKEN and
    /// REQUEST, HTTP API payload 1.0, WebSocket `$connect`), which are never HTTP requests.
    pub method_arn: Present,
    /// `routeArn`: present only on HTTP API payload 2.0 Lambda authorizer requests.
    pub route_arn: Present,
}

/// The fields of `requestContext` any source crate reads.
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContextView<'a> {
    /// `requestContext.elb`: present only on ALB events.
    pub elb: Present,
    /// `requestContext.http`: payload 2.0.
    pub http: Option<HttpView<'a>>,
    /// `requestContext.identity`: REST.
    pub identity: Option<IdentityView<'a>>,
    /// `requestContext.requestId`.
    pub request_id: Option<RawStr<'a>>,
    /// `requestContext.stage`.
    pub stage: Option<RawStr<'a>>,
    /// `requestContext.domainName`.
    pub domain_name: Option<RawStr<'a>>,
    /// `requestContext.connectionId`: API Gateway WebSocket events only.
    pub connection_id: Present,
    /// `requestContext.eventType` (`CONNECT`, `MESSAGE`, `DISCONNECT`): WebSocket events only.
    pub event_type: Present,
}

/// `requestContext.http` of a payload 2.0 event.
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpView<'a> {
    /// `method`.
    pub method: Option<RawStr<'a>>,
    /// `path`.
    pub path: Option<RawStr<'a>>,
    /// `sourceIp`.
    pub source_ip: Option<RawStr<'a>>,
}

/// `requestContext.identity` of a REST event.
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityView<'a> {
    /// `sourceIp`.
    pub source_ip: Option<RawStr<'a>>,
}

/// A JSON object key, matched against a fixed list of names as bytes.
struct Key<const N: usize>(&'static [&'static str; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for Key<N> {
    /// The index of the name in the list, `N` for an unknown key.
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Key<N> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<usize, E> {
        Ok(self
            .0
            .iter()
            .position(|name| name.as_bytes() == v)
            .unwrap_or(N))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        self.visit_bytes(v.as_bytes())
    }
}

/// Reads a field once; a second occurrence is an error, as with derived visitors.
fn once<'de, A, T>(map: &mut A, slot: &mut Option<T>, name: &'static str) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = map.next_value()?;
    Ok(())
}

impl<'a> EventView<'a> {
    /// Reads the view of an event payload.
    ///
    /// A specialised scanner reads well-formed events (the fast path); whatever it does not
    /// handle — malformed JSON, a mistyped or repeated field, a raw control byte, an unpaired
    /// surrogate escape, very deep nesting — is read again by the serde visitors of this type
    /// (`serde_json::from_slice::<EventView>`), which accept it or say precisely what is wrong.
    /// Both paths give equal views on every input the scanner accepts.
    pub fn parse(payload: &'a [u8]) -> Result<Self, serde_json::Error> {
        Self::parse_with(payload, |view| view.map(std::mem::take))
    }

    /// Reads the view of an event payload as [`parse`](Self::parse) does, and hands `read` the
    /// view, or the serde error, without moving the view: it (about 450 bytes) is filled in
    /// place on this function's stack, and `read`'s answer is returned as it is. The facade's
    /// hot path, where each move of the view, or re-wrapping of what `read` returns, would be
    /// a copy.
    #[inline]
    pub fn parse_with<R>(
        payload: &'a [u8],
        read: impl FnOnce(Result<&mut Self, serde_json::Error>) -> R,
    ) -> R {
        let mut view = EventView::default();
        if !scan::scan(payload, &mut view) {
            match Self::parse_by_serde(payload) {
                Ok(read_by_serde) => view = read_by_serde,
                Err(error) => return read(Err(error)),
            }
        }
        read(Ok(&mut view))
    }

    /// The serde path: not generic and not inlined, so that the serde visitors (about 40 KB of
    /// code) are instantiated once, here, whatever crate calls [`parse_with`](Self::parse_with).
    #[inline(never)]
    #[cold]
    fn parse_by_serde(payload: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(payload)
    }

    /// The fast path of [`parse`](Self::parse) alone: `None` when it leaves the payload to
    /// the serde visitors (exposed to test that both paths agree).
    pub fn scan(payload: &'a [u8]) -> Option<Self> {
        let mut view = EventView::default();
        scan::scan(payload, &mut view).then_some(view)
    }
}

impl EventView<'_> {
    /// Whether what was read so far marks an event whose single-value maps are read as they
    /// come: payload 2.0 and ALB use them directly, while REST repeats them in the multi-value
    /// maps, so there they are deferred (and skipped when the multi-value map follows).
    fn reads_single_value_maps(&self) -> bool {
        self.version
            .as_ref()
            .is_some_and(|v| v.as_bytes() == b"2.0")
            || self.request_context.as_ref().is_some_and(|c| c.elb.0)
    }
}

const EVENT_FIELDS: &[&str; 15] = &[
    "version",
    "httpMethod",
    "path",
    "rawPath",
    "rawQueryString",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "cookies",
    "body",
    "isBase64Encoded",
    "requestContext",
    "methodArn",
    "routeArn",
];

impl<'de: 'a, 'a> Deserialize<'de> for EventView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for EventVisitor<'de> {
            type Value = EventView<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut view = EventView::default();
                // single-value maps met before their multi-value counterpart, read unparsed
                let mut deferred_headers: Option<&'de RawValue> = None;
                let mut deferred_query: Option<&'de RawValue> = None;
                let mut seen = [false; 15];
                while let Some(index) = map.next_key_seed(Key(EVENT_FIELDS))? {
                    if index < seen.len() {
                        if seen[index] {
                            return Err(de::Error::duplicate_field(EVENT_FIELDS[index]));
                        }
                        seen[index] = true;
                    }
                    let eager = view.reads_single_value_maps();
                    match index {
                        0 => view.version = map.next_value()?,
                        1 => view.http_method = map.next_value()?,
                        2 => view.path = map.next_value()?,
                        3 => view.raw_path = map.next_value()?,
                        4 => view.raw_query_string = map.next_value()?,
                        5 if view.multi_value_headers.is_some() => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        5 if eager => view.headers = map.next_value()?,
                        5 => deferred_headers = map.next_value()?,
                        6 => view.multi_value_headers = map.next_value()?,
                        7 if view.multi_value_query_string_parameters.is_some() => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        7 if eager => view.query_string_parameters = map.next_value()?,
                        7 => deferred_query = map.next_value()?,
                        8 => view.multi_value_query_string_parameters = map.next_value()?,
                        9 => view.cookies = map.next_value()?,
                        10 => view.body = map.next_value()?,
                        11 => view.is_base64_encoded = map.next_value()?,
                        12 => view.request_context = map.next_value()?,
                        13 => view.method_arn = map.next_value()?,
                        14 => view.route_arn = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if view.multi_value_headers.is_none() {
                    if let Some(raw) = deferred_headers {
                        view.headers = deferred(raw)?;
                    }
                }
                if view.multi_value_query_string_parameters.is_none() {
                    if let Some(raw) = deferred_query {
                        view.query_string_parameters = deferred(raw)?;
                    }
                }
                Ok(view)
            }
        }
        deserializer.deserialize_map(EventVisitor(PhantomData))
    }
}

/// Parses a map that was first read unparsed.
fn deferred<'de, E: de::Error>(raw: &'de RawValue) -> Result<Option<Pairs<'de>>, E> {
    serde_json::from_str(raw.get()).map_err(E::custom)
}

const CONTEXT_FIELDS: &[&str; 8] = &[
    "elb",
    "http",
    "identity",
    "requestId",
    "stage",
    "domainName",
    "connectionId",
    "eventType",
];

impl<'de: 'a, 'a> Deserialize<'de> for ContextView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContextVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for ContextVisitor<'de> {
            type Value = ContextView<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requestContext object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut view = ContextView::default();
                let mut elb = None;
                let mut connection_id = None;
                let mut event_type = None;
                while let Some(index) = map.next_key_seed(Key(CONTEXT_FIELDS))? {
                    match index {
                        0 => once(&mut map, &mut elb, "elb")?,
                        1 => once(&mut map, &mut view.http, "http")?,
                        2 => once(&mut map, &mut view.identity, "identity")?,
                        3 => once(&mut map, &mut view.request_id, "requestId")?,
                        4 => once(&mut map, &mut view.stage, "stage")?,
                        5 => once(&mut map, &mut view.domain_name, "domainName")?,
                        6 => once(&mut map, &mut connection_id, "connectionId")?,
                        7 => once(&mut map, &mut event_type, "eventType")?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                view.elb = Present(elb.is_some_and(|p: Present| p.0));
                view.connection_id = Present(connection_id.is_some_and(|p: Present| p.0));
                view.event_type = Present(event_type.is_some_and(|p: Present| p.0));
                Ok(view)
            }
        }
        deserializer.deserialize_map(ContextVisitor(PhantomData))
    }
}

const HTTP_FIELDS: &[&str; 3] = &["method", "path", "sourceIp"];

impl<'de: 'a, 'a> Deserialize<'de> for HttpView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HttpVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for HttpVisitor<'de> {
            type Value = HttpView<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requestContext.http object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut view = HttpView::default();
                while let Some(index) = map.next_key_seed(Key(HTTP_FIELDS))? {
                    match index {
                        0 => once(&mut map, &mut view.method, "method")?,
                        1 => once(&mut map, &mut view.path, "path")?,
                        2 => once(&mut map, &mut view.source_ip, "sourceIp")?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(view)
            }
        }
        deserializer.deserialize_map(HttpVisitor(PhantomData))
    }
}

const IDENTITY_FIELDS: &[&str; 1] = &["sourceIp"];

impl<'de: 'a, 'a> Deserialize<'de> for IdentityView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdentityVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for IdentityVisitor<'de> {
            type Value = IdentityView<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requestContext.identity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut view = IdentityView::default();
                while let Some(index) = map.next_key_seed(Key(IDENTITY_FIELDS))? {
                    match index {
                        0 => once(&mut map, &mut view.source_ip, "sourceIp")?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(view)
            }
        }
        deserializer.deserialize_map(IdentityVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_value_maps_flatten_in_order_and_skip_nulls() {
        let pairs: Pairs<'_> =
            serde_json::from_str(r#"{"a":["1","2"],"b":"3","c":null,"d":["4",null]}"#).unwrap();
        let got: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_str().unwrap(), v.to_str().unwrap()))
            .collect();
        assert_eq!(got, [("a", "1"), ("a", "2"), ("b", "3"), ("d", "4")]);
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let view: EventView<'_> =
            serde_json::from_str(r#"{"path":"/a","body":"x\"y","requestContext":{"elb":{}}}"#)
                .unwrap();
        assert!(matches!(view.path.unwrap().0, Cow::Borrowed(b"/a")));
        assert_eq!(view.body.unwrap().0, Cow::<[u8]>::Owned(b"x\"y".to_vec()));
        assert!(view.request_context.unwrap().elb.0);
    }

    #[test]
    fn mistyped_values_are_errors_naming_what_was_expected() {
        let error = serde_json::from_str::<EventView<'_>>(r#"{"headers":{"a":5}}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected a string or an array of strings"),
            "{error}"
        );
        let error = serde_json::from_str::<EventView<'_>>(r#"{"path":["a"]}"#).unwrap_err();
        assert!(error.to_string().contains("expected a string"), "{error}");
    }

    #[test]
    fn single_value_maps_are_skipped_after_their_multi_value_counterpart() {
        let view: EventView<'_> = serde_json::from_str(
            r#"{"multiValueHeaders":{"a":["1","2"]},"headers":{"a":"2"},"httpMethod":"GET"}"#,
        )
        .unwrap();
        assert!(view.headers.is_none());
        assert_eq!(view.multi_value_headers.unwrap().len(), 2);
    }

    #[test]
    fn single_value_maps_before_a_missing_multi_value_map_are_still_read() {
        let view: EventView<'_> =
            serde_json::from_str(r#"{"headers":{"a":"1"},"multiValueHeaders":null}"#).unwrap();
        assert_eq!(view.headers.unwrap().len(), 1);
        let view: EventView<'_> =
            serde_json::from_str(r#"{"queryStringParameters":{"q":"1"}}"#).unwrap();
        assert_eq!(view.query_string_parameters.unwrap().len(), 1);
    }

    #[test]
    fn repeated_fields_are_errors() {
        let error =
            serde_json::from_str::<EventView<'_>>(r#"{"path":"/a","path":"/b"}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `path`"),
            "{error}"
        );
        let error = serde_json::from_str::<EventView<'_>>(
            r#"{"requestContext":{"stage":"a","stage":"b"}}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `stage`"),
            "{error}"
        );
    }

    #[test]
    fn null_maps_and_null_elb_are_absent() {
        let view: EventView<'_> =
            serde_json::from_str(r#"{"headers":null,"requestContext":{"elb":null}}"#).unwrap();
        assert!(view.headers.is_none());
        assert!(!view.request_context.unwrap().elb.0);
    }
}
