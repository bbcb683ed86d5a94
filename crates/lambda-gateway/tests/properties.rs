//! Property tests: arbitrary requests and responses survive every front door's round trip.
//!
//! For each [`LocalSource`] (the front doors the local mode emulates):
//! - [`request_round_trip`]: an arbitrary HTTP request → `source.request_event` (the event that
//!   front door sends) → [`Gateway::invoke`] → the request the service saw equals the original
//!   (every front door but the WebSocket API's: **W1**);
//! - [`response_round_trip`]: an arbitrary response from the service → [`Gateway::invoke`] →
//!   `source.client_response` (what that front door delivers) → equals the original;
//!
//! except for the losses listed here. Each is a property of a front door's event format that no
//! adapter can undo, and the comparison applies exactly these, nothing broader:
//!
//! Every source
//! - **L1** Header names are case-insensitive and travel lower-cased. (`http::HeaderName`
//!   lower-cases what the client wrote already, so this shows only in the generator, which writes
//!   names in mixed case.)
//! - **L2** Header names and query keys are members of a JSON object, so the relative order of
//!   *different* names (keys) is not kept; the values of one name (key) keep their order. Headers
//!   are compared as name → values, and so are the query pairs of REST and ALB.
//! - **L3** A request header value that is not UTF-8 cannot stand in a JSON string: its bytes
//!   travel read as ISO-8859-1, so the service sees their UTF-8 encoding. (Responses have no such
//!   loss: such a value's high bytes are written as `\u0080`–`\u00ff` escapes, which the local
//!   delivery reads back as the bytes themselves.)
//!
//! API Gateway REST API (payload 1.0)
//! - **R1** `path` arrives percent-decoded, so `%2F` inside a segment reaches the service as `/`.
//! - **R2** Query keys and values arrive decoded and are re-encoded: the service's query is
//!   compared as *decoded* pairs; `?flag` (no `=`) arrives as `flag=`.
//! - **R3** A path, query key or query value whose decoded bytes are not UTF-8 cannot stand in a
//!   JSON string: it travels still encoded, so the service sees it encoded once more (decoding it
//!   once gives the text the client sent).
//!
//! API Gateway HTTP API (payload 2.0) and Function URLs
//! - **H1** Repeated request headers arrive as one value, joined with `,`.
//! - **H2** Repeated response headers other than `Set-Cookie` are joined with `,`.
//!
//! Application Load Balancer
//! - **A1** `?flag` (no `=`) arrives as `flag=`: the parameters are a key → value map.
//! - **A2** Single-value mode: only the last value of a repeated request header or query key
//!   arrives.
//! - **A3** Single-value mode: repeated response headers other than `Set-Cookie` are joined with
//!   `, ` (several `Set-Cookie` survive as letter-case variants of the name).
//! - **A4** Not a loss but ALB's additions (its default `append` mode): the client's address is
//!   appended to the last `X-Forwarded-For` line (or makes a new one), and `X-Forwarded-Proto` and
//!   `X-Forwarded-Port` replace what the client sent.
//!
//! VPC Lattice (`vpc_lattice` is event structure v2, `vpc_lattice_v1` v1)
//! - **V1** v1: repeated request headers arrive as one value, joined with `, `.
//! - **V2** Repeated response headers other than `Set-Cookie` are joined with `, ` (several
//!   `Set-Cookie` travel as a list).
//! - **V3** Not a loss but Lattice's addition: the client's address is appended to
//!   `X-Forwarded-For` as ALB does (**A4**); no `X-Forwarded-Proto` or `-Port`.
//!
//! API Gateway WebSocket API
//! - **W1** A request becomes a `$connect`, a message or a `$disconnect` event, not a request:
//!   only the response round trip applies (tests/local.rs checks the mapping).
//! - **W2** Repeated response headers are joined with `,`, and only the first `Set-Cookie` is
//!   kept.
//!
//! Case counts are kept moderate (128 per property, each case checked against every front door);
//! `PROPTEST_CASES=N` raises them for a longer run. Failures are persisted beside this file, in
//! `properties.regressions`, and replayed first on the next run.

#![cfg(all(
    feature = "local",
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    convert::Infallible,
    fmt::Write as _,
    sync::{Arc, Mutex},
};

