//! Telling the sources apart, and explaining events that fit none.

use lambda_gateway_core::{Error, Source, event::EventView};
use serde_json::{Map, Value};

/// Parses the one-pass view of an event; on failure, works out a precise error.
pub(crate) fn parse_view(payload: &[u8]) -> Result<EventView<'_>, Error> {
    serde_json::from_slice(payload).map_err(|_| diagnose(payload))
}

/// Decides the source from the discriminating fields:
/// `requestContext.elb` → ALB; `version: "2.0"` with `requestContext.http` → payload 2.0;
/// `httpMethod` with `requestContext` → REST (or HTTP API payload 1.0).
pub(crate) fn detect(view: &EventView<'_>) -> Option<Source> {
    let context = view.request_context.as_ref()?;
    if context.elb.0 {
        Some(Source::Alb)
    } else if view.version.as_deref() == Some("2.0") && context.http.is_some() {
        Some(Source::ApiGatewayHttp)
    } else if view.http_method.is_some() {
        Some(Source::ApiGatewayRest)
    } else {
        None
    }
}

/// The same rules over a generic JSON object (error path only).
fn detect_value(object: &Map<String, Value>) -> Option<Source> {
    let context = object.get("requestContext")?.as_object()?;
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    if present(context.get("elb")) {
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

/// The error for a payload that did not parse into the view or matched no source.
pub(crate) fn diagnose(payload: &[u8]) -> Error {
    let value = match serde_json::from_slice::<Value>(payload) {
        Ok(value) => value,
        Err(error) => return Error::NotJson(error),
    };
    let object = match value {
        Value::Object(object) => object,
        other => {
            return Error::UnrecognizedEvent {
                found: describe(&other),
            };
        }
    };
    let Some(source) = detect_value(&object) else {
        return Error::UnrecognizedEvent {
            found: describe(&Value::Object(object)),
        };
    };
    invalid_field(source, payload).unwrap_or_else(|| Error::UnrecognizedEvent {
        found: describe(&Value::Object(object)),
    })
}

/// Names the field that fails to parse, if any.
pub(crate) fn invalid_field(source: Source, payload: &[u8]) -> Option<Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    match serde_path_to_error::deserialize::<_, EventView<'_>>(&mut deserializer) {
        Ok(_) => None,
        Err(error) => {
            let field = error.path().to_string();
            Some(Error::invalid_event(
                source,
                field,
                error.into_inner().to_string(),
            ))
        }
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
            let mut keys: Vec<&str> = object.keys().map(String::as_str).take(SHOWN).collect();
            if object.len() > SHOWN {
                keys.push("...");
            }
            format!("an object with keys [{}]", keys.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_for(payload: &str) -> String {
        match parse_view(payload.as_bytes()) {
            Ok(view) => match detect(&view) {
                Some(source) => format!("detected {source}"),
                None => diagnose(payload.as_bytes()).to_string(),
            },
            Err(error) => error.to_string(),
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
    fn empty_object_and_non_objects() {
        assert!(error_for("{}").ends_with("found an empty object"));
        assert!(error_for("[1]").ends_with("found a JSON array"));
        assert!(error_for("not json").starts_with("event is not valid JSON"));
    }

    #[test]
    fn mistyped_field_is_named_with_its_path() {
        let message =
            error_for(r#"{"httpMethod":"GET","path":"/","requestContext":{"requestId":5}}"#);
        assert!(
            message.starts_with(
                "invalid apigw_rest event: `requestContext.requestId`: invalid type: integer `5`"
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
