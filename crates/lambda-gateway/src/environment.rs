//! Configuration by environment: what a deployment sets without a rebuild.
//!
//! `run` (and `run_with`, `into_runtime`) reads these variables where the builder left the
//! setting unset — the builder wins — and parses them strictly: a value it cannot read stops
//! start-up with a [`ConfigError`] naming the variable and the values allowed (on Lambda the
//! init fails, visibly, rather than serving with a setting silently dropped). An empty value
//! counts as unset.
//!
//! | Variable | Values | Builder |
//! |---|---|---|
//! | `LAMBDA_GATEWAY_BASE_PATH` | base paths to strip, comma-separated (`/api,/v2`) | [`Gateway::base_path`] |
//! | `LAMBDA_GATEWAY_BINARY_CONTENT_TYPES` | media types or patterns, comma-separated (`image/*,application/pdf`) | [`Gateway::binary_content_types`] |
//! | `LAMBDA_GATEWAY_PASS_THROUGH_PATH` | the path non-HTTP events are posted to (`/events`) | [`Gateway::pass_through`] |
//! | `LAMBDA_GATEWAY_RESPONSE_MODE` | `stream` or `buffered` | [`Gateway::stream_responses`] |
//! | `LAMBDA_GATEWAY_STREAM_REST_ROUTES` | REST routes that stream, comma-separated (`GET /files/{name},*`) | [`Gateway::stream_rest_routes`] |
//! | `LAMBDA_GATEWAY_DEBUG_LOG` | `1`/`true`/`on` or `0`/`false`/`off` | [`Gateway::debug_log`] |

use crate::Gateway;

/// An environment variable whose value the gateway cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} is {value:?}; expected {expected}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What it may be.
    pub expected: &'static str,
}

const BASE_PATH: &str = "LAMBDA_GATEWAY_BASE_PATH";
const BINARY_CONTENT_TYPES: &str = "LAMBDA_GATEWAY_BINARY_CONTENT_TYPES";
const PASS_THROUGH_PATH: &str = "LAMBDA_GATEWAY_PASS_THROUGH_PATH";
const RESPONSE_MODE: &str = "LAMBDA_GATEWAY_RESPONSE_MODE";
const STREAM_REST_ROUTES: &str = "LAMBDA_GATEWAY_STREAM_REST_ROUTES";
const DEBUG_LOG: &str = "LAMBDA_GATEWAY_DEBUG_LOG";

/// `gateway` with the settings `read` (the process environment, or a test's) gives, where the
/// builder left them unset.
pub(crate) fn apply<S>(
    mut gateway: Gateway<S>,
    read: impl Fn(&str) -> Option<String>,
) -> Result<Gateway<S>, ConfigError> {
    let read = |variable: &'static str| {
        read(variable)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .map(|value| Variable { variable, value })
    };
    if gateway.settings.base_paths.is_empty() {
        if let Some(var) = read(BASE_PATH) {
            for base in var.list() {
                if !is_path(base) || base.contains(['?', '#']) {
                    return Err(var.error("base paths (`/api`), comma-separated"));
                }
                gateway = gateway.base_path(base);
            }
        }
    }
    if !gateway.settings.binary_set {
        if let Some(var) = read(BINARY_CONTENT_TYPES) {
            let types: Vec<&str> = var.list().collect();
            if !types.iter().all(|t| is_media_pattern(t)) {
                return Err(var.error(
                    "media types or patterns (`image/png`, `image/*`, `*/*`), comma-separated",
                ));
            }
            gateway = gateway.binary_content_types(types);
        }
    }
    if gateway.settings.pass_through.is_none() {
        if let Some(var) = read(PASS_THROUGH_PATH) {
            if crate::pass_through::normalize(&var.value).is_none() {
                return Err(var.error("a URI path (`/events`), without a query"));
            }
            gateway = gateway.pass_through(&var.value);
        }
    }
    if !gateway.settings.stream_responses {
        if let Some(var) = read(RESPONSE_MODE) {
            match var.value.to_ascii_lowercase().as_str() {
                "stream" => gateway.settings.stream_responses = true,
                "buffered" => {}
                _ => return Err(var.error("stream or buffered")),
            }
        }
    }
    if gateway.settings.stream_rest_routes.is_empty() {
        if let Some(var) = read(STREAM_REST_ROUTES) {
            let routes: Vec<&str> = var.list().collect();
            if !routes.iter().all(|route| is_route(route)) {
                return Err(var.error(
                    "REST routes as `METHOD /resource` (`GET /files/{name}`) or `*`, comma-separated",
                ));
            }
            gateway = gateway.stream_rest_routes(routes);
        }
    }
    if !gateway.settings.debug_log {
        if let Some(var) = read(DEBUG_LOG) {
            match var.value.to_ascii_lowercase().as_str() {
                "1" | "true" | "on" | "yes" => gateway.settings.debug_log = true,
                "0" | "false" | "off" | "no" => {}
                _ => return Err(var.error("1, true, on, yes or 0, false, off, no")),
            }
        }
    }
    Ok(gateway)
}

