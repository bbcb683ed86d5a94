use http::response::Parts;
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// Writes the REST API response event: `statusCode`, `multiValueHeaders` (every value of every
/// header, `Set-Cookie` included), `body` and `isBase64Encoded` — and no other key, since API
/// Gateway rejects unknown ones as a malformed response.
pub fn encode_response(parts: &Parts, body: &[u8], options: EncodeOptions<'_>) -> Vec<u8> {
    let text = options.binary.text_body(&parts.headers, body);
    let mut json = JsonWriter::with_capacity(128 + parts.headers.len() * 48 + body.len() * 4 / 3);
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.multi_value_headers_field("multiValueHeaders", &parts.headers);
    json.body_fields(body, text);
    json.end_object();
    json.finish()
}
