//! Turning a response event back into the HTTP response a front door would deliver.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode, header::SET_COOKIE};
use lambda_gateway_core::encoding::decode_base64;
use serde_json::{Map, Value};

use super::LocalSource;

/// Lambda's limit on a synchronous invocation's request and response payloads.
pub(crate) const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// ALB's limit on a Lambda target's request body and response event.
pub(crate) const ALB_LIMIT: usize = 1024 * 1024;

/// The response the client receives, or why the front door would answer 502 instead.
pub(crate) fn response(source: LocalSource, event: &[u8]) -> Result<Response<Bytes>, String> {
    let limit = match source {
        LocalSource::Alb | LocalSource::AlbMultiValue => ALB_LIMIT,
        _ => LAMBDA_PAYLOAD_LIMIT,
    };
    if event.len() > limit {
        return Err(format!(
            "the response event is {} bytes, over the {} limit of {limit} bytes",
            event.len(),
            source.limit_name()
        ));
    }
    let value: Value = serde_json::from_slice(event)
        .map_err(|e| format!("the response event is not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("the response event is not a JSON object".into());
    };
    let Some(status) = object.get("statusCode") else {
        if matches!(
            source,
            LocalSource::ApiGatewayHttp | LocalSource::FunctionUrl
        ) {
            // Payload 2.0 reads an object without statusCode as a 200 JSON body.
            let mut response = Response::new(Bytes::copy_from_slice(event));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        return Err("the response event has no statusCode".into());
    };
    let status = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("statusCode {status} is not an HTTP status"))?;

    let mut response = Response::new(body(&object)?);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &str| -> Result<(), String> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        headers.append(name, value);
        Ok(())
    };
    match source {
        LocalSource::ApiGatewayRest => {
            // API Gateway merges both maps; a name in both takes multiValueHeaders' values.
            let multi = object.get("multiValueHeaders").and_then(Value::as_object);
            for (name, values) in multi.into_iter().flatten() {
                for value in strings(values, name)? {
                    add(name, value)?;
                }
            }
            for (name, value) in object
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if !multi.is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(name))) {
                    add(name, string(value, name)?)?;
                }
            }
        }
        LocalSource::ApiGatewayHttp | LocalSource::FunctionUrl => {
            for (name, value) in object
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                add(name, string(value, name)?)?;
            }
            for cookie in object
                .get("cookies")
                .map(|c| strings(c, "cookies"))
                .transpose()?
                .into_iter()
                .flatten()
            {
                add(SET_COOKIE.as_str(), cookie)?;
            }
        }
        LocalSource::Alb => {
            let map = object
                .get("headers")
                .and_then(Value::as_object)
                .ok_or("the target group sends single-value headers, but the response event has no `headers` object")?;
            for (name, value) in map {
                add(name, string(value, name)?)?;
            }
        }
        LocalSource::AlbMultiValue => {
            let map = object.get("multiValueHeaders").and_then(Value::as_object).ok_or(
                "the target group has multi-value headers enabled, but the response event has no `multiValueHeaders` object",
            )?;
            for (name, values) in map {
                for value in strings(values, name)? {
                    add(name, value)?;
                }
            }
        }
    }
    Ok(response)
}

fn body(object: &Map<String, Value>) -> Result<Bytes, String> {
    let text = match object.get("body") {
        None | Some(Value::Null) => return Ok(Bytes::new()),
        Some(Value::String(text)) => text,
        Some(_) => return Err("`body` is not a string".into()),
    };
    if object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        decode_base64(text)
            .map(Bytes::from)
            .map_err(|e| format!("`body` is not valid base64: {e}"))
    } else {
        Ok(Bytes::copy_from_slice(text.as_bytes()))
    }
}

fn string<'a>(value: &'a Value, name: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("header {name:?} is not a string"))
}

fn strings<'a>(value: &'a Value, name: &str) -> Result<Vec<&'a str>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{name:?} is not an array"))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| format!("{name:?} holds a non-string"))
        })
        .collect()
}
