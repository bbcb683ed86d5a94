//! The enabled event sources, in the order they are asked to claim an event.
//!
//! Adding a source is its crate, its cargo feature, and one line in the `sources!` list below:
//! everything about it — its fields, how it claims an event, its request and response formats,
//! its limits, its typed event — is its [`EventSource`] (and [`TypedSource`]) implementation.

use std::{any::Any, sync::OnceLock};

use lambda_gateway_core::{
    Error, EventSource, Source, TypedSource,
    event::{Binding, Schema, SchemaError},
};

/// The enabled sources, from one list: `SOURCES` (asked to claim events, in order) and
/// `parse_typed_event` (the typed event of a source's events: a function of its own, linked only
/// into programs that call it, rather than an `EventSource` method every registered source
/// would link in).
macro_rules! sources {
    ($($feature:literal => $source:path,)*) => {
        /// Every enabled source, most specific first: a source is asked to claim an event only
        /// when the ones before it did not (WebSocket events carry REST-looking fields, VPC
        /// Lattice v2 events a payload 2.0 `version`).
        const SOURCES: &[&dyn EventSource] = &[$(
            #[cfg(feature = $feature)]
            &$source,
        )*];

        /// The typed event of an event of `source`, when that source is enabled.
        pub(crate) fn parse_typed_event(
            source: Source,
            raw_event: &[u8],
        ) -> Option<Result<Box<dyn Any + Send + Sync>, Error>> {
            $(
                #[cfg(feature = $feature)]
                if source == EventSource::source(&$source) {
                    return Some(<$source as TypedSource>::parse_typed_event(raw_event));
                }
            )*
            let _ = (source, raw_event);
            None
        }
    };
}

sources! {
    "apigw_websocket" => lambda_gateway_apigw_websocket::ApiGatewayWebSocket,
    "vpc_lattice" => lambda_gateway_vpc_lattice::VpcLattice,
    "alb" => lambda_gateway_alb::Alb,
    "apigw_http" => lambda_gateway_apigw_http::ApiGatewayHttp,
    "apigw_rest" => lambda_gateway_apigw_rest::ApiGatewayRest,
}

/// An enabled source, with where its fields are in the schema.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) source: &'static dyn EventSource,
    pub(crate) binding: Binding,
    /// A bit per slot of the fields the source claims only with ([`EventSource::claimed_only_with`]);
    /// all bits when it is always asked.
    pub(crate) discriminators: u64,
}

impl Registered {
    /// Whether the source might claim an event whose written slots are those of `view`.
    #[inline]
    pub(crate) fn may_claim(&self, view: &lambda_gateway_core::event::EventView<'_>) -> bool {
        view.any_written(self.discriminators)
    }
}

/// The enabled sources and the schema their fields make.
#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) schema: Schema,
    pub(crate) sources: Vec<Registered>,
}

impl Registry {
    fn build(sources: &[&'static dyn EventSource]) -> Result<Self, SchemaError> {
        let fields: Vec<_> = sources.iter().map(|s| s.fields()).collect();
        let schema = Schema::build(&fields)?;
        let sources = sources
            .iter()
            .enumerate()
            .filter_map(|(i, &source)| {
                let discriminators = match source.claimed_only_with() {
                    [] => u64::MAX,
                    paths => paths
                        .iter()
                        // a path the source did not declare: always ask it
                        .map(|path| schema.slot_of(path).map_or(u64::MAX, |slot| 1 << slot))
                        .fold(0, |mask, bit| mask | bit),
                };
                schema.binding(i).map(|binding| Registered {
                    source,
                    binding: binding.clone(),
                    discriminators,
                })
            })
            .collect();
        Ok(Self { schema, sources })
    }

    /// The registered source named `source`.
    pub(crate) fn find(&self, source: Source) -> Option<&Registered> {
        self.sources.iter().find(|r| r.source.source() == source)
    }
}

/// The registry of the enabled sources, built on first use; an error when their fields cannot
/// be merged (a bug of the source crates, caught by this module's test for every feature set
/// CI builds).
pub(crate) fn registry() -> Result<&'static Registry, &'static SchemaError> {
    static REGISTRY: OnceLock<Result<Registry, SchemaError>> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::build(SOURCES)).as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facade skips a source whose discriminating fields are all absent: its claim must be
    /// `Unclaimed` then, on every event of testdata/ (and on the event with each of its fields
    /// alone).
    #[test]
    fn a_source_not_asked_would_not_have_claimed() {
        use lambda_gateway_core::{Claim, event::EventView};
        let registry = registry().expect("the enabled sources' fields merge");
        let events: Vec<Vec<u8>> = lambda_gateway_test_support::testdata::all_events()
            .into_iter()
            .map(|(_, path)| std::fs::read(&path).expect("an event"))
            .collect();
        assert!(events.len() > 100, "{} events", events.len());
        let mut skipped = 0;
        for event in &events {
            EventView::parse(&registry.schema, event, |view| {
                let Some(view) = view else { return };
                for registered in &registry.sources {
                    if !registered.may_claim(view) {
                        skipped += 1;
                        let claim = registered
                            .source
                            .claim(&view.for_source(&registered.binding));
                        assert_eq!(
                            claim,
                            Claim::Unclaimed,
                            "{} was not asked but claims {}",
                            registered.source.source(),
                            String::from_utf8_lossy(event)
                        );
                    }
                }
            });
        }
        assert!(skipped > 0);
    }

    #[test]
    fn the_enabled_sources_fields_merge_into_one_schema() {
        let registry = registry().expect("the enabled sources' fields merge");
        assert_eq!(registry.sources.len(), SOURCES.len());
        for registered in &registry.sources {
            assert_eq!(
                registry
                    .find(registered.source.source())
                    .map(|r| r.source.source()),
                Some(registered.source.source())
            );
        }
    }
}
