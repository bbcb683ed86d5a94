//! Helpers shared by the benchmarks.

#![allow(dead_code)]

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use base64::Engine as _;

/// Everything here completes without waiting, so a no-op waker polls it to the end.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// A v2 event whose body is `size` bytes of binary data, base64 in the event.
pub(crate) fn binary_event(size: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
    let body = base64::engine::general_purpose::STANDARD.encode(body);
    format!(
        r#"{{"version":"2.0","routeKey":"$default","rawPath":"/upload","rawQueryString":"","headers":{{"content-type":"application/octet-stream","host":"api.example.com"}},"requestContext":{{"accountId":"123456789012","apiId":"api","domainName":"api.example.com","http":{{"method":"POST","path":"/upload","protocol":"HTTP/1.1","sourceIp":"198.51.100.1","userAgent":"bench"}},"requestId":"bench","routeKey":"$default","stage":"$default","timeEpoch":0}},"body":"{body}","isBase64Encoded":true}}"#
    )
    .into_bytes()
}
