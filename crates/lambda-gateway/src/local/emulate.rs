//! Turning a real HTTP request into the event a front door would send.

use std::{
    net::SocketAddr,
    time::{SystemTime, UNIX_EPOCH},
};

use http::{HeaderMap, request::Parts};
use lambda_gateway_core::encoding::{encode_base64, header_value_text};
use serde_json::{Map, Value, json};

use super::LocalSource;

/// The two ends of the client's connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connection {
    /// The client's address.
    pub(crate) peer: SocketAddr,
    /// The server's address the client connected to.
    pub(crate) local: SocketAddr,
}

/// The synthesized event, pretty-printed (it is also what capture files hold).
///
/// `peer` is the client's address (the source IP each front door reports), `local` the address
/// the client connected to (ALB's `X-Forwarded-Port`).
pub(crate) fn event(
    source: LocalSource,
    parts: &Parts,
    body: &[u8],
    connection: Connection,
    request_id: &str,
) -> Vec<u8> {
    let peer = connection.peer;
    let value = match source {
        LocalSource::ApiGatewayRest => rest(parts, body, peer, request_id),
        LocalSource::ApiGatewayHttp => v2(parts, body, peer, request_id, false),
        LocalSource::FunctionUrl => v2(parts, body, peer, request_id, true),
        LocalSource::Alb => alb(parts, body, connection, false),
        LocalSource::AlbMultiValue => alb(parts, body, connection, true),
    };
    // Serializing a Value into a Vec cannot fail.
    serde_json::to_vec_pretty(&value).unwrap_or_default()
}

const ACCOUNT_ID: &str = "123456789012";
const API_ID: &str = "local";
const REST_STAGE: &str = "local";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `body` and `isBase64Encoded`: text when the bytes are UTF-8, base64 otherwise; no body → null.
fn body_fields(object: &mut Map<String, Value>, body: &[u8]) {
    let (body, encoded) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(encode_base64(body)), true),
    };
    object.insert("body".into(), body);
    object.insert("isBase64Encoded".into(), Value::Bool(encoded));
}

/// Header names with every value, in order of first appearance.
fn header_lists(headers: &HeaderMap) -> Vec<(&str, Vec<String>)> {
    headers
        .keys()
        .map(|name| {
            (
                name.as_str(),
                headers
                    .get_all(name)
                    .iter()
                    .map(|v| header_value_text(v).into_owned())
                    .collect(),
            )
        })
        .collect()
}

/// Percent-decodes `input`; `+` becomes a space when `plus_as_space`. `None` when the decoded
/// bytes are not UTF-8.
fn percent_decode(input: &str, plus_as_space: bool) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |c: u8| (c as char).to_digit(16);
        match b {
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|&c| hex(c)),
                    bytes.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b),
                }
            }
            b'+' if plus_as_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Splits a raw query into `(key, value)` pairs as sent (`a` alone gives `("a", "")`).
fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Groups pairs by key, keeping the first appearance order.
fn group(pairs: impl Iterator<Item = (String, String)>) -> Vec<(String, Vec<String>)> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in pairs {
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => grouped.push((key, vec![value])),
        }
    }
    grouped
}

fn single_map(grouped: &[(String, Vec<String>)], join: Option<&str>) -> Value {
    Value::Object(
        grouped
            .iter()
            .map(|(k, vs)| {
                let value = match join {
                    Some(sep) => vs.join(sep),
                    None => vs.last().cloned().unwrap_or_default(),
                };
                (k.clone(), Value::String(value))
            })
            .collect(),
    )
}

fn multi_map(grouped: &[(String, Vec<String>)]) -> Value {
    Value::Object(
        grouped
            .iter()
            .map(|(k, vs)| (k.clone(), json!(vs)))
            .collect(),
    )
}

fn host(parts: &Parts) -> String {
    parts.headers.get(http::header::HOST).map_or_else(
        || "localhost".to_owned(),
        |h| header_value_text(h).into_owned(),
    )
}

fn user_agent(parts: &Parts) -> Value {
    parts
        .headers
        .get(http::header::USER_AGENT)
        .map_or(Value::Null, |h| {
            Value::String(header_value_text(h).into_owned())
        })
}

