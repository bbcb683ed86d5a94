//! A small writer for response events: JSON objects written straight into one buffer.
//!
//! Response events are flat and known in advance, so the source crates write them field by field
//! instead of building intermediate maps; bodies are escaped or base64-encoded directly into the
//! output, with no copy in between.

use http::{HeaderMap, HeaderName, HeaderValue, header::SET_COOKIE};

use crate::{encoding::push_base64, swar};

/// The hex digits of `\u00XX` escapes.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes one JSON value (objects, arrays, strings) into a byte buffer.
#[derive(Debug)]
pub struct JsonWriter {
    buf: Vec<u8>,
    /// Bit `d` set: the container open at depth `d` has no member yet. Response events nest
    /// three levels at most; the writer supports 64.
    first: u64,
    depth: u32,
}

/// Bytes that must be escaped inside a JSON string.
const fn escape_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
}

static ESCAPE: [bool; 256] = escape_table();

/// The length of the longest prefix made of whole 8-byte words none of whose bytes needs
/// escaping (no control byte, `"` or `\\`), tested a word at a time.
fn clean_prefix(text: &[u8]) -> usize {
    let mut clean = 0;
    while clean + 8 <= text.len() {
        let x = swar::word(text, clean);
        if swar::control(x) | swar::equal(x, b'"') | swar::equal(x, b'\\') != 0 {
            break;
        }
        clean += 8;
    }
    clean
}

