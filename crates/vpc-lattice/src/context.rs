//! The [`LatticeContext`] request extension.

use std::{fmt, sync::OnceLock};

use bytes::Bytes;
use lambda_gateway_core::{
    EventText,
    event::{EventView, Schema, SourceView},
};

use crate::fields::*;

/// Which event structure the target group sends (its `lambdaEventStructureVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventVersion {
    /// `V1`: snake_case fields, no request context.
    V1,
    /// `V2`: `"version": "2.0"`, list values, a `requestContext`.
    V2,
}

/// What VPC Lattice said about a request beyond the HTTP request itself: the service network,
/// service and target group it went through, and the caller's identity.
///
/// Inserted as a request extension on every VPC Lattice request; read it with
/// `request.extensions().get::<LatticeContext>()`. Only v2 events carry these fields: for a v1
/// event every accessor gives `None` ([`version`](Self::version) tells them apart). A field the
/// event does not have (or has as something else than a string) is `None` too: Lattice sends
/// the identity fields only when it knows them (`principal` and the like only with an `AWS_IAM`
/// auth policy). The X.509 fields of the identity are not read here: they are in the typed event
/// (`RequestContextExt::parse_typed_event` of the facade, a [`TypedEventV2`](crate::TypedEventV2)).
///
/// The texts are ranges of the raw event the request shares, not copies.
#[derive(Clone)]
#[non_exhaustive]
pub struct LatticeContext {
    raw_event: Bytes,
    version: EventVersion,
    service_network_arn: Option<EventText>,
    service_arn: Option<EventText>,
    target_group_arn: Option<EventText>,
    region: Option<EventText>,
    /// Whether the view saw `requestContext.timeEpoch` (read on first use, see
    /// [`time_epoch`](Self::time_epoch)).
    has_time_epoch: bool,
    time_epoch: OnceLock<Option<EventText>>,
    source_vpc_arn: Option<EventText>,
    identity_type: Option<EventText>,
    principal: Option<EventText>,
    principal_org_id: Option<EventText>,
    session_name: Option<EventText>,
}

/// The caller as VPC Lattice identified it (v2 `requestContext.identity`): a view of a
/// [`LatticeContext`], from [`LatticeContext::identity`]. Every field is `None` when Lattice
/// did not send it.
#[derive(Clone, Copy)]
pub struct LatticeIdentity<'a> {
    context: &'a LatticeContext,
}

impl LatticeContext {
    /// The context of a v1 event: no field.
    pub(crate) fn v1(raw_event: Bytes) -> Self {
        Self {
            raw_event,
            version: EventVersion::V1,
            service_network_arn: None,
            service_arn: None,
            target_group_arn: None,
            region: None,
            has_time_epoch: false,
            time_epoch: OnceLock::new(),
            source_vpc_arn: None,
            identity_type: None,
            principal: None,
            principal_org_id: None,
            session_name: None,
        }
    }

    /// The context of a v2 event, from its view (`raw_event` is the payload the view was read
    /// from).
    pub(crate) fn v2(event: &SourceView<'_, '_>, raw_event: Bytes) -> Self {
        let text = |field| EventText::from_event(&raw_event, field);
        Self {
            version: EventVersion::V2,
            service_network_arn: text(event.get(SERVICE_NETWORK_ARN)),
            service_arn: text(event.get(SERVICE_ARN)),
            target_group_arn: text(event.get(TARGET_GROUP_ARN)),
            region: text(event.get(REGION)),
            has_time_epoch: event.get(TIME_EPOCH),
            time_epoch: OnceLock::new(),
            source_vpc_arn: text(event.get(SOURCE_VPC_ARN)),
            identity_type: text(event.get(IDENTITY_TYPE)),
            principal: text(event.get(PRINCIPAL)),
            principal_org_id: text(event.get(PRINCIPAL_ORG_ID)),
            session_name: text(event.get(SESSION_NAME)),
            raw_event,
        }
    }

    /// A field's text.
    #[inline]
    fn resolve<'s>(&'s self, text: &'s Option<EventText>) -> Option<&'s str> {
        text.as_ref()?.resolve(&self.raw_event)
    }

    /// The event structure the request came in.
    #[inline]
    pub fn version(&self) -> EventVersion {
        self.version
    }

    /// `requestContext.serviceNetworkArn`: the service network the request went through.
    #[inline]
    pub fn service_network_arn(&self) -> Option<&str> {
        self.resolve(&self.service_network_arn)
    }

    /// `requestContext.serviceArn`: the Lattice service the request was sent to.
    #[inline]
    pub fn service_arn(&self) -> Option<&str> {
        self.resolve(&self.service_arn)
    }