use http::{
    HeaderMap, HeaderValue, Method, Request, Response, StatusCode,
    header::{CONTENT_ENCODING, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE},
};
use lambda_gateway::{
    Body, Gateway, LocalSource, alb, apigw_http, apigw_rest, apigw_websocket, vpc_lattice,
};
use proptest::{
    collection::vec,
    prelude::*,
    test_runner::{Config, FileFailurePersistence},
};

const APIGW_REST: LocalSource = LocalSource::new(&apigw_rest::local::APIGW_REST);
const APIGW_HTTP: LocalSource = LocalSource::new(&apigw_http::local::APIGW_HTTP);
const FUNCTION_URL: LocalSource = LocalSource::new(&apigw_http::local::FUNCTION_URL);
const ALB: LocalSource = LocalSource::new(&alb::local::ALB);
const ALB_MULTI: LocalSource = LocalSource::new(&alb::local::ALB_MULTI_VALUE);
const VPC_LATTICE: LocalSource = LocalSource::new(&vpc_lattice::local::VPC_LATTICE);
const VPC_LATTICE_V1: LocalSource = LocalSource::new(&vpc_lattice::local::VPC_LATTICE_V1);
const APIGW_WEBSOCKET: LocalSource = LocalSource::new(&apigw_websocket::local::APIGW_WEBSOCKET);

/// Every front door that forwards the HTTP request as a request (W1).
const ALL_HTTP: [LocalSource; 7] = [
    APIGW_REST,
    APIGW_HTTP,
    FUNCTION_URL,
    ALB,
    ALB_MULTI,
    VPC_LATTICE,
    VPC_LATTICE_V1,
];

/// Every front door.
const ALL: [LocalSource; 8] = [
    APIGW_REST,
    APIGW_HTTP,
    FUNCTION_URL,
    ALB,
    ALB_MULTI,
    VPC_LATTICE,
    VPC_LATTICE_V1,
    APIGW_WEBSOCKET,
];

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 128;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

// ---------------------------------------------------------------------------------------------
// Generators

/// `tchar` from RFC 9110: what a method token or a header name may hold.
const TCHAR: &str = "[!#$%&'*+.^_`|~0-9A-Za-z-]";

/// Strings matching a regular expression built at run time.
fn regex(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern).unwrap().boxed()
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        prop::sample::select(vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::HEAD,
            Method::OPTIONS,
        ]),
        regex(&format!("{TCHAR}{{1,12}}"))
            .prop_map(|token| Method::from_bytes(token.as_bytes()).unwrap()),
    ]
}

/// Bytes that bring out encoding bugs, often enough to matter.
fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        &b"/"[..],
        b"%",
        b"%2F",
        b"?",
        b"#",
        b"+",
        b" ",
        b"&",
        b"=",
        b";",
        b"..",
        b".",
        b"\"",
        b"\\",
        b"\0",
        b"\r\n",
        "é".as_bytes(),
        "😀".as_bytes(),
        b"\xff",
        b"\xc3",
    ])
    .prop_map(<[u8]>::to_vec)
}

/// Arbitrary bytes: random ones, Unicode text, or tricky pieces strung together.
fn any_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..=max),
        regex(&format!("\\PC{{0,{max}}}")).prop_map(String::into_bytes),
        vec(tricky_bytes(), 0..=max / 2).prop_map(|pieces| pieces.concat()),
    ]
}

/// Picks from a small pool most of the time, so that keys and names repeat.
fn pooled(pool: &'static [&'static str], other: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(pool).prop_map(str::to_owned),
        1 => other,
    ]
    .boxed()
}

/// A valid header value: any byte but controls (HTAB allowed), so also bytes over 0x7F.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(
            prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff],
            0..24
        ),
        "[ -~]{0,24}".prop_map(String::into_bytes),
        "[^\\p{Cc}]{0,12}".prop_map(String::into_bytes),
    ]
}

/// A request header name, in mixed case (the client's spelling); never `host` or `cookie`, which
/// the request carries separately.
fn request_header_name() -> BoxedStrategy<String> {
    pooled(
        &[
            "X-Repeated",
            "accept",
            "x-forwarded-for",
            "X-Amzn-Trace-Id",
            "x-a",
        ],
        regex(&format!("{TCHAR}{{1,16}}")),
    )
    .prop_filter("host and cookie are generated separately", |name| {
        !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("cookie")
    })
    .boxed()
}

