//! Events as each front door sends them, written from AWS's documented formats, and the
//! responses read back the way each front door reads them.
//!
//! Events are built as JSON text: `serde_json::Map` sorts keys, and the order of headers and
//! query parameters in an event is part of what the adapter must keep.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

/// JSON text of a string.
pub(crate) fn string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// JSON text of an object whose keys keep the order given.
pub(crate) fn object<K: AsRef<str>>(fields: impl IntoIterator<Item = (K, String)>) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|(key, value)| format!("{}:{value}", string(key.as_ref())))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// JSON text of an array.
pub(crate) fn array(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

/// `[(name, [values in order])]` in order of first appearance; names compared as given.
fn group<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, value) in pairs {
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => groups.push((name, vec![value])),
        }
    }
    groups
}

/// A multi-value map: `{"name": ["v1", "v2"]}`, `null` when empty.
fn multi_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let groups = group(pairs);
    if groups.is_empty() {
        return "null".to_owned();
    }
    object(
        groups
            .into_iter()
            .map(|(name, values)| (name, array(values.into_iter().map(string)))),
    )
}

/// A single-value map keeping the last value of each name, `null` when empty.
fn last_value_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let groups = group(pairs);
    if groups.is_empty() {
        return "null".to_owned();
    }
    object(
        groups
            .into_iter()
            .map(|(name, values)| (name, string(values.last().copied().unwrap_or_default()))),
    )
}

/// `(body, isBase64Encoded)` fields.
fn body_fields(body: Option<&[u8]>, base64: bool) -> (String, String) {
    match body {
        None => ("null".to_owned(), "false".to_owned()),
        Some(bytes) if base64 => (string(&STANDARD.encode(bytes)), "true".to_owned()),
        Some(bytes) => (
            string(std::str::from_utf8(bytes).expect("a text body is UTF-8")),
            "false".to_owned(),
        ),
    }
}

/// An API Gateway REST API proxy event, or an HTTP API payload 1.0 event (`http_api`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rest<'a> {
    /// HTTP API payload format 1.0 instead of a REST API.
    pub(crate) http_api: bool,
    pub(crate) method: &'a str,
    /// The path as API Gateway gives it: percent-decoded, without the stage.
    pub(crate) path: &'a str,
    /// Decoded query parameters, repeated keys allowed, in order.
    pub(crate) query: &'a [(&'a str, &'a str)],
    /// Headers as the client sent them (names keep their case), in order.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    pub(crate) base64: bool,
}

/// The REST API's `requestContext.requestId`, stage and client address.
pub(crate) const REST_REQUEST_ID: &str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef";
pub(crate) const REST_STAGE: &str = "prod";
pub(crate) const REST_SOURCE_IP: &str = "203.0.113.7";
/// The HTTP API's `requestContext.requestId` (payload 1.0 and 2.0), stage and client address.
pub(crate) const HTTP_REQUEST_ID: &str = "JKJaXmPLvHcESHA=";
pub(crate) const HTTP_STAGE: &str = "$default";
pub(crate) const HTTP_SOURCE_IP: &str = "198.51.100.23";
/// The Function URL's request id and client address.
pub(crate) const URL_REQUEST_ID: &str = "d3b5c2a1-8f7e-4b6a-9c0d-1e2f3a4b5c6d";
pub(crate) const URL_SOURCE_IP: &str = "192.0.2.44";

impl<'a> Rest<'a> {
    /// A REST API `GET` of `path`, no query, no headers, no body.
    pub(crate) fn get(path: &'a str) -> Self {
        Self {
            http_api: false,
            method: "GET",
            path,
            query: &[],
            headers: &[],
            body: None,
            base64: false,
        }
    }

    /// The same request as an HTTP API payload 1.0 event.
    pub(crate) fn http_api(self) -> Self {
        Self {
            http_api: true,
            ..self
        }
    }

