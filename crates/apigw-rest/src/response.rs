use http::response::Parts;
use lambda_gateway_core::{EncodeOptions, encoding::header_value_text, json::JsonWriter};

/// Writes the REST API response event: `statusCode`, `multiValueHeaders` (every value of every
/// header, `Set-Cookie` included), `body` and `isBase64Encoded` — and no other key, since API
/// Gateway rejects unknown ones as a malformed response.
pub fn encode_response(parts: &Parts, body: &[u8], options: EncodeOptions<'_>) -> Vec<u8> {
    let text = options.binary.text_body(&parts.headers, body);
    let mut json = JsonWriter::with_capacity(128 + parts.headers.len() * 48 + body.len() * 4 / 3);
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.begin_object_field("multiValueHeaders");
    for name in parts.headers.keys() {
        json.begin_array_field(name.as_str());
        for value in parts.headers.get_all(name) {
            json.string(&header_value_text(value));
        }
        json.end_array();
    }
    json.end_object();
    json.body_fields(body, text);
    json.end_object();
    json.finish()
}
