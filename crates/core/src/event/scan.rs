//! The event reader: one pass over the payload, driven by the [`Schema`].
//!
//! Keys are matched as byte slices against the schema object's members (by a hash of length and
//! first and last bytes), strings are found a word at a time, skipped values are checked and
//! stepped over in a tight loop (without recursion, so nesting depth costs no stack). A declared
//! field whose value has the wrong JSON type, or that is repeated, becomes one of the view's
//! [`Problem`]s (with the slot at fault) and is left empty; malformed JSON, or a payload that is
//! not an object, is no view at all.
//!
//! What it accepts is what serde_json accepts (checked against a model over `serde_json::Value`
//! by the mutation and fuzz tests), except that nesting deeper than [`MAX_DEPTH`] is refused,
//! strings are bytes (read strings are not checked to be UTF-8, as serde_json's byte strings are
//! not), and the strings it reads — and superseded maps, read or skipped — may hold raw control
//! bytes (a header value with one is then refused by the request, with a 400).

use std::borrow::Cow;

#[cfg(test)]
use super::SchemaError;
use super::{EventView, MAX_PROBLEMS, Pairs, Problem, RawStr, Schema, StrList};
use crate::{
    event::schema::{Member, Node, Shape, Slot},
    swar,
};

/// The deepest nesting a skipped value may have (serde_json's own limit for a `Value`).
const MAX_DEPTH: usize = 128;

/// Superseded maps of one object skipped where they stand: `(member index, value start)`.
#[derive(Debug, Default)]
struct Deferred {
    entries: [(usize, usize); 2],
    len: usize,
}

/// Why the reader stops reading a value.
#[derive(Debug)]
enum Stop {
    /// Malformed JSON: the payload is not read as a view.
    Malformed,
    /// A declared field's value is not of its shape: recorded as a problem, the value skipped.
    Mistyped(Box<Mistake>),
}

/// Where a mistyped value is and what was expected there.
#[derive(Debug)]
struct Mistake {
    /// Where the offending value starts.
    at: usize,
    /// The path below the field (`.x-id[1]`), empty for the field itself.
    below: String,
    expected: &'static str,
}

/// Malformed JSON (`?` turns it into [`Stop::Malformed`]).
#[derive(Debug)]
struct GiveUp;

impl From<GiveUp> for Stop {
    #[inline]
    fn from(_: GiveUp) -> Self {
        Stop::Malformed
    }
}

type Scan<T> = Result<T, GiveUp>;

/// A declared field's value, or why it is not one.
type Read<T> = Result<T, Stop>;

/// Reads `input` against `schema` into `view`, which must be empty; `false` when the input is
/// not a JSON object.
pub(super) fn scan<'a>(schema: &Schema, input: &'a [u8], view: &mut EventView<'a>) -> bool {
    let mut scanner = Scanner { input, pos: 0 };
    match scanner.token() {
        Ok(b'{') => {}
        _ => return false,
    }
    if scanner.object(schema, 0, view).is_err() {
        return false;
    }
    scanner.skip_whitespace();
    scanner.pos == input.len()
}

struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
}

/// The index of the first `"` or `\` at or after `from` (`bytes.len()` when there is none).
/// Control bytes are not looked for: read strings accept them, as serde_json's byte strings do.
#[inline]
fn find_quote_or_backslash(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while at + 8 <= bytes.len() {
        let x = swar::word(bytes, at);
        let mask = swar::equal(x, b'"') | swar::equal(x, b'\\');
        if mask != 0 {
            return at + swar::first(mask);
        }
        at += 8;
    }
    while at < bytes.len() && !matches!(bytes[at], b'"' | b'\\') {
        at += 1;
    }
    at
}

/// The index of the first `"`, `\` or control byte at or after `from` (`bytes.len()` when
/// there is none): skipped strings must not hold control bytes, as in serde_json.
#[inline]
fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while at + 8 <= bytes.len() {
        let x = swar::word(bytes, at);
        let mask = swar::equal(x, b'"') | swar::equal(x, b'\\') | swar::control(x);
        if mask != 0 {
            return at + swar::first(mask);
        }
        at += 8;
    }
    while at < bytes.len() && !matches!(bytes[at], b'"' | b'\\' | 0..0x20) {
        at += 1;
    }
    at
}

/// Appends a code point, or an unpaired surrogate, in UTF-8's byte layout (WTF-8).
fn push_wtf8(code: u32, out: &mut Vec<u8>) {
    // the casts keep the low bits on purpose
    match code {
        0..0x80 => out.push(code as u8),
        0x80..0x800 => {
            out.extend_from_slice(&[0xC0 | (code >> 6) as u8, 0x80 | (code & 0x3F) as u8])
        }
        0x800..0x1_0000 => out.extend_from_slice(&[
            0xE0 | (code >> 12) as u8,
            0x80 | (code >> 6 & 0x3F) as u8,
            0x80 | (code & 0x3F) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xF0 | (code >> 18) as u8,
            0x80 | (code >> 12 & 0x3F) as u8,
            0x80 | (code >> 6 & 0x3F) as u8,
            0x80 | (code & 0x3F) as u8,
        ]),
    }
}

fn hex_digit(byte: u8) -> Option<u32> {
    (byte as char).to_digit(16)
}

/// Appends a pair, reserving room for a typical map on the first one.
#[inline]
fn push_pair<'a>(pairs: &mut Vec<(RawStr<'a>, RawStr<'a>)>, name: RawStr<'a>, value: RawStr<'a>) {
    if pairs.capacity() == 0 {
        pairs.reserve(16);
    }
    pairs.push((name, value));
}

