//! The request and response body type handed to services.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A complete, in-memory HTTP body backed by [`Bytes`](https://docs.rs/bytes/1/bytes/struct.Bytes.html).
///
/// Events arrive whole, so the body is always known up front: its size hint is exact and it
/// yields at most one data frame. Cloning is cheap (reference counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body(Option<Bytes>);

impl Body {
    /// An empty body.
    #[inline]
    pub const fn empty() -> Self {
        Self(None)
    }

    /// The body's bytes (empty if the body was already read).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_deref().unwrap_or_default()
    }

    /// Takes the bytes out of the body, leaving it empty.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0.unwrap_or_default()
    }

    /// The body's length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the body has no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Bytes> for Body {
    #[inline]
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            Self(None)
        } else {
            Self(Some(bytes))
        }
    }
}

impl From<Vec<u8>> for Body {
    #[inline]
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<String> for Body {
    #[inline]
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<&'static str> for Body {
    #[inline]
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl From<&'static [u8]> for Body {
    #[inline]
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

impl From<()> for Body {
    #[inline]
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    #[inline]
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(self.0.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[test]
    fn empty_bytes_make_an_ended_body() {
        let body = Body::from(Bytes::new());
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    #[test]
    #[inline]
    fn size_hint_is_exact() {
        let body = Body::from("hello");
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(!body.is_end_stream());
    }
}
