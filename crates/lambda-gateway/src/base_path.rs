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

/// The path under `base`, or `None` when the path is not under it.
fn remainder<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(base)?;
    let rest = match rest {
        "" => "/",
        rest if rest.starts_with('/') => rest,
        _ => return None,
    };
    stays_inside(rest).then_some(rest)
}

/// Whether resolving the dot segments of `path` (`.`, `..`, also percent-encoded) never goes
/// above its root.
fn stays_inside(path: &str) -> bool {
    let mut depth: usize = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        match decoded.as_str() {
            "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
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
        assert_eq!(stripped("/api/a/../b", "/api"), "/a/../b");
        assert_eq!(stripped("/api/./b", "/api"), "/./b");
    }
}