/// REST API proxy event: decoded `path` without the stage, decoded multi-value maps.
fn rest(parts: &Parts, body: &[u8], peer: SocketAddr, request_id: &str) -> Value {
    let raw_path = parts.uri.path();
    let path = percent_decode(raw_path, false).unwrap_or_else(|| raw_path.to_owned());
    let query = group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| {
            let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
            (decode(k), decode(v))
        }),
    );
    let headers = header_lists(&parts.headers);
    let headers = group(
        headers
            .into_iter()
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.to_owned(), v))),
    );
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (single_map(&query, None), multi_map(&query))
    };
    let proxy = path.strip_prefix('/').unwrap_or(&path);
    let mut event = Map::new();
    event.insert("resource".into(), json!("/{proxy+}"));
    event.insert("path".into(), json!(path));
    event.insert("httpMethod".into(), json!(parts.method.as_str()));
    event.insert("headers".into(), single_map(&headers, None));
    event.insert("multiValueHeaders".into(), multi_map(&headers));
    event.insert("queryStringParameters".into(), single_query);
    event.insert("multiValueQueryStringParameters".into(), multi_query);
    event.insert(
        "pathParameters".into(),
        if proxy.is_empty() {
            Value::Null
        } else {
            json!({ "proxy": proxy })
        },
    );
    event.insert("stageVariables".into(), Value::Null);
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": parts.method.as_str(),
            "path": format!("/{REST_STAGE}{raw_path}"),
            "protocol": "HTTP/1.1",
            "stage": REST_STAGE,
            "requestId": request_id,
            "requestTimeEpoch": now_ms(),
            "domainName": host(parts),
            "identity": { "sourceIp": peer.ip().to_string(), "userAgent": user_agent(parts) },
        }),
    );
    body_fields(&mut event, body);
    Value::Object(event)
}

/// HTTP API payload 2.0 / Function URL event: raw path and query, `cookies`, joined headers.
fn v2(parts: &Parts, body: &[u8], peer: SocketAddr, request_id: &str, function_url: bool) -> Value {
    let raw_path = parts.uri.path();
    let raw_query = parts.uri.query().unwrap_or_default();
    let mut cookies = Vec::new();
    let mut headers = Map::new();
    for (name, values) in header_lists(&parts.headers) {
        if name == "cookie" {
            for value in &values {
                cookies.extend(
                    value
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            }
            continue;
        }
        headers.insert(name.to_owned(), Value::String(values.join(",")));
    }
    let query = group(raw_pairs(raw_query).map(|(k, v)| {
        let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
        (decode(k), decode(v))
    }));
    let domain = if function_url {
        "local.lambda-url.us-east-1.on.aws".to_owned()
    } else {
        host(parts)
    };
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!("$default"));
    event.insert("rawPath".into(), json!(raw_path));
    event.insert("rawQueryString".into(), json!(raw_query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        event.insert(
            "queryStringParameters".into(),
            single_map(&query, Some(",")),
        );
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": if function_url { "anonymous" } else { ACCOUNT_ID },
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or_default(),
            "http": {
                "method": parts.method.as_str(),
                "path": percent_decode(raw_path, false).unwrap_or_else(|| raw_path.to_owned()),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent(parts),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": now_ms(),
        }),
    );
    body_fields(&mut event, body);
    Value::Object(event)
}

/// ALB event: nothing decoded; single- or multi-value maps per the target group's mode. As ALB
/// does in its default `append` mode, the client's address is appended to `X-Forwarded-For` (to
/// the last line the client sent, or as a new header) and `X-Forwarded-Proto` and
/// `X-Forwarded-Port` say how the client connected, replacing what the client sent.
fn alb(parts: &Parts, body: &[u8], connection: Connection, multi_value: bool) -> Value {
    let query = group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let headers = header_lists(&parts.headers);
    let mut headers = group(
        headers
            .into_iter()
            .filter(|(n, _)| !matches!(*n, "x-forwarded-proto" | "x-forwarded-port"))
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.to_owned(), v))),
    );
    let peer = connection.peer.ip().to_string();
    match headers
        .iter_mut()
        .find(|(name, _)| name == "x-forwarded-for")
    {
        Some((_, values)) => match values.last_mut() {
            Some(last) if !last.trim_matches([' ', '\t']).is_empty() => {
                *last = format!("{last}, {peer}")
            }
            Some(last) => *last = peer,
            None => values.push(peer),
        },
        None => headers.push(("x-forwarded-for".to_owned(), vec![peer])),
    }
    headers.push(("x-forwarded-proto".to_owned(), vec!["http".to_owned()]));
    headers.push((
        "x-forwarded-port".to_owned(),
        vec![connection.local.port().to_string()],
    ));
    let mut event = Map::new();
    event.insert(
        "requestContext".into(),
        json!({ "elb": { "targetGroupArn": format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:targetgroup/local/0123456789abcdef") } }),
    );
    event.insert("httpMethod".into(), json!(parts.method.as_str()));
    event.insert("path".into(), json!(parts.uri.path()));
    if multi_value {
        event.insert("multiValueQueryStringParameters".into(), multi_map(&query));
        event.insert("multiValueHeaders".into(), multi_map(&headers));
    } else {
        event.insert("queryStringParameters".into(), single_map(&query, None));
        event.insert("headers".into(), single_map(&headers, None));
    }
    body_fields(&mut event, body);
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_handles_plus_and_bad_escapes() {
        assert_eq!(
            percent_decode("a+b%2Bc%3F", true).as_deref(),
            Some("a b+c?")
        );
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(percent_decode("100%", false).as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4", false).as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("caf%C3%A9", false).as_deref(), Some("café"));
        assert_eq!(percent_decode("%FF", false), None);
    }
}
