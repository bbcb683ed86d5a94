//! Word-at-a-time byte tests ("SIMD within a register") for the JSON reader and writer.
//!
//! Each test takes eight bytes as a little-endian `u64` and returns a mask whose bit 7 of byte
//! `i` is set when byte `i` matches (with no false negatives; a match can only cause false
//! positives in the bytes *after* the first true match, so `trailing_zeros / 8` is the index of
//! the first matching byte).

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes equal to zero.
#[inline(always)]
const fn zero(x: u64) -> u64 {
    x.wrapping_sub(LOW) & !x & HIGH
}

/// Bytes equal to `byte`.
#[inline(always)]
pub(crate) const fn equal(x: u64, byte: u8) -> u64 {
    zero(x ^ (LOW * byte as u64))
}

/// Bytes below 0x20 (JSON control characters).
#[inline(always)]
pub(crate) const fn control(x: u64) -> u64 {
    x.wrapping_sub(LOW * 0x20) & !x & HIGH
}

/// The eight bytes at `at` as a word (`at + 8 <= bytes.len()`).
#[inline(always)]
pub(crate) fn word(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The index of the first byte in the mask (`mask != 0`).
#[inline(always)]
pub(crate) const fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_find_the_first_matching_byte_of_every_position_and_value() {
        for position in 0..8 {
            for value in 0..=255u8 {
                let mut bytes = [b'a'; 8];
                bytes[position] = value;
                let x = word(&bytes, 0);
                let expect = |hit: bool| if hit { Some(position) } else { None };
                let found = |mask: u64| (mask != 0).then(|| first(mask));
                assert_eq!(found(equal(x, b'"')), expect(value == b'"'), "{value}");
                assert_eq!(found(control(x)), expect(value < 0x20), "{value}");
            }
        }
    }
}
