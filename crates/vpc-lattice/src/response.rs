use http::{header::SET_COOKIE, response::Parts};
use lambda_gateway_core::json::JsonWriter;

/// Writes the VPC Lattice response event's head: `statusCode`, `statusDescription`
/// (`"201 Created"`) and `headers` — always, `{}` when there are none — whose values are
/// strings: a header's repeated values joined with `, `, except `Set-Cookie`, which cannot be
/// joined: one cookie is a string, several an array of strings (`["a=1", "b=2"]`). `body` and
/// `isBase64Encoded` follow.
///
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    let reason = parts.status.canonical_reason().unwrap_or("Unknown");
    json.joined_string_field("statusDescription", [parts.status.as_str(), " ", reason]);
    json.begin_object_field("headers");
    json.joined_header_members(&parts.headers, ", ", |json, cookies| match cookies {
        [] => {}
        [cookie] => {
            json.begin_header_string_field(&SET_COOKIE);
            json.push_header_value(cookie);
            json.end_string();
        }
        several => {
            json.begin_header_array_field(&SET_COOKIE);
            for cookie in several {
                json.header_value(cookie);
            }
            json.end_array();
        }
    });
    json.end_object();
}
