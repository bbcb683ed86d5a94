//! The fields the sources declare, merged into one schema, and the typed handles that read them.

use std::{
    borrow::Cow,
    fmt,
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};

use super::{EventView, Pairs, RawStr, StrList};

/// The most fields a schema holds (over all enabled sources); a schema with more is a
/// [`SchemaError::TooManyFields`]. At most 64: the view marks written slots in a 64-bit mask.
pub const MAX_SLOTS: usize = 48;

/// The most members a schema object declares (its repeated-field check is a 64-bit mask).
const MAX_MEMBERS: usize = 64;

/// What a declared field holds, and so which JSON values it accepts (`null` always reads as
/// absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    Str,
    /// `true` or `false`.
    Flag,
    /// An object whose values are strings or arrays of strings (`null`s skipped), read as
    /// ordered pairs: a header or query map in either form.
    Map,
    /// An array of strings (`null`s skipped).
    List,
    /// Any value but `null`, skipped unread: only its presence is kept.
    Present,
    /// A number, kept as its JSON text (`1705406400123`): read it with `str::parse`.
    Number,
}

impl Shape {
    /// What the shape accepts, for error messages.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Shape::Str => "a string",
            Shape::Flag => "a boolean",
            Shape::Map => "an object of strings or of arrays of strings",
            Shape::List => "an array of strings",
            Shape::Present => "a value",
            Shape::Number => "a number",
        }
    }
}

/// One field a source reads: a dotted JSON path from the event's root (`requestContext.http.method`)
/// and its [`Shape`]. Declared with [`fields!`](crate::fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    path: &'static str,
    shape: Shape,
    superseded_by: Option<&'static str>,
}

impl Field {
    /// A field at `path` holding `shape`.
    pub const fn new(path: &'static str, shape: Shape) -> Self {
        Self {
            path,
            shape,
            superseded_by: None,
        }
    }

    /// A map that gives way to the map at `other` (a sibling path) when that one is there and
    /// not `null`: REST and ALB events repeat `headers` in `multiValueHeaders`, whose every
    /// value wins. Met after `other`, the map is skipped unread; met before, it is read, and
    /// dropped when `other` follows.
    pub const fn superseded_by(mut self, other: &'static str) -> Self {
        self.superseded_by = Some(other);
        self
    }

    /// The dotted path.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// The sibling map that supersedes this one, if any.
    pub const fn superseding(&self) -> Option<&'static str> {
        self.superseded_by
    }
}

/// The value kinds a [`FieldRef`] reads, one per [`Shape`].
pub mod kind {
    /// A [`Shape::Str`](super::Shape::Str) field: `Option<&RawStr>`.
    #[derive(Debug)]
    pub enum Str {}
    /// A [`Shape::Flag`](super::Shape::Flag) field: `Option<bool>`.
    #[derive(Debug)]
    pub enum Flag {}
    /// A [`Shape::Map`](super::Shape::Map) field: `Option<&Pairs>`.
    #[derive(Debug)]
    pub enum Map {}
    /// A [`Shape::List`](super::Shape::List) field: `Option<&StrList>`.
    #[derive(Debug)]
    pub enum List {}
    /// A [`Shape::Present`](super::Shape::Present) field: `bool`.
    #[derive(Debug)]
    pub enum Present {}
    /// A [`Shape::Number`](super::Shape::Number) field: `Option<&RawStr>`, the number's text.
    #[derive(Debug)]
    pub enum Number {}
}

/// How a value kind is read out of its slot.
pub trait Kind {
    /// What [`SourceView::get`] returns for a field of this kind.
    type Value<'v, 'a: 'v>;
    #[doc(hidden)]
    fn read<'v, 'a: 'v>(slot: Option<&'v Slot<'a>>) -> Self::Value<'v, 'a>;
}

/// `Kind` for the kinds read as `Option<&T>` out of one `Slot` variant.
macro_rules! slot_kind {
    ($($kind:ident: $variant:ident => $value:ty;)*) => {$(
        impl Kind for kind::$kind {
            type Value<'v, 'a: 'v> = Option<&'v $value>;
            #[inline]
            fn read<'v, 'a: 'v>(slot: Option<&'v Slot<'a>>) -> Self::Value<'v, 'a> {
                match slot {
                    Some(Slot::$variant(value)) => Some(value),
                    _ => None,
                }
            }
        }
    )*};
}

