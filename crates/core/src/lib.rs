//! The normalized request/response model shared by the `lambda-gateway` crates.
//!
//! Most users want the [`lambda-gateway`](https://docs.rs/lambda-gateway) facade, which re-exports
//! what they need from here. Depend on this crate directly only to write a new event source:
//! it holds the [`EventSource`] trait a source implements, the schema-driven one-pass
//! [`event::EventView`] every source reads from, the [`Body`]
//! handed to services, the [`RequestContext`] extension, the [`Error`] type, the text/binary
//! [`BinaryPolicy`], and the shared encoding helpers.
//!
//! # Stability
//! Follows semantic versioning; the source crates and the facade move in lock step with it.
//! [`Source`] is an open name and [`Error`] is `#[non_exhaustive]`, so new sources and new error
//! kinds are additions.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod context;
mod context_fields;
pub mod encoding;
mod error;
pub mod event;
mod header_name;
pub mod json;
#[cfg(feature = "local")]
#[cfg_attr(docsrs, doc(cfg(feature = "local")))]
pub mod local;
mod policy;
pub mod request;
mod source;
mod swar;

pub use body::Body;
pub use context::{EventText, RequestContext, SharedStr, Source};
pub use context_fields::{Authorizer, ContextFields, Parameters};
pub use error::{BoxError, Error};
pub use policy::{BinaryPolicy, MediaPattern};
pub use source::{Claim, EventSource, ResponseLimit, Streaming, TypedSource, typed_event};

/// What a source crate needs to encode a response event.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions<'a> {
    /// Which bodies travel as text.
    pub binary: &'a BinaryPolicy,
    /// Whether the request carried multi-value maps (ALB answers in the same mode).
    pub multi_value: bool,
}
