use http::{header::SET_COOKIE, response::Parts};
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// Writes the payload 2.0 response event: `statusCode`, `headers` (one string per name,
/// repeated values joined with `,`, none dropped), `cookies` (one entry per `Set-Cookie`, which
/// cannot be comma-joined), `body` and `isBase64Encoded`.
///
/// `cookies` is always written, an empty array when the response sets none: AWS accepts the
/// key's absence, but Cargo Lambda's emulator (`cargo lambda watch`) answers 500 without it, and
/// lambda_http always writes it too.
pub fn encode_response(parts: &Parts, body: &[u8], options: EncodeOptions<'_>) -> Vec<u8> {
    let text = options.binary.text_body(&parts.headers, body);
    let mut json = JsonWriter::with_capacity(128 + parts.headers.len() * 48 + body.len() * 4 / 3);
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.joined_headers_field("headers", &parts.headers, ",", &SET_COOKIE);
    json.begin_array_field("cookies");
    for cookie in &parts.headers.get_all(SET_COOKIE) {
        json.header_value(cookie);
    }
    json.end_array();
    json.body_fields(body, text);
    json.end_object();
    json.finish()
}
