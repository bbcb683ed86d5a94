use http::response::Parts;
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// Writes the REST API response event's head: `statusCode` and `multiValueHeaders` (every value
/// of every header, `Set-Cookie` included). With the body fields (`body`, `isBase64Encoded`)
/// that is every key: API Gateway rejects unknown ones as a malformed response.
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter, _options: EncodeOptions<'_>) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    json.multi_value_headers_field("multiValueHeaders", &parts.headers);
}