impl JsonWriter {
    /// A writer whose buffer starts with room for `capacity` bytes.
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            first: 0,
            depth: 0,
        }
    }

    #[inline]
    fn separate(&mut self) {
        if self.depth == 0 {
            return;
        }
        let bit = 1u64 << ((self.depth - 1) % 64);
        if self.first & bit != 0 {
            self.first &= !bit;
        } else {
            self.buf.push(b',');
        }
    }

    #[inline]
    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.first |= 1u64 << (self.depth % 64);
        self.depth += 1;
    }

    #[inline]
    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        self.buf.push(bracket);
    }

    #[inline]
    fn key(&mut self, key: &str) {
        let key_bytes = key.as_bytes();
        let clean = clean_prefix(key_bytes);
        if key_bytes[clean..].iter().any(|&b| ESCAPE[b as usize]) {
            self.separate();
            self.push_string(key.as_bytes());
            self.buf.push(b':');
        } else {
            self.plain_key(key);
        }
    }

    /// A key with no byte to escape (checked by [`key`](Self::key), a constant or a header
    /// name): copied as is. Always inlined, so a constant key is copied by a few stores rather
    /// than a `memcpy` call.
    #[inline(always)]
    fn plain_key(&mut self, key: &str) {
        debug_assert!(
            !key.bytes().any(|b| ESCAPE[b as usize]),
            "{key:?} needs escaping"
        );
        self.separate();
        self.buf.reserve(key.len() + 3);
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Writes `text` as a JSON string.
    #[inline]
    fn push_string(&mut self, text: &[u8]) {
        self.buf.reserve(text.len() + 2);
        self.buf.push(b'"');
        self.push_escaped(text);
        self.buf.push(b'"');
    }

    /// Writes the inside of a JSON string. `text` is UTF-8 (it comes from a `&str`), so only
    /// quotes, backslashes and control bytes need escaping.
    fn push_escaped(&mut self, text: &[u8]) {
        // Fast path: whole 8-byte words with no byte to escape are skipped at once.
        let clean = clean_prefix(text);
        let mut start = 0;
        for (i, &b) in text.iter().enumerate().skip(clean) {
            if !ESCAPE[b as usize] {
                continue;
            }
            self.buf.extend_from_slice(&text[start..i]);
            match b {
                b'"' => self.buf.extend_from_slice(b"\\\""),
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                0x08 => self.buf.extend_from_slice(b"\\b"),
                0x0c => self.buf.extend_from_slice(b"\\f"),
                _ => self.push_u00(b),
            }
            start = i + 1;
        }
        self.buf.extend_from_slice(&text[start..]);
    }

    /// Opens an object (as a value: top level or array element).
    #[inline]
    pub fn begin_object(&mut self) {
        self.separate();
        self.open(b'{');
    }

    /// Opens an object as the member `key` of the current object.
    #[inline]
    pub fn begin_object_field(&mut self, key: &str) {
        self.key(key);
        self.open(b'{');
    }

    /// Closes the innermost object.
    #[inline]
    pub fn end_object(&mut self) {
        self.close(b'}');
    }

    /// Opens an array as the member `key` of the current object.
    #[inline]
    pub fn begin_array_field(&mut self, key: &str) {
        self.key(key);
        self.open(b'[');
    }

    /// Closes the innermost array.
    #[inline]
    pub fn end_array(&mut self) {
        self.close(b']');
    }

    /// Writes a string element of the current array.
    #[inline]
    pub fn string(&mut self, value: &str) {
        self.separate();
        self.push_string(value.as_bytes());
    }

    /// Writes a string member.
    #[inline]
    pub fn string_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.push_string(value.as_bytes());
    }

    /// Writes a string member from parts written one after the other (`"201 Created"`, a joined
    /// header), without building the string first.
    #[inline]
    pub fn joined_string_field<I, S>(&mut self, key: &str, parts: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.key(key);
        self.buf.push(b'"');
        for part in parts {
            self.push_escaped(part.as_ref().as_bytes());
        }
        self.buf.push(b'"');
    }

    /// Writes a number member.
    #[inline(always)]
    pub fn u16_field(&mut self, key: &str, value: u16) {
        self.plain_key(key);
        if (100..1000).contains(&value) {
            // every HTTP status: three digits, copied as a fixed-size array (no `memcpy` call)
            let digit = |n: u16| b'0' + (n % 10) as u8;
            self.buf
                .extend_from_slice(&[digit(value / 100), digit(value / 10), digit(value)]);
            return;
        }
        let mut digits = [0u8; 5];
        let mut n = value;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[i..]);
    }

    /// Writes a boolean member.
    #[inline(always)]
    pub fn bool_field(&mut self, key: &str, value: bool) {
        self.plain_key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Opens a string member whose key is a header name — a token, never escaped: writes
    /// `"name":"`. Fill it with [`push_header_value`](Self::push_header_value) and
    /// [`push_text`](Self::push_text), close it with [`end_string`](Self::end_string).
    #[inline]
    pub fn begin_header_string_field(&mut self, name: &HeaderName) {
        self.plain_key(name.as_str());
        self.buf.push(b'"');
    }

    /// Opens an array member whose key is a header name (see
    /// [`begin_header_string_field`](Self::begin_header_string_field)).
    #[inline]
    pub fn begin_header_array_field(&mut self, name: &HeaderName) {
        self.plain_key(name.as_str());
        self.open(b'[');
    }

    /// Opens a string member: writes `"key":"` (the key escaped as needed). Close it with
    /// [`end_string`](Self::end_string).
    #[inline]
    pub fn begin_string_field(&mut self, key: &str) {
        self.key(key);
        self.buf.push(b'"');
    }

    /// Appends a header value's text inside an open string: UTF-8 as it is, otherwise each
    /// byte read as ISO-8859-1 (how HTTP historically defines `obs-text`), so nothing is
    /// dropped or replaced — the same text as
    /// [`header_value_text`](crate::encoding::header_value_text), without building it.
    ///
    /// The bytes above 0x7F of a value that is not UTF-8 are written as `\u0080`–`\u00ff`
    /// escapes, never as raw text: the same JSON string to any reader, and one that tells the two
    /// cases apart (the local server reads such an escape back as the one byte, so the client
    /// gets the service's bytes exactly).
    #[inline]
    pub fn push_header_value(&mut self, value: &HeaderValue) {
        let bytes = value.as_bytes();
        if std::str::from_utf8(bytes).is_ok() {
            self.push_escaped(bytes);
        } else {
            self.push_latin1(bytes);
        }
    }

    #[cold]
    fn push_latin1(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b.is_ascii() {
                self.push_escaped(&[b]);
            } else {
                self.push_u00(b);
            }
        }
    }

    /// Appends `\u00XX` for `byte`.
    fn push_u00(&mut self, byte: u8) {
        self.buf.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(byte >> 4) as usize],
            HEX[(byte & 0xF) as usize],
        ]);
    }

    /// Appends text inside an open string, escaped.
    #[inline]
    pub fn push_text(&mut self, text: &str) {
        self.push_escaped(text.as_bytes());
    }

    /// Closes a string opened by [`begin_string_field`](Self::begin_string_field) or
    /// [`begin_header_string_field`](Self::begin_header_string_field).
    #[inline]
    pub fn end_string(&mut self) {
        self.buf.push(b'"');
    }

    /// Writes a header value as a string element of the current array.
    #[inline]
    pub fn header_value(&mut self, value: &HeaderValue) {
        self.separate();
        self.buf.push(b'"');
        self.push_header_value(value);
        self.buf.push(b'"');
    }

    /// Writes every header as `"name":["value",...]` into the object opened as `key`, names in
    /// the map's order, values in order — one pass over the map, no lookups.
    pub fn multi_value_headers_field(&mut self, key: &str, headers: &HeaderMap) {
        self.key(key);
        self.open(b'{');
        let mut open: Option<&HeaderName> = None;
        for (name, value) in headers {
            // a map yields all the values of a name one after the other
            if open != Some(name) {
                if open.is_some() {
                    self.end_array();
                }
                self.begin_header_array_field(name);
                open = Some(name);
            }
            self.header_value(value);
        }
        if open.is_some() {
            self.end_array();
        }
        self.end_object();
    }

    /// Writes every header but `Set-Cookie` as `"name":"value<separator>value..."` into the
    /// object opened as `key` (the cookies are the caller's: see
    /// [`joined_header_members`](Self::joined_header_members)).
    pub fn joined_headers_field(&mut self, key: &str, headers: &HeaderMap, separator: &str) {
        self.key(key);
        self.open(b'{');
        self.joined_header_members(headers, separator, |_, _| {});
        self.end_object();
    }

    /// Writes every header but `Set-Cookie` as a string member of the object that is open —
    /// `"name":"value<separator>value..."`, a name's values in order — then hands the
    /// `Set-Cookie` values, in order, to `cookies`, which writes them the way the format carries
    /// them (they can never be joined). One pass over the map, no lookups.
    pub fn joined_header_members(
        &mut self,
        headers: &HeaderMap,
        separator: &str,
        cookies: impl FnOnce(&mut Self, &[&HeaderValue]),
    ) {
        let mut set_cookies: Vec<&HeaderValue> = Vec::new();
        let mut open: Option<&HeaderName> = None;
        for (name, value) in headers {
            if name == SET_COOKIE {
                set_cookies.push(value);
                continue;
            }
            if open == Some(name) {
                self.push_text(separator);
            } else {
                if open.is_some() {
                    self.end_string();
                }
                self.begin_header_string_field(name);
                open = Some(name);
            }
            self.push_header_value(value);
        }
        if open.is_some() {
            self.end_string();
        }
        cookies(self, &set_cookies);
    }

    /// Writes `"body"` and `"isBase64Encoded"`: `text` as a JSON string when given (see
    /// [`BinaryPolicy::text_body`](crate::BinaryPolicy::text_body)), else `body` in base64.
    pub fn body_fields(&mut self, body: &[u8], text: Option<&str>) {
        self.plain_key("body");
        match text {
            Some(text) => self.push_string(text.as_bytes()),
            None => {
                self.buf.push(b'"');
                push_base64(&mut self.buf, body);
                self.buf.push(b'"');
            }
        }
        self.bool_field("isBase64Encoded", text.is_none());
    }

    /// The bytes written so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished JSON.
    #[inline]
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_prefix_stops_at_the_first_word_with_a_byte_to_escape() {
        assert_eq!(clean_prefix(b"abcdefghijklmnop"), 16);
        assert_eq!(clean_prefix(b"abcdefgh\"ijklmno"), 8);
        assert_eq!(clean_prefix(b"abcdefghijklmno\\"), 8);
        assert_eq!(clean_prefix(b"abc\x1fefghijklmnop"), 0);
        assert_eq!(clean_prefix("ééééééééé".as_bytes()), 16);
        assert_eq!(clean_prefix(b"abcdefg"), 0);
        assert_eq!(clean_prefix(b" !#~\x7f\x20\x21\x23"), 8);
    }

    #[test]
    fn strings_round_trip_through_a_json_parser() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for text in [
            "",
            "plain",
            "\"\\/",
            "\u{0}\u{1f}\u{7f}",
            "é✓😀",
            "\t\n\r\u{8}\u{c}",
            &every_ascii,
        ] {
            let mut w = JsonWriter::with_capacity(8);
            w.begin_object();
            w.string_field(text, text);
            w.end_object();
            let json: serde_json::Value = serde_json::from_slice(&w.finish()).unwrap();
            assert_eq!(json[text], text);
        }
    }

    #[test]
    fn writes_nested_members_with_commas() {
        let mut w = JsonWriter::with_capacity(64);
        w.begin_object();
        w.u16_field("statusCode", 200);
        w.begin_object_field("headers");
        w.string_field("a\"b", "c\nd");
        w.string_field("e", "f");
        w.end_object();
        w.begin_array_field("cookies");
        w.string("x=1");
        w.string("y=2");
        w.end_array();
        w.joined_string_field("joined", ["a", "\"", ", ", "\u{1}é"]);
        w.body_fields(b"\xff\x00", None);
        w.end_object();
        let json: serde_json::Value = serde_json::from_slice(&w.finish()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"statusCode": 200, "headers": {"a\"b": "c\nd", "e": "f"},
                "cookies": ["x=1", "y=2"], "joined": "a\", \u{1}é", "body": "/wA=", "isBase64Encoded": true})
        );
    }

    #[test]
    fn header_fields_group_values_in_one_pass() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("set-cookie", HeaderValue::from_static("c=1"));
        headers.append("x-b", HeaderValue::from_bytes(b"caf\xe9 \"q\"\t").unwrap());
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.append("set-cookie", HeaderValue::from_static("d=2"));
        let mut w = JsonWriter::with_capacity(64);
        w.begin_object();
        w.multi_value_headers_field("multi", &headers);
        w.joined_headers_field("joined", &headers, ", ");
        w.begin_array_field("cookies");
        for cookie in headers.get_all(http::header::SET_COOKIE) {
            w.header_value(cookie);
        }
        w.end_array();
        w.end_object();
        let json: serde_json::Value = serde_json::from_slice(&w.finish()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "multi": {"x-a": ["1", "2"], "set-cookie": ["c=1", "d=2"], "x-b": ["caf\u{e9} \"q\"\t"]},
                "joined": {"x-a": "1, 2", "x-b": "caf\u{e9} \"q\"\t"},
                "cookies": ["c=1", "d=2"],
            })
        );
        let mut empty = JsonWriter::with_capacity(8);
        empty.begin_object();
        empty.multi_value_headers_field("m", &HeaderMap::new());
        empty.joined_headers_field("j", &HeaderMap::new(), ",");
        empty.end_object();
        assert_eq!(empty.finish(), br#"{"m":{},"j":{}}"#);
    }

    #[test]
    fn numbers_of_every_width() {
        for n in [0u16, 7, 99, 100, 204, 999, 1000, 65535] {
            let mut w = JsonWriter::with_capacity(16);
            w.begin_object();
            w.u16_field("n", n);
            w.end_object();
            assert_eq!(w.finish(), format!(r#"{{"n":{n}}}"#).into_bytes());
        }
    }
}
