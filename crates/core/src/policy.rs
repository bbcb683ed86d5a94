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

    /// Whether a content type's essence (`type/subtype`, lower case) matches.
    fn matches(&self, content_type: &str) -> bool {
        let (kind, subtype) = content_type.split_once('/').unwrap_or((content_type, ""));
        (self.kind == "*" || kind.eq_ignore_ascii_case(&self.kind))
            && self
                .subtype
                .as_deref()
                .is_none_or(|s| subtype.eq_ignore_ascii_case(s))
    }
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
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
        if headers.contains_key(header::CONTENT_ENCODING) {
            return false;
        }
        match headers.get(header::CONTENT_TYPE) {
            None => true,
            Some(value) => {
                let Ok(content_type) = std::str::from_utf8(value.as_bytes()) else {
                    return false;
                };
                let content_type = essence(content_type);
                if self.binary_types.iter().any(|p| p.matches(content_type)) {
                    return false;
                }
                is_textual(content_type)
            }
        }
    }
}

/// Whether a content type's essence names text (compared without allocating).
fn is_textual(content_type: &str) -> bool {
    let (kind, subtype) = content_type.split_once('/').unwrap_or((content_type, ""));
    let ends_with = |suffix: &str| {
        subtype.len() >= suffix.len()
            && subtype.as_bytes()[subtype.len() - suffix.len()..]
                .eq_ignore_ascii_case(suffix.as_bytes())
    };
    const APPLICATION_TEXT: &[&str] = &[
        "json",
        "xml",
        "javascript",
        "ecmascript",
        "x-javascript",
        "x-www-form-urlencoded",
        "graphql",
        "x-ndjson",
        "ndjson",
        "yaml",
        "x-yaml",
        "toml",
        "csv",
        "sql",
    ];
    kind.eq_ignore_ascii_case("text")
        || ends_with("+json")
        || ends_with("+xml")
        || (kind.eq_ignore_ascii_case("application")
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
        let everything = BinaryPolicy::new(["*/*"]);
        assert!(!everything.is_text(&headers(&[("content-type", "text/plain")]), b"ok"));
    }
}
