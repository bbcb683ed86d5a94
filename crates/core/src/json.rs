//! A small writer for response events: JSON objects written straight into one buffer.
//!
//! Response events are flat and known in advance, so the source crates write them field by field
//! instead of building intermediate maps; bodies are escaped or base64-encoded directly into the
//! output, with no copy in between.

use crate::encoding::push_base64;

/// Writes one JSON value (objects, arrays, strings) into a byte buffer.
#[derive(Debug)]
pub struct JsonWriter {
    buf: Vec<u8>,
    /// One entry per open object/array: whether it has no member yet.
    first: Vec<bool>,
}

impl JsonWriter {
    /// A writer whose buffer starts with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            first: Vec::with_capacity(4),
        }
    }

    fn separate(&mut self) {
        if let Some(first) = self.first.last_mut() {
            if *first {
                *first = false;
            } else {
                self.buf.push(b',');
            }
        }
    }

    fn key(&mut self, key: &str) {
        self.separate();
        self.push_str_raw(key);
        self.buf.push(b':');
    }

    fn push_str_raw(&mut self, text: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, text);
    }

    /// Opens an object (as a value: top level or array element).
    pub fn begin_object(&mut self) {
        self.separate();
        self.buf.push(b'{');
        self.first.push(true);
    }

    /// Opens an object as the member `key` of the current object.
    pub fn begin_object_field(&mut self, key: &str) {
        self.key(key);
        self.buf.push(b'{');
        self.first.push(true);
    }

    /// Closes the innermost object.
    pub fn end_object(&mut self) {
        self.first.pop();
        self.buf.push(b'}');
    }

    /// Opens an array as the member `key` of the current object.
    pub fn begin_array_field(&mut self, key: &str) {
        self.key(key);
        self.buf.push(b'[');
        self.first.push(true);
    }

    /// Closes the innermost array.
    pub fn end_array(&mut self) {
        self.first.pop();
        self.buf.push(b']');
    }

    /// Writes a string element of the current array.
    pub fn string(&mut self, value: &str) {
        self.separate();
        self.push_str_raw(value);
    }

    /// Writes a string member.
    pub fn string_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.push_str_raw(value);
    }

    /// Writes a number member.
    pub fn u16_field(&mut self, key: &str, value: u16) {
        self.key(key);
        self.buf.extend_from_slice(value.to_string().as_bytes());
    }

    /// Writes a boolean member.
    pub fn bool_field(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Writes `"body"` and `"isBase64Encoded"`: the bytes as a JSON string when `as_text` (they
    /// must then be valid UTF-8, else they are base64-encoded anyway), base64 otherwise.
    pub fn body_fields(&mut self, body: &[u8], as_text: bool) {
        let text = if as_text {
            std::str::from_utf8(body).ok()
        } else {
            None
        };
        self.key("body");
        match text {
            Some(text) => self.push_str_raw(text),
            None => {
                self.buf.push(b'"');
                push_base64(&mut self.buf, body);
                self.buf.push(b'"');
            }
        }
        self.bool_field("isBase64Encoded", text.is_none());
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished JSON.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_members_with_commas() {
        let mut w = JsonWriter::with_capacity(64);
        w.begin_object();
        w.u16_field("statusCode", 200);
        w.begin_object_field("headers");
        w.string_field("a\"b", "c\nd");
        w.string_field("e", "f");
        w.end_object();
        w.begin_array_field("cookies");
        w.string("x=1");
        w.string("y=2");
        w.end_array();
        w.body_fields(b"\xff\x00", true);
        w.end_object();
        let json: serde_json::Value = serde_json::from_slice(&w.finish()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"statusCode": 200, "headers": {"a\"b": "c\nd", "e": "f"},
                "cookies": ["x=1", "y=2"], "body": "/wA=", "isBase64Encoded": true})
        );
    }
}
