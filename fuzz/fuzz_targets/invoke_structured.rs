//! Structure-aware: an arbitrary HTTP request written as the event each front door sends —
//! - REST, and HTTP API payload 1.0;
//! - HTTP API payload 2.0, and Function URL;
//! - ALB, in both header modes (single-value and multi-value);
//! - VPC Lattice v1 (snake_case, comma-joined headers) and v2 (list-valued headers, the query
//!   either in `path` or only in the map, as strings or lists, with or without an IAM identity);
//! - API Gateway WebSocket: `$connect` (headers and query maps), a message on an arbitrary route
//!   key, `$disconnect` —
//!
//! with arbitrary text everywhere and, on top, odd values (the wrong type, `null`, or removed)
//! at any field of the merged schema (`lambda_gateway_test_support::reader::schema`), at an
//! object above one, or at an arbitrary key of the top level or of `requestContext`. Every event
//! goes through `Gateway::invoke`, and every answer must pass the checks the mutation test makes
//! (`lambda_gateway_test_support::mutation`, which also checks the event reader against its
//! model).

#![no_main]

use lambda_gateway_core::event::Shape;
use lambda_gateway_test_support::{mutation as check, reader};

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

#[derive(Debug, Arbitrary)]
enum Front {
    Rest,
    HttpApiV1,
    HttpApiV2,
    FunctionUrl,
    Alb,
    AlbMultiValue,
    LatticeV1,
    LatticeV2 {
        /// The query also after a `?` in `path` (else only in the map).
        query_in_path: bool,
        /// Query values as lists (else as strings, the last of a repeated key).
        query_lists: bool,
        /// An `AWS_IAM` identity with a principal (else only the source VPC).
        iam: bool,
    },
    WebSocketConnect,
    WebSocketMessage {
        route_key: Text,
    },
    WebSocketDisconnect,
}

/// Text from which events are built: arbitrary strings, and pieces known to matter.
#[derive(Debug, Arbitrary)]
enum Text {
    Plain(String),
    Common(Common),
    /// Bytes read as Latin-1: every byte value, as a JSON string can carry it.
    Latin1(Vec<u8>),
    Concat(Vec<Common>),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Common {
    Get,
    Post,
    Empty,
    Slash,
    DotDot,
    Percent,
    Percent2F,
    Space,
    QuestionMark,
    Hash,
    Plus,
    Ampersand,
    Equals,
    Semicolon,
    Comma,
    Cr,
    Lf,
    Nul,
    Del,
    Unicode,
    Host,
    Cookie,
    SetCookie,
    ContentType,
    ContentEncoding,
    XForwardedFor,
    Json,
    Octets,
    Gzip,
}

impl Common {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Empty => "",
            Self::Slash => "/",
            Self::DotDot => "..",
            Self::Percent => "%",
            Self::Percent2F => "%2F",
            Self::Space => " ",
            Self::QuestionMark => "?",
            Self::Hash => "#",
            Self::Plus => "+",
            Self::Ampersand => "&",
            Self::Equals => "=",
            Self::Semicolon => ";",
            Self::Comma => ",",
            Self::Cr => "\r",
            Self::Lf => "\n",
            Self::Nul => "\0",
            Self::Del => "\u{7f}",
            Self::Unicode => "é😀\u{2028}",
            Self::Host => "host",
            Self::Cookie => "cookie",
            Self::SetCookie => "set-cookie",
            Self::ContentType => "content-type",
            Self::ContentEncoding => "content-encoding",
            Self::XForwardedFor => "x-forwarded-for",
            Self::Json => "application/json",
            Self::Octets => "application/octet-stream",
            Self::Gzip => "gzip",
        }
    }
}

impl Text {
    fn render(&self) -> String {
        match self {
            Self::Plain(text) => text.clone(),
            Self::Common(common) => common.as_str().to_owned(),
            Self::Latin1(bytes) => bytes.iter().map(|&b| char::from(b)).collect(),
            Self::Concat(pieces) => pieces.iter().map(|p| p.as_str()).collect(),
        }
    }
}

/// Where an odd value goes.
#[derive(Debug, Arbitrary)]
enum Field {
    /// A field of the merged schema: this index, modulo their count.
    Schema(u16),
    /// An object above a field of the schema (`requestContext`, `requestContext.http`): this
    /// index, modulo their count.
    Parent(u8),
    /// An arbitrary key at the top level.
    Top(Text),
    /// An arbitrary key in `requestContext`.
    Context(Text),
}