/// A cookie as a browser sends it: `name=value`, the value made of RFC 6265 `cookie-octet`s.
fn cookie() -> impl Strategy<Value = String> {
    (
        regex(&format!("{TCHAR}{{1,8}}")),
        "[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]{0,10}",
    )
        .prop_map(|(name, value)| format!("{name}={value}"))
}

/// A request as an HTTP client builds it.
#[derive(Debug, Clone)]
struct ClientRequest {
    method: Method,
    /// Decoded path segments: arbitrary bytes, `/` included.
    segments: Vec<Vec<u8>>,
    /// Decoded query pairs; `None` is a key without `=` (`?flag`).
    query: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Whether the client writes a space in the query as `+` (a form) or `%20`.
    plus_for_space: bool,
    host: String,
    headers: Vec<(String, Vec<u8>)>,
    cookies: Vec<String>,
    body: Vec<u8>,
}

fn client_request() -> impl Strategy<Value = ClientRequest> {
    let query_key = pooled(&["a", "key", "q"], any::<String>().boxed())
        .prop_map(String::into_bytes)
        .boxed();
    let query_key = prop_oneof![3 => query_key, 1 => any_bytes(8)];
    (
        method(),
        vec(any_bytes(10), 0..5),
        vec(
            (query_key, prop::option::weighted(0.8, any_bytes(12))),
            0..6,
        ),
        any::<bool>(),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        vec((request_header_name(), header_value()), 0..8),
        vec(cookie(), 0..4),
        prop_oneof![vec(any::<u8>(), 0..600), any_bytes(64)],
    )
        .prop_map(
            |(method, segments, query, plus_for_space, host, headers, cookies, body)| {
                ClientRequest {
                    method,
                    segments,
                    // `?&` (an empty pair) is not something to compare: every pair has a key or a `=`.
                    query: query
                        .into_iter()
                        .filter(|(k, v)| !k.is_empty() || v.is_some())
                        .collect(),
                    plus_for_space,
                    host,
                    headers,
                    cookies,
                    body,
                }
            },
        )
}

/// RFC 3986 `pchar` but `%`: what a client leaves unescaped in a path segment.
fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// What a client leaves unescaped in a query key or value (`&`, `=`, `+`, `#` and `%` are
/// always escaped).
fn is_query_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$'()*,/:;?@".contains(&b)
}

fn escape(out: &mut String, bytes: &[u8], safe: fn(u8) -> bool, plus_for_space: bool) {
    for &b in bytes {
        if safe(b) {
            out.push(char::from(b));
        } else if b == b' ' && plus_for_space {
            out.push('+');
        } else {
            write!(out, "%{b:02X}").unwrap();
        }
    }
}

impl ClientRequest {
    /// The path as the client writes it on the request line.
    fn raw_path(&self) -> String {
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            escape(&mut path, segment, is_pchar, false);
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    }

    /// The query pairs as the client writes them.
    fn raw_query_pairs(&self) -> Vec<(String, Option<String>)> {
        let component = |bytes: &[u8]| {
            let mut out = String::new();
            escape(&mut out, bytes, is_query_safe, self.plus_for_space);
            out
        };
        self.query
            .iter()
            .map(|(k, v)| (component(k), v.as_deref().map(component)))
            .collect()
    }

