//! What API Gateway adds to an event for the app — the authorizer's output, the matched route's
//! path parameters, the stage variables — read from the raw event only when asked for.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use crate::{Error, RequestContext, Source};

/// Where a source's events carry the authorizer, the path parameters and the stage variables:
/// dotted paths in the raw event (`requestContext.authorizer`), `None` where the source has no
/// such field. Each source crate declares its own (`CONTEXT_FIELDS`) and hands it to the
/// [`RequestContext`] it builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContextFields {
    /// The authorizer's output (`requestContext.authorizer` on API Gateway).
    pub authorizer: Option<&'static str>,
    /// The matched route's path parameters (`pathParameters`).
    pub path_parameters: Option<&'static str>,
    /// The stage's variables (`stageVariables`).
    pub stage_variables: Option<&'static str>,
}

impl ContextFields {
    /// A source whose events carry none of them (ALB, VPC Lattice).
    pub const NONE: ContextFields = ContextFields {
        authorizer: None,
        path_parameters: None,
        stage_variables: None,
    };
}

/// What an API Gateway authorizer said about the caller, as the event carries it.
///
/// Read with [`RequestContext::parse_authorizer`]. The event's object is kept as it is
/// ([`as_json`](Self::as_json)); the accessors read the layouts API Gateway uses:
///
/// | Authorizer | HTTP API payload 2.0, Function URLs | REST APIs, HTTP API payload 1.0, WebSocket |
/// |---|---|---|
/// | JWT / Cognito user pool | `jwt.claims`, `jwt.scopes` | `claims`, `scopes` |
/// | Lambda authorizer | `lambda` (its context) | the object itself: `principalId`, `integrationLatency` and the context's keys |
/// | IAM | `iam` | none: the caller is in `requestContext.identity` (the typed event) |
///
/// The object comes from API Gateway, never from the client: it is what the authorizer
/// (configured on the route) returned or verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorizer {
    source: Source,
    object: Map<String, Value>,
}

impl Authorizer {
    /// The authorizer object exactly as the event carries it.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.object
    }

    /// The verified token's claims: `jwt.claims` (payload 2.0) or `claims` (REST with a Cognito
    /// user pool authorizer, HTTP API payload 1.0); `None` for other authorizers.
    ///
    /// API Gateway hands claims over as it chooses: REST APIs send every value as a string
    /// (`"exp": "1700000000"`), HTTP APIs keep numbers and write arrays as `"[a b]"` strings.
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.member("jwt")
            .and_then(|jwt| jwt.get("claims"))
            .or_else(|| self.object.get("claims"))
            .and_then(Value::as_object)
    }

    /// The claims deserialized into your own type (`#[derive(Deserialize)] struct Claims { sub:
    /// String, email: String }`).
    ///
    /// # Errors
    /// When there are no claims, or they do not have the type's shape: the error names the
    /// mismatch.
    pub fn parse_claims<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let claims = self.claims().ok_or_else(|| {
            Error::invalid_event(
                self.source,
                "requestContext.authorizer",
                "has no claims: expected a JWT or Cognito user pool authorizer",
            )
        })?;
        T::deserialize(claims).map_err(|error| {
            Error::invalid_event(
                self.source,
                "requestContext.authorizer.claims",
                format!("do not have the expected shape: {error}"),
            )
        })
    }

    /// The token's scopes: `jwt.scopes` (payload 2.0), `scopes` (payload 1.0), else the
    /// space-separated `scope` claim (Cognito access tokens on REST APIs); empty when none.
    pub fn scopes(&self) -> Vec<&str> {
        let listed = self
            .member("jwt")
            .and_then(|jwt| jwt.get("scopes"))
            .or_else(|| self.object.get("scopes"))
            .and_then(Value::as_array);
        match listed {
            Some(scopes) => scopes.iter().filter_map(Value::as_str).collect(),
            None => self
                .claims()
                .and_then(|claims| claims.get("scope"))
                .and_then(Value::as_str)
                .map(|scope| scope.split_ascii_whitespace().collect())
                .unwrap_or_default(),
        }
    }

    /// A Lambda authorizer's output: `lambda` (payload 2.0: the context it returned), or on REST
    /// APIs, HTTP API payload 1.0 and WebSocket APIs the object itself when it has a `principalId` (`principalId`,
    /// `integrationLatency` and the context's keys, flattened); `None` for JWT and IAM
    /// authorizers.
    pub fn lambda_context(&self) -> Option<&Map<String, Value>> {
        if let Some(lambda) = self.member("lambda") {
            return Some(lambda);
        }
        // REST and WebSocket Lambda authorizers always return a principal
        self.object
            .contains_key("principalId")
            .then_some(&self.object)
    }

    /// A REST or WebSocket Lambda authorizer's `principalId`.
    pub fn principal_id(&self) -> Option<&str> {
        self.object.get("principalId").and_then(Value::as_str)
    }

    /// The IAM caller of an HTTP API or Function URL with IAM authorization (`iam`: `accessKey`,
    /// `accountId`, `callerId`, `userArn`, `userId`, ...).
    pub fn iam(&self) -> Option<&Map<String, Value>> {
        self.member("iam")
    }

    fn member(&self, key: &str) -> Option<&Map<String, Value>> {
        self.object.get(key).and_then(Value::as_object)
    }
}