/// What a place is expected to hold, for [`Odd::WrongType`].
#[derive(Debug, Clone, Copy)]
enum Expected {
    Value(Shape),
    Object,
    Anything,
}

/// The paths of the merged schema, split at the dots, with what each holds (an object when
/// fields are declared under it), and the objects above them that are no field themselves.
struct Paths {
    fields: Vec<(Vec<&'static str>, Expected)>,
    parents: Vec<Vec<&'static str>>,
}

impl Paths {
    fn get() -> &'static Self {
        static PATHS: OnceLock<Paths> = OnceLock::new();
        PATHS.get_or_init(|| {
            // when the schema does not build, there are no paths here and the harness fails
            // every input with the reason
            let declared: Vec<(Vec<&'static str>, Shape)> = reader::schema()
                .map(|schema| {
                    schema
                        .paths()
                        .map(|(path, shape)| (path.split('.').collect(), shape))
                        .collect()
                })
                .unwrap_or_default();
            let is_parent = |path: &[&str]| {
                declared
                    .iter()
                    .any(|(other, _)| other.len() > path.len() && other.starts_with(path))
            };
            let fields = declared
                .iter()
                .map(|(path, shape)| {
                    let expected = if is_parent(path) {
                        Expected::Object
                    } else {
                        Expected::Value(*shape)
                    };
                    (path.clone(), expected)
                })
                .collect();
            let mut parents: Vec<Vec<&'static str>> = declared
                .iter()
                .flat_map(|(path, _)| (1..path.len()).map(|n| path[..n].to_vec()))
                .filter(|parent| !declared.iter().any(|(path, _)| path == parent))
                .collect();
            parents.sort_unstable();
            parents.dedup();
            Paths { fields, parents }
        })
    }
}

impl Field {
    /// The path (one key per level) and what is expected there; `None` when there is nothing to
    /// pick from.
    fn locate(&self) -> Option<(Vec<String>, Expected)> {
        let paths = Paths::get();
        let owned = |segments: &[&str]| segments.iter().map(|&s| s.to_owned()).collect();
        Some(match self {
            Self::Schema(index) => {
                let count = paths.fields.len();
                if count == 0 {
                    return None;
                }
                let (path, expected) = &paths.fields[usize::from(*index) % count];
                (owned(path), *expected)
            }
            Self::Parent(index) => {
                let count = paths.parents.len();
                if count == 0 {
                    return None;
                }
                (
                    owned(&paths.parents[usize::from(*index) % count]),
                    Expected::Object,
                )
            }
            Self::Top(key) => (vec![key.render()], Expected::Anything),
            Self::Context(key) => (
                vec!["requestContext".to_owned(), key.render()],
                Expected::Anything,
            ),
        })
    }
}

/// A value of possibly the wrong type.
#[derive(Debug, Arbitrary)]
enum Odd {
    Remove,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Text),
    Array(Vec<Option<Text>>),
    Object(Vec<(Text, Option<Text>)>),
    MultiObject(Vec<(Text, Vec<Option<Text>>)>),
    /// A near miss for what the place expects (a number as a string, a map of numbers, ...):
    /// the `n`th, modulo their count.
    WrongType(u8),
}

impl Odd {
    fn to_value(&self, expected: Expected) -> Option<Value> {
        let text = |t: &Option<Text>| {
            t.as_ref()
                .map_or(Value::Null, |t| Value::String(t.render()))
        };
        Some(match self {
            Self::Remove => return None,
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(n) => json!(n),
            Self::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Self::Text(t) => Value::String(t.render()),
            Self::Array(items) => Value::Array(items.iter().map(text).collect()),
            Self::Object(members) => {
                Value::Object(members.iter().map(|(k, v)| (k.render(), text(v))).collect())
            }
            Self::MultiObject(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, vs)| (k.render(), Value::Array(vs.iter().map(text).collect())))
                    .collect(),
            ),
            Self::WrongType(n) => {
                let misses = match expected {
                    Expected::Value(Shape::Str) => {
                        [json!(0), json!(true), json!(["a"]), json!({ "a": "b" })]
                    }
                    Expected::Value(Shape::Number) => [
                        json!("1705406400123"),
                        json!(false),
                        json!([1]),
                        json!({ "n": 1 }),
                    ],
                    Expected::Value(Shape::Flag) => {
                        [json!("true"), json!(1), json!([true]), json!({})]
                    }
                    Expected::Value(Shape::Map) => [
                        json!(["a"]),
                        json!({ "a": 1 }),
                        json!({ "a": ["b", 2] }),
                        json!({ "a": { "b": "c" } }),
                    ],
                    Expected::Value(Shape::List) => {
                        [json!("a"), json!([1]), json!([["a"]]), json!({ "a": "b" })]
                    }
                    Expected::Object => [json!(""), json!(0), json!([{}]), json!(true)],
                    // anything but `null` will do: varied values
                    Expected::Value(Shape::Present) | Expected::Anything => {
                        [json!(0), json!(""), json!([]), json!({})]
                    }
                };
                misses[usize::from(*n) % misses.len()].clone()
            }
        })
    }
}

