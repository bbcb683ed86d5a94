//! Percent-encoding, base64 and header-text helpers shared by the source crates.
//!
//! The rules, from RFC 3986: a path may hold unreserved characters, sub-delimiters, `:`, `@`,
//! `/` and percent escapes; a query may also hold `?`. Everything else — space, `"`, `#`, `<`,
//! `>`, `[`, `\`, `]`, `^`, `` ` ``, `{`, `|`, `}`, controls and non-ASCII — cannot stand in a
//! URI and is percent-encoded byte by byte (UTF-8). Inputs are bytes and outputs are ASCII, so
//! no UTF-8 check is needed on the way: a byte that is not ASCII is always escaped.

use std::borrow::Cow;

use base64::{
    Engine as _,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes allowed unescaped in a path segment besides `%` (RFC 3986 `pchar` and `/`).
const fn path_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        i += 1;
    }
    table
}

const fn query_table() -> [bool; 256] {
    let mut table = path_table();
    table[b'?' as usize] = true;
    table
}

const fn unreserved_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        i += 1;
    }
    table
}

static PATH: [bool; 256] = path_table();
static QUERY: [bool; 256] = query_table();
static UNRESERVED: [bool; 256] = unreserved_table();

/// Whether the `%` at `bytes[i]` starts a percent escape (`%` and two hex digits).
fn is_escape(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i + 1..i + 3), Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
}

fn push_escaped(out: &mut Vec<u8>, bytes: &[u8], allowed: &[bool; 256], keep_percent: bool) {
    out.reserve(bytes.len());
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // A kept `%` must start an escape: a lone one (`100%`, `%zz`) is not valid in a URI and
        // is escaped as `%25`, which decodes back to the same `%`.
        if allowed[b as usize] || (keep_percent && b == b'%' && is_escape(bytes, i)) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]]);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The length of `bytes` once written by [`push_escaped`] with the same rules: every escaped
/// byte takes three.
#[inline]
fn escaped_len(bytes: &[u8], allowed: &[bool; 256], keep_percent: bool) -> usize {
    let escaped = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| {
            !(allowed[b as usize] || (keep_percent && b == b'%' && is_escape(bytes, i)))
        })
        .count();
    bytes.len() + 2 * escaped
}

/// The length [`push_raw_path`] writes for `path` (its own length when nothing needs escaping).
#[inline]
pub fn raw_path_len(path: &[u8]) -> usize {
    escaped_len(path, &PATH, true)
}

/// The length [`push_decoded_path`] writes for `path`.
#[inline]
pub fn decoded_path_len(path: &[u8]) -> usize {
    escaped_len(path, &PATH, false)
}

/// The length [`push_raw_query`] writes for `query`.
#[inline]
pub fn raw_query_len(query: &[u8]) -> usize {
    escaped_len(query, &QUERY, true)
}

/// The length [`push_query_component`] writes for `component`.
#[inline]
pub fn query_component_len(component: &[u8]) -> usize {
    escaped_len(component, &UNRESERVED, false)
}

/// Appends a *decoded* path (REST `path`) to `out`, escaping `%` and everything that cannot
/// stand in a URI path, so that decoding the result once gives `path` back. `?` and `#` are
/// escaped: they never start a query or fragment.
#[inline]
pub fn push_decoded_path(out: &mut Vec<u8>, path: &[u8]) {
    push_escaped(out, path, &PATH, false);
}

/// Appends a *raw* path (payload 2.0 `rawPath`, ALB `path`) to `out` as it is, escaping only what
/// cannot stand in a URI path. Existing `%` escapes (`%2F`) are kept; a `?`, a `#` and a `%` that
/// starts no escape are escaped.
#[inline]
pub fn push_raw_path(out: &mut Vec<u8>, path: &[u8]) {
    push_escaped(out, path, &PATH, true);
}

/// Appends a *raw* query (payload 2.0 `rawQueryString`, ALB parameters) to `out` as it is,
/// escaping only what cannot stand in a URI query (a raw space, `"`, `#`, non-ASCII, a `%` that
/// starts no escape...).
#[inline]
pub fn push_raw_query(out: &mut Vec<u8>, query: &[u8]) {
    push_escaped(out, query, &QUERY, true);
}

/// Appends a *decoded* query key or value (REST parameters) to `out`, percent-encoding every
/// byte but the unreserved ones — so `+`, `&`, `=` and `%` survive any query decoder.
#[inline]
pub fn push_query_component(out: &mut Vec<u8>, component: &[u8]) {
    push_escaped(out, component, &UNRESERVED, false);
}

