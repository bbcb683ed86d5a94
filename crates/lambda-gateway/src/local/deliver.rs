//! Turning a response event back into the HTTP response a front door would deliver.

use std::fmt;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode, header::SET_COOKIE};
use lambda_gateway_core::encoding::decode_base64;
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use super::LocalSource;

/// Lambda's limit on a synchronous invocation's request and response payloads.
pub(crate) const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// ALB's limit on a Lambda target's request body and response event.
pub(crate) const ALB_LIMIT: usize = 1024 * 1024;

/// The response the client receives, or why the front door would answer 502 instead.
pub(crate) fn response(source: LocalSource, event: &[u8]) -> Result<Response<Bytes>, String> {
    let limit = match source {
        LocalSource::Alb | LocalSource::AlbMultiValue => ALB_LIMIT,
        _ => LAMBDA_PAYLOAD_LIMIT,
    };
    if event.len() > limit {
        return Err(format!(
            "the response event is {} bytes, over the {} limit of {limit} bytes",
            event.len(),
            source.limit_name()
        ));
    }
    let value: Value = serde_json::from_slice(event)
        .map_err(|e| format!("the response event is not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("the response event is not a JSON object".into());
    };
    let Some(status) = object.get("statusCode") else {
        if matches!(
            source,
            LocalSource::ApiGatewayHttp | LocalSource::FunctionUrl
        ) {
            // Payload 2.0 reads an object without statusCode as a 200 JSON body.
            let mut response = Response::new(Bytes::copy_from_slice(event));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        return Err("the response event has no statusCode".into());
    };
    let status = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("statusCode {status} is not an HTTP status"))?;

    // `object`'s maps are sorted by key; the header objects are read again in document order,
    // which is the order a front door reads them in (ALB single-value `Set-Cookie` variants).
    let ordered: HeaderObjects<'_> = serde_json::from_slice(event)
        .map_err(|e| format!("the response event's headers or cookies cannot be read: {e}"))?;
    let headers_in_order = members(ordered.headers);
    let multi_value_headers_in_order = members(ordered.multi_value_headers);

    let mut response = Response::new(body(&object)?);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &[u8]| -> Result<(), String> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        headers.try_append(name, value).map_err(|_| {
            "the response event has more headers than a response can carry".to_owned()
        })?;
        Ok(())
    };
    match source {
        LocalSource::ApiGatewayRest => {
            // API Gateway merges both maps; a name in both takes multiValueHeaders' values.
            let multi = multi_value_headers_in_order.as_deref();
            for (name, values) in multi.into_iter().flatten() {
                for value in strings(values, name)? {
                    add(name, &value)?;
                }
            }
            for (name, value) in headers_in_order.iter().flatten() {
                if !multi.is_some_and(|m| m.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))) {
                    add(name, &string(value, name)?)?;
                }
            }
        }
        LocalSource::ApiGatewayHttp | LocalSource::FunctionUrl => {
            for (name, value) in headers_in_order.iter().flatten() {
                add(name, &string(value, name)?)?;
            }
            let cookies = ordered.cookies.filter(|c| c.get() != "null");
            for cookie in cookies
                .map(|c| strings(c, "cookies"))
                .transpose()?
                .into_iter()
                .flatten()
            {
                add(SET_COOKIE.as_str(), &cookie)?;
            }
        }
        LocalSource::Alb => {
            let map = headers_in_order
                .ok_or("the target group sends single-value headers, but the response event has no `headers` object")?;
            for (name, value) in &map {
                add(name, &string(value, name)?)?;
            }
        }
        LocalSource::AlbMultiValue => {
            let map = multi_value_headers_in_order.ok_or(
                "the target group has multi-value headers enabled, but the response event has no `multiValueHeaders` object",
            )?;
            for (name, values) in &map {
                for value in strings(values, name)? {
                    add(name, &value)?;
                }
            }
        }
    }
    Ok(response)
}

/// A response event's header objects and cookies, unparsed.
#[derive(Debug, Default, Deserialize)]
struct HeaderObjects<'a> {
    #[serde(borrow, default)]
    headers: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "multiValueHeaders")]
    multi_value_headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cookies: Option<&'a RawValue>,
}

/// A JSON object's members in document order, values unparsed; `None` when `raw` is absent or
/// not an object.
fn members(raw: Option<&RawValue>) -> Option<Vec<(String, &RawValue)>> {
    serde_json::from_str::<Members<'_>>(raw?.get())
        .ok()
        .map(|m| m.0)
}

/// A JSON object's members in document order (a `serde_json::Map` sorts them by key).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

fn body(object: &Map<String, Value>) -> Result<Bytes, String> {
    let text = match object.get("body") {
        None | Some(Value::Null) => return Ok(Bytes::new()),
        Some(Value::String(text)) => text,
        Some(_) => return Err("`body` is not a string".into()),
    };
    if object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        decode_base64(text)
            .map(Bytes::from)
            .map_err(|e| format!("`body` is not valid base64: {e}"))
    } else {
        Ok(Bytes::copy_from_slice(text.as_bytes()))
    }
}

