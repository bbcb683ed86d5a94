//! The REST API front door for the facade's local server (cargo feature `local`): how a real
//! HTTP request becomes the event a REST API proxy integration sends, and how its response
//! event is delivered.

use bytes::Bytes;
use http::{Response, request::Parts};
use lambda_gateway_core::local::{
    ACCOUNT_ID, API_ID, Connection, FrontDoor, LAMBDA_INVOCATION_LIMIT, LAMBDA_PAYLOAD_LIMIT,
    ResponseEvent, append_header, body_fields, group, header_lists, host, multi_map, now_ms,
    percent_decode, raw_pairs, single_map, string, strings, user_agent,
};
use serde_json::{Map, Value, json};

use crate::SOURCE;

/// A REST API proxy integration (`{proxy+}`), stage `local`: `apigw_rest`.
///
/// The request's path and query are decoded (`+` → space) and every header value is kept, in
/// single- and multi-value maps; the response's `headers` and `multiValueHeaders` are merged,
/// a name in both taking `multiValueHeaders`' values.
pub const APIGW_REST: FrontDoor = FrontDoor {
    name: "apigw_rest",
    description: "an API Gateway REST API (stage `local`)",
    source: SOURCE,
    request_body_limit: LAMBDA_PAYLOAD_LIMIT,
    response_limit: LAMBDA_INVOCATION_LIMIT,
    event,
    deliver,
};

/// This source's front doors.
pub(crate) const FRONT_DOORS: &[FrontDoor] = &[APIGW_REST];

/// The emulated stage.
const STAGE: &str = "local";

/// REST API proxy event: decoded `path` without the stage, decoded multi-value maps.
fn event(parts: &Parts, body: &[u8], connection: &Connection, request_id: &str) -> Value {
    let raw_path = parts.uri.path();
    let path = percent_decode(raw_path, false).unwrap_or_else(|| raw_path.to_owned());
    let query = group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| {
            let decode = |s: &str| percent_decode(s, true).unwrap_or_else(|| s.to_owned());
            (decode(k), decode(v))
        }),
    );
    let headers = header_lists(&parts.headers);
    let headers = group(
        headers
            .into_iter()
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.to_owned(), v))),
    );
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (single_map(&query, None), multi_map(&query))
    };
    let proxy = path.strip_prefix('/').unwrap_or(&path);
    let mut event = Map::new();
    event.insert("resource".into(), json!("/{proxy+}"));
    event.insert("path".into(), json!(path));
    event.insert("httpMethod".into(), json!(parts.method.as_str()));
    event.insert("headers".into(), single_map(&headers, None));
    event.insert("multiValueHeaders".into(), multi_map(&headers));
    event.insert("queryStringParameters".into(), single_query);
    event.insert("multiValueQueryStringParameters".into(), multi_query);
    event.insert(
        "pathParameters".into(),
        if proxy.is_empty() {
            Value::Null
        } else {
            json!({ "proxy": proxy })
        },
    );
    event.insert("stageVariables".into(), Value::Null);
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": parts.method.as_str(),
            "path": format!("/{STAGE}{raw_path}"),
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "requestId": request_id,
            "requestTimeEpoch": now_ms(),
            "domainName": host(parts),
            "identity": {
                "sourceIp": connection.peer.ip().to_string(),
                "userAgent": user_agent(parts),
            },
        }),
    );
    body_fields(&mut event, body);
    Value::Object(event)
}

/// API Gateway merges both header maps; a name in both takes `multiValueHeaders`' values.
fn deliver(event: &[u8]) -> Result<Response<Bytes>, String> {
    let (mut response, objects) = ResponseEvent::read(event)?.response()?;
    let headers = response.headers_mut();
    let multi = objects.multi_value_headers.as_deref();
    for (name, values) in multi.into_iter().flatten() {
        for value in strings(values, name)? {
            append_header(headers, name, &value)?;
        }
    }
    for (name, value) in objects.headers.iter().flatten() {
        if !multi.is_some_and(|m| m.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))) {
            append_header(headers, name, &string(value, name)?)?;
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_headers_than_a_response_carries_is_an_error_not_a_panic() {
        let headers: Vec<String> = (0..40_000).map(|i| format!(r#""x-h{i}":["v"]"#)).collect();
        let event = format!(
            r#"{{"statusCode":200,"multiValueHeaders":{{{}}}}}"#,
            headers.join(",")
        );
        let error = APIGW_REST.client_response(event.as_bytes()).unwrap_err();
        assert!(error.contains("more headers"), "{error}");
    }
}