/// Name/value pairs API Gateway adds to an event: the matched route's path parameters, or the
/// stage's variables, in the event's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    source: Source,
    field: &'static str,
    pairs: Vec<(String, String)>,
}

impl Parameters {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every pair, in the event's order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs deserialized into your own type (a struct with a field per name; numbers parse
    /// from their text).
    ///
    /// # Errors
    /// When a name the type requires is missing or a value does not parse: the error names it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let pairs = self.pairs.iter().map(|(n, v)| (n.as_str(), Text(v)));
        T::deserialize(de::value::MapDeserializer::new(pairs)).map_err(|error| {
            Error::invalid_event(
                self.source,
                self.field,
                format!("do not have the expected shape: {error}"),
            )
        })
    }
}

/// A parameter's value, as a deserializer: text, which a number or boolean field parses.
struct Text<'a>(&'a str);

impl<'de> de::IntoDeserializer<'de, de::value::Error> for Text<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parse_text {
    ($($method:ident => $visit:ident,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0.parse() {
                Ok(value) => visitor.$visit(value),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(self.0), &visitor)),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Text<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(de::IntoDeserializer::<Self::Error>::into_deserializer(
            self.0,
        ))
    }

    parse_text! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// From an object of strings (what `parse::<Parameters>()` and the facade's axum extractors
/// with their default type read); its errors then name no source.
impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Pairs(pairs) = Pairs::deserialize(deserializer)?;
        Ok(Parameters {
            source: Source::named("unknown"),
            field: "(parameters)",
            pairs,
        })
    }
}

impl<'a> IntoIterator for &'a Parameters {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl RequestContext {
    #[doc(hidden)] // built by the source crates, not by users
    /// Records where the source's events carry the authorizer, path parameters and stage
    /// variables, for the `parse_*` accessors.
    #[inline]
    #[must_use]
    pub fn with_context_fields(mut self, fields: &'static ContextFields) -> Self {
        self.context_fields = fields;
        self
    }

    /// The authorizer's output (`requestContext.authorizer`), read from the raw event on each
    /// call: `None` when the route has no authorizer (the field is absent, `null`, or an object
    /// with nothing but `null`s in it — `{}`, HTTP API payload 1.0's `{"claims": null, "scopes":
    /// null}`), and on
    /// sources without authorizers (ALB, VPC Lattice — whose caller identity is in
    /// `LatticeContext`).
    ///
    /// # Errors
    /// When the field is not a JSON object.
    pub fn parse_authorizer(&self) -> Result<Option<Authorizer>, Error> {
        let Some(path) = self.context_fields.authorizer else {
            return Ok(None);
        };
        let Some(raw) = self.raw_field(path)? else {
            return Ok(None);
        };
        let object = serde_json::from_str::<Map<String, Value>>(raw.get())
            .map_err(|error| self.not_an_object(path, &error))?;
        // `{}`, or HTTP API payload 1.0's `{"claims": null, "scopes": null}`: no authorizer ran
        if object.values().all(Value::is_null) {
            return Ok(None);
        }
        Ok(Some(Authorizer {
            source: self.source,
            object,
        }))
    }

