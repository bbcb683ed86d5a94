//! Randomized mutation test: thousands of corrupted events, and every one gets a clear answer.
//!
//! Seeded from every event under `testdata/` (the `.expected.json` and `.reply.json` files aside)
//! and from the crash inputs kept in `tests/mutation/crashes/`, it applies deterministic
//! pseudo-random mutations — byte flips, truncations, deleted and duplicated spans, two events
//! spliced together, JSON values replaced by other types, `null` or huge strings, members removed,
//! added, shuffled or repeated, deep nesting, 10 000 and 40 000 headers, Unicode / CR / LF / NUL
//! injected into strings, lone surrogates — and checks that `Gateway::invoke`, for each event:
//!
//! - returns: no panic (each call runs under `catch_unwind`, and a caught panic fails the test; the
//!   service never panics, so the library's own catching of service panics cannot hide one);
//! - within [`TIME_BOUND`] (a watchdog thread fails the test if one call takes longer);
//! - answers as `lambda_gateway_test_support::mutation` requires (shared with the cargo-fuzz targets): on `Ok`, a
//!   response event in one source's format, under that front door's size limit, 200 or 502 when
//!   the service was called (for that source), 400 with a short reason when the request was
//!   refused, deliverable by `LocalSource::client_response`; on `Err`, a kind that puts the fault
//!   on the event (`NotJson`, `UnrecognizedEvent`, `InvalidEvent`) with a short, non-empty message.
//!
//! This is CI's smoke run of what `fuzz/` does for hours. The default run makes
//! [`DEFAULT_MUTATIONS`] mutations; `LAMBDA_GATEWAY_MUTATIONS=N` makes `N`, and
//! `LAMBDA_GATEWAY_MUTATION_SEED=S` (decimal or `0x` hex) draws different ones. A failing event is
//! written under the target directory's `tmp/mutation-failures/`, ready to replay; keep it in
//! `tests/mutation/crashes/` (or, when it is megabytes, in [`found_by_this_test`]).

#![cfg(all(
    feature = "local",
    feature = "apigw_rest",
    feature = "apigw_http",
    feature = "alb",
    feature = "vpc_lattice",
    feature = "apigw_websocket"
))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    fmt::{self, Write as _},
    fs,
    panic::{self, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

use lambda_gateway_test_support::mutation::Harness;
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, SeqAccess, Visitor},
};

/// Mutations in a default run: a few seconds in a debug build.
const DEFAULT_MUTATIONS: usize = 5000;
/// The env var that sets the number of mutations.
const MUTATIONS_VAR: &str = "LAMBDA_GATEWAY_MUTATIONS";
/// The env var that sets the generator's seed.
const SEED_VAR: &str = "LAMBDA_GATEWAY_MUTATION_SEED";
/// The generator's seed unless [`SEED_VAR`] says otherwise.
const DEFAULT_SEED: u64 = 0x1a4b_da6a_7e3a_u64;
/// The longest one invocation may take, in a debug build on a busy 2-core machine: the largest
/// events are 7 MB or 40 000 headers, which take well under a second.
const TIME_BOUND: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// A small deterministic generator

/// SplitMix64: tiny, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

// ---------------------------------------------------------------------------------------------
// A JSON tree that keeps member order (serde_json's `Map` sorts keys without `preserve_order`,
// and the event parser's behaviour depends on the order of fields)

#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// JSON text written as it is: deep nesting, lone surrogates, out-of-range numbers.
    Raw(String),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Json::Object(members))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