slot_kind! {
    Str: Str => RawStr<'a>;
    Map: Map => Pairs<'a>;
    List: List => StrList<'a>;
    Number: Number => RawStr<'a>;
}

impl Kind for kind::Flag {
    type Value<'v, 'a: 'v> = Option<bool>;
    #[inline]
    fn read<'v, 'a: 'v>(slot: Option<&'v Slot<'a>>) -> Self::Value<'v, 'a> {
        match slot {
            Some(Slot::Flag(value)) => Some(*value),
            _ => None,
        }
    }
}

impl Kind for kind::Present {
    type Value<'v, 'a: 'v> = bool;
    #[inline]
    fn read<'v, 'a: 'v>(slot: Option<&'v Slot<'a>>) -> Self::Value<'v, 'a> {
        !matches!(slot, None | Some(Slot::Empty))
    }
}

/// A source's handle on one of its declared fields: its position in the source's declaration
/// list, typed by the value kind. Generated by [`fields!`](crate::fields).
pub struct FieldRef<K> {
    index: u8,
    kind: PhantomData<fn() -> K>,
}

impl<K> FieldRef<K> {
    #[doc(hidden)]
    pub const fn new(index: u8) -> Self {
        Self {
            index,
            kind: PhantomData,
        }
    }
}

impl<K> Clone for FieldRef<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for FieldRef<K> {}

impl<K> fmt::Debug for FieldRef<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldRef({})", self.index)
    }
}