/// Puts `value` at `path` (one key per level) in `event`, creating the objects above it or
/// replacing what is there instead of one; `None` removes what is at `path`, if anything.
fn place(event: &mut Value, path: &[String], value: Option<Value>) {
    let Some((key, parents)) = path.split_last() else {
        return;
    };
    let mut target = event;
    for parent in parents {
        target = if value.is_none() {
            match target.get_mut(parent.as_str()) {
                Some(inner) => inner,
                None => return,
            }
        } else {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Value::Object(map) = target else { return };
            map.entry(parent.as_str())
                .or_insert_with(|| Value::Object(Map::new()))
        };
    }
    match value {
        Some(value) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                map.insert(key.clone(), value);
            }
        }
        None => {
            if let Value::Object(map) = target {
                map.remove(key.as_str());
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
struct BinaryBody {
    bytes: Vec<u8>,
    /// One base64 character replaced: at this offset (modulo the length), by this byte.
    corruption: Option<(u16, u8)>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    front: Front,
    method: Text,
    path: Text,
    query: Vec<(Text, Option<Text>)>,
    headers: Vec<(Text, Vec<Text>)>,
    cookies: Vec<Text>,
    body: Option<Text>,
    /// Sent base64-encoded instead of `body` when present, possibly corrupted.
    binary_body: Option<BinaryBody>,
    source_ip: Text,
    stage: Option<Text>,
    request_id: Option<Text>,
    domain_name: Option<Text>,
    odd: Vec<(Field, Odd)>,
}

fn grouped(pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(key, _)| key == k) {
            Some((_, values)) => values.push(v.clone()),
            None => out.push((k.clone(), vec![v.clone()])),
        }
    }
    out
}

fn single(grouped: &[(String, Vec<String>)], join: Option<&str>) -> Value {
    Value::Object(
        grouped
            .iter()
            .map(|(k, vs)| {
                let v = match join {
                    Some(sep) => vs.join(sep),
                    None => vs.last().cloned().unwrap_or_default(),
                };
                (k.clone(), Value::String(v))
            })
            .collect(),
    )
}

fn multi(grouped: &[(String, Vec<String>)]) -> Value {
    Value::Object(
        grouped
            .iter()
            .map(|(k, vs)| (k.clone(), json!(vs)))
            .collect(),
    )
}

const TARGET_GROUP_ALB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fuzz/0123456789abcdef";
const SERVICE_NETWORK_ARN: &str =
    "arn:aws:vpc-lattice:us-west-2:123456789012:servicenetwork/sn-0f1e2d3c4b5a69788";
const SERVICE_ARN: &str =
    "arn:aws:vpc-lattice:us-west-2:123456789012:service/svc-0123456789abcdef0";
const TARGET_GROUP_LATTICE: &str =
    "arn:aws:vpc-lattice:us-west-2:123456789012:targetgroup/tg-0a1b2c3d4e5f60718";
const SOURCE_VPC_ARN: &str = "arn:aws:ec2:us-west-2:123456789012:vpc/vpc-0c4d5e6f7a8b9c0d1";
const CONNECTION_ID: &str = "RgT3kd_xjoECJ8g=";

