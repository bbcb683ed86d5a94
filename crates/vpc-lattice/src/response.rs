use http::{HeaderName, header::SET_COOKIE, response::Parts};
use lambda_gateway_core::json::JsonWriter;

/// Writes the VPC Lattice response event's head: `statusCode`, `statusDescription`
/// (`"201 Created"`) and `headers` — always, `{}` when there are none — whose values are
/// strings: a header's repeated values joined with `, `, except `Set-Cookie`, which cannot be
/// joined: one cookie is a string, several an array of strings (`["a=1", "b=2"]`). `body` and
/// `isBase64Encoded` follow.
///
/// One pass over the map, no lookups: a map yields all the values of a name one after the
/// other, so a cookie is known to be the only one when the next entry has another name.
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    let reason = parts.status.canonical_reason().unwrap_or("Unknown");
    json.joined_string_field("statusDescription", [parts.status.as_str(), " ", reason]);
    json.begin_object_field("headers");
    let mut entries = parts.headers.iter().peekable();
    // the header whose string is open, its further values to be joined to it
    let mut open: Option<&HeaderName> = None;
    while let Some((name, value)) = entries.next() {
        if open == Some(name) {
            json.push_text(", ");
            json.push_header_value(value);
            continue;
        }
        if open.take().is_some() {
            json.end_string();
        }
        if name == SET_COOKIE && entries.peek().is_some_and(|(next, _)| *next == SET_COOKIE) {
            json.begin_header_array_field(name);
            json.header_value(value);
            while let Some((_, value)) = entries.next_if(|(next, _)| *next == SET_COOKIE) {
                json.header_value(value);
            }
            json.end_array();
            continue;
        }
        json.begin_header_string_field(name);
        json.push_header_value(value);
        open = Some(name);
    }
    if open.is_some() {
        json.end_string();
    }
    json.end_object();
}