impl Json {
    fn string(text: impl Into<String>) -> Self {
        Self::String(text.into())
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Number(n) => write!(out, "{n}").unwrap(),
            Self::String(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            Self::Raw(text) => out.push_str(text),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write(&mut out);
        out.into_bytes()
    }

    /// Index paths of every node, the root (`[]`) included.
    fn paths(&self, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        out.push(prefix.clone());
        let children: Box<dyn Iterator<Item = &Json>> = match self {
            Self::Array(items) => Box::new(items.iter()),
            Self::Object(members) => Box::new(members.iter().map(|(_, v)| v)),
            _ => return,
        };
        for (i, child) in children.enumerate() {
            prefix.push(i);
            child.paths(prefix, out);
            prefix.pop();
        }
    }

    fn at_mut(&mut self, path: &[usize]) -> &mut Json {
        let Some((&first, rest)) = path.split_first() else {
            return self;
        };
        match self {
            Self::Array(items) => items[first].at_mut(rest),
            Self::Object(members) => members[first].1.at_mut(rest),
            _ => unreachable!("paths lead through containers"),
        }
    }

    fn at(&self, path: &[usize]) -> &Json {
        let Some((&first, rest)) = path.split_first() else {
            return self;
        };
        match self {
            Self::Array(items) => items[first].at(rest),
            Self::Object(members) => members[first].1.at(rest),
            _ => unreachable!("paths lead through containers"),
        }
    }

    /// The member `key` of an object, added (as `null`) when missing; `None` on a non-object.
    fn member_mut(&mut self, key: &str) -> Option<&mut Json> {
        let Self::Object(members) = self else {
            return None;
        };
        let index = match members.iter().position(|(k, _)| k == key) {
            Some(index) => index,
            None => {
                members.push((key.to_owned(), Json::Null));
                members.len() - 1
            }
        };
        Some(&mut members[index].1)
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// Keys that matter besides the schema's: header names the adapter looks at.
const HEADER_NAMES: &[&str] = &[
    "host",
    "x-forwarded-for",
    "cookie",
    "content-type",
    "content-encoding",
];

/// Keys a mutation that adds a key picks most of the time: every key of every field path the
/// enabled sources declare (from the merged schema, so a new source's fields are covered as
/// soon as it is registered), and a few header names.
fn field_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let schema = lambda_gateway_test_support::reader::schema().expect("the schema builds");
        let mut names: Vec<&'static str> = schema
            .paths()
            .flat_map(|(path, _)| path.split('.'))
            .chain(HEADER_NAMES.iter().copied())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    })
}

/// Pieces injected into strings.
const INJECTIONS: &[&str] = &[
    "\r\n",
    "\r\nx-injected: 1",
    "\n",
    "\r",
    "\0",
    "\u{1}",
    "\u{7f}",
    "\t",
    "é",
    "😀",
    "\u{2028}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "%",
    "%2F",
    "%00",
    "%zz",
    "%C3%28",
    "?",
    "#",
    " ",
    "+",
    "&",
    "=",
    ";",
    ",",
    "\"",
    "\\",
    "/../",
    "..",
    "//",
    "=",
    "==",
    "\u{0085}",
    "\u{00ff}",
];

/// Bytes a byte-level mutation writes more often than chance would.
const INTERESTING_BYTES: &[u8] = b"\"\\{}[],:0123456789.-+eEtfnul \t\r\n\0\x7f\x80\xc3\xff";

/// JSON fragments inserted as text.
const FRAGMENTS: &[&str] = &[
    "null",
    "true",
    "{}",
    "[]",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "1e999",
    "-0",
    "18446744073709551616",
    ",",
    ":",
    "{\"elb\":{}}",
    "\"version\":\"2.0\",",
    "\"httpMethod\":\"GET\",",
];

/// The kinds of mutation, each with a weight.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    FlipBits,
    SetBytes,
    Truncate,
    DeleteSpan,
    DuplicateSpan,
    InsertFragment,
    Splice,
    ReplaceValue,
    RemoveMember,
    AddMember,
    InjectIntoString,
    GraftFromOtherEvent,
    ToggleBase64,
    ShuffleMembers,
    DuplicateKey,
    DeepNesting,
    LoneSurrogate,
    ManyHeaders,
    HugeString,
}

