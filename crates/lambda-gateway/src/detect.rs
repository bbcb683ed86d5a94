//! Telling the sources apart, and explaining events that fit none.

use std::borrow::Cow;

use lambda_gateway_core::{Error, Source, event::EventView, request::excerpt};
use serde_json::{Map, Value};

/// Decides the source from the discriminating fields:
/// `requestContext.elb` → ALB; `version: "2.0"` with `requestContext.http` → payload 2.0;
/// `httpMethod` with `requestContext` → REST (or HTTP API payload 1.0).
///
/// Events that look like these but are not HTTP requests are claimed by none: Lambda authorizer
/// requests (`methodArn`, `routeArn`; a REST REQUEST authorizer carries `httpMethod` and a
/// `requestContext`, an HTTP API one `version: "2.0"` and `requestContext.http`) and WebSocket
/// events (`requestContext.connectionId` / `eventType`; a `$connect` may carry `httpMethod`).
pub(crate) fn detect(view: &EventView<'_>) -> Option<Source> {
    let context = view.request_context.as_ref()?;
    if is_not_http(view) {
        None
    } else if context.elb.0 {
        Some(Source::Alb)
    } else if view
        .version
        .as_ref()
        .is_some_and(|v| v.as_bytes() == b"2.0")
        && context.http.is_some()
    {
        Some(Source::ApiGatewayHttp)
    } else if view.http_method.is_some() {
        Some(Source::ApiGatewayRest)
    } else {
        None
    }
}

/// Whether the event is an authorizer request or a WebSocket event: never served as an HTTP
/// request, even to a gateway whose source is forced.
pub(crate) fn is_not_http(view: &EventView<'_>) -> bool {
    view.method_arn.0
        || view.route_arn.0
        || view
            .request_context
            .as_ref()
            .is_some_and(|c| c.connection_id.0 || c.event_type.0)
}

/// The same rules over a generic JSON object (error path only).
fn detect_value(object: &Map<String, Value>) -> Option<Source> {
    let context = object.get("requestContext")?.as_object()?;
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    if not_http(object).is_some() {
        None
    } else if present(context.get("elb")) {
        Some(Source::Alb)
    } else if object.get("version").and_then(Value::as_str) == Some("2.0")
        && present(context.get("http"))
    {
        Some(Source::ApiGatewayHttp)
    } else if present(object.get("httpMethod")) {
        Some(Source::ApiGatewayRest)
    } else {
        None
    }
}

/// What an event that looks like an HTTP request but is not one is, for the error that says so.
fn not_http(object: &Map<String, Value>) -> Option<String> {
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    let context = object.get("requestContext").and_then(Value::as_object);
    let kind = object.get("type").and_then(Value::as_str);
    if present(object.get("methodArn")) || present(object.get("routeArn")) {
        let kind = kind.map_or_else(String::new, |k| {
            format!(" of type {}", excerpt(k.as_bytes()))
        });
        return Some(format!(
            "an API Gateway Lambda authorizer request{kind}, which expects an authorization \
             policy, not an HTTP response"
        ));
    }
    if present(context.and_then(|c| c.get("serviceArn")))
        || (present(object.get("raw_path")) && present(object.get("method")))
    {
        let version = if context.is_some() { "v2" } else { "v1" };
        return Some(format!(
            "a VPC Lattice event ({version}), which this build does not serve"
        ));
    }
    let context = context?;
    if present(context.get("connectionId")) || present(context.get("eventType")) {
        let event = context
            .get("eventType")
            .and_then(Value::as_str)
            .map_or_else(String::new, |e| format!(" ({})", excerpt(e.as_bytes())));
        return Some(format!(
            "an API Gateway WebSocket event{event}, which this build does not serve"
        ));
    }
    None
}

/// A payload no source claimed: `Ok` with its JSON value when it is an event of no known shape
/// (what pass-through takes, and what [`unrecognized`] names), the error that says what is wrong
/// with it otherwise (not JSON, a known shape with a missing or mistyped field).
pub(crate) fn unclaimed(payload: &[u8]) -> Result<Value, Error> {
    let value = serde_json::from_slice::<Value>(payload).map_err(Error::NotJson)?;
    let Value::Object(object) = &value else {
        return Ok(value);
    };
    if not_http(object).is_some() {
        return Ok(value);
    }
    let is_v2 = object.get("version").and_then(Value::as_str) == Some("2.0");
    let has_http = object
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .is_some_and(|h| !h.is_null());
    if is_v2 && !has_http && object.get("httpMethod").is_none() {
        return Err(Error::invalid_event(
            Source::ApiGatewayHttp,
            "requestContext.http",
            "missing; a payload 2.0 event carries the method and path there",
        ));
    }
    match detect_value(object).and_then(|source| invalid_field(source, payload)) {
        Some(error) => Err(error),
        None => Ok(value),
    }
}