    pub(crate) fn event(&self) -> String {
        let (body, is_base64) = body_fields(self.body, self.base64);
        let stage = if self.http_api {
            HTTP_STAGE
        } else {
            REST_STAGE
        };
        let (domain, request_id, source_ip) = if self.http_api {
            (
                "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
                HTTP_REQUEST_ID,
                HTTP_SOURCE_IP,
            )
        } else {
            (
                "1234567890.execute-api.us-east-1.amazonaws.com",
                REST_REQUEST_ID,
                REST_SOURCE_IP,
            )
        };
        let context_path = if self.http_api {
            self.path.to_owned()
        } else {
            format!("/{REST_STAGE}{}", self.path)
        };
        let user_agent = self
            .headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
            .map_or("null".to_owned(), |(_, v)| string(v));
        let identity = object([
            ("accessKey", "null".to_owned()),
            ("accountId", "null".to_owned()),
            ("caller", "null".to_owned()),
            ("cognitoAuthenticationProvider", "null".to_owned()),
            ("cognitoAuthenticationType", "null".to_owned()),
            ("cognitoIdentityId", "null".to_owned()),
            ("cognitoIdentityPoolId", "null".to_owned()),
            ("principalOrgId", "null".to_owned()),
            ("sourceIp", string(source_ip)),
            ("user", "null".to_owned()),
            ("userAgent", user_agent),
            ("userArn", "null".to_owned()),
        ]);
        let mut context = vec![
            ("accountId", string("123456789012")),
            (
                "apiId",
                string(domain.split('.').next().unwrap_or_default()),
            ),
            ("domainName", string(domain)),
            (
                "domainPrefix",
                string(domain.split('.').next().unwrap_or_default()),
            ),
            ("extendedRequestId", string("JKJaXmPLvHcESHA=")),
            ("httpMethod", string(self.method)),
            ("identity", identity),
            ("path", string(&context_path)),
            ("protocol", string("HTTP/1.1")),
            ("requestId", string(request_id)),
            ("requestTime", string("04/Mar/2020:19:15:17 +0000")),
            ("requestTimeEpoch", "1583349317135".to_owned()),
            (
                "resourceId",
                string(if self.http_api { "$default" } else { "ab12cd" }),
            ),
            (
                "resourcePath",
                string(if self.http_api {
                    "$default"
                } else {
                    "/{proxy+}"
                }),
            ),
            ("stage", string(stage)),
        ];
        if self.http_api {
            context.push((
                "authorizer",
                object([("claims", "null".to_owned()), ("scopes", "null".to_owned())]),
            ));
        }
        let mut fields = Vec::new();
        if self.http_api {
            fields.push(("version", string("1.0")));
        }
        let proxy = self.path.trim_start_matches('/');
        fields.extend([
            (
                "resource",
                string(if self.http_api {
                    self.path
                } else {
                    "/{proxy+}"
                }),
            ),
            ("path", string(self.path)),
            ("httpMethod", string(self.method)),
            ("headers", last_value_map(self.headers.iter().copied())),
            ("multiValueHeaders", multi_map(self.headers.iter().copied())),
            (
                "queryStringParameters",
                last_value_map(self.query.iter().copied()),
            ),
            (
                "multiValueQueryStringParameters",
                multi_map(self.query.iter().copied()),
            ),
            ("requestContext", object(context)),
            (
                "pathParameters",
                if self.http_api {
                    "null".to_owned()
                } else {
                    object([("proxy", string(proxy))])
                },
            ),
            ("stageVariables", "null".to_owned()),
            ("body", body),
            ("isBase64Encoded", is_base64),
        ]);
        object(fields)
    }
}

/// An HTTP API payload 2.0 event, or a Function URL event (`function_url`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Http<'a> {
    pub(crate) function_url: bool,
    pub(crate) method: &'a str,
    /// `rawPath` exactly as the event carries it.
    pub(crate) raw_path: &'a str,
    /// `rawQueryString` as the client sent it.
    pub(crate) raw_query: &'a str,
    /// Headers as the client sent them; the event lower-cases names, comma-joins repeated
    /// values and moves `Cookie` into `cookies`.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    pub(crate) base64: bool,
}

impl<'a> Http<'a> {
    /// An HTTP API `GET` of `raw_path`, no query, no headers, no body.
    pub(crate) fn get(raw_path: &'a str) -> Self {
        Self {
            function_url: false,
            method: "GET",
            raw_path,
            raw_query: "",
            headers: &[],
            body: None,
            base64: false,
        }
    }

    /// The same request through a Function URL.
    pub(crate) fn function_url(self) -> Self {
        Self {
            function_url: true,
            ..self
        }
    }

