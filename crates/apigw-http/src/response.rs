use http::{header::SET_COOKIE, response::Parts};
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// Writes the payload 2.0 response event's head: `statusCode`, `headers` (one string per name,
/// repeated values joined with `,`, none dropped) and `cookies` (one entry per `Set-Cookie`,
/// which cannot be comma-joined); `body` and `isBase64Encoded` follow.
///
/// `cookies` is always written, an empty array when the response sets none: AWS accepts the
/// key's absence, but Cargo Lambda's emulator (`cargo lambda watch`) answers 500 without it, and
/// lambda_http always writes it too.
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter, _options: EncodeOptions<'_>) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.joined_headers_field("headers", &parts.headers, ",");
    json.begin_array_field("cookies");
    for cookie in &parts.headers.get_all(SET_COOKIE) {
        json.header_value(cookie);
    }
    json.end_array();
}