    /// The matched route's path parameters (`pathParameters`: `{"petId": "7"}` for
    /// `/pets/{petId}`, `{"proxy": "a/b"}` for a greedy `{proxy+}`), read from the raw event on
    /// each call; empty when the route has none, and on sources without them (ALB, VPC
    /// Lattice, WebSocket).
    ///
    /// # Errors
    /// When the field is not an object of strings.
    pub fn parse_path_parameters(&self) -> Result<Parameters, Error> {
        self.parameters(self.context_fields.path_parameters)
    }

    /// The stage's variables (`stageVariables`), read from the raw event on each call; empty
    /// when the stage has none, and on sources without them (ALB, VPC Lattice).
    ///
    /// # Errors
    /// When the field is not an object of strings.
    pub fn parse_stage_variables(&self) -> Result<Parameters, Error> {
        self.parameters(self.context_fields.stage_variables)
    }

    fn parameters(&self, path: Option<&'static str>) -> Result<Parameters, Error> {
        let mut parameters = Parameters {
            source: self.source,
            field: path.unwrap_or_default(),
            pairs: Vec::new(),
        };
        let Some(path) = path else {
            return Ok(parameters);
        };
        if let Some(raw) = self.raw_field(path)? {
            let pairs = serde_json::from_str::<Pairs>(raw.get())
                .map_err(|error| self.not_an_object(path, &error))?;
            parameters.pairs = pairs.0;
        }
        Ok(parameters)
    }

    /// The member at the dotted `path` of the raw event, unparsed; `None` when it or an object
    /// on its way is absent or `null`.
    fn raw_field(&self, path: &'static str) -> Result<Option<&RawValue>, Error> {
        let mut current: Option<&RawValue> = None;
        for key in path.split('.') {
            // the event itself first (read once, not checked whole beforehand: the gateway has
            // read it already), then each member found on the way
            let member = match current {
                None => Member { key }
                    .deserialize(&mut serde_json::Deserializer::from_slice(&self.raw_event)),
                Some(raw) => {
                    Member { key }.deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                }
            }
            .map_err(|error| self.not_an_object(path, &error))?;
            match member {
                Some(raw) if raw.get() != "null" => current = Some(raw),
                _ => return Ok(None),
            }
        }
        Ok(current)
    }

