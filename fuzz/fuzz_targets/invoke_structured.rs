//! Structure-aware: an arbitrary HTTP request written as the event each front door sends — REST
//! (and HTTP API payload 1.0), HTTP API payload 2.0, Function URL, ALB in both header modes —
//! with arbitrary text everywhere and, on top, fields replaced by values of the wrong type,
//! `null`, or removed. Every event goes through `Gateway::invoke`, and every answer must pass the
//! checks the mutation test makes (`lambda_gateway_test_support::mutation`).

#![no_main]

use lambda_gateway_test_support::mutation as check;

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
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Field {
    Version,
    HttpMethod,
    Path,
    RawPath,
    RawQueryString,
    Headers,
    MultiValueHeaders,
    QueryStringParameters,
    MultiValueQueryStringParameters,
    Cookies,
    Body,
    IsBase64Encoded,
    RequestContext,
    ContextHttp,
    ContextHttpMethod,
    ContextElb,
    ContextIdentity,
    ContextRequestId,
    ContextStage,
    ContextDomainName,
}

impl Field {
    /// The object path: top level, `requestContext`, or `requestContext.http`.
    fn location(self) -> (&'static [&'static str], &'static str) {
        const TOP: &[&str] = &[];
        const CONTEXT: &[&str] = &["requestContext"];
        const HTTP: &[&str] = &["requestContext", "http"];
        match self {
            Self::Version => (TOP, "version"),
            Self::HttpMethod => (TOP, "httpMethod"),
            Self::Path => (TOP, "path"),
            Self::RawPath => (TOP, "rawPath"),
            Self::RawQueryString => (TOP, "rawQueryString"),
            Self::Headers => (TOP, "headers"),
            Self::MultiValueHeaders => (TOP, "multiValueHeaders"),
            Self::QueryStringParameters => (TOP, "queryStringParameters"),
            Self::MultiValueQueryStringParameters => (TOP, "multiValueQueryStringParameters"),
            Self::Cookies => (TOP, "cookies"),
            Self::Body => (TOP, "body"),
            Self::IsBase64Encoded => (TOP, "isBase64Encoded"),
            Self::RequestContext => (TOP, "requestContext"),
            Self::ContextHttp => (CONTEXT, "http"),
            Self::ContextHttpMethod => (HTTP, "method"),
            Self::ContextElb => (CONTEXT, "elb"),
            Self::ContextIdentity => (CONTEXT, "identity"),
            Self::ContextRequestId => (CONTEXT, "requestId"),
            Self::ContextStage => (CONTEXT, "stage"),
            Self::ContextDomainName => (CONTEXT, "domainName"),
        }
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
}

impl Odd {
    fn to_value(&self) -> Option<Value> {
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
        })
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

        let mut event = Map::new();
        let mut context = Map::new();
        let put = |map: &mut Map<String, Value>, key: &str, value: Option<String>| {
            if let Some(value) = value {
                map.insert(key.into(), Value::String(value));
            }
        };
        put(&mut context, "requestId", request_id);
        put(&mut context, "stage", stage);
        match self.front {
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
                context.insert(
                    "elb".into(),
                    json!({ "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fuzz/0123456789abcdef" }),
                );
            }
        }
        event.insert("requestContext".into(), Value::Object(context));
        match (&self.binary_body, &self.body) {
            (Some(binary), _) => {
                let mut encoded = STANDARD.encode(&binary.bytes).into_bytes();
                if let (Some((at, byte)), false) = (binary.corruption, encoded.is_empty()) {
                    let at = usize::from(at) % encoded.len();
                    encoded[at] = byte;
                }
                let encoded: String = encoded.iter().map(|&b| char::from(b)).collect();
                event.insert("body".into(), json!(encoded));
                event.insert("isBase64Encoded".into(), json!(true));
            }
            (None, Some(body)) => {
                event.insert("body".into(), json!(body.render()));
                event.insert("isBase64Encoded".into(), json!(false));
            }
            (None, None) => {
                event.insert("body".into(), Value::Null);
            }
        }
        let mut event = Value::Object(event);
        for (field, odd) in &self.odd {
            let (parents, key) = field.location();
            let mut target = &mut event;
            for parent in parents {
                let Value::Object(map) = target else { break };
                target = map.entry(*parent).or_insert_with(|| json!({}));
            }
            if let Value::Object(map) = target {
                match odd.to_value() {
                    Some(value) => {
                        map.insert(key.into(), value);
                    }
                    None => {
                        map.remove(key);
                    }
                }
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
