use http::response::Parts;
use lambda_gateway_core::{EncodeOptions, json::JsonWriter};

/// How many `Set-Cookie` headers a single-value-mode response can carry: one per letter-case
/// variant of `set-cookie` (nine letters, 2⁹ spellings).
pub const MAX_SINGLE_VALUE_COOKIES: usize = 512;

/// Writes the ALB response event's head in the request's header mode: `statusCode`,
/// `statusDescription` (`"201 Created"`), `multiValueHeaders` or `headers`; `body` and
/// `isBase64Encoded` follow. In single-value mode repeated headers are joined with `, ` and repeated
/// `Set-Cookie` headers use letter-case variants of the name (see the crate docs).
pub(crate) fn encode_head(parts: &Parts, json: &mut JsonWriter, options: EncodeOptions<'_>) {
    json.begin_object();
    json.u16_field("statusCode", parts.status.as_u16());
    let reason = parts.status.canonical_reason().unwrap_or("Unknown");
    json.joined_string_field("statusDescription", [parts.status.as_str(), " ", reason]);
    if options.multi_value {
        json.multi_value_headers_field("multiValueHeaders", &parts.headers);
    } else {
        json.begin_object_field("headers");
        // each `Set-Cookie` under its own spelling of the name
        json.joined_header_members(&parts.headers, ", ", |json, cookies| {
            for (n, cookie) in cookies.iter().take(MAX_SINGLE_VALUE_COOKIES).enumerate() {
                json.begin_string_field(&cookie_name_variant(n));
                json.push_header_value(cookie);
                json.end_string();
            }
        });
        json.end_object();
    }
}

/// The `n`th spelling of `set-cookie`: bit `i` of `n` upper-cases its `i`th letter.
fn cookie_name_variant(n: usize) -> String {
    let mut letter = 0;
    "set-cookie"
        .chars()
        .map(|c| {
            if c == '-' {
                return c;
            }
            let upper = n >> letter & 1 == 1;
            letter += 1;
            if upper { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_name_variants_are_distinct() {
        let names: std::collections::HashSet<_> = (0..MAX_SINGLE_VALUE_COOKIES)
            .map(cookie_name_variant)
            .collect();
        assert_eq!(names.len(), MAX_SINGLE_VALUE_COOKIES);
        assert_eq!(cookie_name_variant(0), "set-cookie");
        assert_eq!(cookie_name_variant(1), "Set-cookie");
        assert!(names.iter().all(|n| n.eq_ignore_ascii_case("set-cookie")));
    }
}