impl<'a> Scanner<'a> {
    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    fn token(&mut self) -> Scan<u8> {
        self.skip_whitespace();
        self.input.get(self.pos).copied().ok_or(GiveUp)
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Scan<()> {
        if self.token()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.input.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// After an array element: `true` when another one follows (`,` consumed), `false` at the
    /// end (`]` consumed).
    #[inline]
    fn next_element(&mut self) -> Scan<bool> {
        match self.token()? {
            b',' => {
                self.pos += 1;
                Ok(true)
            }
            b']' => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(GiveUp),
        }
    }

    /// `null` (consumed) → `true`; anything else is left in place → `false`.
    #[inline]
    fn null(&mut self) -> Scan<bool> {
        if self.token()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    // ------------------------------------------------------------------------ strings

    /// The rest of a string whose opening quote was consumed, escapes resolved.
    #[inline(always)]
    fn string_body(&mut self) -> Scan<RawStr<'a>> {
        let start = self.pos;
        let end = find_quote_or_backslash(self.input, start);
        match self.input.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(RawStr(Cow::Borrowed(&self.input[start..end])))
            }
            Some(_) => {
                self.pos = end;
                self.escaped_string_body(start)
            }
            None => Err(GiveUp),
        }
    }

    /// The rest of a string from its first backslash (at `self.pos`), copied out unescaped.
    #[cold]
    fn escaped_string_body(&mut self, start: usize) -> Scan<RawStr<'a>> {
        let mut out = Vec::with_capacity(self.pos - start + 32);
        out.extend_from_slice(&self.input[start..self.pos]);
        loop {
            match self.input.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(RawStr(Cow::Owned(out)));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.unescape(&mut out)?;
                }
                _ => return Err(GiveUp),
            }
            let end = find_quote_or_backslash(self.input, self.pos);
            out.extend_from_slice(&self.input[self.pos..end]);
            self.pos = end;
        }
    }

    /// One escape after its backslash, appended as UTF-8.
    fn unescape(&mut self, out: &mut Vec<u8>) -> Scan<()> {
        let byte = *self.input.get(self.pos).ok_or(GiveUp)?;
        self.pos += 1;
        let plain = match byte {
            b'"' | b'\\' | b'/' => byte,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(GiveUp),
        };
        out.push(plain);
        Ok(())
    }

    /// A `\u` escape after its `u`, as serde_json reads byte strings: a surrogate pair is one
    /// code point; an unpaired surrogate is kept as its three-byte (WTF-8) form, and whatever
    /// escape follows it is read on its own.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Scan<()> {
        let mut unit = self.hex4()?;
        loop {
            if !(0xD800..=0xDBFF).contains(&unit) {
                push_wtf8(unit, out);
                return Ok(());
            }
            match self.input.get(self.pos..self.pos + 2).ok_or(GiveUp)? {
                b"\\u" => self.pos += 2,
                [b'\\', _] => {
                    push_wtf8(unit, out);
                    self.pos += 1;
                    return self.unescape(out);
                }
                _ => {
                    push_wtf8(unit, out);
                    return Ok(());
                }
            }
            let low = self.hex4()?;
            if (0xDC00..=0xDFFF).contains(&low) {
                push_wtf8(0x1_0000 + ((unit - 0xD800) << 10 | (low - 0xDC00)), out);
                return Ok(());
            }
            push_wtf8(unit, out);
            unit = low;
        }
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.input.get(self.pos..self.pos + 4).ok_or(GiveUp)?;
        let mut value = 0;
        for &digit in digits {
            value = value << 4 | hex_digit(digit).ok_or(GiveUp)?;
        }
        self.pos += 4;
        Ok(value)
    }

    // ------------------------------------------------------------------------ skipping

    /// Steps over one value, checking it is well-formed JSON, without recursing: a bit per
    /// open container says whether it is an object.
    fn skip_value(&mut self) -> Scan<()> {
        self.skip_value_with::<false>()
    }

    /// Steps over a superseded map, accepting raw control bytes in its strings as reading it
    /// would: whether such a map is read or skipped (which depends on what the reader learnt
    /// from earlier events) must never change what an event is.
    fn skip_superseded(&mut self) -> Scan<()> {
        self.skip_value_with::<true>()
    }

    /// [`skip_value`](Self::skip_value); `LENIENT` accepts raw control bytes in strings.
    fn skip_value_with<const LENIENT: bool>(&mut self) -> Scan<()> {
        let mut objects: u128 = 0;
        let mut depth = 0usize;
        loop {
            // a value
            match self.token()? {
                b'"' => {
                    self.pos += 1;
                    self.skip_string_body::<LENIENT>()?;
                }
                open @ (b'{' | b'[') => {
                    self.pos += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.token()? == close {
                        self.pos += 1;
                    } else {
                        if depth >= MAX_DEPTH {
                            return Err(GiveUp);
                        }
                        objects = objects << 1 | u128::from(open == b'{');
                        depth += 1;
                        if open == b'{' {
                            self.skip_key::<LENIENT>()?;
                        }
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                _ => return Err(GiveUp),
            }
            // after a value: close what ends here, or go on to the next element
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let in_object = objects & 1 == 1;
                match self.token()? {
                    b',' => {
                        self.pos += 1;
                        if in_object {
                            self.skip_key::<LENIENT>()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return Err(GiveUp),
                }
                self.pos += 1;
                objects >>= 1;
                depth -= 1;
            }
        }
    }

    /// `"key":` inside a skipped object; keys are checked as strictly as values.
    #[inline]
    fn skip_key<const LENIENT: bool>(&mut self) -> Scan<()> {
        self.eat(b'"')?;
        self.skip_string_body::<LENIENT>()?;
        self.eat(b':')
    }

    fn skip_string_body<const LENIENT: bool>(&mut self) -> Scan<()> {
        loop {
            let at = if LENIENT {
                find_quote_or_backslash(self.input, self.pos)
            } else {
                find_special(self.input, self.pos)
            };
            match self.input.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos = at + 1;
                    match self.input.get(self.pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.hex4()?;
                        }
                        _ => return Err(GiveUp),
                    }
                }
                // a control byte, or the end of the input
                _ => return Err(GiveUp),
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn skip_number(&mut self) -> Scan<()> {
        let bytes = self.input;
        let digits = |mut at: usize| {
            let start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            (at > start).then_some(at).ok_or(GiveUp)
        };
        let mut at = self.pos;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        at = match bytes.get(at) {
            Some(b'0') => at + 1,
            Some(b'1'..=b'9') => digits(at)?,
            _ => return Err(GiveUp),
        };
        if bytes.get(at) == Some(&b'.') {
            at = digits(at + 1)?;
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            at = digits(at)?;
        }
        // serde_json rejects a leading zero followed by digits (`01`)
        if bytes.get(at).is_some_and(u8::is_ascii_digit) {
            return Err(GiveUp);
        }
        self.pos = at;
        Ok(())
    }

    // ------------------------------------------------------------------------ the schema

    /// Reads an object of the schema (`{` next) into the view.
    fn object(&mut self, schema: &Schema, node_index: usize, view: &mut EventView<'a>) -> Scan<()> {
        let Some(node) = schema.nodes.get(node_index) else {
            return self.skip_value();
        };
        self.eat(b'{')?;
        let mut seen = 0u64;
        // superseded maps skipped where they stand: (member index, where the value starts)
        let mut deferred = Deferred::default();
        if self.token()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.eat(b'"')?;
            let key = self.string_body()?;
            self.eat(b':')?;
            match node.find(key.as_bytes()) {
                None => self.skip_value()?,
                Some(index) => {
                    let member = &node.members[index];
                    if seen & 1 << index != 0 {
                        let at = self.value_start()?;
                        problem(
                            view,
                            member.node.map_or(member.slot, |_| None),
                            member.path.into(),
                            "repeated; an event carries each field once",
                            self.input,
                            at,
                            false,
                        );
                        self.skip_value()?;
                    } else {
                        seen |= 1 << index;
                        self.member(schema, node_index, member, index, view, &mut deferred)?;
                    }
                }
            }
            match self.token()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(GiveUp),
            }
        }
        if deferred.len > 0 {
            self.read_deferred(schema, node_index, node, view, &deferred)?;
        }
        if !view.provisional.is_empty() {
            promote(view, node_index);
        }
        Ok(())
    }

    /// The superseded maps of an object skipped where they stood: read those whose sibling did
    /// not come.
    #[cold]
    fn read_deferred(
        &mut self,
        schema: &Schema,
        node_index: usize,
        node: &Node,
        view: &mut EventView<'a>,
        deferred: &Deferred,
    ) -> Scan<()> {
        let end = self.pos;
        for &(index, at) in deferred.entries.iter().take(deferred.len) {
            let Some(member) = node.members.get(index) else {
                continue;
            };
            let Some(slot) = member.slot.map(usize::from) else {
                continue;
            };
            let info = &schema.slots[slot];
            if info
                .superseded_by
                .is_some_and(|by| view.is_filled(usize::from(by)))
            {
                continue;
            }
            // deferring did not pay off
            info.learn(false);
            self.pos = at;
            self.read_into(node_index, member, slot, info.shape, view)?;
        }
        self.pos = end;
        Ok(())
    }

    /// Where the next value starts (after whitespace).
    #[inline]
    fn value_start(&mut self) -> Scan<usize> {
        self.token()?;
        Ok(self.pos)
    }

    /// One declared member's value.
    #[inline]
    fn member(
        &mut self,
        schema: &Schema,
        node: usize,
        member: &Member,
        index: usize,
        view: &mut EventView<'a>,
        deferred: &mut Deferred,
    ) -> Scan<()> {
        if let Some(child) = member.node {
            return match self.token()? {
                b'n' => self.literal(b"null"),
                b'{' => {
                    if let Some(slot) = member.slot {
                        view.set(usize::from(slot), Slot::Present);
                    }
                    self.object(schema, usize::from(child), view)
                }
                _ => {
                    let at = self.pos;
                    problem(
                        view,
                        None,
                        member.path.into(),
                        "an object",
                        self.input,
                        at,
                        true,
                    );
                    self.skip_value()
                }
            };
        }
        let Some(slot) = member.slot.map(usize::from) else {
            return self.skip_value();
        };
        if member.superseded {
            let info = &schema.slots[slot];
            if info
                .superseded_by
                .is_some_and(|by| view.is_filled(usize::from(by)))
            {
                return self.skip_superseded();
            }
            if info.deferred() && deferred.len < deferred.entries.len() {
                if self.null()? {
                    return Ok(());
                }
                deferred.entries[deferred.len] = (index, self.pos);
                deferred.len += 1;
                return self.skip_superseded();
            }
        }
        self.read_into(node, member, slot, member.shape, view)?;
        if member.supersedes {
            if let Some(superseded) = schema.slots[slot].supersedes.map(usize::from) {
                if view.is_filled(slot) {
                    if view.is_filled(superseded) {
                        // read in vain: next time, skip it until the end of its object
                        view.clear(superseded);
                        schema.slots[superseded].learn(true);
                    }
                    if !view.provisional.is_empty() {
                        view.provisional
                            .retain(|(_, slot, _)| usize::from(*slot) != superseded);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads a value of `shape` into `slot`; a mistyped one is a problem and is skipped.
    #[inline]
    fn read_into(
        &mut self,
        node: usize,
        member: &Member,
        slot: usize,
        shape: Shape,
        view: &mut EventView<'a>,
    ) -> Scan<()> {
        let start = self.value_start()?;
        let read = match shape {
            Shape::Str => self.opt_string().map(|v| v.map(Slot::Str)),
            Shape::Flag => self.opt_bool().map(|v| v.map(Slot::Flag)),
            Shape::Map => self.opt_map().map(|v| v.map(Slot::Map)),
            Shape::List => self.opt_list().map(|v| v.map(Slot::List)),
            Shape::Number => self.opt_number().map(|v| v.map(Slot::Number)),
            Shape::Present => {
                if self.null()? {
                    Ok(None)
                } else {
                    self.skip_value()?;
                    Ok(Some(Slot::Present))
                }
            }
        };
        match read {
            Ok(Some(value)) => view.set(slot, value),
            Ok(None) => {}
            Err(Stop::Malformed) => return Err(GiveUp),
            Err(Stop::Mistyped(mistake)) => self.mistyped(node, member, *mistake, start, view)?,
        }
        Ok(())
    }

    /// Records a mistyped value as the view's problem and skips it.
    #[cold]
    #[inline(never)]
    fn mistyped(
        &mut self,
        node: usize,
        member: &Member,
        mistake: Mistake,
        start: usize,
        view: &mut EventView<'a>,
    ) -> Scan<()> {
        let field = if mistake.below.is_empty() {
            Cow::Borrowed(member.path)
        } else {
            Cow::Owned(format!("{}{}", member.path, mistake.below))
        };
        if member.superseded {
            // kept aside until its object ends: a map its sibling supersedes is not the event's
            // (and a deferred one would not even have been looked at)
            if let Some(slot) = member.slot {
                let problem = describe(field, mistake.expected, self.input, mistake.at, true);
                view.provisional.push((node, slot, problem));
            }
            self.pos = start;
            return self.skip_superseded();
        }
        problem(
            view,
            member.slot,
            field,
            mistake.expected,
            self.input,
            mistake.at,
            true,
        );
        self.pos = start;
        self.skip_value()
    }

    /// A string or `null`.
    #[inline]
    fn opt_string(&mut self) -> Read<Option<RawStr<'a>>> {
        Ok(match self.token()? {
            b'"' => {
                self.pos += 1;
                Some(self.string_body()?)
            }
            b'n' => {
                self.literal(b"null")?;
                None
            }
            _ => return Err(mistyped(self.pos, String::new(), Shape::Str.expected())),
        })
    }

    fn opt_number(&mut self) -> Read<Option<RawStr<'a>>> {
        Ok(match self.token()? {
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.skip_number()?;
                Some(RawStr(Cow::Borrowed(&self.input[start..self.pos])))
            }
            b'n' => self.literal(b"null").map(|()| None)?,
            _ => return Err(mistyped(self.pos, String::new(), Shape::Number.expected())),
        })
    }

    fn opt_bool(&mut self) -> Read<Option<bool>> {
        Ok(match self.token()? {
            b't' => self.literal(b"true").map(|()| Some(true))?,
            b'f' => self.literal(b"false").map(|()| Some(false))?,
            b'n' => self.literal(b"null").map(|()| None)?,
            _ => return Err(mistyped(self.pos, String::new(), Shape::Flag.expected())),
        })
    }

    #[inline(never)]
    fn opt_map(&mut self) -> Read<Option<Pairs<'a>>> {
        match self.token()? {
            b'n' => {
                self.literal(b"null")?;
                return Ok(None);
            }
            b'{' => self.pos += 1,
            _ => return Err(mistyped(self.pos, String::new(), Shape::Map.expected())),
        }
        // allocated on the first pair: empty maps (`{}`) are common and cost nothing
        let mut pairs = Vec::new();
        if self.token()? == b'}' {
            self.pos += 1;
            return Ok(Some(Pairs(pairs)));
        }
        loop {
            self.eat(b'"')?;
            let name = self.string_body()?;
            self.eat(b':')?;
            match self.token()? {
                b'"' => {
                    self.pos += 1;
                    let value = self.string_body()?;
                    push_pair(&mut pairs, name, value);
                }
                b'n' => self.literal(b"null")?,
                b'[' => {
                    self.pos += 1;
                    if self.token()? == b']' {
                        self.pos += 1;
                    } else {
                        let mut i = 0usize;
                        loop {
                            match self.token()? {
                                b'"' => {
                                    self.pos += 1;
                                    let value = self.string_body()?;
                                    push_pair(&mut pairs, name.clone(), value);
                                }
                                b'n' => self.literal(b"null")?,
                                _ => {
                                    let below = format!(".{}[{i}]", short_key(name.as_bytes()));
                                    return Err(mistyped(self.pos, below, Shape::Str.expected()));
                                }
                            }
                            if !self.next_element()? {
                                break;
                            }
                            i += 1;
                        }
                    }
                }
                _ => {
                    let below = format!(".{}", short_key(name.as_bytes()));
                    return Err(mistyped(self.pos, below, "a string or an array of strings"));
                }
            }
            match self.token()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(Some(Pairs(pairs)));
                }
                _ => return Err(Stop::Malformed),
            }
        }
    }

    fn opt_list(&mut self) -> Read<Option<StrList<'a>>> {
        match self.token()? {
            b'n' => {
                self.literal(b"null")?;
                return Ok(None);
            }
            b'[' => self.pos += 1,
            _ => return Err(mistyped(self.pos, String::new(), Shape::List.expected())),
        }
        let mut list = Vec::new();
        if self.token()? == b']' {
            self.pos += 1;
            return Ok(Some(StrList(list)));
        }
        let mut i = 0usize;
        loop {
            match self.token()? {
                b'"' => {
                    self.pos += 1;
                    list.push(self.string_body()?);
                }
                b'n' => self.literal(b"null")?,
                _ => return Err(mistyped(self.pos, format!("[{i}]"), Shape::Str.expected())),
            }
            if !self.next_element()? {
                return Ok(Some(StrList(list)));
            }
            i += 1;
        }
    }
}