/// A header value's bytes from its JSON string. lambda-gateway writes a header value that is not
/// UTF-8 with each byte above 0x7F as a `\u0080`–`\u00ff` escape (UTF-8 text is written as is),
/// so such an escape is read back as that one byte: the client gets the service's bytes
/// exactly. Any other string reads as its UTF-8 text.
fn string(value: &RawValue, name: &str) -> Result<Vec<u8>, String> {
    header_bytes(value.get()).ok_or_else(|| format!("header {name:?} is not a string"))
}

fn strings(value: &RawValue, name: &str) -> Result<Vec<Vec<u8>>, String> {
    let items: Vec<&RawValue> =
        serde_json::from_str(value.get()).map_err(|_| format!("{name:?} is not an array"))?;
    items
        .into_iter()
        .map(|item| header_bytes(item.get()).ok_or_else(|| format!("{name:?} holds a non-string")))
        .collect()
}

/// The bytes of a JSON string literal (`"..."`, valid JSON), `\u0080`–`\u00ff` escapes read as
/// single bytes; `None` when `literal` is not a string.
fn header_bytes(literal: &str) -> Option<Vec<u8>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let escape = *bytes.get(i + 1)?;
        i += 2;
        let simple = match escape {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = hex4(bytes.get(i..i + 4)?)?;
                i += 4;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    // a surrogate pair: `\uD83D\uDE00`
                    let low = match bytes.get(i..i + 6)? {
                        [b'\\', b'u', rest @ ..] => hex4(rest)?,
                        _ => return None,
                    };
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    i += 6;
                    0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                } else {
                    u32::from(unit)
                };
                match code {
                    0x80..=0xFF => out.push(u8::try_from(code).ok()?),
                    _ => {
                        let mut utf8 = [0; 4];
                        out.extend_from_slice(
                            char::from_u32(code)?.encode_utf8(&mut utf8).as_bytes(),
                        );
                    }
                }
                continue;
            }
            _ => return None,
        };
        out.push(simple);
    }
    Some(out)
}

/// Four hex digits.
fn hex4(digits: &[u8]) -> Option<u16> {
    if digits.len() != 4 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_single_value_cookies_keep_the_event_order() {
        let event = br#"{"statusCode":200,"statusDescription":"200 OK","headers":{
            "set-cookie":"a=1","Set-cookie":"b=2","sEt-cookie":"c=3","content-type":"text/plain"},
            "body":"ok","isBase64Encoded":false}"#;
        let response = response(LocalSource::Alb, event).unwrap();
        let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2", "c=3"]);
    }

    #[test]
    fn more_headers_than_a_response_carries_is_an_error_not_a_panic() {
        let headers: Vec<String> = (0..40_000).map(|i| format!(r#""x-h{i}":["v"]"#)).collect();
        let event = format!(
            r#"{{"statusCode":200,"multiValueHeaders":{{{}}}}}"#,
            headers.join(",")
        );
        let error = response(LocalSource::ApiGatewayRest, event.as_bytes()).unwrap_err();
        assert!(error.contains("more headers"), "{error}");
    }

    #[test]
    fn header_bytes_that_are_not_utf8_reach_the_client_byte_for_byte() {
        let event = r#"{"statusCode":200,"headers":{"x-raw":"\u00ff\u00fe\u0080","x-text":"caf\u00e9 \u00e9t\u00e9","x-utf8":"café \ud83d\ude00 \"q\" \\"},"cookies":[]}"#;
        let response = response(LocalSource::ApiGatewayHttp, event.as_bytes()).unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-raw"].as_bytes(), b"\xff\xfe\x80");
        assert_eq!(headers["x-text"].as_bytes(), b"caf\xe9 \xe9t\xe9");
        assert_eq!(headers["x-utf8"].as_bytes(), "café 😀 \"q\" \\".as_bytes());
    }

    #[test]
    fn malformed_escapes_are_not_strings_and_never_panic() {
        for literal in [
            r#""\ud800\u0041""#,
            r#""\ud800""#,
            r#""\ud800\udbff""#,
            r#""\u+0ff""#,
            r#""\u00f""#,
            r#""\x""#,
            r#""\""#,
            "\"",
            "1",
        ] {
            assert_eq!(header_bytes(literal), None, "{literal}");
        }
        assert_eq!(
            header_bytes(r#""\ud83d\ude00""#),
            Some("😀".as_bytes().to_vec())
        );
    }

    #[test]
    fn a_repeated_header_object_is_a_502_not_dropped_cookies() {
        let event = br#"{"statusCode":200,"headers":{},"cookies":["a=1"],"cookies":["b=2"]}"#;
        assert!(response(LocalSource::FunctionUrl, event).is_err());
    }

    #[test]
    fn a_header_object_that_is_null_counts_as_missing() {
        let event = br#"{"statusCode":200,"headers":null,"multiValueHeaders":{"x":["1","2"]}}"#;
        let multi = response(LocalSource::AlbMultiValue, event).unwrap();
        assert_eq!(multi.headers().get_all("x").iter().count(), 2);
        assert!(response(LocalSource::Alb, event).is_err());
    }
}