const MUTATIONS: &[(Mutation, usize)] = &[
    (Mutation::FlipBits, 8),
    (Mutation::SetBytes, 8),
    (Mutation::Truncate, 5),
    (Mutation::DeleteSpan, 6),
    (Mutation::DuplicateSpan, 5),
    (Mutation::InsertFragment, 5),
    (Mutation::Splice, 5),
    (Mutation::ReplaceValue, 14),
    (Mutation::RemoveMember, 6),
    (Mutation::AddMember, 6),
    (Mutation::InjectIntoString, 14),
    (Mutation::GraftFromOtherEvent, 6),
    (Mutation::ToggleBase64, 4),
    (Mutation::ShuffleMembers, 3),
    (Mutation::DuplicateKey, 3),
    (Mutation::DeepNesting, 2),
    (Mutation::LoneSurrogate, 3),
    (Mutation::ManyHeaders, 1),
    (Mutation::HugeString, 1),
];

/// What a mutation works on, and how costly it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Raw bytes: most results are no longer JSON.
    Bytes,
    /// The JSON tree: the result is still JSON, with something in it wrong.
    Tree,
    /// The JSON tree, made huge (megabytes, 10 000 headers, deep nesting): applied last.
    Heavy,
}

impl Mutation {
    fn class(self) -> Class {
        match self {
            Self::FlipBits
            | Self::SetBytes
            | Self::Truncate
            | Self::DeleteSpan
            | Self::DuplicateSpan
            | Self::InsertFragment
            | Self::Splice => Class::Bytes,
            Self::DeepNesting | Self::ManyHeaders | Self::HugeString => Class::Heavy,
            _ => Class::Tree,
        }
    }
}

fn pick_mutation(rng: &mut Rng, class: Class) -> Mutation {
    let of_class = || MUTATIONS.iter().filter(|(m, _)| m.class() == class);
    let total: usize = of_class().map(|(_, w)| w).sum();
    let mut n = rng.below(total);
    for &(mutation, weight) in of_class() {
        if n < weight {
            return mutation;
        }
        n -= weight;
    }
    unreachable!()
}

/// An event being mutated: bytes, and the tree when the bytes are still JSON.
struct Subject {
    bytes: Vec<u8>,
}

fn parse_tree(bytes: &[u8]) -> Option<Json> {
    serde_json::from_slice(bytes).ok()
}

/// A random string: short and odd most of the time, sometimes long.
fn random_string(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => String::new(),
        1 => "x".repeat(1 + rng.below(70_000)),
        2 => (0..rng.below(40))
            .map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'))
            .collect(),
        3 => (0..rng.below(40))
            .map(|_| char::from(rng.below(0x20) as u8))
            .collect(),
        4 => rng
            .pick(&[
                "GET",
                "get",
                "G ET",
                "",
                "PATCH\r\n",
                "M\u{e9}THOD",
                "\u{0}",
            ])
            .to_string(),
        5 => rng
            .pick(&["/", "//", "/a/../../b", "a", "/%", "/?x#y", "/%2F%2f", "\\"])
            .to_string(),
        6 => rng
            .pick(&[
                "aGVsbG8=",
                "aGVsbG8",
                "====",
                "a",
                "!!!!",
                "aGVs bG8=",
                "_-_-",
            ])
            .to_string(),
        _ => (0..rng.below(12)).map(|_| *rng.pick(INJECTIONS)).collect(),
    }
}

/// A random JSON value of any type.
fn random_value(rng: &mut Rng, others: &[Json]) -> Json {
    match rng.below(14) {
        0 => Json::Null,
        1 => Json::Bool(rng.one_in(2)),
        2 => Json::Number((rng.next() as i64 >> rng.below(64)).into()),
        3 => Json::Raw(
            rng.pick(&["1e999", "-0", "1.5", "18446744073709551616", "-1e-400"])
                .to_string(),
        ),
        4 => Json::Array(Vec::new()),
        5 => Json::Object(Vec::new()),
        6 => Json::Array(
            (0..rng.below(4))
                .map(|_| Json::String(random_string(rng)))
                .collect(),
        ),
        7 => Json::Object(
            (0..rng.below(4))
                .map(|_| {
                    let value = if rng.one_in(2) {
                        Json::String(random_string(rng))
                    } else {
                        Json::Array(vec![Json::String(random_string(rng)), Json::Null])
                    };
                    (random_key(rng), value)
                })
                .collect(),
        ),
        8 => {
            // a node of another event: a realistic value in an unexpected place
            let other = rng.pick(others);
            let mut paths = Vec::new();
            other.paths(&mut Vec::new(), &mut paths);
            let path: &Vec<usize> = rng.pick(&paths);
            other.at(path).clone()
        }
        _ => Json::String(random_string(rng)),
    }
}