    /// `requestContext.targetGroupArn`: the target group that invoked the function.
    #[inline]
    pub fn target_group_arn(&self) -> Option<&str> {
        self.resolve(&self.target_group_arn)
    }

    /// `requestContext.region` (`us-west-2`).
    #[inline]
    pub fn region(&self) -> Option<&str> {
        self.resolve(&self.region)
    }

    /// `requestContext.timeEpoch`: when the request arrived, in microseconds since the Unix
    /// epoch, as Lattice's text (`"1724875399456789"`; read it with `str::parse::<u64>`).
    ///
    /// Read from the raw event on the first call (the request's conversion does not read it: the
    /// same path holds a number in API Gateway events, see [`fields::TIME_EPOCH`]); `None` when
    /// absent or not a string.
    ///
    /// [`fields::TIME_EPOCH`]: crate::fields::TIME_EPOCH
    pub fn time_epoch(&self) -> Option<&str> {
        if !self.has_time_epoch {
            return None;
        }
        let text = self
            .time_epoch
            .get_or_init(|| read_time_epoch(&self.raw_event));
        self.resolve(text)
    }

    /// `requestContext.identity`: the caller, as far as Lattice identified it.
    #[inline]
    pub fn identity(&self) -> LatticeIdentity<'_> {
        LatticeIdentity { context: self }
    }
}

impl<'a> LatticeIdentity<'a> {
    /// `sourceVpcArn`: the VPC the request came from.
    #[inline]
    pub fn source_vpc_arn(&self) -> Option<&'a str> {
        self.context.resolve(&self.context.source_vpc_arn)
    }

    /// `type`: how the caller was authenticated (`AWS_IAM` under an IAM auth policy).
    #[inline]
    pub fn identity_type(&self) -> Option<&'a str> {
        self.context.resolve(&self.context.identity_type)
    }

    /// `principal`: the authenticated principal's ARN.
    #[inline]
    pub fn principal(&self) -> Option<&'a str> {
        self.context.resolve(&self.context.principal)
    }

    /// `principalOrgID`: the AWS Organizations id of the principal's account.
    #[inline]
    pub fn principal_org_id(&self) -> Option<&'a str> {
        self.context.resolve(&self.context.principal_org_id)
    }

    /// `sessionName`: the role session name of an assumed-role principal.
    #[inline]
    pub fn session_name(&self) -> Option<&'a str> {
        self.context.resolve(&self.context.session_name)
    }
}

impl fmt::Debug for LatticeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatticeContext")
            .field("version", &self.version)
            .field("service_network_arn", &self.service_network_arn())
            .field("service_arn", &self.service_arn())
            .field("target_group_arn", &self.target_group_arn())
            .field("region", &self.region())
            .field("time_epoch", &self.time_epoch())
            .field("identity", &self.identity())
            .finish()
    }
}

impl fmt::Debug for LatticeIdentity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatticeIdentity")
            .field("source_vpc_arn", &self.source_vpc_arn())
            .field("identity_type", &self.identity_type())
            .field("principal", &self.principal())
            .field("principal_org_id", &self.principal_org_id())
            .field("session_name", &self.session_name())
            .finish()
    }
}

/// The few fields read outside the request's conversion: a schema of their own.
mod probe {
    lambda_gateway_core::fields! {
        pub(crate) static FIELDS;
        pub(crate) const SERVICE_ARN: Present = "requestContext.serviceArn";
        pub(crate) const TIME_EPOCH: Str = "requestContext.timeEpoch";
    }
}

/// The probe schema, built once.
fn probe_schema() -> Option<&'static Schema> {
    static SCHEMA: OnceLock<Option<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::build(&[probe::FIELDS]).ok())
        .as_ref()
}

/// `requestContext.timeEpoch` of a raw event, when a string.
fn read_time_epoch(raw_event: &Bytes) -> Option<EventText> {
    let schema = probe_schema()?;
    let binding = schema.binding(0)?;
    EventView::parse(schema, raw_event, |view| {
        let view = view?.for_source(binding);
        EventText::from_event(raw_event, view.get(probe::TIME_EPOCH))
    })
}

/// Whether a raw event is of the v2 structure: by `requestContext.serviceArn`, the rule the
/// source claims v2 events by.
pub(crate) fn is_v2_event(raw_event: &[u8]) -> bool {
    let Some(schema) = probe_schema() else {
        return false;
    };
    let Some(binding) = schema.binding(0) else {
        return false;
    };
    EventView::parse(schema, raw_event, |view| {
        view.is_some_and(|view| {
            let view = view.for_source(binding);
            view.get(probe::SERVICE_ARN)
        })
    })
}