/// A variable that is set.
struct Variable {
    variable: &'static str,
    value: String,
}

impl Variable {
    /// Its comma-separated items, trimmed, empty ones skipped.
    fn list(&self) -> impl Iterator<Item = &str> {
        self.value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
    }

    fn error(&self, expected: &'static str) -> ConfigError {
        ConfigError {
            variable: self.variable,
            value: self.value.clone(),
            expected,
        }
    }
}

/// A URI path (a leading `/` optional).
fn is_path(path: &str) -> bool {
    let path = path.strip_prefix('/').unwrap_or(path);
    format!("/{path}")
        .parse::<http::uri::PathAndQuery>()
        .is_ok()
}

/// `type/subtype`, `type/*` or `*/*`, each a token (RFC 9110's `tchar`s).
fn is_media_pattern(pattern: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    match pattern.split_once('/') {
        Some(("*", subtype)) => subtype == "*",
        Some((kind, subtype)) => token(kind) && token(subtype),
        None => false,
    }
}

/// `METHOD /resource` or `*`.
fn is_route(route: &str) -> bool {
    if route == "*" {
        return true;
    }
    match route.split_once(' ') {
        Some((method, resource)) => {
            http::Method::from_bytes(method.as_bytes()).is_ok()
                && resource.trim().starts_with('/')
                && !resource.trim().contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use super::*;

    fn configured(vars: &[(&str, &str)]) -> Result<Gateway<()>, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        apply(Gateway::new(()), |name| vars.get(name).cloned())
    }

    #[test]
    fn good_values_configure_the_gateway() {
        let gateway = configured(&[
            (BASE_PATH, " /api, v2/ ,"),
            (BINARY_CONTENT_TYPES, "image/*, application/pdf"),
            (PASS_THROUGH_PATH, "/events"),
            (RESPONSE_MODE, "Stream"),
            (STREAM_REST_ROUTES, "GET /files/{name}, *"),
            (DEBUG_LOG, "on"),
        ])
        .unwrap();
        let settings = &gateway.settings;
        assert_eq!(settings.base_paths, ["/api", "/v2"]);
        assert!(settings.binary_set);
        assert!(gateway.settings.pass_through.is_some());
        assert!(settings.stream_responses);
        assert_eq!(settings.stream_rest_routes, ["GET /files/{name}", "*"]);
        assert!(settings.debug_log);
        // empty values are unset
        let gateway = configured(&[(RESPONSE_MODE, " "), (BASE_PATH, "")]).unwrap();
        assert!(!gateway.settings.stream_responses);
        assert!(gateway.settings.base_paths.is_empty());
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable_and_the_values_allowed() {
        for (variable, value, expected) in [
            (RESPONSE_MODE, "streaming", "stream or buffered"),
            (DEBUG_LOG, "verbose", "1, true, on"),
            (BASE_PATH, "/api,/a b", "base paths"),
            (BASE_PATH, "/api?x=1", "base paths"),
            (BINARY_CONTENT_TYPES, "image/png,png", "media types"),
            (BINARY_CONTENT_TYPES, "*/png", "media types"),
            (PASS_THROUGH_PATH, "/events?x", "a URI path"),
            (STREAM_REST_ROUTES, "/files", "REST routes"),
        ] {
            let error = configured(&[(variable, value)]).map(drop).unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with(variable), "{message}");
            assert!(message.contains(&format!("{value:?}")), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn the_builder_wins_over_the_environment() {
        let vars = HashMap::from([
            (BASE_PATH.to_owned(), "/env".to_owned()),
            (DEBUG_LOG.to_owned(), "nonsense".to_owned()),
            (RESPONSE_MODE.to_owned(), "nonsense".to_owned()),
        ]);
        let gateway = Gateway::new(())
            .base_path("/built")
            .debug_log(true)
            .stream_responses();
        let gateway = apply(gateway, |name| vars.get(name).cloned()).unwrap();
        assert_eq!(gateway.settings.base_paths, ["/built"]);
    }
}