impl Input {
    fn event(&self) -> Vec<u8> {
        let method = self.method.render();
        let path = self.path.render();
        let query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.render(), v.as_ref().map(Text::render).unwrap_or_default()))
            .collect();
        let raw_query = self
            .query
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{}={}", k.render(), v.render()),
                None => k.render(),
            })
            .collect::<Vec<_>>()
            .join("&");
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .flat_map(|(name, values)| {
                let name = name.render();
                values.iter().map(move |v| (name.clone(), v.render()))
            })
            .collect();
        let header_groups = grouped(&headers);
        let query_groups = grouped(&query);
        let cookies: Vec<String> = self.cookies.iter().map(Text::render).collect();
        let source_ip = self.source_ip.render();
        let stage = self.stage.as_ref().map(Text::render);
        let request_id = self.request_id.as_ref().map(Text::render);
        let domain_name = self.domain_name.as_ref().map(Text::render);
        // Lattice adds `X-Forwarded-For` to every request
        let lattice_header_groups = || {
            let mut headers = headers.clone();
            headers.push(("x-forwarded-for".to_owned(), source_ip.clone()));
            grouped(&headers)
        };

        let mut event = Map::new();
        let mut context = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, value: Option<String>| {
            if let Some(value) = value {
                map.insert(key.into(), Value::String(value));
            }
        };
        if !matches!(self.front, Front::LatticeV1 | Front::LatticeV2 { .. }) {
            put(&mut context, "requestId", request_id.clone());
            put(&mut context, "stage", stage);
        }
        match &self.front {
            Front::Rest | Front::HttpApiV1 => {
                if matches!(self.front, Front::HttpApiV1) {
                    event.insert("version".into(), json!("1.0"));
                }
                event.insert("resource".into(), json!("/{proxy+}"));
                event.insert("httpMethod".into(), json!(method));
                event.insert("path".into(), json!(path));
                event.insert("headers".into(), single(&header_groups, None));
                event.insert("multiValueHeaders".into(), multi(&header_groups));
                event.insert("queryStringParameters".into(), single(&query_groups, None));
                event.insert(
                    "multiValueQueryStringParameters".into(),
                    multi(&query_groups),
                );
                put(&mut context, "domainName", domain_name);
                context.insert("identity".into(), json!({ "sourceIp": source_ip }));
            }
            Front::HttpApiV2 | Front::FunctionUrl => {
                event.insert("version".into(), json!("2.0"));
                event.insert("routeKey".into(), json!("$default"));
                event.insert("rawPath".into(), json!(path));
                event.insert("rawQueryString".into(), json!(raw_query));
                if !cookies.is_empty() {
                    event.insert("cookies".into(), json!(cookies));
                }
                event.insert("headers".into(), single(&header_groups, Some(",")));
                event.insert(
                    "queryStringParameters".into(),
                    single(&query_groups, Some(",")),
                );
                let domain_name = match self.front {
                    Front::FunctionUrl => Some(format!(
                        "{}.lambda-url.us-east-1.on.aws",
                        domain_name.unwrap_or_default()
                    )),
                    _ => domain_name,
                };
                put(&mut context, "domainName", domain_name);
                context.insert(
                    "http".into(),
                    json!({ "method": method, "path": path, "sourceIp": source_ip }),
                );
            }
            Front::Alb | Front::AlbMultiValue => {
                event.insert("httpMethod".into(), json!(method));
                event.insert("path".into(), json!(path));
                if matches!(self.front, Front::AlbMultiValue) {
                    event.insert("multiValueHeaders".into(), multi(&header_groups));
                    event.insert(
                        "multiValueQueryStringParameters".into(),
                        multi(&query_groups),
                    );
                } else {
                    event.insert("headers".into(), single(&header_groups, None));
                    event.insert("queryStringParameters".into(), single(&query_groups, None));
                }
                context.insert("elb".into(), json!({ "targetGroupArn": TARGET_GROUP_ALB }));
            }
            Front::LatticeV1 => {
                let raw_path = if raw_query.is_empty() {
                    path
                } else {
                    format!("{path}?{raw_query}")
                };
                event.insert("raw_path".into(), json!(raw_path));
                event.insert("method".into(), json!(method));
                event.insert(
                    "headers".into(),
                    single(&lattice_header_groups(), Some(", ")),
                );
                event.insert(
                    "query_string_parameters".into(),
                    single(&query_groups, None),
                );
            }
            Front::LatticeV2 {
                query_in_path,
                query_lists,
                iam,
            } => {
                let path = if *query_in_path {
                    format!("{path}?{raw_query}")
                } else {
                    path
                };
                event.insert("version".into(), json!("2.0"));
                event.insert("path".into(), json!(path));
                event.insert("method".into(), json!(method));
                event.insert("headers".into(), multi(&lattice_header_groups()));
                event.insert(
                    "queryStringParameters".into(),
                    if *query_lists {
                        multi(&query_groups)
                    } else {
                        single(&query_groups, None)
                    },
                );
                let identity = if *iam {
                    json!({
                        "sourceVpcArn": SOURCE_VPC_ARN,
                        "type": "AWS_IAM",
                        "principal": "arn:aws:sts::123456789012:assumed-role/fuzz/session",
                        "principalOrgID": "o-0123456789",
                        "sessionName": "session",
                    })
                } else {
                    json!({ "sourceVpcArn": SOURCE_VPC_ARN })
                };
                context.insert("serviceNetworkArn".into(), json!(SERVICE_NETWORK_ARN));
                context.insert("serviceArn".into(), json!(SERVICE_ARN));
                context.insert("targetGroupArn".into(), json!(TARGET_GROUP_LATTICE));
                context.insert("identity".into(), identity);
                context.insert("region".into(), json!("us-west-2"));
                context.insert("timeEpoch".into(), json!("1768469400123456"));
            }
            Front::WebSocketConnect
            | Front::WebSocketMessage { .. }
            | Front::WebSocketDisconnect => {
                let (event_type, route_key) = match &self.front {
                    Front::WebSocketConnect => ("CONNECT", "$connect".to_owned()),
                    Front::WebSocketMessage { route_key } => ("MESSAGE", route_key.render()),
                    _ => ("DISCONNECT", "$disconnect".to_owned()),
                };
                match self.front {
                    Front::WebSocketConnect => {
                        event.insert("headers".into(), single(&header_groups, None));
                        event.insert("multiValueHeaders".into(), multi(&header_groups));
                        event.insert("queryStringParameters".into(), single(&query_groups, None));
                        event.insert(
                            "multiValueQueryStringParameters".into(),
                            multi(&query_groups),
                        );
                    }
                    Front::WebSocketMessage { .. } => {
                        context.insert("messageId".into(), json!("RgT6hdj9DoECJ8g="));
                    }
                    _ => {
                        event.insert("headers".into(), single(&header_groups, None));
                        event.insert("multiValueHeaders".into(), multi(&header_groups));
                        context.insert("disconnectStatusCode".into(), json!(1005));
                        context.insert(
                            "disconnectReason".into(),
                            json!("Client-side close frame status not set"),
                        );
                    }
                }
                context.insert("routeKey".into(), json!(route_key));
                context.insert("eventType".into(), json!(event_type));
                context.insert("connectionId".into(), json!(CONNECTION_ID));
                context.insert("connectedAt".into(), json!(1_705_406_400_123_u64));
                context.insert("requestTimeEpoch".into(), json!(1_705_406_422_318_u64));
                context.insert("messageDirection".into(), json!("IN"));
                put(&mut context, "extendedRequestId", request_id);
                put(&mut context, "domainName", domain_name);
                context.insert("identity".into(), json!({ "sourceIp": source_ip }));
                context.insert("apiId".into(), json!("k8h2dq4x1m"));
            }
        }
        if !matches!(self.front, Front::LatticeV1) {
            event.insert("requestContext".into(), Value::Object(context));
        }
        let base64_flag = match self.front {
            Front::LatticeV1 => "is_base64_encoded",
            _ => "isBase64Encoded",
        };
        match (&self.binary_body, &self.body) {
            (Some(binary), _) => {
                let mut encoded = STANDARD.encode(&binary.bytes).into_bytes();
                if let (Some((at, byte)), false) = (binary.corruption, encoded.is_empty()) {
                    let at = usize::from(at) % encoded.len();
                    encoded[at] = byte;
                }
                let encoded: String = encoded.iter().map(|&b| char::from(b)).collect();
                event.insert("body".into(), json!(encoded));
                event.insert(base64_flag.into(), json!(true));
            }
            (None, Some(body)) => {
                event.insert("body".into(), json!(body.render()));
                event.insert(base64_flag.into(), json!(false));
            }
            (None, None) => {
                event.insert("body".into(), Value::Null);
            }
        }
        let mut event = Value::Object(event);
        for (field, odd) in &self.odd {
            if let Some((path, expected)) = field.locate() {
                place(&mut event, &path, odd.to_value(expected));
            }
        }
        serde_json::to_vec(&event).unwrap_or_default()
    }
}

fuzz_target!(|input: Input| {
    static HARNESS: OnceLock<check::Harness> = OnceLock::new();
    let harness = HARNESS.get_or_init(check::Harness::new);
    let event = input.event();
    if let Err(why) = harness.check(&event) {
        panic!("{why}\nevent: {}", String::from_utf8_lossy(&event));
    }
});