    pub(crate) fn event(&self) -> String {
        let (body, is_base64) = body_fields(self.body, self.base64);
        let (domain, request_id, source_ip) = if self.function_url {
            (
                "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws",
                URL_REQUEST_ID,
                URL_SOURCE_IP,
            )
        } else {
            (
                "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
                HTTP_REQUEST_ID,
                HTTP_SOURCE_IP,
            )
        };
        let lower: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        let cookies: Vec<String> = lower
            .iter()
            .filter(|(n, _)| n == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(string)
            .collect();
        let headers = group(
            lower
                .iter()
                .filter(|(n, _)| n != "cookie")
                .map(|(n, v)| (n.as_str(), *v)),
        );
        let user_agent = headers
            .iter()
            .find(|(n, _)| *n == "user-agent")
            .map_or_else(|| string(""), |(_, v)| string(&v.join(",")));
        let headers = object(
            headers
                .into_iter()
                .map(|(name, values)| (name, string(&values.join(",")))),
        );
        let query: Vec<(String, String)> = form_urlencoded::parse(self.raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let query = group(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut fields = vec![
            ("version", string("2.0")),
            ("routeKey", string("$default")),
            ("rawPath", string(self.raw_path)),
            ("rawQueryString", string(self.raw_query)),
        ];
        if !cookies.is_empty() {
            fields.push(("cookies", array(cookies)));
        }
        fields.push(("headers", headers));
        if !query.is_empty() {
            fields.push((
                "queryStringParameters",
                object(
                    query
                        .into_iter()
                        .map(|(k, values)| (k, string(&values.join(",")))),
                ),
            ));
        }
        let domain_prefix = domain.split('.').next().unwrap_or_default();
        let http = object([
            ("method", string(self.method)),
            ("path", string(self.raw_path)),
            ("protocol", string("HTTP/1.1")),
            ("sourceIp", string(source_ip)),
            ("userAgent", user_agent),
        ]);
        let context = object([
            ("accountId", string("123456789012")),
            ("apiId", string(domain_prefix)),
            ("domainName", string(domain)),
            ("domainPrefix", string(domain_prefix)),
            ("http", http),
            ("requestId", string(request_id)),
            ("routeKey", string("$default")),
            ("stage", string(HTTP_STAGE)),
            ("time", string("12/Mar/2020:19:03:58 +0000")),
            ("timeEpoch", "1583348638390".to_owned()),
        ]);
        fields.push(("requestContext", context));
        if let Some(body) = self.body.map(|_| body) {
            fields.push(("body", body));
        }
        fields.push(("isBase64Encoded", is_base64));
        object(fields)
    }
}

/// An Application Load Balancer event, in either header mode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Alb<'a> {
    /// `lambda.multi_value_headers.enabled` on the target group.
    pub(crate) multi_value: bool,
    pub(crate) method: &'a str,
    /// The path exactly as the client sent it (ALB decodes nothing).
    pub(crate) path: &'a str,
    /// Query parameters exactly as the client sent them, in order.
    pub(crate) query: &'a [(&'a str, &'a str)],
    /// Headers as the client sent them; ALB lower-cases names.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    pub(crate) base64: bool,
}

impl<'a> Alb<'a> {
    /// A single-value-mode `GET` of `path`, no query, no headers, no body.
    pub(crate) fn get(path: &'a str) -> Self {
        Self {
            multi_value: false,
            method: "GET",
            path,
            query: &[],
            headers: &[],
            body: None,
            base64: false,
        }
    }

    /// The same request to a target group with multi-value headers enabled.
    pub(crate) fn multi_value(self) -> Self {
        Self {
            multi_value: true,
            ..self
        }
    }

    pub(crate) fn event(&self) -> String {
        let (body, is_base64) = match self.body {
            // ALB sends an empty string, not null, when there is no body.
            None => (string(""), "false".to_owned()),
            Some(_) => body_fields(self.body, self.base64),
        };
        let lower: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        let headers = lower.iter().map(|(n, v)| (n.as_str(), *v));
        let query = self.query.iter().copied();
        let (query_field, query, headers_field, headers) = if self.multi_value {
            (
                "multiValueQueryStringParameters",
                multi_map(query),
                "multiValueHeaders",
                multi_map(headers),
            )
        } else {
            (
                "queryStringParameters",
                last_value_map(query),
                "headers",
                last_value_map(headers),
            )
        };
        // ALB sends empty maps, not null.
        let or_empty = |map: String| if map == "null" { "{}".to_owned() } else { map };
        object([
            (
                "requestContext",
                object([(
                    "elb",
                    object([(
                        "targetGroupArn",
                        string(
                            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-target/abcdef0123456789",
                        ),
                    )]),
                )]),
            ),
            ("httpMethod", string(self.method)),
            ("path", string(self.path)),
            (query_field, or_empty(query)),
            (headers_field, or_empty(headers)),
            ("body", body),
            ("isBase64Encoded", is_base64),
        ])
    }
}

/// A VPC Lattice event, v2 (`version: "2.0"`, list values, `requestContext`) or v1 (snake_case
/// keys, comma-joined header values, the last value of a repeated query key).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lattice<'a> {
    pub(crate) v1: bool,
    pub(crate) method: &'a str,
    /// The path as the client sent it; AWS documents `path` as holding the query too.
    pub(crate) path: &'a str,
    /// The query, in the map; also in `path` after a `?` when `query_in_path`.
    pub(crate) query: &'a [(&'a str, &'a str)],
    pub(crate) query_in_path: bool,
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    pub(crate) base64: bool,
}

/// The ARNs of the Lattice events built here.
pub(crate) const LATTICE_SERVICE_ARN: &str =
    "arn:aws:vpc-lattice:us-west-2:123456789012:service/svc-0123456789abcdef0";
pub(crate) const LATTICE_TARGET_GROUP_ARN: &str =
    "arn:aws:vpc-lattice:us-west-2:123456789012:targetgroup/tg-0a1b2c3d4e5f60718";
pub(crate) const LATTICE_SOURCE_VPC_ARN: &str =
    "arn:aws:ec2:us-west-2:123456789012:vpc/vpc-0c4d5e6f7a8b9c0d1";

impl<'a> Lattice<'a> {
    /// A v2 `GET` of `path`, no query, no headers, no body.
    pub(crate) fn get(path: &'a str) -> Self {
        Self {
            v1: false,
            method: "GET",
            path,
            query: &[],
            query_in_path: false,
            headers: &[],
            body: None,
            base64: false,
        }
    }

