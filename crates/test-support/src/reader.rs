//! A model of the event reader, over `serde_json::Value`: what each field of the merged schema
//! must hold after [`EventView::parse`], derived the slow and obvious way. The mutation test and
//! the fuzz targets check every input against it.

use lambda_gateway_core::{
    EventSource as _,
    event::{EventView, Field, Schema, SchemaError, Shape, Slot},
};
use serde_json::Value;

/// The schema of every source the facade registers, in its order.
///
/// # Errors
///
/// The sources' fields do not merge.
pub fn schema() -> Result<Schema, SchemaError> {
    let sources: [&'static [Field]; 5] = [
        lambda_gateway::apigw_websocket::ApiGatewayWebSocket.fields(),
        lambda_gateway::vpc_lattice::VpcLattice.fields(),
        lambda_gateway::alb::Alb.fields(),
        lambda_gateway::apigw_http::ApiGatewayHttp.fields(),
        lambda_gateway::apigw_rest::ApiGatewayRest.fields(),
    ];
    Schema::build(&sources)
}

/// What a slot holds, comparable across the reader and the model: strings as bytes, maps as
/// pairs sorted by name (the model's `Value` sorts object keys; values of one name keep their
/// order).
#[derive(Debug, PartialEq, Eq)]
enum Held {
    Empty,
    Str(Vec<u8>),
    Flag(bool),
    Map(Vec<(Vec<u8>, Vec<u8>)>),
    List(Vec<Vec<u8>>),
    Present,
}

fn held(slot: Option<&Slot<'_>>) -> Held {
    match slot {
        None | Some(Slot::Empty) => Held::Empty,
        Some(Slot::Str(s) | Slot::Number(s)) => Held::Str(s.as_bytes().to_vec()),
        Some(Slot::Flag(b)) => Held::Flag(*b),
        Some(Slot::Map(pairs)) => {
            let mut pairs: Vec<_> = pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Held::Map(pairs)
        }
        Some(Slot::List(list)) => {
            Held::List(list.0.iter().map(|s| s.as_bytes().to_vec()).collect())
        }
        Some(Slot::Present) => Held::Present,
    }
}

/// The model's value for a field: `None` when the value is mistyped (the reader must then report
/// a problem).
fn model(field: &Field, is_object: bool, root: &Value) -> Option<Held> {
    let mut value = root;
    for key in field.path().split('.') {
        match value {
            Value::Object(object) => match object.get(key) {
                Some(inner) => value = inner,
                None => return Some(Held::Empty),
            },
            Value::Null => return Some(Held::Empty),
            // a parent that is not an object: the reader reports that parent
            _ => return None,
        }
    }
    let string = |v: &Value| v.as_str().map(|s| s.as_bytes().to_vec());
    Some(match (field.shape(), value) {
        (_, Value::Null) => Held::Empty,
        // an object with fields declared under it
        (Shape::Present, Value::Object(_)) if is_object => Held::Present,
        (Shape::Present, _) if is_object => return None,
        (Shape::Present, _) => Held::Present,
        (Shape::Str, Value::String(s)) => Held::Str(s.as_bytes().to_vec()),
        (Shape::Number, Value::Number(n)) => Held::Str(n.to_string().into_bytes()),
        (Shape::Flag, Value::Bool(b)) => Held::Flag(*b),
        (Shape::List, Value::Array(items)) => {
            let mut list = Vec::new();
            for item in items {
                match item {
                    Value::Null => {}
                    Value::String(s) => list.push(s.as_bytes().to_vec()),
                    _ => return None,
                }
            }
            Held::List(list)
        }
        (Shape::Map, Value::Object(object)) => {
            let mut pairs = Vec::new();
            for (name, values) in object {
                match values {
                    Value::Null => {}
                    Value::String(s) => {
                        pairs.push((name.as_bytes().to_vec(), s.as_bytes().to_vec()))
                    }
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::Null => {}
                                _ => pairs.push((name.as_bytes().to_vec(), string(item)?)),
                            }
                        }
                    }
                    _ => return None,
                }
            }
            Held::Map(pairs)
        }
        _ => return None,
    })
}

/// Whether a JSON text has a repeated key in some object (the model's `Value` keeps the last
/// value, the reader the first, with a problem; maps keep every pair): such events are not
/// compared.
fn has_repeated_keys(event: &[u8]) -> bool {
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Strict;
    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(StrictVisitor)
        }
    }
    struct StrictVisitor;
    impl<'de> Visitor<'de> for StrictVisitor {
        type Value = Strict;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_str<E>(self, _: &str) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_unit<E>(self) -> Result<Strict, E> {
            Ok(Strict)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
            while seq.next_element::<Strict>()?.is_some() {}
            Ok(Strict)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
            let mut keys = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !keys.insert(key) {
                    return Err(serde::de::Error::custom("repeated key"));
                }
                map.next_value::<Strict>()?;
            }
            Ok(Strict)
        }
    }
    serde_json::from_slice::<Strict>(event).is_err()
}

/// Whether the value at `path` is a non-null one (a superseding map is then "read").
fn superseding_present(root: &Value, path: &str) -> bool {
    let mut value = root;
    for key in path.split('.') {
        match value.get(key) {
            Some(inner) => value = inner,
            None => return false,
        }
    }
    value.is_object()
}

/// Checks the reader against the model on `event`.
///
/// # Errors
///
/// What differs.
pub fn check(schema: &Schema, event: &[u8]) -> Result<(), String> {
    let model_value = serde_json::from_slice::<Value>(event).ok();
    // what serde_json accepts as JSON at all (it does not check UTF-8 or surrogates there)
    let is_json = |event: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(event).is_ok();
    // the reader accepts raw control bytes in the strings it reads (header values, bodies: the
    // request checks them and answers 400), where serde_json refuses the whole text
    let controls = event.iter().any(|&b| b < 0x20);
    let is_json = is_json(event)
        || (controls
            && is_json(
                &event
                    .iter()
                    .map(|&b| if b < 0x20 { b' ' } else { b })
                    .collect::<Vec<u8>>(),
            ));
    let starts_object = event
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    EventView::parse(schema, event, |view| {
        let Some(view) = view else {
            if is_json && starts_object && model_value.is_some() {
                return Err("the reader refused a JSON object serde_json reads".to_owned());
            }
            return Ok(());
        };
        if !is_json {
            return Err("the reader read a view of what serde_json says is not JSON".to_owned());
        }
        // events with invalid UTF-8 or lone surrogates: no model to compare with
        let Some(root) = model_value else {
            return Ok(());
        };
        if has_repeated_keys(event) {
            return Ok(());
        }
        let fields: Vec<Field> = schema.fields().collect();
        let mut mistyped = false;
        for (index, field) in fields.iter().enumerate() {
            let read = held(view.slot(index));
            let superseded = field
                .superseding()
                .is_some_and(|other| superseding_present(&root, other));
            let is_object = fields.iter().any(|other| {
                other
                    .path()
                    .strip_prefix(field.path())
                    .is_some_and(|rest| rest.starts_with('.'))
            });
            match model(field, is_object, &root) {
                Some(_) | None if superseded => {}
                None => mistyped = true,
                Some(expected) if expected != read => {
                    return Err(format!(
                        "`{}`: the reader holds {read:?}, the model {expected:?}",
                        field.path()
                    ));
                }
                Some(_) => {}
            }
        }
        if mistyped && view.problem().is_none() {
            return Err("a mistyped field was not reported as a problem".to_owned());
        }
        Ok(())
    })
}
