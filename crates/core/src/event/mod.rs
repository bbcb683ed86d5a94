//! The fields of an incoming event, read in one pass by a schema the event sources declare.
//!
//! Every source crate declares the fields it reads with [`fields!`](crate::fields): a JSON path
//! and a [`Shape`] each. The facade merges the enabled sources' declarations into one
//! [`Schema`] ([`Schema::build`]), and [`EventView::parse`] reads an event against it: one
//! pass over the payload, strings borrowed from it where JSON escaping allows, every other
//! member skipped (and checked) without being built. A source reads its fields out of the view
//! through its [`Binding`] ([`SourceView`]), by the handles the macro generated.
//!
//! The same schema explains what is wrong with an event: a field of the wrong JSON type, or
//! repeated, is recorded as the view's [`Problem`] (the first one, with its JSON path and what
//! was found) and left empty, so that the sources can still tell whose event it is and the
//! facade can name the field in a source's words. Malformed JSON is not a view at all.
//!
//! Maps are kept as ordered `(name, value)` pairs — every value of a multi-value map in order,
//! never collapsed into a hash map — and a `null` map, or a `null` value inside one, is treated
//! as absent.

mod scan;
mod schema;

use std::{borrow::Cow, fmt};

pub use schema::MAX_SLOTS;
pub use schema::Slot;
pub use schema::{
    Binding, Field, FieldRef, Kind, Problem, Schema, SchemaError, Shape, SourceView, kind,
};

/// A JSON string's bytes: borrowed from the payload when it has no escapes, owned otherwise.
///
/// The bytes are *not* checked to be UTF-8 while parsing (that check is most of what separates
/// reading a string from skipping it): header values and bodies are bytes anyway, paths and
/// queries are percent-encoded byte by byte, and the few fields read as text are checked with
/// [`RawStr::to_str`] when used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawStr<'a>(pub Cow<'a, [u8]>);

impl RawStr<'_> {
    /// The string's bytes (JSON escapes resolved).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The string as text, if it is UTF-8.
    #[inline]
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// Whether the bytes point into the parsed payload (no escapes had to be resolved).
    #[inline]
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl PartialEq<str> for RawStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// An ordered list of `(name, value)` pairs read from a JSON object.
///
/// Reads both single-value maps (`{"a": "1"}`) and multi-value maps (`{"a": ["1", "2"]}`,
/// flattened to one pair per value, in order). A `null` value is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairs<'a>(pub Vec<(RawStr<'a>, RawStr<'a>)>);

impl<'a> Pairs<'a> {
    /// Iterates over the pairs in event order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&RawStr<'a>, &RawStr<'a>)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    /// Number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A list of strings (`cookies`); `null` entries are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrList<'a>(pub Vec<RawStr<'a>>);

/// `expected {what}, found {value}`, the value described briefly (`the number 5`, `an array`,
/// `the string "GET"` cut after 64 characters): the reason of a mistyped field.
pub fn expected(what: &str, found: &serde_json::Value) -> String {
    use serde_json::Value;
    let found = match found {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", crate::request::excerpt(s.as_bytes())),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    };
    format!("expected {what}, found {found}")
}

/// An untrusted key (or a message quoting one) as shown in an error: cut after 200
/// characters, so that an error never carries megabytes of the event.
pub fn short(text: &str) -> Cow<'_, str> {
    const SHOWN_CHARS: usize = 200;
    match text.char_indices().nth(SHOWN_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}... ({} bytes)", &text[..cut], text.len())),
    }
}

/// The fields of one event, read against a [`Schema`]: what the enabled sources declared, in
/// slots, and the first [`Problem`] met (a mistyped or repeated field).
///
/// Filled in place on the stack of [`EventView::parse`]'s caller; about 1.3 KB.
pub struct EventView<'a> {
    /// Dropped by hand: only the slots `filled` marks can own anything.
    slots: std::mem::ManuallyDrop<[Slot<'a>; MAX_SLOTS]>,
    /// A bit per slot ever written.
    filled: u64,
    /// The problems met, in order (at most [`MAX_PROBLEMS`]), each with the slot of the field
    /// at fault (`None` for an object that holds other fields: every source reading under it).
    pub(crate) problems: Vec<(Option<u8>, Problem)>,
    /// Whether more problems were met than kept.
    pub(crate) more_problems: bool,
    /// Problems met in superseded maps, kept aside until their object ends (the object's schema
    /// node, the map's slot): a map its sibling supersedes is not the event's.
    pub(crate) provisional: Vec<(usize, u8, Problem)>,
}