#[cold]
fn mistyped(at: usize, below: String, expected: &'static str) -> Stop {
    Stop::Mistyped(Box::new(Mistake {
        at,
        below,
        expected,
    }))
}

/// Records the view's problem, unless one was met before: `field` and, when `found` is set,
/// "expected {what}, found ..." (the value at `at` described), else `what` as the reason.
#[cold]
#[inline(never)]
fn problem(
    view: &mut EventView<'_>,
    slot: Option<u8>,
    field: Cow<'static, str>,
    what: &str,
    input: &[u8],
    at: usize,
    found: bool,
) {
    if view.problems.len() >= MAX_PROBLEMS {
        view.more_problems = true;
        return;
    }
    let problem = describe(field, what, input, at, found);
    view.problems.push((slot, problem));
}

/// The problems of the superseded maps of the object of schema node `node`, that object read:
/// those whose sibling did not supersede them become the view's.
#[cold]
fn promote(view: &mut EventView<'_>, node: usize) {
    let mut kept = Vec::new();
    for (of, slot, problem) in std::mem::take(&mut view.provisional) {
        if of != node {
            kept.push((of, slot, problem));
        } else if view.problems.len() < MAX_PROBLEMS {
            view.problems.push((Some(slot), problem));
        } else {
            view.more_problems = true;
        }
    }
    view.provisional = kept;
}