fn random_key(rng: &mut Rng) -> String {
    if rng.one_in(4) {
        random_string(rng)
    } else {
        rng.pick(field_names()).to_string()
    }
}

/// Applies one mutation; returns its description, or `None` when it did not apply.
fn mutate(
    rng: &mut Rng,
    subject: &mut Subject,
    others: &[Vec<u8>],
    trees: &[Json],
    class: Class,
) -> Option<String> {
    let mutation = pick_mutation(rng, class);
    let bytes = &mut subject.bytes;
    let len = bytes.len();
    let span = |rng: &mut Rng, len: usize| {
        let start = rng.below(len + 1);
        let end = start + rng.below(len - start + 1).min(1 + rng.below(64));
        (start, end)
    };
    let tree_mutation =
        |rng: &mut Rng,
         bytes: &mut Vec<u8>,
         f: &mut dyn FnMut(&mut Rng, &mut Json) -> Option<String>| {
            let mut tree = parse_tree(bytes)?;
            let description = f(rng, &mut tree)?;
            *bytes = tree.to_bytes();
            Some(description)
        };
    let description = match mutation {
        Mutation::FlipBits => {
            if len == 0 {
                return None;
            }
            let n = 1 + rng.below(4);
            for _ in 0..n {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            format!("flip {n} bits")
        }
        Mutation::SetBytes => {
            if len == 0 {
                return None;
            }
            let i = rng.below(len);
            bytes[i] = if rng.one_in(2) {
                *rng.pick(INTERESTING_BYTES)
            } else {
                rng.byte()
            };
            format!("set byte {i} to {:#04x}", bytes[i])
        }
        Mutation::Truncate => {
            let at = rng.below(len + 1);
            bytes.truncate(at);
            format!("truncate at {at}")
        }
        Mutation::DeleteSpan => {
            let (start, end) = span(rng, len);
            bytes.drain(start..end);
            format!("delete {start}..{end}")
        }
        Mutation::DuplicateSpan => {
            let (start, end) = span(rng, len);
            let copy = bytes[start..end].to_vec();
            let at = rng.below(len + 1);
            bytes.splice(at..at, copy);
            format!("duplicate {start}..{end} at {at}")
        }
        Mutation::InsertFragment => {
            let at = rng.below(len + 1);
            let fragment = rng.pick(FRAGMENTS);
            bytes.splice(at..at, fragment.bytes());
            format!("insert {fragment:?} at {at}")
        }
        Mutation::Splice => {
            let other = rng.pick(others);
            let at = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            bytes.truncate(at);
            bytes.extend_from_slice(&other[from..]);
            format!("splice at {at} with another event from {from}")
        }
        Mutation::ReplaceValue => tree_mutation(rng, bytes, &mut |rng, tree| {
            let mut paths = Vec::new();
            tree.paths(&mut Vec::new(), &mut paths);
            let path = rng.pick(&paths).clone();
            *tree.at_mut(&path) = random_value(rng, trees);
            Some(format!("replace value at {path:?}"))
        })?,
        Mutation::RemoveMember => tree_mutation(rng, bytes, &mut |rng, tree| {
            let objects = object_paths(tree);
            let path = rng.pick(&objects).clone();
            let Json::Object(members) = tree.at_mut(&path) else {
                return None;
            };
            if members.is_empty() {
                return None;
            }
            let (key, _) = members.remove(rng.below(members.len()));
            Some(format!("remove {key:?} at {path:?}"))
        })?,
        Mutation::AddMember => tree_mutation(rng, bytes, &mut |rng, tree| {
            let objects = object_paths(tree);
            let path = rng.pick(&objects).clone();
            let key = random_key(rng);
            let value = random_value(rng, trees);
            let Json::Object(members) = tree.at_mut(&path) else {
                return None;
            };
            let at = rng.below(members.len() + 1);
            members.insert(at, (key.clone(), value));
            Some(format!("add {key:?} at {path:?}"))
        })?,
        Mutation::InjectIntoString => tree_mutation(rng, bytes, &mut |rng, tree| {
            let strings = string_paths(tree);
            if strings.is_empty() {
                return None;
            }
            let path = rng.pick(&strings).clone();
            let piece = *rng.pick(INJECTIONS);
            let Json::String(text) = tree.at_mut(&path) else {
                return None;
            };
            let boundaries: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let at = *rng.pick(&boundaries);
            text.insert_str(at, piece);
            Some(format!("inject {piece:?} into the string at {path:?}"))
        })?,
        Mutation::GraftFromOtherEvent => tree_mutation(rng, bytes, &mut |rng, tree| {
            // a top-level field of another event, replacing or joining this one's
            let Json::Object(donor) = rng.pick(trees) else {
                return None;
            };
            if donor.is_empty() {
                return None;
            }
            let (key, value) = rng.pick(donor).clone();
            *tree.member_mut(&key)? = value;
            Some(format!("graft {key:?} from another event"))
        })?,
        Mutation::ToggleBase64 => tree_mutation(rng, bytes, &mut |rng, tree| {
            let flag = tree.member_mut("isBase64Encoded")?;
            let now = !matches!(flag, Json::Bool(true));
            *flag = Json::Bool(now);
            if rng.one_in(2) {
                *tree.member_mut("body")? = Json::String(random_string(rng));
            }
            Some(format!("isBase64Encoded = {now}"))
        })?,
        Mutation::ShuffleMembers => tree_mutation(rng, bytes, &mut |rng, tree| {
            let objects = object_paths(tree);
            let path = rng.pick(&objects).clone();
            let Json::Object(members) = tree.at_mut(&path) else {
                return None;
            };
            for i in (1..members.len()).rev() {
                members.swap(i, rng.below(i + 1));
            }
            Some(format!("shuffle members at {path:?}"))
        })?,
        Mutation::DuplicateKey => tree_mutation(rng, bytes, &mut |rng, tree| {
            let objects = object_paths(tree);
            let path = rng.pick(&objects).clone();
            let Json::Object(members) = tree.at_mut(&path) else {
                return None;
            };
            if members.is_empty() {
                return None;
            }
            let member = rng.pick(members).clone();
            let at = rng.below(members.len() + 1);
            members.insert(at, member.clone());
            Some(format!("duplicate key {:?} at {path:?}", member.0))
        })?,
        Mutation::DeepNesting => tree_mutation(rng, bytes, &mut |rng, tree| {
            let mut paths = Vec::new();
            tree.paths(&mut Vec::new(), &mut paths);
            let path = rng.pick(&paths).clone();
            let depth = 1 + rng.below(100_000);
            let nested = if rng.one_in(2) {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{}null{}", "{\"a\":".repeat(depth), "}".repeat(depth))
            };
            *tree.at_mut(&path) = Json::Raw(nested);
            Some(format!("nest {depth} deep at {path:?}"))
        })?,
        Mutation::LoneSurrogate => tree_mutation(rng, bytes, &mut |rng, tree| {
            let strings = string_paths(tree);
            if strings.is_empty() {
                return None;
            }
            let path = rng.pick(&strings).clone();
            let Json::String(text) = tree.at(&path).clone() else {
                return None;
            };
            let escape = *rng.pick(&[
                "\\ud800",
                "\\udfff",
                "\\udc00\\ud800",
                "\\ud83d\\ude00",
                "\\u0000",
            ]);
            let quoted = serde_json::to_string(&text).unwrap();
            let raw = format!("\"{escape}{}", &quoted[1..]);
            *tree.at_mut(&path) = Json::Raw(raw);
            Some(format!("{escape} into the string at {path:?}"))
        })?,
        Mutation::ManyHeaders => tree_mutation(rng, bytes, &mut |rng, tree| {
            let count = if rng.one_in(4) { 40_000 } else { 10_000 };
            let (field, value) = match rng.below(6) {
                0 => (
                    "headers",
                    Json::Object(
                        (0..count)
                            .map(|i| (format!("x-h{i}"), Json::string("v")))
                            .collect(),
                    ),
                ),
                1 => (
                    "multiValueHeaders",
                    Json::Object(
                        (0..count)
                            .map(|i| (format!("x-h{i}"), Json::Array(vec![Json::string("v")])))
                            .collect(),
                    ),
                ),
                2 => (
                    "multiValueHeaders",
                    Json::Object(vec![(
                        "x-same".into(),
                        Json::Array((0..count).map(|i| Json::String(i.to_string())).collect()),
                    )]),
                ),
                3 => (
                    "headers",
                    Json::Object(
                        (0..count)
                            .map(|_| ("x-dup".to_owned(), Json::string("v")))
                            .collect(),
                    ),
                ),
                4 => (
                    "cookies",
                    Json::Array(
                        (0..count)
                            .map(|i| Json::String(format!("c{i}=v")))
                            .collect(),
                    ),
                ),
                _ => (
                    "multiValueQueryStringParameters",
                    Json::Object(
                        (0..count)
                            .map(|i| (format!("q{i}"), Json::Array(vec![Json::string("v")])))
                            .collect(),
                    ),
                ),
            };
            *tree.member_mut(field)? = value;
            Some(format!("{count} entries in {field}"))
        })?,
        Mutation::HugeString => tree_mutation(rng, bytes, &mut |rng, tree| {
            let strings = string_paths(tree);
            if strings.is_empty() {
                return None;
            }
            let path = rng.pick(&strings).clone();
            // just over ALB's limit, mid-way, just under and just over Lambda's
            let size = *rng.pick(&[1024 * 1024 + 1, 3 << 20, (6 << 20) - 4096, 7 << 20]);
            let filler = if rng.one_in(2) { "A" } else { "é" };
            *tree.at_mut(&path) = Json::String(filler.repeat(size / filler.len()));
            Some(format!("{size}-byte string at {path:?}"))
        })?,
    };
    Some(description)
}

fn object_paths(tree: &Json) -> Vec<Vec<usize>> {
    let mut paths = Vec::new();
    tree.paths(&mut Vec::new(), &mut paths);
    paths.retain(|p| matches!(tree.at(p), Json::Object(_)));
    if paths.is_empty() {
        paths.push(Vec::new());
    }
    paths
}

fn string_paths(tree: &Json) -> Vec<Vec<usize>> {
    let mut paths = Vec::new();
    tree.paths(&mut Vec::new(), &mut paths);
    paths.retain(|p| matches!(tree.at(p), Json::String(_)));
    paths
}

// ---------------------------------------------------------------------------------------------
// Running the cases

/// Tallies for the summary line.
#[derive(Debug, Default)]
struct Tally {
    events: usize,
    by_outcome: BTreeMap<String, usize>,
    slowest: (Duration, String),
    /// Time spent in `invoke` and its checks.
    invoking: Duration,
}

/// A case: its name (seed and mutations) and the event.
struct Case {
    name: String,
    event: Vec<u8>,
}

/// Runs every case on a worker thread, the watchdog failing the test if one takes longer than
/// [`TIME_BOUND`]. Returns the failures and the tally.
fn run_cases(cases: impl Iterator<Item = Case> + Send + 'static) -> (Vec<(Case, String)>, Tally) {
    let current = Arc::new(Mutex::new(String::new()));
    let (progress, watch) = mpsc::channel::<()>();
    let worker = {
        let current = Arc::clone(&current);
        thread::spawn(move || {
            let harness = Harness::new();
            let mut failures = Vec::new();
            let mut tally = Tally::default();
            for case in cases {
                *current.lock().unwrap() = case.name.clone();
                let started = Instant::now();
                let verdict = panic::catch_unwind(AssertUnwindSafe(|| harness.check(&case.event)))
                    .unwrap_or_else(|payload| {
                        Err(format!("panicked: {}", panic_message(&*payload)))
                    });
                let elapsed = started.elapsed();
                tally.events += 1;
                tally.invoking += elapsed;
                if elapsed > tally.slowest.0 {
                    tally.slowest = (elapsed, case.name.clone());
                }
                match verdict {
                    Ok(outcome) => *tally.by_outcome.entry(outcome).or_default() += 1,
                    Err(why) => failures.push((case, why)),
                }
                let _ = progress.send(());
            }
            (failures, tally)
        })
    };
    loop {
        match watch.recv_timeout(TIME_BOUND) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "one invocation took longer than {TIME_BOUND:?}: {}",
                current.lock().unwrap_or_else(|e| e.into_inner())
            ),
        }
    }
    worker.join().expect("the worker catches every panic")
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned())
}