    /// The same request in the v1 event format.
    pub(crate) fn v1(self) -> Self {
        Self { v1: true, ..self }
    }

    pub(crate) fn event(&self) -> String {
        let (body, is_base64) = body_fields(self.body, self.base64);
        let lower: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        let headers = lower.iter().map(|(n, v)| (n.as_str(), *v));
        let query = self.query.iter().copied();
        let path = if self.query_in_path && !self.query.is_empty() {
            let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}?{}", self.path, pairs.join("&"))
        } else {
            self.path.to_owned()
        };
        let or_empty = |map: String| if map == "null" { "{}".to_owned() } else { map };
        if self.v1 {
            let groups = group(headers);
            let joined = object(
                groups
                    .into_iter()
                    .map(|(name, values)| (name, string(&values.join(", ")))),
            );
            return object([
                ("raw_path", string(&path)),
                ("method", string(self.method)),
                ("headers", joined),
                ("query_string_parameters", or_empty(last_value_map(query))),
                ("body", body),
                ("is_base64_encoded", is_base64),
            ]);
        }
        object([
            ("version", string("2.0")),
            ("path", string(&path)),
            ("method", string(self.method)),
            ("headers", or_empty(multi_map(headers))),
            ("queryStringParameters", or_empty(multi_map(query))),
            ("body", body),
            ("isBase64Encoded", is_base64),
            (
                "requestContext",
                object([
                    (
                        "serviceNetworkArn",
                        string(
                            "arn:aws:vpc-lattice:us-west-2:123456789012:servicenetwork/sn-0f1e2d3c4b5a69788",
                        ),
                    ),
                    ("serviceArn", string(LATTICE_SERVICE_ARN)),
                    ("targetGroupArn", string(LATTICE_TARGET_GROUP_ARN)),
                    (
                        "identity",
                        object([("sourceVpcArn", string(LATTICE_SOURCE_VPC_ARN))]),
                    ),
                    ("region", string("us-west-2")),
                    ("timeEpoch", string("1768469400123456")),
                ]),
            ),
        ])
    }
}

/// An API Gateway WebSocket API event (Lambda proxy integration): `$connect` with the upgrade
/// request's headers and query, a message on a route, or `$disconnect`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebSocket<'a> {
    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub(crate) event_type: &'a str,
    /// `$connect`, `$default`, a custom route key, `$disconnect`.
    pub(crate) route_key: &'a str,
    /// The upgrade request's headers (`$connect`), or a few (`$disconnect`); messages have none.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The upgrade request's query (`$connect` only), decoded.
    pub(crate) query: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    pub(crate) base64: bool,
}

