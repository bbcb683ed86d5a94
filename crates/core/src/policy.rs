//! Which response bodies are sent as text and which as base64.

use http::{HeaderMap, header};

/// A content-type pattern: an exact type (`image/png`), a type wildcard (`image/*`) or `*/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPattern {
    kind: String,
    subtype: Option<String>,
}

impl MediaPattern {
    /// Parses a pattern; parameters (`; charset=...`) are ignored and case does not matter.
    pub fn new(pattern: &str) -> Self {
        let essence = essence(pattern);
        let (kind, subtype) = essence.split_once('/').unwrap_or((essence, "*"));
        let kind = kind.trim().to_ascii_lowercase();
        let subtype = subtype.trim().to_ascii_lowercase();
        Self {
            kind,
            subtype: (subtype != "*").then_some(subtype),
        }
    }

    /// Whether a content type's essence (`type/subtype`, any case) matches.
    fn matches(&self, content_type: &[u8]) -> bool {
        let (kind, subtype) = split_essence(content_type);
        (self.kind == "*" || kind.eq_ignore_ascii_case(self.kind.as_bytes()))
            && self
                .subtype
                .as_deref()
                .is_none_or(|s| subtype.eq_ignore_ascii_case(s.as_bytes()))
    }
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// `type/subtype` of a content type's bytes, parameters and surrounding spaces left out.
fn essence_bytes(content_type: &[u8]) -> &[u8] {
    let end = content_type
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(content_type.len());
    content_type[..end].trim_ascii()
}

/// `(type, subtype)` of an essence; the subtype is empty when there is no `/`.
fn split_essence(essence: &[u8]) -> (&[u8], &[u8]) {
    match essence.iter().position(|&b| b == b'/') {
        Some(slash) => (&essence[..slash], &essence[slash + 1..]),
        None => (essence, b""),
    }
}

/// Decides whether a response body travels as text or as base64.
///
/// The rule, in order:
/// 1. a `Content-Encoding` header (gzip, br, zstd, ...) → base64;
/// 2. a content type matching one of the configured binary types → base64;
/// 3. a textual content type (`text/*`, JSON, XML, JavaScript, `+json`, `+xml`, url-encoded
///    forms, ...) → text when the bytes are valid UTF-8, base64 otherwise;
/// 4. any other content type → base64;
/// 5. no content type → text when the bytes are valid UTF-8, base64 otherwise.
///
/// Bytes are never lossily decoded and charsets are never transcoded: text means the exact bytes.
#[derive(Debug, Clone, Default)]
pub struct BinaryPolicy {
    binary_types: Vec<MediaPattern>,
}

impl BinaryPolicy {
    /// A policy that treats these content types as binary, on top of the default rule.
    pub fn new<I, S>(binary_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            binary_types: binary_types
                .into_iter()
                .map(|s| MediaPattern::new(s.as_ref()))
                .collect(),
        }
    }

    /// Whether the body is sent as text (`isBase64Encoded: false`), given the response headers.
    pub fn is_text(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        self.text_body(headers, body).is_some()
    }

    /// The body as text when it is sent as text, `None` when it is sent as base64: the UTF-8
    /// check is done once, here.
    pub fn text_body<'b>(&self, headers: &HeaderMap, body: &'b [u8]) -> Option<&'b str> {
        self.text_allowed(headers)
            .then(|| std::str::from_utf8(body).ok())
            .flatten()
    }

    /// Whether the headers allow a text body at all (rules 1 to 5 but the UTF-8 check).
    fn text_allowed(&self, headers: &HeaderMap) -> bool {
        // A response carries a handful of headers: one pass over them costs less than hashing
        // two names; large maps use the hash lookups.
        let content_type = if headers.len() <= 8 {
            let mut content_type = None;
            for (name, value) in headers {
                if name == header::CONTENT_ENCODING {
                    return false;
                }
                if name == header::CONTENT_TYPE && content_type.is_none() {
                    content_type = Some(value);
                }
            }
            content_type
        } else {
            if headers.contains_key(header::CONTENT_ENCODING) {
                return false;
            }
            headers.get(header::CONTENT_TYPE)
        };
        let Some(value) = content_type else {
            return true;
        };
        // a content type that is not even UTF-8 names no text type
        if std::str::from_utf8(value.as_bytes()).is_err() {
            return false;
        }
        let content_type = essence_bytes(value.as_bytes());
        if self.binary_types.iter().any(|p| p.matches(content_type)) {
            return false;
        }
        is_textual(content_type)
    }
}

/// Whether a content type's essence names text (compared without allocating).
fn is_textual(content_type: &[u8]) -> bool {
    let (kind, subtype) = split_essence(content_type);
    let ends_with = |suffix: &[u8]| {
        subtype.len() >= suffix.len()
            && subtype[subtype.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    const APPLICATION_TEXT: &[&[u8]] = &[
        b"json",
        b"xml",
        b"javascript",
        b"ecmascript",
        b"x-javascript",
        b"x-www-form-urlencoded",
        b"graphql",
        b"x-ndjson",
        b"ndjson",
        b"yaml",
        b"x-yaml",
        b"toml",
        b"csv",
        b"sql",
    ];
    kind.eq_ignore_ascii_case(b"text")
        || ends_with(b"+json")
        || ends_with(b"+xml")
        || (kind.eq_ignore_ascii_case(b"application")
            && APPLICATION_TEXT
                .iter()
                .any(|t| subtype.eq_ignore_ascii_case(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn textual_types_with_utf8_are_text() {
        let policy = BinaryPolicy::default();
        for ct in [
            "text/html; charset=utf-8",
            "application/json",
            "application/problem+json",
            "image/svg+xml",
            "application/x-www-form-urlencoded",
        ] {
            assert!(
                policy.is_text(&headers(&[("content-type", ct)]), "é".as_bytes()),
                "{ct}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_never_text() {
        let policy = BinaryPolicy::default();
        assert!(!policy.is_text(&headers(&[("content-type", "text/plain")]), b"\xff"));
        assert!(!policy.is_text(&headers(&[]), b"\xff"));
        assert!(policy.is_text(&headers(&[]), b"plain"));
    }

    #[test]
    fn content_encoding_and_binary_types_force_base64() {
        let policy = BinaryPolicy::new(["image/*", "application/x-custom"]);
        assert!(!policy.is_text(
            &headers(&[("content-type", "text/plain"), ("content-encoding", "zstd")]),
            b"ok"
        ));
        assert!(!policy.is_text(&headers(&[("content-type", "image/svg+xml")]), b"<svg/>"));
        assert!(!policy.is_text(
            &headers(&[("content-type", "Application/X-Custom; q=1")]),
            b"ok"
        ));
        assert!(!policy.is_text(
            &headers(&[("content-type", "application/octet-stream")]),
            b"ok"
        ));
        let mut many: Vec<_> = (0..12).map(|_| ("x-filler", "1")).collect();
        many.push(("content-encoding", "gzip"));
        assert!(!policy.is_text(&headers(&many), b"ok"));
        many.pop();
        many.push(("content-type", "text/plain"));
        assert!(policy.is_text(&headers(&many), b"ok"));
        let everything = BinaryPolicy::new(["*/*"]);
        assert!(!everything.is_text(&headers(&[("content-type", "text/plain")]), b"ok"));
    }
}