/// Fails the test with every failure, writing each failing event to a file first.
fn report(failures: Vec<(Case, String)>) {
    if failures.is_empty() {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutation-failures");
    let _ = fs::create_dir_all(&dir);
    let mut message = format!("{} events were not answered properly:\n", failures.len());
    for (i, (case, why)) in failures.iter().enumerate().take(20) {
        let file = dir.join(format!("{i}.json"));
        let _ = fs::write(&file, &case.event);
        let name: String = case.name.chars().take(300).collect();
        let why: String = why.chars().take(600).collect();
        let _ = writeln!(message, "- {name}: {why}\n  (event in {})", file.display());
    }
    panic!("{message}");
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// Every event under `testdata/`, by name.
fn testdata_events() -> Vec<(String, Vec<u8>)> {
    let mut events: Vec<(String, Vec<u8>)> = lambda_gateway_test_support::testdata::all_events()
        .into_iter()
        .map(|(dir, path)| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (format!("{dir}/{name}"), fs::read(&path).unwrap())
        })
        .collect();
    events.sort();
    assert!(
        events.len() >= 40,
        "testdata went missing: {} events",
        events.len()
    );
    events
}

/// Crash inputs kept as regression cases (fuzzing finds), under `tests/mutation/crashes/`.
fn regression_events() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mutation/crashes");
    let mut events: Vec<_> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && !p.ends_with("README.md"))
                .map(|p| {
                    (
                        format!(
                            "tests/mutation/crashes/{}",
                            p.file_name().unwrap().to_string_lossy()
                        ),
                        fs::read(&p).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    events.sort();
    events
}

fn env_number(var: &str) -> Option<u64> {
    let text = std::env::var(var).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{var}={text:?} is not a number")))
}

/// How many distinct headers an `http::HeaderMap` holds.
fn header_map_limit() -> usize {
    let mut map = http::HeaderMap::new();
    let mut count = 0;
    while map
        .try_append(
            http::HeaderName::try_from(format!("x-h{count}")).unwrap(),
            http::HeaderValue::from_static("v"),
        )
        .is_ok()
    {
        count += 1;
    }
    count
}

/// The minimal form of each failure this test found, too big to keep as files: built here.
fn found_by_this_test() -> Vec<(String, Vec<u8>)> {
    let many =
        |n: usize, entry: &dyn Fn(usize) -> String| (0..n).map(entry).collect::<Vec<_>>().join(",");
    let rest = |fields: &str| {
        format!(r#"{{"httpMethod":"GET","path":"/","requestContext":{{"requestId":"r"}}{fields}}}"#)
    };
    let v2 = |fields: &str| {
        format!(
            r#"{{"version":"2.0","rawPath":"/","requestContext":{{"http":{{"method":"GET"}},"domainName":"example.com"}}{fields}}}"#
        )
    };
    let alb = |fields: &str| {
        format!(r#"{{"httpMethod":"GET","path":"/","requestContext":{{"elb":{{}}}}{fields}}}"#)
    };
    let huge = "\u{e9}".repeat(1 << 20);
    let cases = [
        // `HeaderMap::with_capacity` panicked past 24 576 headers.
        (
            "40 000 REST multi-value headers",
            rest(&format!(
                r#","multiValueHeaders":{{{}}}"#,
                many(40_000, &|i| format!(r#""x-h{i}":["v"]"#))
            )),
        ),
        (
            "40 000 ALB headers",
            alb(&format!(
                r#","headers":{{{}}}"#,
                many(40_000, &|i| format!(r#""x-h{i}":"v""#))
            )),
        ),
        // ... and appending `cookie` to a full map panicked too.
        (
            "a full header map and a cookie",
            v2(&format!(
                r#","headers":{{{}}},"cookies":["a=1"]"#,
                many(header_map_limit(), &|i| format!(r#""x-h{i}":"v""#))
            )),
        ),
        // Error messages and 400 reasons quoted whole megabytes of the event.
        (
            "a 2 MB method token",
            alb(&format!(r#","httpMethod":"{huge}""#)).replacen(r#""httpMethod":"GET","#, "", 1),
        ),
        (
            "a 2 MB header name",
            rest(&format!(r#","headers":{{"{huge} x":"v"}}"#)),
        ),
        (
            "a 2 MB string where a map belongs",
            rest(&format!(r#","headers":"{huge}""#)),
        ),
        (
            "a 2 MB key in a mistyped map",
            v2(&format!(r#","headers":{{"{huge}":5}}"#)),
        ),
        (
            "a 2 MB key in an unknown event",
            format!(r#"{{"Records":[],"{huge}":1}}"#),
        ),
    ];
    cases
        .into_iter()
        .map(|(name, event)| (format!("found here: {name}"), event.into_bytes()))
        .collect()
}

#[test]
fn seeds_and_kept_crash_inputs_are_answered_properly() {
    let cases: Vec<Case> = testdata_events()
        .into_iter()
        .chain(regression_events())
        .chain(found_by_this_test())
        .map(|(name, event)| Case { name, event })
        .collect();
    let (failures, tally) = run_cases(cases.into_iter());
    eprintln!("seeds: {tally:?}");
    report(failures);
}

#[test]
fn mutated_events_are_answered_properly() {
    let count = env_number(MUTATIONS_VAR).map_or(DEFAULT_MUTATIONS, |n| n as usize);
    let seed = env_number(SEED_VAR).unwrap_or(DEFAULT_SEED);
    let seeds: Vec<(String, Vec<u8>)> = testdata_events()
        .into_iter()
        .chain(regression_events())
        .collect();
    let raw: Arc<Vec<Vec<u8>>> = Arc::new(seeds.iter().map(|(_, e)| e.clone()).collect());
    let trees: Arc<Vec<Json>> = Arc::new(seeds.iter().filter_map(|(_, e)| parse_tree(e)).collect());
    let started = Instant::now();
    let mut rng = Rng(seed);
    let cases = (0..count).map(move |i| {
        let (seed_name, seed_event) = &seeds[i % seeds.len()];
        let mut subject = Subject {
            bytes: seed_event.clone(),
        };
        // Zero to two tree mutations, sometimes a heavy one, then sometimes a byte-level one:
        // about a third of the events end up not JSON, the rest reach the source crates.
        let mut plan = vec![Class::Tree; rng.below(3)];
        if rng.one_in(40) {
            plan.push(Class::Heavy);
        }
        if plan.is_empty() || rng.one_in(5) {
            plan.push(Class::Bytes);
        }
        let mut applied = Vec::new();
        for class in plan {
            for _attempt in 0..4 {
                if let Some(description) = mutate(&mut rng, &mut subject, &raw, &trees, class) {
                    applied.push(description);
                    break;
                }
            }
        }
        Case {
            name: format!("#{i} {seed_name}: {}", applied.join("; ")),
            event: subject.bytes,
        }
    });
    let (failures, tally) = run_cases(cases);
    eprintln!(
        "{} mutated events (seed {seed:#x}) in {:.1?}, {:.1?} of it in invoke; slowest {:.1?} ({}); outcomes {:?}",
        tally.events,
        started.elapsed(),
        tally.invoking,
        tally.slowest.0,
        tally.slowest.1.chars().take(160).collect::<String>(),
        tally.by_outcome
    );
    assert_eq!(tally.events, count);
    report(failures);
}
