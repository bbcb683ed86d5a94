//! Stripping a configured base path from request paths, on segment boundaries only.

use bytes::Bytes;
use http::{Request, Uri};
use lambda_gateway_core::Body;

/// Strips `base` (`/api`, normalized: leading `/`, no trailing `/`) from the request's path
/// when the path is `base` or starts with `base/` and the rest cannot climb out of it.
pub(crate) fn strip(request: &mut Request<Body>, base: &str) {
    let uri = request.uri();
    let Some(rest) = remainder(uri.path(), base) else {
        return;
    };
    let mut path_and_query =
        String::with_capacity(rest.len() + uri.query().map_or(0, |q| q.len() + 1));
    path_and_query.push_str(rest);
    if let Some(query) = uri.query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    // Parts of a valid URI make a valid URI; on the impossible failure the path stays as it was.
    if let Ok(uri) = Uri::from_maybe_shared(Bytes::from(path_and_query)) {
        *request.uri_mut() = uri;
    }
}

/// Strips the first of `bases` (longest first) the path falls under on a segment boundary; a
/// path under one that might climb out of it (a `..` segment) is left alone, not tried against
/// the shorter ones.
pub(crate) fn strip_first(request: &mut Request<Body>, bases: &[String]) {
    let path = request.uri().path();
    let under = |base: &String| {
        path.strip_prefix(base.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if let Some(base) = bases.iter().position(under).and_then(|at| bases.get(at)) {
        strip(request, base);
    }
}

/// The path under `base`, or `None` when the path is not under it or might climb out of it.
fn remainder<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(base)?;
    let rest = match rest {
        "" => "/",
        rest if rest.starts_with('/') => rest,
        _ => return None,
    };
    (!has_dot_dot_segment(rest)).then_some(rest)
}

/// How many rounds of percent-decoding are undone: a service, framework or proxy that decodes
/// twice (`%252e` → `%2e` → `.`) still sees no `..`.
const DECODING_ROUNDS: usize = 3;

/// Whether `path` holds a `..` segment under any common reading of it — after percent-decoding
/// `.`, `/`, `\`, `;` and `%` (either case, up to [`DECODING_ROUNDS`] times), with `/`, `\` and
/// `;` all taken as segment boundaries (Windows paths; `;` path parameters that some servers cut
/// off before normalizing). A service that decodes `%2F` or reads `..;` as `..` before resolving
/// dot segments would otherwise route `/api/..%2Fadmin` or `/api/..;/admin` to `/admin`.
///
/// Any `..` segment keeps the prefix, even one that stays under it (`/a/../b`): the stripped path
/// is never one whose meaning depends on the service's normalization.
fn has_dot_dot_segment(path: &str) -> bool {
    // a `.` is needed, written or escaped: most paths have neither, and cost no copy
    if !path.bytes().any(|b| b == b'.' || b == b'%') {
        return false;
    }
    let mut text = path.as_bytes().to_vec();
    for _ in 0..DECODING_ROUNDS {
        let (decoded, changed) = decode_separators(&text);
        text = decoded;
        if !changed {
            break;
        }
    }
    text.split(|&b| matches!(b, b'/' | b'\\' | b';'))
        .any(|segment| segment == b"..")
}

/// One round of percent-decoding of `%2e`, `%2f`, `%5c`, `%3b` and `%25` (either case); whether
/// anything was decoded.
fn decode_separators(text: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        let escape = text.get(i + 1..i + 3).and_then(|hex| {
            match (hex[0].to_ascii_lowercase(), hex[1].to_ascii_lowercase()) {
                (b'2', b'e') => Some(b'.'),
                (b'2', b'f') => Some(b'/'),
                (b'5', b'c') => Some(b'\\'),
                (b'3', b'b') => Some(b';'),
                (b'2', b'5') => Some(b'%'),
                _ => None,
            }
        });
        match escape {
            Some(byte) if text[i] == b'%' => {
                out.push(byte);
                changed = true;
                i += 3;
            }
            _ => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(uri: &str, base: &str) -> String {
        let mut request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        strip(&mut request, base);
        request.uri().to_string()
    }

    #[test]
    fn strips_only_on_segment_boundaries() {
        assert_eq!(stripped("/api/items?x=1", "/api"), "/items?x=1");
        assert_eq!(stripped("/api", "/api"), "/");
        assert_eq!(stripped("/api?x", "/api"), "/?x");
        assert_eq!(stripped("/apix/items", "/api"), "/apix/items");
        assert_eq!(stripped("/other/api/items", "/api"), "/other/api/items");
        assert_eq!(stripped("/v1/api/items", "/v1/api"), "/items");
    }

    #[test]
    fn dot_segments_cannot_climb_out() {
        assert_eq!(stripped("/api/../admin", "/api"), "/api/../admin");
        assert_eq!(stripped("/api/%2e%2E/admin", "/api"), "/api/%2e%2E/admin");
        assert_eq!(stripped("/api/a/../../admin", "/api"), "/api/a/../../admin");
        assert_eq!(stripped("/api/./b", "/api"), "/./b");
        assert_eq!(stripped("/api/a..b/..c", "/api"), "/a..b/..c");
    }

    #[test]
    fn no_dot_dot_segment_is_stripped_even_one_that_stays_inside() {
        assert_eq!(stripped("/api/a/../b", "/api"), "/api/a/../b");
    }

    #[test]
    fn dot_dot_under_any_common_decoding_is_never_stripped() {
        for path in [
            "/api/..%2Fadmin",
            "/api/..%2fadmin",
            "/api/%2e%2e%2fadmin",
            "/api/..%5Cadmin",
            "/api/..%5cadmin",
            "/api/..\\admin",
            "/api/..;/admin",
            "/api/..%3B/admin",
            "/api/a;..",
            "/api/%252e%252e/admin",
            "/api/%252E%252E%252Fadmin",
            "/api/.%2e/admin",
            "/api/x\\..\\..\\admin",
        ] {
            let Ok(uri) = path.parse::<Uri>() else {
                // `\` is not allowed in a URI: test the rule on the path itself
                assert!(remainder(path, "/api").is_none(), "{path}");
                continue;
            };
            assert_eq!(stripped(&uri.to_string(), "/api"), path, "{path}");
        }
    }
}