/// Declares the fields a source reads: a static list for [`Schema::build`] and a typed
/// [`FieldRef`] constant per field, in declaration order.
///
/// ```
/// lambda_gateway_core::fields! {
///     /// The fields this source reads.
///     pub static FIELDS;
///     /// `httpMethod`.
///     pub const HTTP_METHOD: Str = "httpMethod";
///     /// `headers`, unless `multiValueHeaders` is there.
///     pub const HEADERS: Map = "headers", superseded_by "multiValueHeaders";
///     /// `multiValueHeaders`.
///     pub const MULTI_VALUE_HEADERS: Map = "multiValueHeaders";
///     /// `requestContext.elb`, present only on ALB events.
///     pub const ELB: Present = "requestContext.elb";
/// }
/// assert_eq!(FIELDS.len(), 4);
/// assert_eq!(FIELDS[0].path(), "httpMethod");
/// ```
#[macro_export]
macro_rules! fields {
    (
        $(#[$meta:meta])* $vis:vis static $all:ident;
        $( $(#[$fmeta:meta])* $fvis:vis const $name:ident : $kind:ident = $path:literal
            $(, superseded_by $other:literal)? ; )*
    ) => {
        $(#[$meta])*
        $vis static $all: &[$crate::event::Field] = &[
            $( $crate::event::Field::new($path, $crate::event::Shape::$kind)
                $( .superseded_by($other) )? ),*
        ];
        $crate::fields!(@refs 0u8; $( $(#[$fmeta])* $fvis $name $kind; )*);
    };
    (@refs $index:expr; ) => {};
    (@refs $index:expr; $(#[$fmeta:meta])* $fvis:vis $name:ident $kind:ident; $($rest:tt)*) => {
        $(#[$fmeta])*
        $fvis const $name: $crate::event::FieldRef<$crate::event::kind::$kind> =
            $crate::event::FieldRef::new($index);
        $crate::fields!(@refs $index + 1u8; $($rest)*);
    };
}

/// One field's value as read.
#[doc(hidden)]
#[derive(Debug, Default, PartialEq, Eq)]
pub enum Slot<'a> {
    /// Absent, `null`, or mistyped (see [`EventView::problem`]).
    #[default]
    Empty,
    /// A string.
    Str(RawStr<'a>),
    /// A boolean.
    Flag(bool),
    /// A map's pairs.
    Map(Pairs<'a>),
    /// A list of strings.
    List(StrList<'a>),
    /// A present value (skipped), or a present object whose members are other fields.
    Present,
    /// A number's JSON text.
    Number(RawStr<'a>),
}

/// What a slot's value is and where it sits.
#[derive(Debug)]
pub(crate) struct SlotInfo {
    pub(crate) path: &'static str,
    pub(crate) shape: Shape,
    /// A map read only when this slot (a sibling map) is empty.
    pub(crate) superseded_by: Option<u8>,
    /// The map this one supersedes: emptied when this one is read.
    pub(crate) supersedes: Option<u8>,
    /// For a superseded map: whether to skip it where it stands and read it at the end of its
    /// object only when its sibling did not come, rather than read it at once. Learnt from the
    /// events served (a function mostly serves one source): set when a map read at once was then
    /// superseded, cleared when a skipped one had to be read after all. Only the cost depends on
    /// it, never the view.
    defer: AtomicBool,
}

impl SlotInfo {
    /// Whether to defer reading this superseded map (see `defer`).
    #[inline]
    pub(crate) fn deferred(&self) -> bool {
        self.defer.load(Ordering::Relaxed)
    }

    /// Records whether deferring would have paid off for the last event.
    #[inline]
    pub(crate) fn learn(&self, defer: bool) {
        if self.defer.load(Ordering::Relaxed) != defer {
            self.defer.store(defer, Ordering::Relaxed);
        }
    }
}

/// A member of a schema object.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The first (up to) eight bytes of the key, little-endian: most keys are told apart here.
    pub(crate) head: u64,
    pub(crate) key: &'static [u8],
    /// Its dotted path, for problems.
    pub(crate) path: &'static str,
    /// The slot the value is read into (for an object with members: its presence).
    pub(crate) slot: Option<u8>,
    /// The object node of its members, when fields are declared under it.
    pub(crate) node: Option<u16>,
    /// The slot's shape, copied here from its [`SlotInfo`] so the reader looks at one place.
    pub(crate) shape: Shape,
    /// Whether the slot is a superseded map (see [`SlotInfo::superseded_by`]).
    pub(crate) superseded: bool,
    /// Whether the slot supersedes another map.
    pub(crate) supersedes: bool,
}

/// An object of the schema: its members, sorted by key length, with where each length starts.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) members: Vec<Member>,
    /// `members[by_len[n]..by_len[n + 1]]` are the keys of `n` bytes (`n` < 64).
    pub(crate) by_len: [u8; 65],
    /// By [`key_hash`]: the one member with that hash (its index + 1), [`NO_MEMBER`], or
    /// [`SHARED_HASH`] when several have it (then `by_len` is searched).
    pub(crate) by_hash: [u8; 64],
}

/// No member's key has this hash: the key is not a member.
const NO_MEMBER: u8 = 0;
/// Several members' keys have this hash.
const SHARED_HASH: u8 = u8::MAX;

/// A cheap hash of a key for [`Node::by_hash`]: its length and first and last bytes.
#[inline]
fn key_hash(key: &[u8]) -> usize {
    let (first, last) = match (key.first(), key.last()) {
        (Some(&first), Some(&last)) => (usize::from(first), usize::from(last)),
        _ => (0, 0),
    };
    (key.len().wrapping_mul(7) ^ first ^ last.wrapping_mul(3)) & 63
}

impl Default for Node {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            by_len: [0; 65],
            by_hash: [NO_MEMBER; 64],
        }
    }
}

/// The first (up to) eight bytes of `key`, little-endian, zero-padded.
#[inline]
pub(crate) fn key_head(key: &[u8]) -> u64 {
    if let Some(word) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*word);
    }
    let mut head = 0u64;
    for (i, &byte) in key.iter().enumerate() {
        head |= u64::from(byte) << (8 * i);
    }
    head
}

/// Whether two keys of the same length, whose first eight bytes are equal, are equal: one more
/// word compared for keys of up to 16 bytes (the last eight, overlapping), the rest otherwise.
#[inline]
fn same_tail(a: &[u8], b: &[u8]) -> bool {
    match (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(x), Some(y)) if a.len() <= 16 => x == y,
        _ => a.get(8..) == b.get(8..),
    }
}

impl Node {
    /// The index of the member named `key`: most keys that are not members are told by their
    /// hash alone, most that are by one comparison.
    #[inline]
    pub(crate) fn find(&self, key: &[u8]) -> Option<usize> {
        match self.by_hash.get(key_hash(key)).copied() {
            None | Some(NO_MEMBER) => None,
            Some(SHARED_HASH) => self.find_by_len(key),
            Some(entry) => {
                let index = usize::from(entry - 1);
                let member = self.members.get(index)?;
                (member.key.len() == key.len()
                    && member.head == key_head(key)
                    && (key.len() <= 8 || same_tail(member.key, key)))
                .then_some(index)
            }
        }
    }

    /// [`find`](Self::find) among the members of the key's length.
    fn find_by_len(&self, key: &[u8]) -> Option<usize> {
        let len = key.len();
        let (Some(&start), Some(&end)) = (self.by_len.get(len), self.by_len.get(len + 1)) else {
            return None;
        };
        if start == end {
            return None;
        }
        let (start, end) = (usize::from(start), usize::from(end));
        let head = key_head(key);
        self.members
            .get(start..end)?
            .iter()
            .position(|member| member.head == head && (len <= 8 || same_tail(member.key, key)))
            .map(|i| start + i)
    }
}

/// The merged fields of the enabled sources: one object tree the reader walks, and a slot per
/// distinct path.
#[derive(Debug)]
pub struct Schema {
    pub(crate) nodes: Vec<Node>,
    pub(crate) slots: Vec<SlotInfo>,
    bindings: Vec<Binding>,
}

/// Where one source's declared fields are in the schema's slots, in declaration order.
#[derive(Debug, Clone)]
pub struct Binding {
    slots: Box<[u8]>,
    paths: &'static [Field],
}

impl Binding {
    /// Whether the source reads the field in `slot`.
    #[inline]
    pub(crate) fn reads(&self, slot: u8) -> bool {
        self.slots.contains(&slot)
    }
}

/// Why declarations cannot be merged into a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Two declarations of one path disagree on its shape.
    #[error("the field `{path}` is declared as {first:?} and as {second:?}")]
    ShapeConflict {
        /// The path.
        path: &'static str,
        /// The first shape declared.
        first: Shape,
        /// The other.
        second: Shape,
    },
    /// A path is declared as a value and as an object with fields under it.
    #[error(
        "the field `{path}` is declared as a {shape:?} value and as an object with fields under it"
    )]
    NotAnObject {
        /// The path.
        path: &'static str,
        /// Its value shape.
        shape: Shape,
    },
    /// A path is empty, or has an empty or over-long segment.
    #[error("the field path `{path}` is not a dotted path of keys of 1 to 63 bytes")]
    BadPath {
        /// The path.
        path: &'static str,
    },
    /// A `superseded_by` names no sibling map, or two declarations name different ones.
    #[error(
        "the map `{path}` is superseded by `{other}`, which is not a sibling map of it declared by the same source"
    )]
    BadSuperseding {
        /// The path.
        path: &'static str,
        /// What it named.
        other: &'static str,
    },
    /// More fields than [`MAX_SLOTS`], or more members in one object than 64.
    #[error("the schema has more than {MAX_SLOTS} fields, or an object with more than 64 members")]
    TooManyFields,
}

