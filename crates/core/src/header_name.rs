//! Header names as events spell them, turned into `http::HeaderName`s without allocating.
//!
//! `HeaderName::from_bytes` allocates a copy of every name outside `http`'s standard list, and
//! AWS front doors add several such names to every request (`x-forwarded-for`,
//! `x-forwarded-proto`, `x-amzn-trace-id`, CloudFront's `cloudfront-*`, ...). The names below
//! are constants: matching them (case-insensitively — REST events keep the client's spelling)
//! costs a length switch and a comparison; any other name goes through `from_bytes`.

use http::{HeaderName, header};

macro_rules! custom_names {
    ($($constant:ident = $name:literal;)*) => {
        $(const $constant: HeaderName = HeaderName::from_static($name);)*
    };
}

custom_names! {
    X_FORWARDED_FOR = "x-forwarded-for";
    X_FORWARDED_PORT = "x-forwarded-port";
    X_FORWARDED_PROTO = "x-forwarded-proto";
    X_AMZN_TRACE_ID = "x-amzn-trace-id";
    X_AMZN_TLS_VERSION = "x-amzn-tls-version";
    X_AMZN_TLS_CIPHER_SUITE = "x-amzn-tls-cipher-suite";
    X_AMZN_VPCE_ID = "x-amzn-vpce-id";
    X_AMZN_VPCE_CONFIG = "x-amzn-vpce-config";
    X_AMZN_CIPHER_SUITE = "x-amzn-cipher-suite";
    X_AMZN_VPC_ID = "x-amzn-vpc-id";
    X_AMZ_CF_ID = "x-amz-cf-id";
    X_AMZ_DATE = "x-amz-date";
    X_AMZ_SECURITY_TOKEN = "x-amz-security-token";
    X_AMZ_CONTENT_SHA256 = "x-amz-content-sha256";
    X_API_KEY = "x-api-key";
    X_REQUEST_ID = "x-request-id";
    X_REQUESTED_WITH = "x-requested-with";
    X_CORRELATION_ID = "x-correlation-id";
    CLOUDFRONT_FORWARDED_PROTO = "cloudfront-forwarded-proto";
    CLOUDFRONT_IS_DESKTOP_VIEWER = "cloudfront-is-desktop-viewer";
    CLOUDFRONT_IS_MOBILE_VIEWER = "cloudfront-is-mobile-viewer";
    CLOUDFRONT_IS_SMARTTV_VIEWER = "cloudfront-is-smarttv-viewer";
    CLOUDFRONT_IS_TABLET_VIEWER = "cloudfront-is-tablet-viewer";
    CLOUDFRONT_VIEWER_ASN = "cloudfront-viewer-asn";
    CLOUDFRONT_VIEWER_COUNTRY = "cloudfront-viewer-country";
    CLOUDFRONT_VIEWER_ADDRESS = "cloudfront-viewer-address";
    SEC_FETCH_DEST = "sec-fetch-dest";
    SEC_FETCH_MODE = "sec-fetch-mode";
    SEC_FETCH_SITE = "sec-fetch-site";
    SEC_FETCH_USER = "sec-fetch-user";
    SEC_CH_UA = "sec-ch-ua";
    SEC_CH_UA_MOBILE = "sec-ch-ua-mobile";
    SEC_CH_UA_PLATFORM = "sec-ch-ua-platform";
    PRIORITY = "priority";
    POSTMAN_TOKEN = "postman-token";
    TRACEPARENT = "traceparent";
    TRACESTATE = "tracestate";
}

/// The longest name in the table.
const LONGEST: usize = 28;