/// The base64 engine used for event bodies: the standard alphabet, padding written on encode
/// and optional on decode.
pub const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a base64 body: SIMD-accelerated, padding optional. On invalid input the `base64`
/// crate decodes again to say where and why (error path only).
pub fn decode_base64(input: impl AsRef<[u8]>) -> Result<Vec<u8>, base64::DecodeError> {
    let input = input.as_ref();
    let fast = if input.len() % 4 == 0 {
        base64_simd::STANDARD.decode_to_vec(input)
    } else {
        base64_simd::STANDARD_NO_PAD.decode_to_vec(input)
    };
    match fast {
        Ok(bytes) => Ok(bytes),
        Err(_) => BASE64.decode(input),
    }
}

/// Appends the base64 encoding of `bytes` to `out` without an intermediate string.
pub fn push_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    base64_simd::STANDARD.encode_append(bytes, out);
}

/// The base64 encoding of `bytes`.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// A header value as text: UTF-8 when its bytes are valid UTF-8, otherwise each byte read as
/// ISO-8859-1 (how HTTP historically defines `obs-text`), so nothing is dropped or replaced.
#[inline]
pub fn header_value_text(value: &http::HeaderValue) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded_path(p: &str) -> String {
        let mut out = Vec::new();
        push_decoded_path(&mut out, p.as_bytes());
        String::from_utf8(out).unwrap()
    }

    fn escaped(f: fn(&mut Vec<u8>, &[u8]), input: &str) -> String {
        let mut out = Vec::new();
        f(&mut out, input.as_bytes());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decoded_path_escapes_what_cannot_stand_in_a_path() {
        assert_eq!(decoded_path("/a b/c?d#e%f"), "/a%20b/c%3Fd%23e%25f");
        assert_eq!(decoded_path("/café"), "/caf%C3%A9");
        assert_eq!(decoded_path("/x/../y:@!$&'()*+,;="), "/x/../y:@!$&'()*+,;=");
        assert_eq!(
            decoded_path("/\"<>[\\]^`{|}\u{7f}\n"),
            "/%22%3C%3E%5B%5C%5D%5E%60%7B%7C%7D%7F%0A"
        );
    }

    #[test]
    fn raw_path_keeps_escapes_and_escapes_only_invalid_bytes() {
        assert_eq!(escaped(push_raw_path, "/a%2Fb c?"), "/a%2Fb%20c%3F");
        assert_eq!(escaped(push_raw_path, "/ÿ"), "/%C3%BF");
    }

    #[test]
    fn lone_percent_in_raw_path_or_query_is_escaped() {
        assert_eq!(
            escaped(push_raw_path, "/100%/50%25/%zz/%4"),
            "/100%25/50%25/%25zz/%254"
        );
        assert_eq!(
            escaped(push_raw_query, "off=50%&ok=%41&end=%"),
            "off=50%25&ok=%41&end=%25"
        );
    }

    #[test]
    fn raw_query_keeps_question_marks_and_plus() {
        assert_eq!(
            escaped(push_raw_query, "a=b+c&d=?e f&é"),
            "a=b+c&d=?e%20f&%C3%A9"
        );
    }

    #[test]
    fn query_component_escapes_all_but_unreserved() {
        assert_eq!(
            escaped(push_query_component, "a+b &=%~"),
            "a%2Bb%20%26%3D%25~"
        );
    }

    #[test]
    fn base64_round_trips_without_padding_too() {
        let mut out = Vec::new();
        push_base64(&mut out, b"hello!?");
        assert_eq!(out, b"aGVsbG8hPw==");
        assert_eq!(decode_base64("aGVsbG8hPw").unwrap(), b"hello!?");
        assert_eq!(decode_base64("aGVsbG8hPw==").unwrap(), b"hello!?");
        let long: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut encoded = Vec::new();
        push_base64(&mut encoded, &long);
        assert_eq!(encoded, BASE64.encode(&long).as_bytes());
        assert_eq!(decode_base64(&encoded).unwrap(), long);
        assert!(
            decode_base64("aGVsbG9=").is_err(),
            "bits that encode nothing are refused"
        );
    }

    #[test]
    fn latin1_header_bytes_are_kept() {
        let value = http::HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(header_value_text(&value), "café");
    }
}