impl Schema {
    /// Merges the field lists of several sources (their order is the binding order): one path,
    /// one slot. A path declared with [`Shape::Present`] by one source and another shape by
    /// another takes the other shape (presence is a filled slot); an object path with fields
    /// under it may also be declared [`Shape::Present`].
    pub fn build(sources: &[&'static [Field]]) -> Result<Self, SchemaError> {
        let mut schema = Schema {
            nodes: vec![Node::default()],
            slots: Vec::new(),
            bindings: Vec::new(),
        };
        // members in declaration order first; sorted by length at the end
        for fields in sources {
            let mut slots = Vec::with_capacity(fields.len());
            for field in fields.iter() {
                slots.push(schema.add(field)?);
            }
            schema.bindings.push(Binding {
                slots: slots.into_boxed_slice(),
                paths: fields,
            });
        }
        for fields in sources {
            for field in fields.iter() {
                if let Some(other) = field.superseded_by {
                    schema.supersede(field, other)?;
                }
            }
        }
        for node in &mut schema.nodes {
            for member in &mut node.members {
                if let Some(info) = member
                    .slot
                    .and_then(|slot| schema.slots.get(usize::from(slot)))
                {
                    member.shape = info.shape;
                    member.superseded = info.superseded_by.is_some();
                    member.supersedes = info.supersedes.is_some();
                }
            }
            node.members.sort_by_key(|m| m.key.len());
            // `by_len[len]`: how many members have keys shorter than `len` (one pass over the
            // sorted members: this runs at the first event, on the cold-start path)
            let mut by_len = [0u8; 65];
            let mut shorter = 0;
            for (len, start) in by_len.iter_mut().enumerate() {
                while node.members.get(shorter).is_some_and(|m| m.key.len() < len) {
                    shorter += 1;
                }
                *start = u8::try_from(shorter).map_err(|_| SchemaError::TooManyFields)?;
            }
            node.by_len = by_len;
            let mut by_hash = [NO_MEMBER; 64];
            for (index, member) in node.members.iter().enumerate() {
                let entry = &mut by_hash[key_hash(member.key)];
                *entry = match *entry {
                    NO_MEMBER => u8::try_from(index + 1)
                        .ok()
                        .filter(|&e| e != SHARED_HASH)
                        .ok_or(SchemaError::TooManyFields)?,
                    _ => SHARED_HASH,
                };
            }
            node.by_hash = by_hash;
        }
        Ok(schema)
    }

    /// The slot of `field`, added with the nodes on its path when new.
    fn add(&mut self, field: &Field) -> Result<u8, SchemaError> {
        let path = field.path;
        // One pass over the path's bytes (this runs at the first event, on the cold-start path;
        // `split` and `rsplit_once` cost several times more here): `key` is each segment in
        // turn, `&path[..end]` the path up to it.
        let mut node = 0usize;
        let mut start = 0;
        let last = loop {
            let end = path.as_bytes()[start..]
                .iter()
                .position(|&b| b == b'.')
                .map_or(path.len(), |at| start + at);
            let key = &path[start..end];
            if key.is_empty() || key.len() >= 64 {
                return Err(SchemaError::BadPath { path });
            }
            if end == path.len() {
                break key;
            }
            start = end + 1;
            let parent = &path[..end];
            let at = self.member(node, key, parent)?;
            let member = &self.nodes[node].members[at];
            if let Some(slot) = member.slot {
                let shape = self.slots[usize::from(slot)].shape;
                if shape != Shape::Present {
                    return Err(SchemaError::NotAnObject {
                        path: parent,
                        shape,
                    });
                }
            }
            node = match member.node {
                Some(child) => usize::from(child),
                None => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].members[at].node =
                        Some(u16::try_from(child).map_err(|_| SchemaError::TooManyFields)?);
                    child
                }
            };
        };
        let at = self.member(node, last, path)?;
        let member = &self.nodes[node].members[at];
        if let Some(slot) = member.slot {
            let info = &mut self.slots[usize::from(slot)];
            match (info.shape, field.shape) {
                (a, b) if a == b => {}
                (Shape::Present, b) if member.node.is_none() => info.shape = b,
                (_, Shape::Present) => {}
                (first, second) => {
                    return Err(SchemaError::ShapeConflict {
                        path,
                        first,
                        second,
                    });
                }
            }
            return Ok(slot);
        }
        if member.node.is_some() && field.shape != Shape::Present {
            return Err(SchemaError::NotAnObject {
                path,
                shape: field.shape,
            });
        }
        let slot = self.slots.len();
        if slot >= MAX_SLOTS {
            return Err(SchemaError::TooManyFields);
        }
        self.slots.push(SlotInfo {
            path,
            shape: field.shape,
            superseded_by: None,
            supersedes: None,
            defer: AtomicBool::new(false),
        });
        let slot = u8::try_from(slot).map_err(|_| SchemaError::TooManyFields)?;
        self.nodes[node].members[at].slot = Some(slot);
        Ok(slot)
    }

    /// The index of `key` among `node`'s members, added when new.
    fn member(
        &mut self,
        node: usize,
        key: &'static str,
        path: &'static str,
    ) -> Result<usize, SchemaError> {
        let members = &mut self.nodes[node].members;
        if let Some(at) = members.iter().position(|m| m.key == key.as_bytes()) {
            return Ok(at);
        }
        if members.len() >= MAX_MEMBERS {
            return Err(SchemaError::TooManyFields);
        }
        members.push(Member {
            head: key_head(key.as_bytes()),
            key: key.as_bytes(),
            path,
            slot: None,
            node: None,
            shape: Shape::Present,
            superseded: false,
            supersedes: false,
        });
        Ok(members.len() - 1)
    }

    fn supersede(&mut self, field: &Field, other: &'static str) -> Result<(), SchemaError> {
        let bad = SchemaError::BadSuperseding {
            path: field.path,
            other,
        };
        let sibling =
            |a: &str, b: &str| a.rsplit_once('.').map(|p| p.0) == b.rsplit_once('.').map(|p| p.0);
        let find = |path: &str| self.slots.iter().position(|s| s.path == path);
        let (Some(slot), Some(by)) = (find(field.path), find(other)) else {
            return Err(bad);
        };
        if field.shape != Shape::Map
            || self.slots[by].shape != Shape::Map
            || !sibling(field.path, other)
        {
            return Err(bad);
        }
        let by_index = by;
        let by = u8::try_from(by).map_err(|_| SchemaError::TooManyFields)?;
        let this = u8::try_from(slot).map_err(|_| SchemaError::TooManyFields)?;
        match (
            self.slots[slot].superseded_by,
            self.slots[by_index].supersedes,
        ) {
            (Some(existing), _) if existing != by => Err(bad),
            (_, Some(existing)) if existing != this => Err(bad),
            _ => {
                self.slots[slot].superseded_by = Some(by);
                self.slots[by_index].supersedes = Some(this);
                Ok(())
            }
        }
    }

    /// The binding of the `index`th field list given to [`build`](Self::build).
    pub fn binding(&self, index: usize) -> Option<&Binding> {
        self.bindings.get(index)
    }

    /// The slot of the field at `path`, if the schema reads it.
    pub fn slot_of(&self, path: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.path == path)
    }

    /// How many distinct fields the schema reads.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the schema reads no field.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The dotted paths of every field, in slot order (for tests and tools that put odd values
    /// at each field).
    pub fn paths(&self) -> impl Iterator<Item = (&'static str, Shape)> + '_ {
        self.slots.iter().map(|s| (s.path, s.shape))
    }

    /// Every field as merged, in slot order: path, shape and the map superseding it.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.slots.iter().map(|s| Field {
            path: s.path,
            shape: s.shape,
            superseded_by: s
                .superseded_by
                .and_then(|by| self.slots.get(usize::from(by)))
                .map(|by| by.path),
        })
    }
}