    fn raw_query(&self) -> Option<String> {
        let pairs = self.raw_query_pairs();
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    fn parts(&self) -> http::request::Parts {
        let uri = match self.raw_query() {
            Some(query) => format!("{}?{query}", self.raw_path()),
            None => self.raw_path(),
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(uri)
            .header(HOST, &self.host);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), HeaderValue::from_bytes(value).unwrap());
        }
        if !self.cookies.is_empty() {
            builder = builder.header(COOKIE, self.cookies.join("; "));
        }
        builder.body(()).unwrap().into_parts().0
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison helpers

/// Header name → every value in order (L1 is the name; L2: no order across names).
fn header_lists(headers: &HeaderMap) -> BTreeMap<String, Vec<Vec<u8>>> {
    headers
        .keys()
        .map(|name| {
            (
                name.as_str().to_owned(),
                headers
                    .get_all(name)
                    .iter()
                    .map(|v| v.as_bytes().to_vec())
                    .collect(),
            )
        })
        .collect()
}

/// L3: the bytes of a header value after a trip through a JSON string.
fn through_json(value: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(value) {
        Ok(_) => value.to_vec(),
        Err(_) => value
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes(),
    }
}

/// Percent-decodes to bytes; `+` is a space when `plus_as_space`.
fn percent_decode(input: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = input.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if let (Some(h), Some(l)) = (
                    bytes.get(i + 1).and_then(|&c| hex(c)),
                    bytes.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Splits a query into pairs as sent (`flag` gives `("flag", "")`: A1, R2).
fn split_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// Groups pairs by key, every value of a key in order (L2).
fn grouped<K: Ord, V>(pairs: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, Vec<V>> {
    let mut map: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// A2: only the last value of each key.
fn last_only<K: Ord, V: Clone>(map: BTreeMap<K, Vec<V>>) -> BTreeMap<K, Vec<V>> {
    map.into_iter()
        .map(|(k, vs)| {
            let last = vs.last().cloned().into_iter().collect();
            (k, last)
        })
        .collect()
}

/// **A4**: the headers ALB adds for a client at 127.0.0.1 on the default local port.
fn alb_forwarding(headers: BTreeMap<String, Vec<Vec<u8>>>) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut headers = forwarded_for(headers);
    headers.insert("x-forwarded-proto".to_owned(), vec![b"http".to_vec()]);
    headers.insert("x-forwarded-port".to_owned(), vec![b"3000".to_vec()]);
    headers
}

/// **A4**, **V3**: the client at 127.0.0.1 appended to the last `X-Forwarded-For` line, or a new
/// one.
fn forwarded_for(mut headers: BTreeMap<String, Vec<Vec<u8>>>) -> BTreeMap<String, Vec<Vec<u8>>> {
    let peer = b"127.0.0.1".to_vec();
    let forwarded_for = headers.entry("x-forwarded-for".to_owned()).or_default();
    match forwarded_for.last_mut() {
        Some(last) if last.iter().any(|b| !matches!(b, b' ' | b'\t')) => {
            last.extend_from_slice(b", 127.0.0.1");
        }
        Some(last) => *last = peer,
        None => forwarded_for.push(peer),
    }
    headers
}

/// H1, H2, A3: every value of a name joined into one.
fn joined(map: BTreeMap<String, Vec<Vec<u8>>>, separator: &[u8]) -> BTreeMap<String, Vec<Vec<u8>>> {
    map.into_iter()
        .map(|(k, vs)| (k, vec![vs.join(separator)]))
        .collect()
}

fn is_v2(source: LocalSource) -> bool {
    matches!(source.as_str(), "apigw_http" | "function_url")
}

// ---------------------------------------------------------------------------------------------
// Requests

/// What the service saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, Vec<Vec<u8>>>,
    body: Vec<u8>,
}

/// Sends `event` through a gateway whose service records the request and answers 200.
fn serve(event: &[u8]) -> (Result<Vec<u8>, lambda_gateway::Error>, Option<Seen>) {
    let seen = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<Body>| {
        let slot = Arc::clone(&slot);
        async move {
            let (parts, body) = request.into_parts();
            *slot.lock().unwrap() = Some(Seen {
                method: parts.method,
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().map(str::to_owned),
                headers: header_lists(&parts.headers),
                body: body.as_bytes().to_vec(),
            });
            Ok::<_, Infallible>(Response::new(Body::from("ok")))
        }
    });
    let result = block_on(Gateway::new(service).invoke(event));
    let seen = seen.lock().unwrap().take();
    (result, seen)
}

/// The path the service should see (R1, R3).
fn expected_path(source: LocalSource, client: &ClientRequest) -> String {
    let raw = client.raw_path();
    if source != APIGW_REST {
        return raw;
    }
    if String::from_utf8(percent_decode(&raw, false)).is_ok() {
        // R1: the client escaped exactly what the adapter escapes again, but for `/`.
        raw.replace("%2F", "/")
    } else {
        // R3: the path travels still encoded, and is escaped once more.
        raw.replace('%', "%25")
    }
}

/// REST query components as the service should decode them (R2, R3).
fn rest_component(raw: &str) -> Vec<u8> {
    let decoded = percent_decode(raw, true);
    match String::from_utf8(decoded) {
        Ok(text) => text.into_bytes(),
        Err(_) => raw.as_bytes().to_vec(),
    }
}

fn check_request(source: LocalSource, client: &ClientRequest) -> Result<(), TestCaseError> {
    let parts = client.parts();
    let event = source.request_event(&parts, &client.body);
    let (result, seen) = serve(&event);
    let response = result.map_err(|e| {
        TestCaseError::fail(format!(
            "{source}: invoke failed: {e}\nevent: {}",
            String::from_utf8_lossy(&event)
        ))
    })?;
    let seen = seen.ok_or_else(|| {
        TestCaseError::fail(format!(
            "{source}: the service was not called; response {}\nevent: {}",
            String::from_utf8_lossy(&response),
            String::from_utf8_lossy(&event)
        ))
    })?;

    prop_assert_eq!(&seen.method, &parts.method, "{}: method", source);
    prop_assert_eq!(
        &seen.path,
        &expected_path(source, client),
        "{}: path",
        source
    );

    let raw_pairs = client.raw_query_pairs();
    let seen_pairs = seen.query.as_deref().map(split_query).unwrap_or_default();
    match source.as_str() {
        // Payload 2.0 passes `rawQueryString` through, Lattice the query in `path`: no loss at
        // all.
        "apigw_http" | "function_url" | "vpc_lattice" | "vpc_lattice_v1" => {
            prop_assert_eq!(&seen.query, &client.raw_query(), "{}: query", source);
        }
        "apigw_rest" => {
            let expected = grouped(raw_pairs.iter().map(|(k, v)| {
                (
                    rest_component(k),
                    rest_component(v.as_deref().unwrap_or("")),
                )
            }));
            let got = grouped(
                seen_pairs
                    .iter()
                    .map(|(k, v)| (percent_decode(k, true), percent_decode(v, true))),
            );
            prop_assert_eq!(got, expected, "{}: decoded query pairs", source);
        }
        "alb" | "alb_multi" => {
            // ALB passes keys and values as the client sent them.
            let mut expected = grouped(
                raw_pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())),
            );
            if source == ALB {
                expected = last_only(expected);
            }
            prop_assert_eq!(grouped(seen_pairs), expected, "{}: query pairs", source);
        }
        other => panic!("unknown source {other}"),
    }

