use std::{
    borrow::Cow,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use bytes::Bytes;
use http::{HeaderName, Request};
use lambda_gateway_core::{
    Body, Error, RequestContext,
    event::{RawStr, SourceView},
    request::{
        Form, build_request, decode_body, headers_from, parse_method, push_query, query_capacity,
        request_target,
    },
};

use crate::{SOURCE, fields::*};

/// A constant name: looking a `&str` up parses and hashes it on every request.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Converts an ALB target-group event (either header mode) into the request the service sees.
///
/// - method from `httpMethod`; `path` as the client sent it, escaping only bytes that cannot
///   stand in a URI path;
/// - query from `multiValueQueryStringParameters` (else `queryStringParameters`), keys and values
///   still encoded as the client sent them, every value in order;
/// - headers from `multiValueHeaders` (else `headers`), every value in order; no `host` is
///   invented when the client sent none (health checks);
/// - body base64-decoded when `isBase64Encoded`;
/// - the context's source IP is the right-most `X-Forwarded-For` entry of the last header line —
///   the one ALB appended — read as an IP address (a client port and IPv6 brackets stripped;
///   no source IP when the entry is not an address); the request id is
///   left for the facade to fill with the Lambda invocation's id.
///
/// `event` must be the view parsed from `raw_event` (values are zero-copy slices of it).
pub(crate) fn parse_request(
    event: &SourceView<'_, '_>,
    raw_event: Bytes,
) -> Result<Request<Body>, Error> {
    let method = parse_method(SOURCE, "httpMethod", event.get(HTTP_METHOD))?;
    let path = event.get(PATH).ok_or_else(|| {
        Error::invalid_event(SOURCE, "path", "missing; expected the request path")
    })?;

    let multi_value_query = event.get(MULTI_VALUE_QUERY);
    let query = multi_value_query
        .or(event.get(QUERY))
        .filter(|q| !q.is_empty());
    let target = request_target(
        &raw_event,
        path,
        Form::Raw,
        query_capacity(query, Form::Raw),
        |target| {
            if let Some(query) = query {
                push_query(target, query, Form::Raw);
            }
        },
    );

    let multi_value_headers = event.get(MULTI_VALUE_HEADERS);
    let headers = headers_from(
        SOURCE,
        &raw_event,
        &[
            (multi_value_headers, "multiValueHeaders"),
            (event.get(HEADERS), "headers"),
        ],
    )?;

    let is_base64 = event.get(IS_BASE64_ENCODED).unwrap_or(false);
    let body = decode_body(SOURCE, &raw_event, event.get(BODY), is_base64)?;

    // a slice of a header value, which shares the event's buffer: kept as a range of it
    let source_ip = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .next_back()
        .and_then(|line| appended_address(line.as_bytes()))
        .map(|ip| RawStr(Cow::Borrowed(ip)));
    let multi_value = multi_value_headers.is_some() || multi_value_query.is_some();
    let request_context = RequestContext::new(SOURCE, raw_event)
        .with_source_ip_from_event(source_ip.as_ref())
        .with_multi_value(multi_value);
    build_request(SOURCE, method, target, headers, body, request_context)
}

/// The address ALB appended to an `X-Forwarded-For` line: its right-most entry, when that entry
/// is an IP address — IPv4 (`203.0.113.50`, or `203.0.113.50:4321` with the target group's
/// `routing.http.xff_client_port.enabled`), IPv6 bare (`2001:db8::1`) or bracketed, with or
/// without a port (`[2001:db8::1]:4321`). The address alone is returned, a slice of `line`;
/// anything else (`<script>`, `unknown`, a host name, an empty entry) gives `None`, never the
/// raw text.
///
/// What the address means depends on the load balancer's
/// `routing.http.xff_header_processing.mode`: in `append` (the default) ALB appended it, so it
/// is the peer ALB saw; in `preserve` the whole header is the client's, so it is whatever the
/// client wrote; in `remove` there is no header and no address.
fn appended_address(line: &[u8]) -> Option<&[u8]> {
    let line = std::str::from_utf8(line).ok()?;
    let entry = line.rsplit(',').next()?.trim_matches([' ', '\t']);
    let address = if let Some(rest) = entry.strip_prefix('[') {
        // `[v6]` or `[v6]:port`
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        inside.parse::<Ipv6Addr>().ok()?;
        inside
    } else if let Some((host, port)) = entry.split_once(':').filter(|(_, p)| !p.contains(':')) {
        // exactly one colon: `v4:port`
        if !is_port(port) {
            return None;
        }
        host.parse::<Ipv4Addr>().ok()?;
        host
    } else {
        entry.parse::<IpAddr>().ok()?;
        entry
    };
    Some(address.as_bytes())
}

/// A TCP port number: one to five digits, at most 65535.
fn is_port(text: &str) -> bool {
    (1..=5).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(line: &str) -> Option<&str> {
        appended_address(line.as_bytes()).map(|ip| std::str::from_utf8(ip).unwrap())
    }

    #[test]
    fn the_right_most_entry_is_read_as_an_ip_address() {
        assert_eq!(address("203.0.113.50"), Some("203.0.113.50"));
        assert_eq!(address("10.0.0.1, 203.0.113.50"), Some("203.0.113.50"));
        assert_eq!(address("10.0.0.1,203.0.113.50 "), Some("203.0.113.50"));
        assert_eq!(address("2001:db8::1"), Some("2001:db8::1"));
        assert_eq!(
            address("1.1.1.1, ::ffff:192.0.2.1"),
            Some("::ffff:192.0.2.1")
        );
    }

    #[test]
    fn a_client_port_and_ipv6_brackets_are_stripped() {
        assert_eq!(address("203.0.113.50:4321"), Some("203.0.113.50"));
        assert_eq!(address("1.1.1.1, [2001:db8::1]:4321"), Some("2001:db8::1"));
        assert_eq!(address("[2001:db8::1]"), Some("2001:db8::1"));
    }

    #[test]
    fn anything_but_an_ip_address_gives_none() {
        for line in [
            "1.1.1.1, <script>",
            "1.1.1.1, unknown",
            "1.1.1.1, ",
            "",
            "example.com",
            "203.0.113.50:",
            "203.0.113.50:99999",
            "203.0.113.50:80:80",
            "203.0.113.50:+80",
            "[2001:db8::1]:",
            "[2001:db8::1]x",
            "[203.0.113.50]",
            "[2001:db8::1",
            "2001:db8::1]:80",
            "01.2.3.4",
            "1.2.3.4.5",
            "fe80::1%eth0",
            "1.1.1.1 2.2.2.2",
        ] {
            assert_eq!(address(line), None, "{line:?}");
        }
        assert_eq!(appended_address(b"1.1.1.1, \xff"), None);
    }
}
