//! Explaining events no source claims.
//!
//! Which source an event is from is each source's own [`claim`]; what is wrong with an event
//! of a known shape is the reader's [`Problem`] or a source's [`explain`]. What is left here is
//! the generic part: the payload as JSON (for pass-through, and to tell "not JSON" from "of no
//! known shape"), and the words for what arrived.
//!
//! [`claim`]: lambda_gateway_core::EventSource::claim
//! [`explain`]: lambda_gateway_core::EventSource::explain
//! [`Problem`]: lambda_gateway_core::event::Problem

use std::borrow::Cow;

use lambda_gateway_core::{Error, event::short};
use serde_json::Value;

/// The payload as a JSON value, or the error saying it is not JSON.
pub(crate) fn json(payload: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice::<Value>(payload).map_err(Error::NotJson)
}

/// The error for an event no source serves: what a source that refused it said it is, else its
/// shape.
pub(crate) fn unrecognized(value: &Value, refused: Option<&'static str>) -> Error {
    let found = match refused {
        Some(what) => what.to_owned(),
        None => describe(value),
    };
    Error::UnrecognizedEvent { found }
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

    fn found(payload: &str) -> String {
        match json(payload.as_bytes()) {
            Ok(value) => unrecognized(&value, None).to_string(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn an_sqs_event_is_named_by_its_keys() {
        assert!(
            found(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#)
                .ends_with("found an object with keys [Records]")
        );
    }

    #[test]
    fn huge_keys_are_cut_in_messages() {
        let huge = "x".repeat(100_000);
        let message = found(&format!(r#"{{"Records":[],"{huge}":1}}"#));
        assert!(message.len() < 1_000, "{} bytes", message.len());
        assert!(message.contains("(100000 bytes)"), "{message}");
    }

    #[test]
    fn empty_object_and_non_objects() {
        assert!(found("{}").ends_with("found an empty object"));
        assert!(found("[1]").ends_with("found a JSON array"));
        assert!(found("not json").starts_with("event is not valid JSON"));
    }

    #[test]
    fn a_refusing_source_names_what_arrived() {
        let value = json(b"{}").unwrap();
        assert!(
            unrecognized(&value, Some("an API Gateway Lambda authorizer request"))
                .to_string()
                .ends_with("found an API Gateway Lambda authorizer request")
        );
    }
}
