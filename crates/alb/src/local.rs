//! The ALB front doors for the facade's local server (cargo feature `local`): how a real HTTP
//! request becomes the event an ALB target group sends, in either header mode, and how its
//! response event is delivered.

use bytes::Bytes;
use http::{Response, request::Parts};
use lambda_gateway_core::local::{
    ACCOUNT_ID, Connection, FrontDoor, ResponseEvent, append_forwarded_for, append_header,
    body_fields, group, header_lists, multi_map, raw_pairs, single_map, string, strings,
};
use serde_json::{Map, Value, json};

use crate::{RESPONSE_LIMIT, SOURCE};

/// An ALB target group with multi-value headers off: `alb`.
///
/// Everything passes as sent; a repeated header or query key keeps its last value. The response
/// event must have `headers`.
pub const ALB: FrontDoor = FrontDoor {
    name: "alb",
    description: "an ALB target group (single-value headers)",
    source: SOURCE,
    request_body_limit: REQUEST_BODY_LIMIT,
    response_limit: RESPONSE_LIMIT,
    event: single_value_event,
    deliver: deliver_single_value,
};

/// An ALB target group with multi-value headers on: `alb_multi`.
///
/// Everything passes as sent, every value kept. The response event must have
/// `multiValueHeaders`.
pub const ALB_MULTI_VALUE: FrontDoor = FrontDoor {
    name: "alb_multi",
    description: "an ALB target group (multi-value headers)",
    source: SOURCE,
    request_body_limit: REQUEST_BODY_LIMIT,
    response_limit: RESPONSE_LIMIT,
    event: multi_value_event,
    deliver: deliver_multi_value,
};

/// This source's front doors, single-value mode (the target group's default) first.
pub(crate) const FRONT_DOORS: &[FrontDoor] = &[ALB, ALB_MULTI_VALUE];

/// ALB's limit on a Lambda target's request body: 1 MB, as its response event's.
const REQUEST_BODY_LIMIT: usize = RESPONSE_LIMIT.bytes;

fn single_value_event(parts: &Parts, body: &[u8], connection: &Connection, _: &str) -> Value {
    event(parts, body, connection, false)
}

fn multi_value_event(parts: &Parts, body: &[u8], connection: &Connection, _: &str) -> Value {
    event(parts, body, connection, true)
}

/// ALB event: nothing decoded; single- or multi-value maps per the target group's mode. As ALB
/// does in its default `append` mode, the client's address is appended to `X-Forwarded-For` (to
/// the last line the client sent, or as a new header) and `X-Forwarded-Proto` and
/// `X-Forwarded-Port` say how the client connected, replacing what the client sent.
fn event(parts: &Parts, body: &[u8], connection: &Connection, multi_value: bool) -> Value {
    let query = group(
        raw_pairs(parts.uri.query().unwrap_or_default()).map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let headers = header_lists(&parts.headers);
    let mut headers = group(
        headers
            .into_iter()
            .filter(|(n, _)| !matches!(*n, "x-forwarded-proto" | "x-forwarded-port"))
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.to_owned(), v))),
    );
    append_forwarded_for(&mut headers, connection.peer.ip().to_string());
    headers.push(("x-forwarded-proto".to_owned(), vec!["http".to_owned()]));
    headers.push((
        "x-forwarded-port".to_owned(),
        vec![connection.local.port().to_string()],
    ));
    let mut event = Map::new();
    event.insert(
        "requestContext".into(),
        json!({ "elb": { "targetGroupArn": format!("arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:targetgroup/local/0123456789abcdef") } }),
    );
    event.insert("httpMethod".into(), json!(parts.method.as_str()));
    event.insert("path".into(), json!(parts.uri.path()));
    if multi_value {
        event.insert("multiValueQueryStringParameters".into(), multi_map(&query));
        event.insert("multiValueHeaders".into(), multi_map(&headers));
    } else {
        event.insert("queryStringParameters".into(), single_map(&query, None));
        event.insert("headers".into(), single_map(&headers, None));
    }
    body_fields(&mut event, body);
    Value::Object(event)
}

/// Single-value mode: the headers come from `headers`, in document order (the `Set-Cookie`
/// variants differing in letter case are separate headers).
fn deliver_single_value(event: &[u8]) -> Result<Response<Bytes>, String> {
    let (mut response, objects) = ResponseEvent::read(event)?.response()?;
    let map = objects.headers.ok_or(
        "the target group sends single-value headers, but the response event has no `headers` object",
    )?;
    let headers = response.headers_mut();
    for (name, value) in &map {
        append_header(headers, name, &string(value, name)?)?;
    }
    Ok(response)
}

/// Multi-value mode: the headers come from `multiValueHeaders`.
fn deliver_multi_value(event: &[u8]) -> Result<Response<Bytes>, String> {
    let (mut response, objects) = ResponseEvent::read(event)?.response()?;
    let map = objects.multi_value_headers.ok_or(
        "the target group has multi-value headers enabled, but the response event has no `multiValueHeaders` object",
    )?;
    let headers = response.headers_mut();
    for (name, values) in &map {
        for value in strings(values, name)? {
            append_header(headers, name, &value)?;
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::SET_COOKIE;

    #[test]
    fn alb_single_value_cookies_keep_the_event_order() {
        let event = br#"{"statusCode":200,"statusDescription":"200 OK","headers":{
            "set-cookie":"a=1","Set-cookie":"b=2","sEt-cookie":"c=3","content-type":"text/plain"},
            "body":"ok","isBase64Encoded":false}"#;
        let response = ALB.client_response(event).unwrap();
        let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2", "c=3"]);
    }

    #[test]
    fn a_header_object_that_is_null_counts_as_missing() {
        let event = br#"{"statusCode":200,"headers":null,"multiValueHeaders":{"x":["1","2"]}}"#;
        let multi = ALB_MULTI_VALUE.client_response(event).unwrap();
        assert_eq!(multi.headers().get_all("x").iter().count(), 2);
        assert!(ALB.client_response(event).is_err());
    }
}
