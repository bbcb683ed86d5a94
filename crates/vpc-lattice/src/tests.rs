#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use lambda_gateway_core::{
    BinaryPolicy, Body, Claim, EncodeOptions, EventSource, RequestContext, TypedSource as _,
    event::{EventView, Schema, SourceView},
    json::JsonWriter,
};
use serde_json::{Value, json};

use crate::{EventVersion, LatticeContext, TypedEventV1, TypedEventV2, VpcLattice, fields::FIELDS};

/// Reads `event` against this source's fields and hands the view and the raw event to `read`.
fn with_view<R>(event: &str, read: impl FnOnce(&SourceView<'_, '_>, Bytes) -> R) -> R {
    let schema = Schema::build(&[FIELDS]).unwrap();
    let raw = Bytes::from(event.to_owned());
    EventView::parse(&schema, &raw, |view| {
        let view = view.unwrap().for_source(schema.binding(0).unwrap());
        read(&view, raw.clone())
    })
}

fn claim(event: &str) -> Claim {
    with_view(event, |view, _| VpcLattice.claim(view))
}

fn convert(event: &str) -> Request<Body> {
    with_view(event, |view, raw| {
        assert_eq!(VpcLattice.claim(view), Claim::Claimed, "{event}");
        VpcLattice.parse_request(view, raw).unwrap()
    })
}

fn uri(event: &str) -> String {
    convert(event).uri().to_string()
}