/// The context of the WebSocket events built here.
pub(crate) const WS_CONNECTION_ID: &str = "RgT3kd_xjoECJ8g=";
pub(crate) const WS_REQUEST_ID: &str = "RgT6hHXfjoEFv4g=";
pub(crate) const WS_SOURCE_IP: &str = "203.0.113.24";
pub(crate) const WS_STAGE: &str = "prod";
pub(crate) const WS_DOMAIN: &str = "k8h2dq4x1m.execute-api.eu-west-1.amazonaws.com";

impl<'a> WebSocket<'a> {
    /// A message on `route_key`, with `body` as text.
    pub(crate) fn message(route_key: &'a str, body: &'a str) -> Self {
        Self {
            event_type: "MESSAGE",
            route_key,
            headers: &[],
            query: &[],
            body: Some(body.as_bytes()),
            base64: false,
        }
    }

    /// A `$connect` with `headers` and `query`.
    pub(crate) fn connect(
        headers: &'a [(&'a str, &'a str)],
        query: &'a [(&'a str, &'a str)],
    ) -> Self {
        Self {
            event_type: "CONNECT",
            route_key: "$connect",
            headers,
            query,
            body: None,
            base64: false,
        }
    }

    /// A `$disconnect`.
    pub(crate) fn disconnect() -> Self {
        Self {
            event_type: "DISCONNECT",
            route_key: "$disconnect",
            headers: &[],
            query: &[],
            body: None,
            base64: false,
        }
    }

    pub(crate) fn event(&self) -> String {
        let (body, is_base64) = body_fields(self.body, self.base64);
        let headers = self.headers.iter().copied();
        let query = self.query.iter().copied();
        let mut context = vec![
            ("routeKey", string(self.route_key)),
            ("eventType", string(self.event_type)),
            ("extendedRequestId", string(WS_REQUEST_ID)),
            ("requestTime", string("16/Jan/2024:12:00:22 +0000")),
            ("messageDirection", string("IN")),
            ("stage", string(WS_STAGE)),
            ("connectedAt", "1705406400123".to_owned()),
            ("requestTimeEpoch", "1705406422318".to_owned()),
            ("identity", object([("sourceIp", string(WS_SOURCE_IP))])),
            ("requestId", string(WS_REQUEST_ID)),
            ("domainName", string(WS_DOMAIN)),
            ("connectionId", string(WS_CONNECTION_ID)),
            ("apiId", string("k8h2dq4x1m")),
        ];
        if self.event_type == "MESSAGE" {
            context.insert(1, ("messageId", string("RgT6hdj9DoECJ8g=")));
        }
        let mut fields = Vec::new();
        if self.event_type != "MESSAGE" {
            fields.push(("headers", last_value_map(headers.clone())));
            fields.push(("multiValueHeaders", multi_map(headers)));
        }
        if self.event_type == "CONNECT" {
            fields.push(("queryStringParameters", last_value_map(query.clone())));
            fields.push(("multiValueQueryStringParameters", multi_map(query)));
        }
        fields.push(("requestContext", object(context)));
        if self.body.is_some() || self.event_type == "MESSAGE" {
            fields.push(("body", body));
        }
        fields.push(("isBase64Encoded", is_base64));
        object(fields)
    }
}

/// The response formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// REST API and HTTP API payload 1.0: `statusCode`, `multiValueHeaders`, `body`,
    /// `isBase64Encoded`, nothing else.
    Rest,
    /// HTTP API payload 2.0 and Function URLs: `headers` one string per name, `cookies`.
    Http,
    /// ALB, single-value headers: `statusDescription`, `headers`.
    AlbSingle,
    /// ALB, multi-value headers: `statusDescription`, `multiValueHeaders`.
    AlbMulti,
    /// VPC Lattice: `statusDescription`, `headers` one string per name (several `Set-Cookie` as a
    /// list of strings).
    Lattice,
    /// API Gateway WebSocket route responses: `statusCode`, `headers` one string per name,
    /// `body`, `isBase64Encoded` (the keys AWS documents).
    WebSocket,
}

/// A response as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// `(lower-cased name, value)`, each value and each `Set-Cookie` separately (names sorted:
    /// the header maps are read as `serde_json` maps).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Whether the body came base64-encoded.
    pub(crate) base64: bool,
}

impl Answer {
    /// Every value of header `name` (lower-case), in order.
    pub(crate) fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The only value of header `name`; fails the test unless there is exactly one.
    #[track_caller]
    pub(crate) fn header(&self, name: &str) -> &str {
        match self.header_values(name).as_slice() {
            [value] => value,
            other => panic!("expected one {name} header, found {other:?} in {self:?}"),
        }
    }

    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {:?}", self.text()))
    }
}

