//! The request side: what every front door's event is built from.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, request::Parts};
use serde_json::{Map, Value, json};

use crate::encoding::{encode_base64, header_value_text};

/// The AWS account every emulated event names.
pub const ACCOUNT_ID: &str = "123456789012";

/// The API id of the emulated API Gateway APIs and Function URLs.
pub const API_ID: &str = "local";

/// Milliseconds since the Unix epoch (0 on a clock set before it): the events' request time.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Inserts `body` and `isBase64Encoded`: text when the bytes are UTF-8, base64 otherwise; no
/// body → `null`.
pub fn body_fields(object: &mut Map<String, Value>, body: &[u8]) {
    let (body, encoded) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(encode_base64(body)), true),
    };
    object.insert("body".into(), body);
    object.insert("isBase64Encoded".into(), Value::Bool(encoded));
}

/// Header names (lowercase) with every value, in order of first appearance; a value that is not
/// UTF-8 is read as ISO-8859-1.
pub fn header_lists(headers: &HeaderMap) -> Vec<(&str, Vec<String>)> {
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

/// Percent-decodes `input`; `+` becomes a space when `plus_as_space`. An escape that is not two
/// hex digits stays as it is; `None` when the decoded bytes are not UTF-8.
pub fn percent_decode(input: &str, plus_as_space: bool) -> Option<String> {
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

/// Splits a raw query into `(key, value)` pairs as sent (`a` alone gives `("a", "")`; empty
/// pairs are skipped).
pub fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Groups pairs by key, keys in order of first appearance, each key's values in order.
pub fn group(pairs: impl Iterator<Item = (String, String)>) -> Vec<(String, Vec<String>)> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in pairs {
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => grouped.push((key, vec![value])),
        }
    }
    grouped
}

/// A single-value map of grouped pairs: each key's values joined with `join`, or its last value
/// without.
pub fn single_map(grouped: &[(String, Vec<String>)], join: Option<&str>) -> Value {
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

/// A multi-value map of grouped pairs: each key with the array of its values.
pub fn multi_map(grouped: &[(String, Vec<String>)]) -> Value {
    Value::Object(
        grouped
            .iter()
            .map(|(k, vs)| (k.clone(), json!(vs)))
            .collect(),
    )
}

/// Appends the client's address to `X-Forwarded-For` in grouped headers, as ALB (in its
/// default `append` mode) and VPC Lattice do: to the last line the client sent, or as a new
/// header when it sent none (an empty last line is replaced).
pub fn append_forwarded_for(headers: &mut Vec<(String, Vec<String>)>, peer: String) {
    match headers
        .iter_mut()
        .find(|(name, _)| name == "x-forwarded-for")
    {
        Some((_, values)) => match values.last_mut() {
            Some(last) if !last.trim_matches([' ', '\t']).is_empty() => {
                *last = format!("{last}, {peer}");
            }
            Some(last) => *last = peer,
            None => values.push(peer),
        },
        None => headers.push(("x-forwarded-for".to_owned(), vec![peer])),
    }
}

/// The request's `Host` header, `localhost` without one.
pub fn host(parts: &Parts) -> String {
    parts.headers.get(http::header::HOST).map_or_else(
        || "localhost".to_owned(),
        |h| header_value_text(h).into_owned(),
    )
}

/// The request's `User-Agent` header as a JSON string, `null` without one.
pub fn user_agent(parts: &Parts) -> Value {
    parts
        .headers
        .get(http::header::USER_AGENT)
        .map_or(Value::Null, |h| {
            Value::String(header_value_text(h).into_owned())
        })
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