/// The error for an event of no known shape: what it is, when it looks like an HTTP request but
/// is not one, else its shape.
pub(crate) fn unrecognized(value: &Value) -> Error {
    let found = value
        .as_object()
        .and_then(not_http)
        .unwrap_or_else(|| describe(value));
    Error::UnrecognizedEvent { found }
}

/// Names the field that fails to parse, if any.
pub(crate) fn invalid_field(source: Source, payload: &[u8]) -> Option<Error> {
    // through `parse`, so the binary holds one instantiation of the serde visitors
    let error = EventView::parse(payload).err()?;
    let located = serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|value| value.as_object().and_then(find_invalid_field));
    Some(match located {
        Some((field, reason)) => Error::invalid_event(source, field, reason),
        // What a JSON value cannot show (a repeated key): serde's own words, with the position.
        None => Error::invalid_event(source, "(event)", short(&error.to_string()).into_owned()),
    })
}

/// The expected type of each field the adapter reads, checked over a generic JSON value to name
/// the first field that does not fit (error path only).
fn find_invalid_field(event: &Map<String, Value>) -> Option<(String, String)> {
    const STRINGS: &[&str] = &[
        "version",
        "httpMethod",
        "path",
        "rawPath",
        "rawQueryString",
        "body",
    ];
    const MAPS: &[&str] = &[
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
    ];
    for (key, value) in event {
        let problem = match key.as_str() {
            k if STRINGS.contains(&k) => expect_string(value),
            k if MAPS.contains(&k) => {
                if let Some(found) = check_map(key, value) {
                    return Some(found);
                }
                None
            }
            "cookies" => match value {
                Value::Null => None,
                Value::Array(items) => {
                    if let Some((i, item)) = items
                        .iter()
                        .enumerate()
                        .find(|(_, v)| !matches!(v, Value::String(_) | Value::Null))
                    {
                        return Some((format!("cookies[{i}]"), expected("a string", item)));
                    }
                    None
                }
                other => Some(expected("an array of strings", other)),
            },
            "isBase64Encoded" => (!matches!(value, Value::Bool(_) | Value::Null))
                .then(|| expected("a boolean", value)),
            "requestContext" => {
                if let Some(found) = check_context(value) {
                    return Some(found);
                }
                None
            }
            _ => None,
        };
        if let Some(reason) = problem {
            return Some((key.clone(), reason));
        }
    }
    None
}

fn check_map(key: &str, value: &Value) -> Option<(String, String)> {
    let map = match value {
        Value::Null => return None,
        Value::Object(map) => map,
        other => {
            return Some((
                key.to_owned(),
                expected("an object of strings or of arrays of strings", other),
            ));
        }
    };
    for (name, values) in map {
        match values {
            Value::String(_) | Value::Null => {}
            Value::Array(items) => {
                if let Some((i, item)) = items
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !matches!(v, Value::String(_) | Value::Null))
                {
                    let name = short(name);
                    return Some((format!("{key}.{name}[{i}]"), expected("a string", item)));
                }
            }
            other => {
                return Some((
                    format!("{key}.{}", short(name)),
                    expected("a string or an array of strings", other),
                ));
            }
        }
    }
    None
}

fn check_context(value: &Value) -> Option<(String, String)> {
    let context = match value {
        Value::Null => return None,
        Value::Object(context) => context,
        other => return Some(("requestContext".to_owned(), expected("an object", other))),
    };
    for (key, value) in context {
        let nested: &[&str] = match key.as_str() {
            "requestId" | "stage" | "domainName" => {
                if let Some(reason) = expect_string(value) {
                    return Some((format!("requestContext.{key}"), reason));
                }
                continue;
            }
            "http" => &["method", "path", "sourceIp"],
            "identity" => &["sourceIp"],
            _ => continue,
        };
        let object = match value {
            Value::Null => continue,
            Value::Object(object) => object,
            other => {
                return Some((
                    format!("requestContext.{key}"),
                    expected("an object", other),
                ));
            }
        };
        for field in nested {
            if let Some(reason) = object.get(*field).and_then(expect_string) {
                return Some((format!("requestContext.{key}.{field}"), reason));
            }
        }
    }
    None
}

fn expect_string(value: &Value) -> Option<String> {
    (!matches!(value, Value::String(_) | Value::Null)).then(|| expected("a string", value))
}

fn expected(what: &str, found: &Value) -> String {
    let found = match found {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", excerpt(s.as_bytes())),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    };
    format!("expected {what}, found {found}")
}

/// An untrusted key (or a message quoting one) as shown in an error: cut after 200
/// characters, so that an error never carries megabytes of the event.
fn short(text: &str) -> Cow<'_, str> {
    const SHOWN_CHARS: usize = 200;
    match text.char_indices().nth(SHOWN_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}... ({} bytes)", &text[..cut], text.len())),
    }
}

