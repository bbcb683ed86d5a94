//! `/download`'s body, shared by the `stream` example and its `lambda_http` twin of the `stream`
//! benchmark (`crates/lambda-gateway/examples/stream_lambda_http.rs`): N bytes, 0x00 to 0xFF
//! repeating, in frames of 64 KiB.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::Frame;

/// The frame size.
const FRAME: usize = 64 * 1024;

/// `remaining` bytes of the repeating pattern, a frame at a time.
pub(crate) struct Download {
    pattern: Bytes,
    remaining: usize,
}

impl Download {
    /// `bytes` bytes of the pattern.
    pub(crate) fn new(bytes: usize) -> Self {
        let pattern: Vec<u8> = (0..FRAME).map(|i| (i % 256) as u8).collect();
        Self {
            pattern: Bytes::from(pattern),
            remaining: bytes,
        }
    }
}

impl http_body::Body for Download {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let size = self.remaining.min(FRAME);
        self.remaining -= size;
        // FRAME is a multiple of 256: every frame starts at 0x00
        Poll::Ready(Some(Ok(Frame::data(self.pattern.slice(..size)))))
    }
}