/// A source's view of an event: its declared fields, by the handles [`fields!`](crate::fields)
/// generated.
#[derive(Debug, Clone, Copy)]
pub struct SourceView<'v, 'a> {
    view: &'v EventView<'a>,
    binding: &'v Binding,
}

impl<'v, 'a> SourceView<'v, 'a> {
    pub(crate) fn new(view: &'v EventView<'a>, binding: &'v Binding) -> Self {
        Self { view, binding }
    }

    /// The value of one of the source's fields (`None`/`false` when absent, `null` or mistyped).
    #[inline]
    pub fn get<K: Kind>(&self, field: FieldRef<K>) -> K::Value<'v, 'a> {
        let slot = self
            .binding
            .slots
            .get(usize::from(field.index))
            // a slot never written holds `Slot::Empty`, which every kind reads as absent
            .and_then(|&slot| self.view.slot(usize::from(slot)));
        K::read(slot)
    }

    /// The dotted path of one of the source's fields, for error messages.
    #[inline]
    pub fn path<K>(&self, field: FieldRef<K>) -> &'static str {
        self.binding
            .paths
            .get(usize::from(field.index))
            .map_or("(event)", Field::path)
    }

    /// The first mistyped or repeated field of the event among those this source reads (or an
    /// object holding them), if any.
    #[inline]
    pub fn problem(&self) -> Option<&'v Problem> {
        self.view.problem_for(self.binding)
    }
}

/// What was wrong with a field the schema reads: the first one met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its JSON path (`requestContext.requestId`, `multiValueHeaders.x-id[1]`).
    pub field: Cow<'static, str>,
    /// What was expected and found.
    pub reason: String,
}
