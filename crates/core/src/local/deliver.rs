//! The response side: reading a response event back into the HTTP response a front door would
//! deliver.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use crate::encoding::decode_base64;

/// A response event that is a JSON object, read for delivery.
#[derive(Debug)]
pub struct ResponseEvent<'a> {
    raw: &'a [u8],
    object: Map<String, Value>,
}

impl<'a> ResponseEvent<'a> {
    /// Reads `event`; an error unless it is a JSON object.
    pub fn read(event: &'a [u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(event)
            .map_err(|e| format!("the response event is not JSON: {e}"))?;
        let Value::Object(object) = value else {
            return Err("the response event is not a JSON object".into());
        };
        Ok(Self { raw: event, object })
    }

    /// The event as it came.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The event's members (sorted by key: read [`HeaderObjects`] for document order).
    pub fn object(&self) -> &Map<String, Value> {
        &self.object
    }

    /// Whether the event has a `statusCode`.
    pub fn has_status_code(&self) -> bool {
        self.object.contains_key("statusCode")
    }

    /// The response with the event's `statusCode` and body (`body`, base64-decoded when
    /// `isBase64Encoded`) and no headers yet, and the header objects the front door reads its
    /// headers from. An error when `statusCode` is missing or not an HTTP status, a header
    /// object or `cookies` cannot be read (a member given twice, say), or the body is not a
    /// string or not base64.
    pub fn response(&self) -> Result<(Response<Bytes>, HeaderObjects<'a>), String> {
        let Some(status) = self.object.get("statusCode") else {
            return Err("the response event has no statusCode".into());
        };
        let status = status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| format!("statusCode {status} is not an HTTP status"))?;
        let headers = HeaderObjects::read(self.raw)?;
        let mut response = Response::new(body(&self.object)?);
        *response.status_mut() = status;
        Ok((response, headers))
    }
}

/// A response event's header objects and cookies, in document order, values unparsed: a
/// `serde_json::Map` sorts members by key, but a front door reads them in the order they come
/// (ALB's single-value `Set-Cookie` variants).
#[derive(Debug, Default)]
pub struct HeaderObjects<'a> {
    /// `headers`' members; `None` when it is missing, `null` or not an object.
    pub headers: Option<Vec<(String, &'a RawValue)>>,
    /// `multiValueHeaders`' members; `None` when it is missing, `null` or not an object.
    pub multi_value_headers: Option<Vec<(String, &'a RawValue)>>,
    /// `cookies`, unparsed (it may be `null`).
    pub cookies: Option<&'a RawValue>,
}

/// The members of a response event that [`HeaderObjects`] holds, unparsed.
#[derive(Debug, Default, Deserialize)]
struct RawHeaderObjects<'a> {
    #[serde(borrow, default)]
    headers: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "multiValueHeaders")]
    multi_value_headers: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cookies: Option<&'a RawValue>,
}

impl<'a> HeaderObjects<'a> {
    /// Reads a response event's header objects; an error when the event is not a JSON object
    /// or names one of them twice.
    pub fn read(event: &'a [u8]) -> Result<Self, String> {
        let raw: RawHeaderObjects<'a> = serde_json::from_slice(event)
            .map_err(|e| format!("the response event's headers or cookies cannot be read: {e}"))?;
        Ok(Self {
            headers: members(raw.headers),
            multi_value_headers: members(raw.multi_value_headers),
            cookies: raw.cookies,
        })
    }
}

/// A JSON object's members in document order, values unparsed; `None` when `raw` is absent or
/// not an object.
pub fn members(raw: Option<&RawValue>) -> Option<Vec<(String, &RawValue)>> {
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

/// A response event's body: `body` (missing or `null`: empty), base64-decoded when
/// `isBase64Encoded` is `true`; an error when `body` is not a string or not base64.
pub fn body(object: &Map<String, Value>) -> Result<Bytes, String> {
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

/// Appends header `name: value` to `headers`; an error when the name or the value is not valid
/// in HTTP, or the map is full.
pub fn append_header(headers: &mut HeaderMap, name: &str, value: &[u8]) -> Result<(), String> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?}"))?;
    let value =
        HeaderValue::from_bytes(value).map_err(|_| format!("invalid value for header {name}"))?;
    headers
        .try_append(name, value)
        .map_err(|_| "the response event has more headers than a response can carry".to_owned())?;
    Ok(())
}

/// A header value's bytes from its JSON string ([`header_bytes`]); an error naming header
/// `name` when it is not a string.
pub fn string(value: &RawValue, name: &str) -> Result<Vec<u8>, String> {
    header_bytes(value.get()).ok_or_else(|| format!("header {name:?} is not a string"))
}

/// Header values' bytes from a JSON array of strings ([`header_bytes`]); an error naming `name`
/// when it is not an array or holds something else.
pub fn strings(value: &RawValue, name: &str) -> Result<Vec<Vec<u8>>, String> {
    let items: Vec<&RawValue> =
        serde_json::from_str(value.get()).map_err(|_| format!("{name:?} is not an array"))?;
    items
        .into_iter()
        .map(|item| header_bytes(item.get()).ok_or_else(|| format!("{name:?} holds a non-string")))
        .collect()
}

/// The bytes of a header value from its JSON string literal (`"..."`, valid JSON); `None` when
/// `literal` is not a string.
///
/// lambda-gateway writes a header value that is not UTF-8 with each byte above 0x7F as a
/// `\u0080`–`\u00ff` escape (UTF-8 text is written as is), so such an escape is read back as
/// that one byte: the client gets the service's bytes exactly. Any other string reads as its
/// UTF-8 text. A response event from another writer that escapes ordinary non-ASCII text that
/// way (`caf\u00e9` for `café`) reads as those single bytes.
pub fn header_bytes(literal: &str) -> Option<Vec<u8>> {
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
    fn header_bytes_that_are_not_utf8_read_back_byte_for_byte() {
        assert_eq!(
            header_bytes(r#""\u00ff\u00fe\u0080""#),
            Some(b"\xff\xfe\x80".to_vec())
        );
        assert_eq!(
            header_bytes(r#""café \ud83d\ude00 \"q\" \\""#),
            Some("café 😀 \"q\" \\".as_bytes().to_vec())
        );
    }
}