/// The problem of `field`: "expected {what}, found ..." (the value at `at` described) when
/// `found` is set, else `what` as the reason.
fn describe(field: Cow<'static, str>, what: &str, input: &[u8], at: usize, found: bool) -> Problem {
    let reason = if found {
        let value = input
            .get(at..)
            .and_then(|rest| {
                serde_json::Deserializer::from_slice(rest)
                    .into_iter::<serde_json::Value>()
                    .next()
            })
            .and_then(Result::ok);
        match value {
            Some(value) => crate::event::expected(what, &value),
            None => format!("expected {what}"),
        }
    } else {
        what.to_owned()
    };
    Problem { field, reason }
}

/// A map key as shown in a problem's path: cut after 200 characters.
fn short_key(key: &[u8]) -> String {
    crate::event::short(&String::from_utf8_lossy(key)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, Schema, Shape, SourceView};

    crate::fields! {
        static FIELDS;
        const VERSION: Str = "version";
        const PATH: Str = "path";
        const METHOD: Str = "httpMethod";
        const BODY: Str = "body";
        const BASE64: Flag = "isBase64Encoded";
        const HEADERS: Map = "headers", superseded_by "multiValueHeaders";
        const MULTI_HEADERS: Map = "multiValueHeaders";
        const QUERY: Map = "queryStringParameters", superseded_by "multiValueQueryStringParameters";
        const MULTI_QUERY: Map = "multiValueQueryStringParameters";
        const COOKIES: List = "cookies";
        const ELB: Present = "requestContext.elb";
        const HTTP: Present = "requestContext.http";
        const HTTP_METHOD: Str = "requestContext.http.method";
        const SOURCE_IP: Str = "requestContext.identity.sourceIp";
        const STAGE: Str = "requestContext.stage";
        const CONNECTED_AT: Number = "requestContext.connectedAt";
    }

    fn schema() -> Schema {
        Schema::build(&[FIELDS]).unwrap()
    }

    /// Reads `input` and hands `check` the view, or `None` when it is not a JSON object.
    fn read<R>(input: &str, check: impl FnOnce(Option<SourceView<'_, '_>>) -> R) -> R {
        let schema = schema();
        let binding = schema.binding(0).unwrap().clone();
        EventView::parse(&schema, input.as_bytes(), |view| {
            check(view.map(|view| view.for_source(&binding)))
        })
    }

    fn text(value: Option<&RawStr<'_>>) -> Option<String> {
        value.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    fn pairs(value: Option<&Pairs<'_>>) -> Vec<(String, String)> {
        value.map_or_else(Vec::new, |pairs| {
            pairs
                .iter()
                .map(|(k, v)| (text(Some(k)).unwrap(), text(Some(v)).unwrap()))
                .collect()
        })
    }

    fn problem(input: &str) -> Option<(String, String)> {
        read(input, |view| {
            view.unwrap()
                .problem()
                .map(|p| (p.field.to_string(), p.reason.clone()))
        })
    }

    #[test]
    fn strings_are_borrowed_unless_escaped_and_escapes_resolve() {
        read(
            r#"{"path":"/a","body":"q\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00 x","httpMethod":"G\u0045T"}"#,
            |view| {
                let view = view.unwrap();
                assert!(view.get(PATH).unwrap().is_borrowed());
                assert_eq!(
                    view.get(BODY).unwrap().as_bytes(),
                    "q\"\\/\u{8}\u{c}\n\r\té€😀 x".as_bytes()
                );
                assert_eq!(view.get(METHOD).unwrap().as_bytes(), b"GET");
                assert!(view.problem().is_none());
            },
        );
    }

    #[test]
    fn unpaired_surrogates_are_kept_in_their_three_byte_form() {
        for (escapes, bytes) in [
            (r"\ud800", &b"\xed\xa0\x80"[..]),
            (r"\udc00", b"\xed\xb0\x80"),
            (r"\ud800x", b"\xed\xa0\x80x"),
            (r"\ud800\n", b"\xed\xa0\x80\n"),
            (r"\ud800\ud800\udc00", b"\xed\xa0\x80\xf0\x90\x80\x80"),
            (r"\udbff\udfff", b"\xf4\x8f\xbf\xbf"),
        ] {
            let input = format!(r#"{{"body":"a{escapes}b"}}"#);
            read(&input, |view| {
                let body = view.unwrap().get(BODY).unwrap().as_bytes().to_vec();
                assert_eq!(&body[1..body.len() - 1], bytes, "{input}");
            });
        }
        assert!(read(r#"{"body":"\ud800\u12"}"#, |view| view.is_none()));
    }

    #[test]
    fn escaped_keys_match_their_field() {
        read(r#"{"pat\u0068":"/a"}"#, |view| {
            assert_eq!(text(view.unwrap().get(PATH)).unwrap(), "/a");
        });
    }

    #[test]
    fn long_strings_cross_the_word_paths() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 40, 100, 1000] {
            let body = "x".repeat(len);
            let input = format!(r#"{{"body":"{body}","path":"/{body}\"q"}}"#);
            read(&input, |view| {
                let view = view.unwrap();
                assert_eq!(text(view.get(BODY)).unwrap(), body);
                assert_eq!(text(view.get(PATH)).unwrap(), format!("/{body}\"q"));
            });
        }
    }

    #[test]
    fn maps_flatten_skip_nulls_and_keep_order() {
        read(
            r#"{"multiValueHeaders":{"a":["1",null,"2"],"b":[],"c":null,"d":"3"},"cookies":["x=1",null]}"#,
            |view| {
                let view = view.unwrap();
                assert_eq!(
                    pairs(view.get(MULTI_HEADERS)),
                    [("a", "1"), ("a", "2"), ("d", "3")].map(|(a, b)| (a.into(), b.into()))
                );
                assert_eq!(view.get(COOKIES).unwrap().0.len(), 1);
            },
        );
    }

    #[test]
    fn superseded_maps_are_read_only_without_their_sibling() {
        let headers = |input: &str| read(input, |view| pairs(view.unwrap().get(HEADERS)).len());
        // read when no multi-value map follows, skipped when one does, read when it is null
        assert_eq!(headers(r#"{"headers":{"a":"1"},"httpMethod":"GET"}"#), 1);
        assert_eq!(
            headers(r#"{"headers":{"a":"1"},"multiValueHeaders":{"a":["1","2"]}}"#),
            0
        );
        assert_eq!(
            headers(r#"{"multiValueHeaders":{"a":["1","2"]},"headers":{"a":"1"}}"#),
            0
        );
        assert_eq!(
            headers(r#"{"headers":{"a":"1"},"multiValueHeaders":null}"#),
            1
        );
        // a superseded map is still checked as JSON
        assert!(read(
            "{\"headers\":{\"a\":\"\u{1}\"},\"multiValueHeaders\":{}}",
            |view| view.is_some()
        ));
        assert!(read(
            "{\"headers\":{\"a\":\"\u{1}\",},\"multiValueHeaders\":{}}",
            |view| view.is_none()
        ));
        // and its type when it is read
        assert_eq!(
            problem(r#"{"headers":{"a":5}}"#),
            Some((
                "headers.a".into(),
                "expected a string or an array of strings, found the number 5".into()
            ))
        );
        // both superseded maps of one object read
        read(
            r#"{"headers":{"a":"1"},"queryStringParameters":{"q":"1"}}"#,
            |view| {
                let view = view.unwrap();
                assert_eq!(pairs(view.get(HEADERS)).len(), 1);
                assert_eq!(pairs(view.get(QUERY)).len(), 1);
                assert!(view.get(MULTI_QUERY).is_none());
            },
        );
    }

    #[test]
    fn what_is_learnt_about_superseded_maps_changes_no_view() {
        // one schema for every event: whether a superseded map is deferred is learnt
        let schema = schema();
        let binding = schema.binding(0).unwrap().clone();
        let rest = r#"{"headers":{"a":"1"},"multiValueHeaders":{"a":["1","2"]},"version":"1.0"}"#;
        let v2 = r#"{"version":"2.0","headers":{"a":"1","b":"2"},"isBase64Encoded":false}"#;
        let late = r#"{"headers":{"a":"1"},"queryStringParameters":{"q":"1"},"multiValueQueryStringParameters":null}"#;
        for input in [rest, rest, v2, v2, rest, late, late, v2, rest, v2] {
            let (headers, multi, query) = EventView::parse(&schema, input.as_bytes(), |view| {
                let view = view.unwrap().for_source(&binding);
                assert!(view.problem().is_none());
                assert!(view.get(VERSION).is_some() || input == late);
                assert!(view.get(BASE64).is_none() || input == v2);
                (
                    pairs(view.get(HEADERS)).len(),
                    pairs(view.get(MULTI_HEADERS)).len(),
                    pairs(view.get(QUERY)).len(),
                )
            });
            let expected = match input {
                _ if input == rest => (0, 2, 0),
                _ if input == v2 => (2, 0, 0),
                _ => (1, 0, 1),
            };
            assert_eq!((headers, multi, query), expected, "{input}");
        }
        // nor what an event is: a superseded map's mistyped value or raw control byte is
        // never the event's problem, whether the map was read or skipped
        let odd = [
            r#"{"headers":{"a":5},"multiValueHeaders":{"a":["1"]}}"#,
            "{\"headers\":{\"a\":\"\u{15}\"},\"multiValueHeaders\":{\"a\":[\"1\"]}}",
            r#"{"multiValueHeaders":{"a":["1"]},"headers":{"a":5}}"#,
            r#"{"headers":{"a":[true]},"httpMethod":5,"multiValueHeaders":{"a":["1"]}}"#,
            // the map's own object ends after another one did
            r#"{"headers":{"a":5},"requestContext":{"stage":"s"},"multiValueHeaders":{"a":["1"]}}"#,
        ];
        for round in 0..2 {
            for input in odd {
                let problem = EventView::parse(&schema, input.as_bytes(), |view| {
                    view.map(|view| view.problem().map(|p| p.field.to_string()))
                });
                let expected = input
                    .contains(r#""httpMethod":5"#)
                    .then(|| "httpMethod".to_owned());
                assert_eq!(problem, Some(expected), "round {round}: {input}");
            }
            // two superseded maps, one superseded, the other not: its problem stays
            let two =
                r#"{"headers":{"a":5},"queryStringParameters":{"q":5},"multiValueHeaders":{}}"#;
            let problem = EventView::parse(&schema, two.as_bytes(), |view| {
                view.and_then(|view| view.problem().map(|p| p.field.to_string()))
            });
            assert_eq!(
                problem.as_deref(),
                Some("queryStringParameters.q"),
                "round {round}"
            );
            // learn the other way round
            EventView::parse(&schema, v2.as_bytes(), |_| ());
        }
    }

    #[test]
    fn nested_fields_and_presence_are_read() {
        read(
            r#"{"requestContext":{"elb":{"targetGroupArn":"x"},"http":{"method":"GET","x":[1,{"y":null}]},"identity":{"sourceIp":"5.6.7.8"},"stage":"s","connectedAt":1705406400123}}"#,
            |view| {
                let view = view.unwrap();
                assert!(view.get(ELB) && view.get(HTTP));
                assert_eq!(text(view.get(HTTP_METHOD)).unwrap(), "GET");
                assert_eq!(text(view.get(SOURCE_IP)).unwrap(), "5.6.7.8");
                assert_eq!(text(view.get(STAGE)).unwrap(), "s");
                assert_eq!(text(view.get(CONNECTED_AT)).unwrap(), "1705406400123");
                assert!(view.problem().is_none());
            },
        );
        read(r#"{"requestContext":{"elb":null,"http":null}}"#, |view| {
            let view = view.unwrap();
            assert!(!view.get(ELB) && !view.get(HTTP));
        });
    }

    #[test]
    fn mistyped_and_repeated_fields_are_problems_naming_the_field() {
        for (input, field, reason) in [
            (
                r#"{"requestContext":{"stage":5}}"#,
                "requestContext.stage",
                "expected a string, found the number 5",
            ),
            (
                r#"{"isBase64Encoded":"true"}"#,
                "isBase64Encoded",
                "expected a boolean, found the string \"true\"",
            ),
            (
                r#"{"multiValueHeaders":{"x-retry":["1",2]}}"#,
                "multiValueHeaders.x-retry[1]",
                "expected a string, found the number 2",
            ),
            (
                r#"{"cookies":"a=b"}"#,
                "cookies",
                "expected an array of strings, found the string \"a=b\"",
            ),
            (
                r#"{"cookies":["a",[]]}"#,
                "cookies[1]",
                "expected a string, found an array",
            ),
            (
                r#"{"requestContext":{"http":"GET"}}"#,
                "requestContext.http",
                "expected an object, found the string \"GET\"",
            ),
            (
                r#"{"requestContext":{"connectedAt":"1"}}"#,
                "requestContext.connectedAt",
                "expected a number, found the string \"1\"",
            ),
            (
                r#"{"path":"/a","path":"/b"}"#,
                "path",
                "repeated; an event carries each field once",
            ),
            (
                r#"{"path":null,"path":"/b"}"#,
                "path",
                "repeated; an event carries each field once",
            ),
            (
                r#"{"requestContext":{"stage":"a","stage":"b"}}"#,
                "requestContext.stage",
                "repeated; an event carries each field once",
            ),
        ] {
            assert_eq!(
                problem(input),
                Some((field.to_owned(), reason.to_owned())),
                "{input}"
            );
        }
        // the first problem is kept, the field is left empty, the rest is still read
        read(r#"{"path":5,"body":[],"httpMethod":"GET"}"#, |view| {
            let view = view.unwrap();
            assert_eq!(view.problem().unwrap().field, "path");
            assert!(view.get(PATH).is_none());
            assert_eq!(text(view.get(METHOD)).unwrap(), "GET");
        });
        // repeated unknown keys are not the schema's business
        assert_eq!(problem(r#"{"x":1,"x":2}"#), None);
    }

    #[test]
    fn malformed_json_and_other_values_are_no_view() {
        for good in [
            r#"{"x":[1,-0,0.5,1e9,-2.5E-3,1E+2,true,false,null,{},[],"s\u0041\n"]}"#,
            r#"  {"x" : { "a" : [ ] , "b" : { "c": [[{}]] } } }  "#,
        ] {
            assert!(read(good, |view| view.is_some()), "{good}");
            assert!(serde_json::from_str::<serde_json::Value>(good).is_ok());
        }
        for bad in [
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":-}"#,
            r#"{"x":1e}"#,
            r#"{"x":[1,]}"#,
            r#"{"x":1,}"#,
            r#"{"x":tru}"#,
            r#"{"x":"\q"}"#,
            r#"{"x":"\u12G4"}"#,
            "{\"x\":\"a\u{1}\"}",
            "{\"x\":{\"k\u{1}\":1}}",
            r#"{"x":{"a" 1}}"#,
            r#"{"x":{1:1}}"#,
            r#"{"x":[1}"#,
            r#"{"x":{"a":1]}"#,
            r#"{"x":1} x"#,
            r#"{"x":1"#,
            r#"["x"]"#,
            r#""x""#,
            "",
        ] {
            assert!(read(bad, |view| view.is_none()), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).map_or(true, |v| !v.is_object()),
                "{bad}"
            );
        }
    }

    #[test]
    fn nesting_is_followed_without_recursion_up_to_serde_jsons_limit() {
        let deep = |n: usize| format!(r#"{{"x":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(read(&deep(MAX_DEPTH), |view| view.is_some()));
        assert!(read(&deep(MAX_DEPTH + 1), |view| view.is_none()));
        let objects = |n: usize| format!(r#"{{"x":{}1{}}}"#, "{\"a\":".repeat(n), "}".repeat(n));
        assert!(read(&objects(100), |view| view.is_some()));
    }

    #[test]
    fn read_strings_are_bytes() {
        read("{\"body\":\"a\u{1}b\"}", |view| {
            assert_eq!(view.unwrap().get(BODY).unwrap().as_bytes(), b"a\x01b");
        });
        let schema = schema();
        let binding = schema.binding(0).unwrap().clone();
        EventView::parse(
            &schema,
            b"{\"body\":\"\xff\xfe\",\"path\":\"/\xc3\"}",
            |view| {
                let view = view.unwrap().for_source(&binding);
                assert_eq!(view.get(BODY).unwrap().as_bytes(), b"\xff\xfe");
            },
        );
    }

    #[test]
    fn a_source_answers_only_for_the_fields_it_reads() {
        static MINE: &[Field] = &[Field::new("path", Shape::Str)];
        static THEIRS: &[Field] = &[
            Field::new("other", Shape::Str),
            Field::new("requestContext.x", Shape::Str),
        ];
        let schema = Schema::build(&[MINE, THEIRS]).unwrap();
        let (mine, theirs) = (schema.binding(0).unwrap(), schema.binding(1).unwrap());
        let problems = |input: &str| {
            EventView::parse(&schema, input.as_bytes(), |view| {
                let view = view.unwrap();
                (
                    view.for_source(mine).problem().map(|p| p.field.to_string()),
                    view.for_source(theirs)
                        .problem()
                        .map(|p| p.field.to_string()),
                )
            })
        };
        // another source's field, mistyped: not mine to refuse
        assert_eq!(
            problems(r#"{"other":5,"path":"/a"}"#),
            (None, Some("other".into()))
        );
        // after theirs, mine is still found
        assert_eq!(
            problems(r#"{"other":5,"path":6}"#),
            (Some("path".into()), Some("other".into()))
        );
        // an object holding fields, mistyped: every source's concern
        assert_eq!(
            problems(r#"{"requestContext":5,"path":"/a"}"#),
            (Some("requestContext".into()), Some("requestContext".into()))
        );
        // more problems than kept: the first of all stands in for the lost ones
        let many: String = (0..MAX_PROBLEMS + 2)
            .map(|i| format!(r#""other":{i},"#))
            .collect();
        let input = format!("{{{many}\"path\":\"/a\"}}");
        assert_eq!(problems(&input).0.as_deref(), Some("other"));
    }

    #[test]
    fn the_schema_merges_declarations_and_refuses_conflicts() {
        static A: &[Field] = &[
            Field::new("requestContext.http", Shape::Present),
            Field::new("path", Shape::Str),
        ];
        static B: &[Field] = &[
            Field::new("requestContext.http.method", Shape::Str),
            Field::new("path", Shape::Present),
        ];
        let schema = Schema::build(&[A, B]).unwrap();
        assert_eq!(schema.len(), 3);
        assert_eq!(
            schema.paths().find(|(p, _)| *p == "path"),
            Some(("path", Shape::Str))
        );
        static STRING_PATH: &[Field] = &[Field::new("path", Shape::Str)];
        static MAP_PATH: &[Field] = &[Field::new("path", Shape::Map)];
        assert!(matches!(
            Schema::build(&[STRING_PATH, MAP_PATH]),
            Err(SchemaError::ShapeConflict { path: "path", .. })
        ));
        static VALUE: &[Field] = &[Field::new("a", Shape::Str)];
        static UNDER: &[Field] = &[Field::new("a.b", Shape::Str)];
        assert!(matches!(
            Schema::build(&[VALUE, UNDER]),
            Err(SchemaError::NotAnObject { path: "a", .. })
        ));
        assert!(matches!(
            Schema::build(&[UNDER, VALUE]),
            Err(SchemaError::NotAnObject { path: "a", .. })
        ));
        // a path with an empty or 64-byte segment, wherever it is
        let long = "k".repeat(64);
        let longest = "k".repeat(63);
        for bad in [
            "a..b",
            "",
            ".a",
            "a.",
            "a.b.",
            long.as_str(),
            &format!("a.{long}"),
        ] {
            let field: &'static [Field] = Box::leak(Box::new([Field::new(
                Box::leak(bad.to_owned().into_boxed_str()),
                Shape::Str,
            )]));
            assert!(
                matches!(Schema::build(&[field]), Err(SchemaError::BadPath { .. })),
                "{bad:?}"
            );
        }
        let fine: &'static [Field] = Box::leak(Box::new([Field::new(
            Box::leak(format!("a.{longest}").into_boxed_str()),
            Shape::Str,
        )]));
        assert!(Schema::build(&[fine]).is_ok(), "a 63-byte segment");
        static NO_SIBLING: &[Field] = &[Field::new("a", Shape::Map).superseded_by("b")];
        assert!(matches!(
            Schema::build(&[NO_SIBLING]),
            Err(SchemaError::BadSuperseding { .. })
        ));
        let many: Vec<Field> = (0..=crate::event::MAX_SLOTS)
            .map(|i| Field::new(Box::leak(format!("f{i}").into_boxed_str()), Shape::Str))
            .collect();
        let many: &'static [Field] = Box::leak(many.into_boxed_slice());
        assert_eq!(
            Schema::build(&[many]).unwrap_err(),
            SchemaError::TooManyFields
        );
    }
}
