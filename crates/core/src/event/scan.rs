//! A JSON reader specialised for [`EventView`]: the fast path of [`EventView::parse`].
//!
//! It reads exactly what the serde visitors of this module read, with the same results — the
//! same fields, the same byte strings, the same rules for `null`, repeated fields and REST's
//! deferred single-value maps — but without serde's per-token dispatch: keys are matched as byte
//! slices, strings are found a word at a time, skipped values are checked and stepped over in a
//! tight loop.
//!
//! It never has to explain a failure. Whenever the input is not what a well-formed event looks
//! like — malformed JSON, a mistyped field, a repeated field, a raw control byte in a skipped
//! string, nesting deeper than [`MAX_DEPTH`] — it gives up, and the serde path reads
//! the event again, accepting it or producing the precise error. The invariant, checked by the
//! property, mutation and fuzz tests: whenever the scanner returns a view, the serde path
//! returns an equal one.

use std::borrow::Cow;

use super::{ContextView, EventView, HttpView, IdentityView, Pairs, Present, RawStr, StrList};
use crate::swar;

/// The deepest nesting the scanner follows (it recurses; serde_json skips values with a loop).
const MAX_DEPTH: u32 = 100;

/// The scanner leaves this input to the serde path.
#[derive(Debug)]
struct GiveUp;

type Scan<T> = Result<T, GiveUp>;