    let mut expected_headers: BTreeMap<_, _> = header_lists(&parts.headers)
        .into_iter()
        .map(|(name, values)| (name, values.iter().map(|v| through_json(v)).collect()))
        .collect();
    if is_v2(source) {
        expected_headers = joined(expected_headers, b",");
    } else if source == ALB {
        expected_headers = last_only(expected_headers);
    }
    match source.as_str() {
        "alb" | "alb_multi" => expected_headers = alb_forwarding(expected_headers),
        "vpc_lattice" => expected_headers = forwarded_for(expected_headers),
        "vpc_lattice_v1" => expected_headers = joined(forwarded_for(expected_headers), b", "),
        _ => {}
    }
    prop_assert_eq!(&seen.headers, &expected_headers, "{}: headers", source);
    prop_assert_eq!(&seen.body, &client.body, "{}: body", source);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn request_round_trip(client in client_request()) {
        for source in ALL_HTTP {
            check_request(source, &client)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// A response as a service builds it.
#[derive(Debug, Clone)]
struct ServiceResponse {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    set_cookies: Vec<Vec<u8>>,
    content_type: Option<&'static str>,
    content_encoding: Option<&'static str>,
    body: Vec<u8>,
}

fn response_header_name() -> BoxedStrategy<String> {
    pooled(
        &["vary", "x-repeated", "Cache-Control", "link", "x-a"],
        regex(&format!("{TCHAR}{{1,16}}")),
    )
    .prop_filter("these are generated separately", |name| {
        ![SET_COOKIE, CONTENT_TYPE, CONTENT_ENCODING]
            .iter()
            .any(|special| name.eq_ignore_ascii_case(special.as_str()))
    })
    .boxed()
}

fn set_cookie() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            cookie(),
            prop::sample::select(vec![
                "",
                "; Path=/; Secure; HttpOnly",
                "; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
                "; Max-Age=0; SameSite=Lax",
            ])
        )
            .prop_map(|(cookie, attributes)| format!("{cookie}{attributes}").into_bytes()),
        header_value(),
    ]
}