    fn not_an_object(&self, path: &'static str, error: &serde_json::Error) -> Error {
        Error::invalid_event(
            self.source,
            path,
            format!("expected an object of strings as API Gateway sends it: {error}"),
        )
    }
}

/// Reads an object and keeps, unparsed, the member named `key` (the last, if repeated); `null`
/// reads as no member.
struct Member<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            if name == self.key {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// An object of strings, in order.
struct Pairs(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;

        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    match pairs
                        .iter_mut()
                        .find(|(n, _): &&mut (String, String)| *n == name)
                    {
                        // a repeated name: the last wins, as in a JSON object read anywhere else
                        Some(pair) => pair.1 = value,
                        None => pairs.push((name, value)),
                    }
                }
                Ok(Pairs(pairs))
            }
        }

        deserializer.deserialize_map(PairsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const FIELDS: ContextFields = ContextFields {
        authorizer: Some("requestContext.authorizer"),
        path_parameters: Some("pathParameters"),
        stage_variables: Some("stageVariables"),
    };

    fn context(event: &'static str) -> RequestContext {
        RequestContext::new(
            Source::named("apigw_http"),
            Bytes::from_static(event.as_bytes()),
        )
        .with_context_fields(&FIELDS)
    }

    #[test]
    fn jwt_claims_and_scopes_of_payload_2_0() {
        let context = context(
            r#"{"body":"a \"big\" body","requestContext":{"authorizer":{"jwt":{"claims":{"sub":"u-1","n":3},"scopes":["a.read","b"]}}},
               "pathParameters":{"id":"42","x\u0041":"\u00e9"},"stageVariables":null}"#,
        );
        let authorizer = context.parse_authorizer().unwrap().unwrap();
        assert_eq!(authorizer.claims().unwrap()["sub"], "u-1");
        assert_eq!(authorizer.scopes(), ["a.read", "b"]);
        assert_eq!(authorizer.lambda_context(), None);
        #[derive(Deserialize)]
        struct Claims {
            sub: String,
            n: u32,
        }
        let claims: Claims = authorizer.parse_claims().unwrap();
        assert_eq!((claims.sub.as_str(), claims.n), ("u-1", 3));
        let path = context.parse_path_parameters().unwrap();
        assert_eq!(path.get("id"), Some("42"));
        assert_eq!(path.get("xA"), Some("\u{e9}"));
        assert_eq!(path.len(), 2);
        assert!(context.parse_stage_variables().unwrap().is_empty());
    }

    #[test]
    fn rest_lambda_authorizers_are_the_object_itself_and_cognito_claims_are_claims() {
        let lambda = context(
            r#"{"requestContext":{"authorizer":{"principalId":"p","integrationLatency":3,"tenant":"acme"}}}"#,
        );
        let authorizer = lambda.parse_authorizer().unwrap().unwrap();
        assert_eq!(authorizer.principal_id(), Some("p"));
        assert_eq!(authorizer.lambda_context().unwrap()["tenant"], "acme");
        assert_eq!(authorizer.claims(), None);
        assert!(authorizer.parse_claims::<Value>().is_err());
        let cognito = context(
            r#"{"requestContext":{"authorizer":{"claims":{"sub":"s","scope":"x.read  y"}}}}"#,
        );
        let authorizer = cognito.parse_authorizer().unwrap().unwrap();
        assert_eq!(authorizer.scopes(), ["x.read", "y"]);
        assert_eq!(authorizer.lambda_context(), None);
    }

    #[test]
    fn absent_or_null_fields_read_as_none_and_wrong_types_are_errors() {
        for event in [
            r#"{}"#,
            r#"{"requestContext":null}"#,
            r#"{"requestContext":{"authorizer":null}}"#,
            r#"{"requestContext":{"authorizer":{}}}"#,
            r#"{"requestContext":{"authorizer":{"claims":null,"scopes":null}}}"#,
        ] {
            assert_eq!(context(event).parse_authorizer().unwrap(), None, "{event}");
            assert!(context(event).parse_path_parameters().unwrap().is_empty());
        }
        let error = context(r#"{"requestContext":{"authorizer":"x"}}"#)
            .parse_authorizer()
            .unwrap_err();
        assert!(
            error.to_string().contains("requestContext.authorizer"),
            "{error}"
        );
        assert!(
            context(r#"{"requestContext":"x"}"#)
                .parse_authorizer()
                .is_err()
        );
        assert!(
            context(r#"{"pathParameters":{"id":7}}"#)
                .parse_path_parameters()
                .is_err()
        );
        // a source without the fields
        let alb = RequestContext::new(Source::named("alb"), Bytes::from_static(b"{}"));
        assert_eq!(alb.parse_authorizer().unwrap(), None);
        assert!(alb.parse_stage_variables().unwrap().is_empty());
    }

    #[test]
    fn parameters_parse_into_a_type_reading_numbers_from_their_text() {
        #[derive(Deserialize)]
        struct Path {
            id: u64,
            name: String,
        }
        let context = context(r#"{"pathParameters":{"id":"42","name":"7"}}"#);
        let path: Path = context.parse_path_parameters().unwrap().parse().unwrap();
        assert_eq!((path.id, path.name.as_str()), (42, "7"));
        let error = context
            .parse_path_parameters()
            .unwrap()
            .parse::<std::collections::HashMap<String, bool>>()
            .unwrap_err();
        assert!(error.to_string().contains("pathParameters"), "{error}");
    }
}
