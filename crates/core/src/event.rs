//! A borrowed view of the fields of an incoming event, parsed in one pass.
//!
//! Every front door sends a JSON object whose top-level keys overlap: REST and ALB share
//! `httpMethod`, `path`, the header and query maps; payload 2.0 adds `rawPath`,
//! `rawQueryString` and `cookies`; `requestContext` tells them apart. [`EventView`] reads the
//! union of the fields the adapter needs, borrowing strings from the payload where JSON escaping
//! allows, skipping everything else without building it. The facade parses it once, decides the
//! source from it, and hands it to that source's crate: one parse per event, whatever the source.
//!
//! Maps are kept as ordered `(name, value)` pairs — every value of a multi-value map in order,
//! never collapsed into a hash map — and a `null` map, or a `null` value inside one, is treated
//! as absent.

use std::{borrow::Cow, fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

/// A JSON string borrowed from the payload when it has no escapes, owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// An ordered list of `(name, value)` pairs read from a JSON object.
///
/// Reads both single-value maps (`{"a": "1"}`) and multi-value maps (`{"a": ["1", "2"]}`,
/// flattened to one pair per value, in order). A `null` value is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'a> Pairs<'a> {
    /// Iterates over the pairs in event order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One value of a map: a string, a list of strings, or `null`.
enum Values<'a> {
    One(Str<'a>),
    Many(Vec<Str<'a>>),
    Null,
}

impl<'de: 'a, 'a> Deserialize<'de> for Values<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for ValuesVisitor<'de> {
            type Value = Values<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Values::One(Str(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Values::One(Str(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Values::One(Str(Cow::Owned(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Values::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Values::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(value) = seq.next_element::<Option<Str<'de>>>()? {
                    values.extend(value);
                }
                Ok(Values::Many(values))
            }
        }
        deserializer.deserialize_any(ValuesVisitor(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<'a>(PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for PairsVisitor<'de> {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings or of arrays of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(name) = map.next_key::<Str<'de>>()? {
                    match map.next_value::<Values<'de>>()? {
                        Values::One(value) => pairs.push((name, value)),
                        Values::Many(values) => {
                            pairs.extend(values.into_iter().map(|value| (name.clone(), value)));
                        }
                        Values::Null => {}
                    }
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}

/// A list of strings (`cookies`); `null` entries are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrList<'a>(pub Vec<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<Option<Str<'a>>>::deserialize(deserializer)?;
        Ok(StrList(values.into_iter().flatten().collect()))
    }
}

/// Whether a field was present with a non-null value; its content is skipped unparsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Present(
            Option::<IgnoredAny>::deserialize(deserializer)?.is_some(),
        ))
    }
}

/// The union of the top-level event fields any source crate reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventView<'a> {
    /// `version` (`"1.0"`, `"2.0"`): HTTP API and Function URL events.
    #[serde(borrow)]
    pub version: Option<Str<'a>>,
    /// `httpMethod`: REST, HTTP API 1.0 and ALB.
    #[serde(borrow)]
    pub http_method: Option<Str<'a>>,
    /// `path`: REST (decoded, without the stage) and ALB (as sent).
    #[serde(borrow)]
    pub path: Option<Str<'a>>,
    /// `rawPath`: payload 2.0.
    #[serde(borrow)]
    pub raw_path: Option<Str<'a>>,
    /// `rawQueryString`: payload 2.0, still encoded.
    #[serde(borrow)]
    pub raw_query_string: Option<Str<'a>>,
    /// `headers`: single-value header map.
    #[serde(borrow)]
    pub headers: Option<Pairs<'a>>,
    /// `multiValueHeaders`: every header value, in order.
    #[serde(borrow)]
    pub multi_value_headers: Option<Pairs<'a>>,
    /// `queryStringParameters`: single-value query map.
    #[serde(borrow)]
    pub query_string_parameters: Option<Pairs<'a>>,
    /// `multiValueQueryStringParameters`: every query value, in order.
    #[serde(borrow)]
    pub multi_value_query_string_parameters: Option<Pairs<'a>>,
    /// `cookies`: payload 2.0 request cookies (`name=value` each).
    #[serde(borrow)]
    pub cookies: Option<StrList<'a>>,
    /// `body`: text, or base64 when `isBase64Encoded`.
    #[serde(borrow)]
    pub body: Option<Str<'a>>,
    /// `isBase64Encoded`.
    pub is_base64_encoded: Option<bool>,
    /// `requestContext`.
    #[serde(borrow)]
    pub request_context: Option<ContextView<'a>>,
}

/// The fields of `requestContext` any source crate reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContextView<'a> {
    /// `requestContext.elb`: present only on ALB events.
    pub elb: Present,
    /// `requestContext.http`: payload 2.0.
    #[serde(borrow)]
    pub http: Option<HttpView<'a>>,
    /// `requestContext.identity`: REST.
    #[serde(borrow)]
    pub identity: Option<IdentityView<'a>>,
    /// `requestContext.requestId`.
    #[serde(borrow)]
    pub request_id: Option<Str<'a>>,
    /// `requestContext.stage`.
    #[serde(borrow)]
    pub stage: Option<Str<'a>>,
    /// `requestContext.domainName`.
    #[serde(borrow)]
    pub domain_name: Option<Str<'a>>,
    /// `requestContext.httpMethod` (REST).
    #[serde(borrow)]
    pub http_method: Option<Str<'a>>,
}

/// `requestContext.http` of a payload 2.0 event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HttpView<'a> {
    /// `method`.
    #[serde(borrow)]
    pub method: Option<Str<'a>>,
    /// `path`.
    #[serde(borrow)]
    pub path: Option<Str<'a>>,
    /// `sourceIp`.
    #[serde(borrow)]
    pub source_ip: Option<Str<'a>>,
}

/// `requestContext.identity` of a REST event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IdentityView<'a> {
    /// `sourceIp`.
    #[serde(borrow)]
    pub source_ip: Option<Str<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_value_maps_flatten_in_order_and_skip_nulls() {
        let pairs: Pairs<'_> =
            serde_json::from_str(r#"{"a":["1","2"],"b":"3","c":null,"d":["4",null]}"#).unwrap();
        let got: Vec<_> = pairs.iter().collect();
        assert_eq!(got, [("a", "1"), ("a", "2"), ("b", "3"), ("d", "4")]);
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let view: EventView<'_> =
            serde_json::from_str(r#"{"path":"/a","body":"x\"y","requestContext":{"elb":{}}}"#)
                .unwrap();
        assert!(matches!(view.path.unwrap().0, Cow::Borrowed("/a")));
        assert!(matches!(view.body.unwrap().0, Cow::Owned(_)));
        assert!(view.request_context.unwrap().elb.0);
    }

    #[test]
    fn null_maps_and_null_elb_are_absent() {
        let view: EventView<'_> =
            serde_json::from_str(r#"{"headers":null,"requestContext":{"elb":null}}"#).unwrap();
        assert!(view.headers.is_none());
        assert!(!view.request_context.unwrap().elb.0);
    }
}