fn service_response() -> impl Strategy<Value = ServiceResponse> {
    (
        100u16..=999,
        vec((response_header_name(), header_value()), 0..8),
        vec(set_cookie(), 0..5),
        prop::option::of(prop::sample::select(vec![
            "text/plain; charset=utf-8",
            "application/json",
            "text/html",
            "image/png",
            "application/octet-stream",
            "application/vnd.api+json",
        ])),
        prop::option::weighted(0.25, prop::sample::select(vec!["gzip", "br", "zstd"])),
        prop_oneof![vec(any::<u8>(), 0..600), any_bytes(64)],
    )
        .prop_map(
            |(status, headers, set_cookies, content_type, content_encoding, body)| {
                ServiceResponse {
                    status,
                    headers,
                    set_cookies,
                    content_type,
                    content_encoding,
                    body,
                }
            },
        )
}

impl ServiceResponse {
    fn to_response(&self) -> Response<Body> {
        let mut builder = Response::builder().status(self.status);
        if let Some(content_type) = self.content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        if let Some(content_encoding) = self.content_encoding {
            builder = builder.header(CONTENT_ENCODING, content_encoding);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), HeaderValue::from_bytes(value).unwrap());
        }
        for cookie in &self.set_cookies {
            builder = builder.header(SET_COOKIE, HeaderValue::from_bytes(cookie).unwrap());
        }
        builder.body(Body::from(self.body.clone())).unwrap()
    }
}

/// A request event for `source`, whose header mode the response follows (ALB).
fn plain_request_event(source: LocalSource) -> Vec<u8> {
    let parts = Request::builder()
        .uri("/reply")
        .header(HOST, "example.com")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    source.request_event(&parts, b"")
}

fn check_response(source: LocalSource, reply: &ServiceResponse) -> Result<(), TestCaseError> {
    let original = reply.to_response();
    let service = {
        let reply = reply.clone();
        tower::service_fn(move |_request: Request<Body>| {
            let response = reply.to_response();
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let event = block_on(Gateway::new(service).invoke(&plain_request_event(source)))
        .map_err(|e| TestCaseError::fail(format!("{source}: invoke failed: {e}")))?;
    // On Lambda the response event goes to the Runtime API as written, unchecked (see
    // `LambdaService`): it must be UTF-8 JSON by construction, whatever the service answered.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&event) {
        return Err(TestCaseError::fail(format!(
            "{source}: the response event is not JSON: {e}\nevent: {}",
            String::from_utf8_lossy(&event)
        )));
    }
    let delivered = source.client_response(&event).map_err(|e| {
        TestCaseError::fail(format!(
            "{source}: the front door would not deliver the response: {e}\nevent: {}",
            String::from_utf8_lossy(&event)
        ))
    })?;

    prop_assert_eq!(
        delivered.status(),
        StatusCode::from_u16(reply.status).unwrap(),
        "{}: status",
        source
    );
    // byte for byte (not L3): see `JsonWriter::push_header_value` and the local delivery
    let expected_headers: BTreeMap<_, _> = header_lists(original.headers());
    // H2, A3, V2, W2: the separator repeated values other than `Set-Cookie` are joined with
    let separator: Option<&[u8]> = match source.as_str() {
        "apigw_http" | "function_url" | "apigw_websocket" => Some(b","),
        "alb" | "vpc_lattice" | "vpc_lattice_v1" => Some(b", "),
        _ => None,
    };
    let expected_headers = if let Some(separator) = separator {
        let (mut cookies, others): (BTreeMap<_, _>, BTreeMap<_, _>) = expected_headers
            .into_iter()
            .partition(|(name, _)| name == SET_COOKIE.as_str());
        if source == APIGW_WEBSOCKET {
            // W2: the first cookie only
            for values in cookies.values_mut() {
                values.truncate(1);
            }
        }
        let mut expected = joined(others, separator);
        expected.extend(cookies);
        expected
    } else {
        expected_headers
    };
    prop_assert_eq!(
        header_lists(delivered.headers()),
        expected_headers,
        "{}: headers\nevent: {}",
        source,
        String::from_utf8_lossy(&event)
    );
    prop_assert_eq!(
        delivered.body().as_ref(),
        &reply.body[..],
        "{}: body\nevent: {}",
        source,
        String::from_utf8_lossy(&event)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn response_round_trip(reply in service_response()) {
        for source in ALL {
            check_response(source, &reply)?;
        }
    }
}