/// A constant `HeaderName` for a common name, compared without regard to ASCII case.
#[inline]
pub(crate) fn well_known(name: &[u8]) -> Option<HeaderName> {
    if name.len() > LONGEST {
        return None;
    }
    let mut buffer = [0u8; LONGEST];
    let lower = &mut buffer[..name.len()];
    // lowered while copied: one pass, no `memcpy` call for a few bytes
    for (to, from) in lower.iter_mut().zip(name) {
        *to = from.to_ascii_lowercase();
    }
    Some(match &*lower {
        b"host" => header::HOST,
        b"accept" => header::ACCEPT,
        b"accept-encoding" => header::ACCEPT_ENCODING,
        b"accept-language" => header::ACCEPT_LANGUAGE,
        b"accept-charset" => header::ACCEPT_CHARSET,
        b"authorization" => header::AUTHORIZATION,
        b"cache-control" => header::CACHE_CONTROL,
        b"connection" => header::CONNECTION,
        b"content-encoding" => header::CONTENT_ENCODING,
        b"content-length" => header::CONTENT_LENGTH,
        b"content-type" => header::CONTENT_TYPE,
        b"cookie" => header::COOKIE,
        b"dnt" => header::DNT,
        b"if-match" => header::IF_MATCH,
        b"if-modified-since" => header::IF_MODIFIED_SINCE,
        b"if-none-match" => header::IF_NONE_MATCH,
        b"origin" => header::ORIGIN,
        b"pragma" => header::PRAGMA,
        b"range" => header::RANGE,
        b"referer" => header::REFERER,
        b"upgrade-insecure-requests" => header::UPGRADE_INSECURE_REQUESTS,
        b"user-agent" => header::USER_AGENT,
        b"via" => header::VIA,
        b"forwarded" => header::FORWARDED,
        b"x-forwarded-for" => X_FORWARDED_FOR,
        b"x-forwarded-port" => X_FORWARDED_PORT,
        b"x-forwarded-proto" => X_FORWARDED_PROTO,
        b"x-amzn-trace-id" => X_AMZN_TRACE_ID,
        b"x-amzn-tls-version" => X_AMZN_TLS_VERSION,
        b"x-amzn-tls-cipher-suite" => X_AMZN_TLS_CIPHER_SUITE,
        b"x-amzn-vpce-id" => X_AMZN_VPCE_ID,
        b"x-amzn-vpce-config" => X_AMZN_VPCE_CONFIG,
        b"x-amzn-cipher-suite" => X_AMZN_CIPHER_SUITE,
        b"x-amzn-vpc-id" => X_AMZN_VPC_ID,
        b"x-amz-cf-id" => X_AMZ_CF_ID,
        b"x-amz-date" => X_AMZ_DATE,
        b"x-amz-security-token" => X_AMZ_SECURITY_TOKEN,
        b"x-amz-content-sha256" => X_AMZ_CONTENT_SHA256,
        b"x-api-key" => X_API_KEY,
        b"x-request-id" => X_REQUEST_ID,
        b"x-requested-with" => X_REQUESTED_WITH,
        b"x-correlation-id" => X_CORRELATION_ID,
        b"cloudfront-forwarded-proto" => CLOUDFRONT_FORWARDED_PROTO,
        b"cloudfront-is-desktop-viewer" => CLOUDFRONT_IS_DESKTOP_VIEWER,
        b"cloudfront-is-mobile-viewer" => CLOUDFRONT_IS_MOBILE_VIEWER,
        b"cloudfront-is-smarttv-viewer" => CLOUDFRONT_IS_SMARTTV_VIEWER,
        b"cloudfront-is-tablet-viewer" => CLOUDFRONT_IS_TABLET_VIEWER,
        b"cloudfront-viewer-asn" => CLOUDFRONT_VIEWER_ASN,
        b"cloudfront-viewer-country" => CLOUDFRONT_VIEWER_COUNTRY,
        b"cloudfront-viewer-address" => CLOUDFRONT_VIEWER_ADDRESS,
        b"sec-fetch-dest" => SEC_FETCH_DEST,
        b"sec-fetch-mode" => SEC_FETCH_MODE,
        b"sec-fetch-site" => SEC_FETCH_SITE,
        b"sec-fetch-user" => SEC_FETCH_USER,
        b"sec-ch-ua" => SEC_CH_UA,
        b"sec-ch-ua-mobile" => SEC_CH_UA_MOBILE,
        b"sec-ch-ua-platform" => SEC_CH_UA_PLATFORM,
        b"priority" => PRIORITY,
        b"postman-token" => POSTMAN_TOKEN,
        b"traceparent" => TRACEPARENT,
        b"tracestate" => TRACESTATE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_equal_what_from_bytes_makes_in_any_case() {
        let names = [
            "Host",
            "X-Forwarded-For",
            "x-amzn-trace-id",
            "CloudFront-Is-SmartTV-Viewer",
            "CLOUDFRONT-VIEWER-COUNTRY",
            "upgrade-insecure-requests",
            "sec-ch-ua-platform",
        ];
        for name in names {
            let known = well_known(name.as_bytes()).unwrap();
            assert_eq!(known, HeaderName::from_bytes(name.as_bytes()).unwrap());
            assert_eq!(known.as_str(), name.to_ascii_lowercase());
        }
    }

    #[test]
    fn other_names_are_not_in_the_table() {
        for name in [
            "x-custom",
            "x-forwarded-fo",
            "bad name",
            "",
            "x".repeat(100).as_str(),
        ] {
            assert!(well_known(name.as_bytes()).is_none(), "{name}");
        }
    }

    #[test]
    fn the_longest_name_fits_the_buffer() {
        assert_eq!("cloudfront-is-desktop-viewer".len(), LONGEST);
        assert!(well_known(b"CLOUDFRONT-IS-DESKTOP-VIEWER").is_some());
    }
}