/// Reads a response event the way `format`'s front door does, checking its shape: exactly the
/// documented keys, the right header mode, `statusDescription` for ALB.
#[track_caller]
pub(crate) fn read_answer(format: Format, event: &Value) -> Answer {
    let fields = event
        .as_object()
        .unwrap_or_else(|| panic!("the response event is not an object: {event}"));
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let (allowed, required): (&[&str], &[&str]) = match format {
        Format::Rest => (
            &[
                "statusCode",
                "multiValueHeaders",
                "headers",
                "body",
                "isBase64Encoded",
            ],
            &["statusCode", "multiValueHeaders"],
        ),
        Format::Http => (
            &[
                "statusCode",
                "headers",
                "cookies",
                "body",
                "isBase64Encoded",
            ],
            &["statusCode"],
        ),
        Format::AlbSingle => (
            &[
                "statusCode",
                "statusDescription",
                "headers",
                "body",
                "isBase64Encoded",
            ],
            &["statusCode", "statusDescription", "headers"],
        ),
        Format::AlbMulti => (
            &[
                "statusCode",
                "statusDescription",
                "multiValueHeaders",
                "body",
                "isBase64Encoded",
            ],
            &["statusCode", "statusDescription", "multiValueHeaders"],
        ),
        Format::WebSocket => (
            &["statusCode", "headers", "body", "isBase64Encoded"],
            &["statusCode"],
        ),
        Format::Lattice => (
            &[
                "statusCode",
                "statusDescription",
                "headers",
                "body",
                "isBase64Encoded",
            ],
            &["statusCode", "headers", "isBase64Encoded"],
        ),
    };
    for key in &keys {
        assert!(
            allowed.contains(key),
            "{format:?} response has key {key:?}, not one of {allowed:?}: {event}"
        );
    }
    for key in required {
        assert!(
            keys.contains(key),
            "{format:?} response lacks {key:?}: {event}"
        );
    }
    let status = fields["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("statusCode is not a status: {event}"));
    if let Some(description) = fields.get("statusDescription") {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        assert_eq!(
            description,
            &Value::String(format!("{status} {reason}")),
            "statusDescription of {event}"
        );
    }

    let mut headers = Vec::new();
    let strings = |value: &Value| -> Vec<String> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .unwrap_or_else(|| panic!("a header value is not a string: {event}"))
                        .to_owned()
                })
                .collect(),
            other => panic!("expected an array of strings, found {other} in {event}"),
        }
    };
    let map = |name: &str| -> &Map<String, Value> {
        fields[name]
            .as_object()
            .unwrap_or_else(|| panic!("{name} is not an object: {event}"))
    };
    match format {
        Format::Rest | Format::AlbMulti => {
            for (name, values) in map("multiValueHeaders") {
                for value in strings(values) {
                    headers.push((name.to_ascii_lowercase(), value));
                }
            }
            if format == Format::Rest && fields.contains_key("headers") {
                // API Gateway merges both maps; the adapter sends only multiValueHeaders.
                panic!("REST response carries both header maps: {event}");
            }
        }
        Format::Http | Format::AlbSingle | Format::WebSocket => {
            if fields.contains_key("headers") {
                for (name, value) in map("headers") {
                    let value = value
                        .as_str()
                        .unwrap_or_else(|| panic!("header {name} is not a string: {event}"));
                    headers.push((name.to_ascii_lowercase(), value.to_owned()));
                }
            }
            if let Some(cookies) = fields.get("cookies") {
                for cookie in strings(cookies) {
                    headers.push(("set-cookie".to_owned(), cookie));
                }
            }
        }
        Format::Lattice => {
            for (name, value) in map("headers") {
                let name = name.to_ascii_lowercase();
                match value {
                    Value::String(value) => headers.push((name, value.clone())),
                    // several cookies: a list (one cookie is a string like any header)
                    Value::Array(_) if name == "set-cookie" => {
                        for cookie in strings(value) {
                            headers.push((name.clone(), cookie));
                        }
                    }
                    other => panic!("header {name} is {other}: {event}"),
                }
            }
        }
    }

    let base64 = match fields.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => panic!("isBase64Encoded is {other}: {event}"),
    };
    let body = match fields.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) if base64 => STANDARD
            .decode(text)
            .unwrap_or_else(|e| panic!("body is not base64 ({e}): {event}")),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => panic!("body is {other}: {event}"),
    };
    Answer {
        status,
        headers,
        body,
        base64,
    }
}