/// Reads the view of `input` into `view`, which must be empty (the default view); `false` when
/// the serde path must decide (what `view` holds then is to be dropped).
///
/// The view is filled in place, not returned: it is about 450 bytes, and every move of a
/// freshly written struct costs a copy the processor cannot forward from its store buffer.
pub(super) fn scan<'a>(input: &'a [u8], view: &mut EventView<'a>) -> bool {
    let mut scanner = Scanner { input, pos: 0 };
    if scanner.event(view).is_err() {
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

/// One member of a multi-value map: a string, an array of strings, or `null`.
fn push_values<'a>(
    scanner: &mut Scanner<'a>,
    name: RawStr<'a>,
    pairs: &mut Vec<(RawStr<'a>, RawStr<'a>)>,
) -> Scan<()> {
    match scanner.token()? {
        b'"' => {
            scanner.pos += 1;
            let value = scanner.string_body()?;
            push_pair(pairs, name, value);
        }
        b'n' => scanner.literal(b"null")?,
        b'[' => {
            scanner.pos += 1;
            if scanner.token()? == b']' {
                scanner.pos += 1;
                return Ok(());
            }
            loop {
                if let Some(value) = scanner.opt_string()? {
                    push_pair(pairs, name.clone(), value);
                }
                if !scanner.next_element()? {
                    return Ok(());
                }
            }
        }
        _ => return Err(GiveUp),
    }
    Ok(())
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

    /// Reads an object, calling `member` with each key once the `:` after it is consumed.
    fn object(&mut self, mut member: impl FnMut(&mut Self, RawStr<'a>) -> Scan<()>) -> Scan<()> {
        self.eat(b'{')?;
        if self.token()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.eat(b'"')?;
            let key = self.string_body()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.token()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(GiveUp),
            }
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
    #[inline]
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

    /// A string or `null`.
    #[inline]
    fn opt_string(&mut self) -> Scan<Option<RawStr<'a>>> {
        match self.token()? {
            b'"' => {
                self.pos += 1;
                self.string_body().map(Some)
            }
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(GiveUp),
        }
    }

    // ------------------------------------------------------------------------ skipping

    /// Steps over one value, checking it is well-formed JSON.
    fn skip_value(&mut self, depth: u32) -> Scan<()> {
        match self.token()? {
            b'"' => {
                self.pos += 1;
                self.skip_string_body()
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(GiveUp);
                }
                self.pos += 1;
                if self.token()? == b'}' {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    // keys of skipped objects are checked as strictly as their values
                    self.eat(b'"')?;
                    self.skip_string_body()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    match self.token()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(GiveUp),
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(GiveUp);
                }
                self.pos += 1;
                if self.token()? == b']' {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.next_element()? {
                        return Ok(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            _ => Err(GiveUp),
        }
    }

    fn skip_string_body(&mut self) -> Scan<()> {
        loop {
            let at = find_special(self.input, self.pos);
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

    // ------------------------------------------------------------------------ the view

    fn event(&mut self, view: &mut EventView<'a>) -> Scan<()> {
        let mut seen = 0u16;
        // single-value maps met before their multi-value counterpart: where their value starts
        let mut deferred_headers = None;
        let mut deferred_query = None;
        self.object(|scanner, key| {
            let index = match key.as_bytes() {
                b"version" => 0,
                b"httpMethod" => 1,
                b"path" => 2,
                b"rawPath" => 3,
                b"rawQueryString" => 4,
                b"headers" => 5,
                b"multiValueHeaders" => 6,
                b"queryStringParameters" => 7,
                b"multiValueQueryStringParameters" => 8,
                b"cookies" => 9,
                b"body" => 10,
                b"isBase64Encoded" => 11,
                b"requestContext" => 12,
                b"methodArn" => 13,
                b"routeArn" => 14,
                _ => return scanner.skip_value(1),
            };
            if seen & 1 << index != 0 {
                return Err(GiveUp);
            }
            seen |= 1 << index;
            let eager = view.reads_single_value_maps();
            match index {
                0 => view.version = scanner.opt_string()?,
                1 => view.http_method = scanner.opt_string()?,
                2 => view.path = scanner.opt_string()?,
                3 => view.raw_path = scanner.opt_string()?,
                4 => view.raw_query_string = scanner.opt_string()?,
                5 if view.multi_value_headers.is_some() => scanner.skip_value(1)?,
                5 if eager => view.headers = scanner.opt_pairs()?,
                5 => deferred_headers = scanner.deferred()?,
                6 => view.multi_value_headers = scanner.opt_pairs()?,
                7 if view.multi_value_query_string_parameters.is_some() => {
                    scanner.skip_value(1)?;
                }
                7 if eager => view.query_string_parameters = scanner.opt_pairs()?,
                7 => deferred_query = scanner.deferred()?,
                8 => view.multi_value_query_string_parameters = scanner.opt_pairs()?,
                9 => view.cookies = scanner.opt_list()?,
                10 => view.body = scanner.opt_string()?,
                11 => view.is_base64_encoded = scanner.opt_bool()?,
                12 => scanner.opt_context(&mut view.request_context)?,
                13 => view.method_arn = scanner.present(1)?,
                _ => view.route_arn = scanner.present(1)?,
            }
            Ok(())
        })?;
        let end = self.pos;
        if view.multi_value_headers.is_none() {
            if let Some(at) = deferred_headers {
                self.pos = at;
                view.headers = self.opt_pairs()?;
            }
        }
        if view.multi_value_query_string_parameters.is_none() {
            if let Some(at) = deferred_query {
                self.pos = at;
                view.query_string_parameters = self.opt_pairs()?;
            }
        }
        self.pos = end;
        Ok(())
    }

    /// Steps over a value to read later; `None` when it is `null`.
    fn deferred(&mut self) -> Scan<Option<usize>> {
        if self.null()? {
            return Ok(None);
        }
        let at = self.pos;
        self.skip_value(1)?;
        // serde keeps the value as a `RawValue`, which must be UTF-8
        std::str::from_utf8(&self.input[at..self.pos]).map_err(|_| GiveUp)?;
        Ok(Some(at))
    }

    fn opt_bool(&mut self) -> Scan<Option<bool>> {
        match self.token()? {
            b't' => self.literal(b"true").map(|()| Some(true)),
            b'f' => self.literal(b"false").map(|()| Some(false)),
            b'n' => self.literal(b"null").map(|()| None),
            _ => Err(GiveUp),
        }
    }

    fn opt_pairs(&mut self) -> Scan<Option<Pairs<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        // allocated on the first pair: empty maps (`{}`) are common and cost nothing
        let mut pairs = Vec::new();
        self.object(|scanner, name| push_values(scanner, name, &mut pairs))?;
        Ok(Some(Pairs(pairs)))
    }

    fn opt_list(&mut self) -> Scan<Option<StrList<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        self.eat(b'[')?;
        let mut list = Vec::new();
        if self.token()? == b']' {
            self.pos += 1;
            return Ok(Some(StrList(list)));
        }
        loop {
            if let Some(value) = self.opt_string()? {
                list.push(value);
            }
            if !self.next_element()? {
                return Ok(Some(StrList(list)));
            }
        }
    }

    /// Reads a field of a nested object once: a second non-null occurrence gives up (the serde
    /// path reports it), a `null` one leaves the slot empty.
    fn once<T>(
        &mut self,
        slot: &mut Option<T>,
        read: impl FnOnce(&mut Self) -> Scan<Option<T>>,
    ) -> Scan<()> {
        if slot.is_some() {
            return Err(GiveUp);
        }
        *slot = read(self)?;
        Ok(())
    }

    /// Reads `requestContext` into its (empty) slot, in place.
    fn opt_context(&mut self, slot: &mut Option<ContextView<'a>>) -> Scan<()> {
        if self.null()? {
            return Ok(());
        }
        let view = slot.insert(ContextView::default());
        let mut elb = None;
        let mut connection_id = None;
        let mut event_type = None;
        let present = |s: &mut Self| Ok(s.present(2)?.0.then_some(()));
        self.object(|scanner, key| match key.as_bytes() {
            b"elb" => scanner.once(&mut elb, present),
            b"connectionId" => scanner.once(&mut connection_id, present),
            b"eventType" => scanner.once(&mut event_type, present),
            b"http" => scanner.once(&mut view.http, Self::opt_http),
            b"identity" => scanner.once(&mut view.identity, Self::opt_identity),
            b"requestId" => scanner.once(&mut view.request_id, Self::opt_string),
            b"stage" => scanner.once(&mut view.stage, Self::opt_string),
            b"domainName" => scanner.once(&mut view.domain_name, Self::opt_string),
            _ => scanner.skip_value(2),
        })?;
        view.elb = Present(elb.is_some());
        view.connection_id = Present(connection_id.is_some());
        view.event_type = Present(event_type.is_some());
        Ok(())
    }

    /// Whether a value is there and not `null`; it is skipped unparsed (at nesting `depth`).
    fn present(&mut self, depth: u32) -> Scan<Present> {
        if self.null()? {
            return Ok(Present(false));
        }
        self.skip_value(depth)?;
        Ok(Present(true))
    }

    fn opt_http(&mut self) -> Scan<Option<HttpView<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        let mut view = HttpView::default();
        self.object(|scanner, key| match key.as_bytes() {
            b"method" => scanner.once(&mut view.method, Self::opt_string),
            b"path" => scanner.once(&mut view.path, Self::opt_string),
            b"sourceIp" => scanner.once(&mut view.source_ip, Self::opt_string),
            _ => scanner.skip_value(3),
        })?;
        Ok(Some(view))
    }

    fn opt_identity(&mut self) -> Scan<Option<IdentityView<'a>>> {
        if self.null()? {
            return Ok(None);
        }
        let mut view = IdentityView::default();
        self.object(|scanner, key| match key.as_bytes() {
            b"sourceIp" => scanner.once(&mut view.source_ip, Self::opt_string),
            _ => scanner.skip_value(3),
        })?;
        Ok(Some(view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanned(input: &[u8]) -> Option<EventView<'_>> {
        let mut view = EventView::default();
        scan(input, &mut view).then_some(view)
    }

    /// The scanner's view, checked equal to the serde path's.
    fn both(input: &str) -> Option<EventView<'_>> {
        let fast = scanned(input.as_bytes());
        let slow = serde_json::from_str::<EventView<'_>>(input);
        if let Some(fast) = &fast {
            let slow = slow.unwrap_or_else(|e| panic!("serde rejects what the scanner read: {e}"));
            assert_eq!(fast, &slow, "{input}");
        }
        fast
    }

    #[test]
    fn authorizer_and_websocket_markers_are_read_as_by_serde() {
        let view = both(
            r#"{"methodArn":{"x":[1]},"routeArn":null,"requestContext":{"connectionId":"a","eventType":null}}"#,
        )
        .expect("scanned");
        assert!(view.method_arn.0 && !view.route_arn.0);
        let context = view.request_context.expect("a context");
        assert!(context.connection_id.0 && !context.event_type.0);
        // a repeated marker is left to serde, which names it
        assert!(scanned(br#"{"methodArn":"a","methodArn":"b"}"#).is_none());
        assert!(scanned(br#"{"requestContext":{"eventType":"A","eventType":"B"}}"#).is_none());
    }

    #[test]
    fn every_testdata_event_is_read_by_the_scanner_as_by_serde() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let mut read = 0;
        for source in ["apigw_rest", "apigw_http", "alb"] {
            for entry in std::fs::read_dir(root.join(source)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.to_string_lossy().into_owned();
                if !name.ends_with(".json")
                    || name.ends_with(".expected.json")
                    || name.ends_with(".reply.json")
                {
                    continue;
                }
                let event = std::fs::read(&path).unwrap();
                let Ok(slow) = serde_json::from_slice::<EventView<'_>>(&event) else {
                    continue;
                };
                let fast =
                    scanned(&event).unwrap_or_else(|| panic!("the scanner gave up on {name}"));
                assert_eq!(fast, slow, "{name}");
                read += 1;
            }
        }
        assert!(read >= 40, "the scanner read only {read} testdata events");
    }

    #[test]
    fn strings_are_borrowed_unless_escaped_and_escapes_resolve_as_in_serde() {
        let view = both(
            r#"{"path":"/a","body":"q\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00 x","httpMethod":"G\u0045T"}"#,
        )
        .unwrap();
        assert!(view.path.unwrap().is_borrowed());
        assert_eq!(
            view.body.unwrap().as_bytes(),
            "q\"\\/\u{8}\u{c}\n\r\té€😀 x".as_bytes()
        );
        assert_eq!(view.http_method.unwrap().as_bytes(), b"GET");
    }

    #[test]
    fn unpaired_surrogates_are_kept_as_serde_keeps_them() {
        for escapes in [
            r"\ud800",
            r"\udc00",
            r"\ud800x",
            r"\ud800\n",
            r"\ud800\ud800\udc00",
            r"\ud800\u0041",
            r"\udbff\udfff",
            r"\u0080\u07ff\u0800\uffff",
        ] {
            let input = format!(r#"{{"body":"a{escapes}b"}}"#);
            assert!(both(&input).is_some(), "{input}");
        }
        assert!(both(r#"{"body":"\ud800\u12"}"#).is_none());
    }

    #[test]
    fn escaped_keys_match_their_field() {
        let view = both(r#"{"pat\u0068":"/a"}"#).unwrap();
        assert_eq!(view.path.unwrap().as_bytes(), b"/a");
    }

    #[test]
    fn long_strings_cross_the_word_and_memchr_paths() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 40, 100, 1000] {
            let body = "x".repeat(len);
            let input = format!(r#"{{"body":"{body}","path":"/{body}\"q"}}"#);
            let view = both(&input).unwrap();
            assert_eq!(view.body.unwrap().as_bytes(), body.as_bytes());
            assert_eq!(
                view.path.unwrap().as_bytes(),
                format!("/{body}\"q").as_bytes()
            );
        }
    }

    #[test]
    fn maps_flatten_skip_nulls_and_keep_order() {
        let view = both(
            r#"{"multiValueHeaders":{"a":["1",null,"2"],"b":[],"c":null,"d":"3"},"cookies":["x=1",null]}"#,
        )
        .unwrap();
        let pairs: Vec<_> = view
            .multi_value_headers
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_str().unwrap().to_owned(),
                    v.to_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [("a", "1"), ("a", "2"), ("d", "3")].map(|(a, b)| (a.into(), b.into()))
        );
        assert_eq!(view.cookies.unwrap().0.len(), 1);
    }

    #[test]
    fn deferred_single_value_maps_follow_the_serde_rules() {
        // read when no multi-value map follows, skipped when one does, read when it is null
        let view = both(r#"{"headers":{"a":"1"},"httpMethod":"GET"}"#).unwrap();
        assert_eq!(view.headers.unwrap().len(), 1);
        let view = both(r#"{"headers":{"a":"1"},"multiValueHeaders":{"a":["1","2"]}}"#).unwrap();
        assert!(view.headers.is_none());
        let view = both(r#"{"headers":{"a":"1"},"multiValueHeaders":null}"#).unwrap();
        assert_eq!(view.headers.unwrap().len(), 1);
        // a deferred map is still checked when it is not used, as serde's RawValue does
        assert!(both("{\"headers\":{\"a\":\"\u{1}\"},\"multiValueHeaders\":{}}").is_none());
        // payload 2.0 and ALB read it directly
        let view =
            both(r#"{"version":"2.0","queryStringParameters":{"q":"1"},"rawPath":"/"}"#).unwrap();
        assert_eq!(view.query_string_parameters.unwrap().len(), 1);
    }

    #[test]
    fn the_request_context_fields_are_read_once() {
        let view = both(
            r#"{"requestContext":{"elb":{"targetGroupArn":"x"},"http":{"method":"GET","path":"/p","sourceIp":"1.2.3.4","x":[1,{"y":null}]},"identity":{"sourceIp":"5.6.7.8"},"requestId":"r","stage":"s","domainName":"d"}}"#,
        )
        .unwrap();
        let context = view.request_context.unwrap();
        assert!(context.elb.0);
        assert_eq!(
            context.http.unwrap().source_ip.unwrap().as_bytes(),
            b"1.2.3.4"
        );
        assert_eq!(
            context.identity.unwrap().source_ip.unwrap().as_bytes(),
            b"5.6.7.8"
        );
        // a null field may be repeated (serde's rule for nested objects); a second value may not
        assert!(both(r#"{"requestContext":{"stage":null,"stage":"b"}}"#).is_some());
        assert!(both(r#"{"requestContext":{"stage":"a","stage":"b"}}"#).is_none());
        assert!(both(r#"{"path":null,"path":"/b"}"#).is_none());
        assert!(
            !both(r#"{"requestContext":{"elb":null}}"#)
                .unwrap()
                .request_context
                .unwrap()
                .elb
                .0
        );
    }

    #[test]
    fn skipped_values_are_checked_like_serde_checks_them() {
        for good in [
            r#"{"x":[1,-0,0.5,1e9,-2.5E-3,1E+2,true,false,null,{},[],"s\u0041\n"]}"#,
            r#"  {"x" : { "a" : [ ] , "b" : { } } }  "#,
        ] {
            assert!(both(good).is_some(), "{good}");
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
            r#"{"x":1} x"#,
            r#"{"x":1"#,
            r#"["x"]"#,
            r#"{"path":5}"#,
            r#"{"isBase64Encoded":"true"}"#,
            r#"{"headers":{"a":5}}"#,
            r#"{"headers":{"a":[5]}}"#,
            r#"{"cookies":"a=b"}"#,
            r#"{"requestContext":{"http":"GET"}}"#,
        ] {
            assert!(scanned(bad.as_bytes()).is_none(), "{bad}");
            both(bad);
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde() {
        let deep = |n: usize| format!(r#"{{"x":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(both(&deep(50)).is_some());
        // serde_json skips values without recursing, so it reads what the scanner leaves
        assert!(scanned(deep(200).as_bytes()).is_none());
        assert!(EventView::parse(deep(200).as_bytes()).is_ok());
    }

    #[test]
    fn read_strings_accept_control_bytes_as_serde_byte_strings_do() {
        let view = both("{\"body\":\"a\u{1}b\"}").unwrap();
        assert_eq!(view.body.unwrap().as_bytes(), b"a\x01b");
    }

    #[test]
    fn invalid_utf8_is_passed_on_as_bytes() {
        let input = b"{\"body\":\"\xff\xfe\",\"path\":\"/\xc3\"}";
        let view = scanned(input).unwrap();
        assert_eq!(
            view,
            serde_json::from_slice::<EventView<'_>>(input).unwrap()
        );
        assert_eq!(view.body.unwrap().as_bytes(), b"\xff\xfe");
    }
}