/// The `[name, value]` pairs of a request's headers, in order.
fn headers(request: &Request<Body>) -> Vec<(String, String)> {
    request
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn v2(fields: &str) -> String {
    format!(
        r#"{{"version":"2.0","method":"GET","requestContext":{{"serviceArn":"arn:aws:vpc-lattice:us-west-2:123456789012:service/svc-1","timeEpoch":"1724875399456789"}},{fields}}}"#
    )
}

fn v1(fields: &str) -> String {
    format!(r#"{{"method":"GET","is_base64_encoded":false,{fields}}}"#)
}

/// The response event for `response`, parsed.
fn respond(response: Response<Vec<u8>>) -> Value {
    let (parts, body) = response.into_parts();
    let policy = BinaryPolicy::default();
    let options = EncodeOptions {
        binary: &policy,
        multi_value: false,
    };
    let mut json = JsonWriter::with_capacity(256);
    VpcLattice.encode_head(&parts, &mut json, options);
    VpcLattice.encode_body(&body, policy.text_body(&parts.headers, &body), &mut json);
    serde_json::from_slice(&json.finish()).unwrap()
}

#[test]
fn v1_and_v2_events_are_claimed_and_others_are_not() {
    assert_eq!(claim(&v2(r#""path":"/""#)), Claim::Claimed);
    assert_eq!(claim(&v1(r#""raw_path":"/""#)), Claim::Claimed);
    // API Gateway payload 2.0: `version` 2.0 and `requestContext`, never `serviceArn`
    let http_api = r#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"GET"},"timeEpoch":1583348638390}}"#;
    assert_eq!(claim(http_api), Claim::Unclaimed);
    // its numeric `timeEpoch` is no problem of the view: the field is declared `Present`
    assert!(with_view(http_api, |view, _| view.problem().is_none()));
    // REST and ALB events, and v1 halves
    assert_eq!(
        claim(r#"{"httpMethod":"GET","path":"/","requestContext":{"elb":{}}}"#),
        Claim::Unclaimed
    );
    assert_eq!(claim(r#"{"raw_path":"/"}"#), Claim::Unclaimed);
    assert_eq!(claim(r#"{"method":"GET"}"#), Claim::Unclaimed);
    assert_eq!(claim("{}"), Claim::Unclaimed);
}

#[test]
fn near_misses_are_explained() {
    let explain =
        |event: &str| with_view(event, |view, _| VpcLattice.explain(view)).map(|e| e.to_string());
    let no_service = r#"{"version":"2.0","path":"/","method":"GET","requestContext":{"targetGroupArn":"arn:tg"}}"#;
    assert!(
        explain(no_service)
            .unwrap()
            .contains("requestContext.serviceArn")
    );
    assert!(explain(r#"{"raw_path":"/"}"#).unwrap().contains("`method`"));
    assert_eq!(explain(r#"{"path":"/"}"#), None);
}

#[test]
fn the_query_in_the_path_is_taken_verbatim_and_the_map_ignored() {
    let event = v2(
        r#""path":"/a%2Fb/c d?x=1&x=2&e=%C3%A9&sp=a+b&q=\"","queryStringParameters":{"x":["1","2"],"e":["é"]}"#,
    );
    assert_eq!(uri(&event), "/a%2Fb/c%20d?x=1&x=2&e=%C3%A9&sp=a+b&q=%22");
    // v1 keeps the last value of a repeated key in its map: the path still has both
    let event = v1(r#""raw_path":"/search?tag=a&tag=b","query_string_parameters":{"tag":"b"}"#);
    assert_eq!(uri(&event), "/search?tag=a&tag=b");
    // an empty query after the `?`
    let event = v2(r#""path":"/x?","queryStringParameters":{"a":["1"]}"#);
    assert_eq!(uri(&event), "/x");
}

#[test]
fn without_a_question_mark_the_query_is_rebuilt_from_the_map() {
    // lists: one pair per value, in order; strings: one value; values escaped again
    let lists = v2(
        r#""path":"/items","queryStringParameters":{"color":["red","blue"],"q":["a b&c=d"],"e":["é"]}"#,
    );
    assert_eq!(
        uri(&lists),
        "/items?color=red&color=blue&q=a%20b%26c%3Dd&e=%C3%A9"
    );
    let strings = v2(r#""path":"/items","queryStringParameters":{"color":"red","pct":"100%"}"#);
    assert_eq!(uri(&strings), "/items?color=red&pct=100%25");
    let v1_map = v1(r#""raw_path":"/items","query_string_parameters":{"k":"v"}"#);
    assert_eq!(uri(&v1_map), "/items?k=v");
    // no map, a null map, an empty map
    assert_eq!(uri(&v2(r#""path":"/items""#)), "/items");
    assert_eq!(
        uri(&v2(r#""path":"/items","queryStringParameters":null"#)),
        "/items"
    );
    assert_eq!(
        uri(&v2(r#""path":"/items","queryStringParameters":{}"#)),
        "/items"
    );
}

#[test]
fn headers_keep_their_order_and_repeats() {
    let event = v2(
        r#""path":"/","headers":{"host":["svc.example"],"x-tag":["alpha","beta"],"accept":["*/*"]}"#,
    );
    let request = convert(&event);
    assert_eq!(
        headers(&request),
        [
            ("host".into(), "svc.example".into()),
            ("x-tag".into(), "alpha".into()),
            ("x-tag".into(), "beta".into()),
            ("accept".into(), "*/*".into()),
        ]
    );
    // v1 values come comma-joined by Lattice: passed as they are
    let event = v1(
        r#""raw_path":"/","headers":{"x-multi":"one, two","if-modified-since":"Thu, 15 Jan 2026 09:00:00 GMT"}"#,
    );
    assert_eq!(
        headers(&convert(&event)),
        [
            ("x-multi".into(), "one, two".into()),
            (
                "if-modified-since".into(),
                "Thu, 15 Jan 2026 09:00:00 GMT".into()
            ),
        ]
    );
    // no host is invented
    assert!(!convert(&v2(r#""path":"/""#)).headers().contains_key("host"));
}

#[test]
fn several_cookie_values_are_joined_into_one_header() {
    let event =
        v2(r#""path":"/","headers":{"accept":["*/*"],"cookie":["a=1","","b=2"],"x":["y"]}"#);
    assert_eq!(
        headers(&convert(&event)),
        [
            ("accept".into(), "*/*".into()),
            ("cookie".into(), "a=1; b=2".into()),
            ("x".into(), "y".into()),
        ]
    );
    let one = v2(r#""path":"/","headers":{"cookie":["a=1; b=2"]}"#);
    assert_eq!(
        headers(&convert(&one)),
        [("cookie".into(), "a=1; b=2".into())]
    );
    let bad = v2(r#""path":"/","headers":{"cookie":["a=1","b=\n2"]}"#);
    let error = with_view(&bad, |view, raw| {
        VpcLattice.parse_request(view, raw).unwrap_err()
    });
    assert!(error.is_client_fault(), "{error}");
}

#[test]
fn bodies_are_decoded_by_the_version_s_flag() {
    let binary = v2(r#""path":"/","body":"AAH+/4B/","isBase64Encoded":true"#);
    let body = convert(&binary).into_body().into_bytes();
    assert_eq!(&body[..], b"\x00\x01\xfe\xff\x80\x7f");
    let v1_binary =
        r#"{"raw_path":"/","method":"POST","body":"AAH+/4B/","is_base64_encoded":true}"#;
    let body = convert(v1_binary).into_body().into_bytes();
    assert_eq!(&body[..], b"\x00\x01\xfe\xff\x80\x7f");
    // the other version's flag is not read
    let wrong_flag = v2(r#""path":"/","body":"AAH+","is_base64_encoded":true"#);
    assert_eq!(&convert(&wrong_flag).into_body().into_bytes()[..], b"AAH+");
    let text = v2(r#""path":"/","body":"{\"a\":1}","isBase64Encoded":false"#);
    assert_eq!(&convert(&text).into_body().into_bytes()[..], br#"{"a":1}"#);
    let invalid = v2(r#""path":"/","body":"@@","isBase64Encoded":true"#);
    assert!(with_view(&invalid, |view, raw| VpcLattice.parse_request(view, raw)).is_err());
}

#[test]
fn the_lattice_context_carries_the_request_context_and_identity() {
    let event = r#"{"version":"2.0","path":"/","method":"DELETE","headers":{"x-forwarded-for":["10.0.0.1"]},
        "requestContext":{"serviceNetworkArn":"arn:sn","serviceArn":"arn:svc","targetGroupArn":"arn:tg",
        "identity":{"sourceVpcArn":"arn:vpc","type":"AWS_IAM","principal":"arn:role\/x","principalOrgID":"o-1","sessionName":"s"},
        "region":"us-west-2","timeEpoch":"1724875399456789"}}"#;
    let request = convert(event);
    let lattice = request.extensions().get::<LatticeContext>().unwrap();
    assert_eq!(lattice.version(), EventVersion::V2);
    assert_eq!(lattice.service_network_arn(), Some("arn:sn"));
    assert_eq!(lattice.service_arn(), Some("arn:svc"));
    assert_eq!(lattice.target_group_arn(), Some("arn:tg"));
    assert_eq!(lattice.region(), Some("us-west-2"));
    assert_eq!(lattice.time_epoch(), Some("1724875399456789"));
    let identity = lattice.identity();
    assert_eq!(identity.source_vpc_arn(), Some("arn:vpc"));
    assert_eq!(identity.identity_type(), Some("AWS_IAM"));
    // a string with a JSON escape is copied, not ranged
    assert_eq!(identity.principal(), Some("arn:role/x"));
    assert_eq!(identity.principal_org_id(), Some("o-1"));
    assert_eq!(identity.session_name(), Some("s"));
    let debug = format!("{lattice:?}");
    assert!(
        debug.contains("AWS_IAM") && debug.contains("1724875399456789"),
        "{debug}"
    );
    // a clone reads the same
    assert_eq!(lattice.clone().time_epoch(), Some("1724875399456789"));

    // the client's X-Forwarded-For is not trusted; Lattice sends no request id
    let context = request.extensions().get::<RequestContext>().unwrap();
    assert_eq!(context.source(), crate::SOURCE);
    assert_eq!(context.source_ip(), None);
    assert_eq!(context.request_id(), None);
}

#[test]
fn a_v1_or_minimal_event_has_an_empty_lattice_context() {
    let request = convert(&v1(r#""raw_path":"/""#));
    let lattice = request.extensions().get::<LatticeContext>().unwrap();
    assert_eq!(lattice.version(), EventVersion::V1);
    assert_eq!(lattice.service_arn(), None);
    assert_eq!(lattice.time_epoch(), None);
    assert_eq!(lattice.identity().principal(), None);

    let minimal =
        r#"{"path":"/","method":"GET","requestContext":{"serviceArn":"arn:svc","timeEpoch":17}}"#;
    let request = convert(minimal);
    let lattice = request.extensions().get::<LatticeContext>().unwrap();
    assert_eq!(lattice.version(), EventVersion::V2);
    assert_eq!(lattice.service_arn(), Some("arn:svc"));
    // not a string: none
    assert_eq!(lattice.time_epoch(), None);
    assert_eq!(lattice.identity().source_vpc_arn(), None);
}

#[test]
fn missing_or_invalid_method_and_path_are_errors() {
    let error = |event: &str| {
        with_view(event, |view, raw| {
            VpcLattice.parse_request(view, raw).unwrap_err().to_string()
        })
    };
    let no_path = r#"{"method":"GET","requestContext":{"serviceArn":"arn:svc"}}"#;
    assert!(error(no_path).contains("`path`"), "{}", error(no_path));
    let no_method = r#"{"path":"/","requestContext":{"serviceArn":"arn:svc"}}"#;
    assert!(error(no_method).contains("`method`"));
    let bad_method = r#"{"raw_path":"/","method":"GE T"}"#;
    assert!(error(bad_method).contains("not a valid HTTP method"));
}

#[test]
fn a_single_cookie_is_a_string_and_several_an_array() {
    let one = Response::builder()
        .header("set-cookie", "a=1; Path=/")
        .header("content-type", "text/plain")
        .body(b"hi".to_vec())
        .unwrap();
    assert_eq!(
        respond(one),
        json!({"statusCode": 200, "statusDescription": "200 OK",
            "headers": {"set-cookie": "a=1; Path=/", "content-type": "text/plain"},
            "body": "hi", "isBase64Encoded": false})
    );
    let several = Response::builder()
        .status(StatusCode::CREATED)
        .header("content-type", "text/plain")
        .header("set-cookie", "a=1; Path=/")
        .header("vary", "accept-encoding")
        .header("set-cookie", "b=2, with a comma")
        .header("vary", "origin")
        .header("set-cookie", "c=3")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        respond(several),
        json!({"statusCode": 201, "statusDescription": "201 Created",
            "headers": {"content-type": "text/plain",
                "set-cookie": ["a=1; Path=/", "b=2, with a comma", "c=3"],
                "vary": "accept-encoding, origin"},
            "body": "", "isBase64Encoded": false})
    );
}

#[test]
fn headers_are_always_written_and_binary_bodies_are_base64() {
    let response = Response::builder()
        .status(StatusCode::from_u16(299).unwrap())
        .body(vec![0xff, 0x00])
        .unwrap();
    assert_eq!(
        respond(response),
        json!({"statusCode": 299, "statusDescription": "299 Unknown", "headers": {},
            "body": "/wA=", "isBase64Encoded": true})
    );
    // a header value that is not UTF-8 is written as Latin-1, not dropped
    let latin1 = Response::builder()
        .header("x-name", http::HeaderValue::from_bytes(b"caf\xe9").unwrap())
        .header("x-name", "b")
        .body(Vec::new())
        .unwrap();
    assert_eq!(respond(latin1)["headers"]["x-name"], "caf\u{e9}, b");
}

#[test]
fn typed_events_are_v2_by_service_arn_as_claimed_and_v1_otherwise() {
    let v2_event = r#"{"version":"2.0","path":"/","method":"GET","headers":{"a":["b"]},"queryStringParameters":{"k":"v"},
        "requestContext":{"serviceNetworkArn":"sn","serviceArn":"svc","targetGroupArn":"tg","region":"r","timeEpoch":"1"}}"#;
    let typed = VpcLattice::parse_typed_event(v2_event.as_bytes()).unwrap();
    let typed = typed.downcast_ref::<TypedEventV2>().unwrap();
    assert_eq!(typed.request_context.service_arn, "svc");
    let v1_event = r#"{"raw_path":"/a?b=c","method":"POST","headers":{"x":"1, 2"},"query_string_parameters":{"b":"c"},"body":"","is_base64_encoded":false}"#;
    let typed = VpcLattice::parse_typed_event(v1_event.as_bytes()).unwrap();
    let typed = typed.downcast_ref::<TypedEventV1>().unwrap();
    assert_eq!(typed.raw_path.as_deref(), Some("/a?b=c"));
    // a v2 event (its service ARN says so) that aws_lambda_events cannot read is an error
    let broken =
        r#"{"version":"2.0","path":5,"method":"GET","requestContext":{"serviceArn":"svc"}}"#;
    assert!(VpcLattice::parse_typed_event(broken.as_bytes()).is_err());
    assert!(VpcLattice::parse_typed_event(b"not json").is_err());
}