/// `an object with keys [Records]`, `a JSON array`...
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a JSON boolean".to_owned(),
        Value::Number(_) => "a JSON number".to_owned(),
        Value::String(_) => "a JSON string".to_owned(),
        Value::Array(_) => "a JSON array".to_owned(),
        Value::Object(object) if object.is_empty() => "an empty object".to_owned(),
        Value::Object(object) => {
            const SHOWN: usize = 12;
            let mut keys: Vec<Cow<'_, str>> = object.keys().map(|k| short(k)).take(SHOWN).collect();
            if object.len() > SHOWN {
                keys.push(Cow::Borrowed("..."));
            }
            format!("an object with keys [{}]", keys.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error for a payload that did not parse into the view or matched no source.
    fn diagnose(payload: &[u8]) -> Error {
        unclaimed(payload).map_or_else(|error| error, |value| unrecognized(&value))
    }

    fn error_for(payload: &str) -> String {
        match EventView::parse(payload.as_bytes()) {
            Ok(view) => match detect(&view) {
                Some(source) => format!("detected {source}"),
                None => diagnose(payload.as_bytes()).to_string(),
            },
            Err(_) => diagnose(payload.as_bytes()).to_string(),
        }
    }

    #[test]
    fn sqs_event_is_named_by_its_keys() {
        assert_eq!(
            error_for(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#),
            "unrecognized event: expected an API Gateway, Function URL or ALB request; found an object with keys [Records]"
        );
    }

    #[test]
    fn huge_values_and_keys_are_cut_in_messages() {
        let huge = "x".repeat(100_000);
        for payload in [
            format!(
                r#"{{"httpMethod":"GET","path":"/","requestContext":{{}},"headers":"{huge}"}}"#
            ),
            format!(
                r#"{{"httpMethod":"GET","path":"/","requestContext":{{}},"headers":{{"{huge}":5}}}}"#
            ),
            format!(r#"{{"Records":[],"{huge}":1}}"#),
        ] {
            let message = error_for(&payload);
            assert!(
                message.len() < 1_000,
                "{} bytes: {}",
                message.len(),
                &message[..300]
            );
            assert!(message.contains("(100000 bytes)"), "{message}");
        }
    }

    #[test]
    fn empty_object_and_non_objects() {
        assert!(error_for("{}").ends_with("found an empty object"));
        assert!(error_for("[1]").ends_with("found a JSON array"));
        assert!(error_for("not json").starts_with("event is not valid JSON"));
    }

    #[test]
    fn mistyped_field_is_named_with_its_path() {
        let message =
            error_for(r#"{"httpMethod":"GET","path":"/","requestContext":{"requestId":5}}"#);
        assert_eq!(
            message,
            "invalid apigw_rest event: `requestContext.requestId`: expected a string, found the number 5"
        );
        let message = error_for(
            r#"{"httpMethod":"GET","path":"/","requestContext":{},"multiValueHeaders":{"x-retry":["1",2]}}"#,
        );
        assert!(
            message
                .contains("`multiValueHeaders.x-retry[1]`: expected a string, found the number 2"),
            "{message}"
        );
    }

    #[test]
    fn a_valid_map_does_not_stop_the_search_for_the_faulty_field() {
        let message = error_for(
            r#"{"headers":{"a":"1"},"httpMethod":"GET","path":"/","requestContext":{"stage":"p"},"isBase64Encoded":"false"}"#,
        );
        assert_eq!(
            message,
            "invalid apigw_rest event: `isBase64Encoded`: expected a boolean, found the string \"false\""
        );
    }

    #[test]
    fn repeated_key_is_reported_with_its_position() {
        let message =
            error_for(r#"{"httpMethod":"GET","path":"/","path":"/x","requestContext":{}}"#);
        assert!(
            message.starts_with(
                "invalid apigw_rest event: `(event)`: duplicate field `path` at line 1"
            ),
            "{message}"
        );
    }

    #[test]
    fn sources_are_detected_by_discriminating_fields() {
        assert_eq!(
            error_for(r#"{"httpMethod":"GET","requestContext":{"elb":{"targetGroupArn":"x"}}}"#),
            "detected alb"
        );
        assert_eq!(
            error_for(r#"{"version":"2.0","requestContext":{"http":{"method":"GET"}}}"#),
            "detected apigw_http"
        );
        assert_eq!(
            error_for(r#"{"version":"1.0","httpMethod":"GET","requestContext":{}}"#),
            "detected apigw_rest"
        );
    }
}