/// The most problems a view keeps.
pub(crate) const MAX_PROBLEMS: usize = 8;

impl Drop for EventView<'_> {
    fn drop(&mut self) {
        // the other slots were never written: they hold `Slot::Empty`, which owns nothing
        let mut filled = self.filled;
        while filled != 0 {
            let slot = filled.trailing_zeros() as usize;
            if let Some(slot) = self.slots.get_mut(slot) {
                // only maps, lists and unescaped strings own memory
                if matches!(
                    slot,
                    Slot::Map(_) | Slot::List(_) | Slot::Str(RawStr(Cow::Owned(_)))
                ) {
                    drop(std::mem::take(slot));
                }
            }
            filled &= filled - 1;
        }
    }
}

impl fmt::Debug for EventView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filled: Vec<_> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !matches!(slot, Slot::Empty))
            .collect();
        f.debug_struct("EventView")
            .field("slots", &filled)
            .field("problems", &self.problems)
            .finish()
    }
}

impl<'a> EventView<'a> {
    /// Reads `payload` against `schema` and hands `read` the view — or `None` when the payload
    /// is not a JSON object (malformed JSON, or another JSON value) — without moving it: the
    /// view is filled in place, and `read`'s answer is returned as it is.
    #[inline]
    pub fn parse<R>(
        schema: &Schema,
        payload: &'a [u8],
        read: impl FnOnce(Option<&EventView<'a>>) -> R,
    ) -> R {
        let mut view = EventView {
            slots: std::mem::ManuallyDrop::new([const { Slot::Empty }; MAX_SLOTS]),
            filled: 0,
            problems: Vec::new(),
            more_problems: false,
            provisional: Vec::new(),
        };
        if scan::scan(schema, payload, &mut view) {
            read(Some(&view))
        } else {
            read(None)
        }
    }

    /// Writes a slot (`index` < [`MAX_SLOTS`], checked by the schema).
    #[inline]
    pub(crate) fn set(&mut self, index: usize, value: Slot<'a>) {
        let bit = 1 << index;
        if let Some(slot) = self.slots.get_mut(index) {
            if self.filled & bit == 0 {
                // a slot never written holds `Slot::Empty`: nothing to drop (and no call to
                // `Slot`'s drop glue on the hot path)
                std::mem::forget(std::mem::replace(slot, value));
            } else {
                *slot = value;
            }
            self.filled |= bit;
        }
    }

    /// Whether a slot holds a value.
    #[inline]
    pub(crate) fn is_filled(&self, index: usize) -> bool {
        self.filled & (1 << index) != 0
            && self
                .slots
                .get(index)
                .is_some_and(|slot| !matches!(slot, Slot::Empty))
    }

    /// Empties a slot.
    #[inline]
    pub(crate) fn clear(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Slot::Empty;
            self.filled &= !(1 << index);
        }
    }

    /// Whether any slot of `mask` (a bit per slot index) was written: a quick test that an
    /// event carries none of some fields.
    #[inline]
    pub fn any_written(&self, mask: u64) -> bool {
        self.filled & mask != 0
    }

    /// The first mistyped or repeated field met, if any.
    #[inline]
    pub fn problem(&self) -> Option<&Problem> {
        self.problems.first().map(|(_, problem)| problem)
    }

    /// The first problem with a field `binding`'s source reads (or with an object holding
    /// fields: every source's), if any: a field another source declares, mistyped, is not this
    /// source's concern. When more problems were met than kept, the first problem of all.
    #[inline]
    pub fn problem_for(&self, binding: &Binding) -> Option<&Problem> {
        if self.problems.is_empty() {
            return None;
        }
        let relevant = self
            .problems
            .iter()
            .find(|(slot, _)| slot.is_none_or(|slot| binding.reads(slot)))
            .map(|(_, problem)| problem);
        if relevant.is_none() && self.more_problems {
            return self.problem();
        }
        relevant
    }

    /// The value read for the schema's `index`th field (for tests that check the reader against
    /// a model; sources read through [`SourceView`]).
    #[doc(hidden)]
    pub fn slot(&self, index: usize) -> Option<&Slot<'a>> {
        self.slots.get(index)
    }

    /// This view as `binding`'s source reads it.
    #[inline]
    pub fn for_source<'v>(&'v self, binding: &'v Binding) -> SourceView<'v, 'a> {
        SourceView::new(self, binding)
    }
}
