//! The output format's tag bytes and the varint both directions share.
//!
//! # Output encoding, format `02`
//!
//! A stored result is self-describing, so serde attributes that need to look at the data
//! (`flatten`, `untagged`, internally tagged enums) replay as they were written, and compact.
//! It follows serde's data model the way JSON does (structs are maps keyed by field name, a
//! unit variant is its name, any other variant a one-entry map from its name to its payload,
//! newtype structs are transparent), with one difference that matters for replay: `None` and
//! `Some(v)` are tagged, so `Some(None)`, `Some(())` and `None` stay three different values.
//!
//! | serde value | bytes |
//! |---|---|
//! | `()`, unit struct | `00` |
//! | `None` / `Some(v)` | `01` / `02` then `v` |
//! | `false` / `true` | `03` / `04` |
//! | integer `n >= 0` (up to 128 bits) | `05`, LEB128 of `n` |
//! | integer `n < 0` (up to 128 bits) | `06`, LEB128 of `-(n + 1)` |
//! | `f32` / `f64` | `07` + 4 bytes / `08` + 8 bytes, little-endian bits |
//! | `char` | `09`, LEB128 of its code point |
//! | `str` / bytes | `0a` / `0b`, LEB128 of the length, the bytes |
//! | sequence, tuple (length known / unknown) | `0c`, LEB128 count, elements / `0d`, elements, `10` |
//! | map, struct (length known / unknown) | `0e`, LEB128 count, key-value pairs / `0f`, pairs, `10` |
//!
//! Strings are written as they are (`is_human_readable` is true, as for JSON, so types such
//! as `Uuid` or `IpAddr` take their text form, the one serde's buffering for `flatten` and
//! `untagged` expects).

/// How deeply values may nest (each `Some`, sequence, map and variant payload is a level). The
/// decoder refuses deeper input (recursion on crafted bytes would exhaust the stack), so the
/// encoder refuses deeper values too: a result that could not be replayed is never recorded.
pub(super) const MAX_DEPTH: usize = 128;

pub(super) const UNIT: u8 = 0x00;
pub(super) const NONE: u8 = 0x01;
pub(super) const SOME: u8 = 0x02;
pub(super) const FALSE: u8 = 0x03;
pub(super) const TRUE: u8 = 0x04;
pub(super) const UINT: u8 = 0x05;
pub(super) const NEG_INT: u8 = 0x06;
pub(super) const F32: u8 = 0x07;
pub(super) const F64: u8 = 0x08;
pub(super) const CHAR: u8 = 0x09;
pub(super) const STR: u8 = 0x0a;
pub(super) const BYTES: u8 = 0x0b;
pub(super) const SEQ: u8 = 0x0c;
pub(super) const SEQ_OPEN: u8 = 0x0d;
pub(super) const MAP: u8 = 0x0e;
pub(super) const MAP_OPEN: u8 = 0x0f;
pub(super) const END: u8 = 0x10;

/// Appends `value` as LEB128: seven bits a byte, low bits first, high bit set on all but the
/// last byte.
pub(super) fn put_varint(out: &mut Vec<u8>, mut value: u128) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a LEB128 value from the front of `input`: the value and the bytes it took, or `None`
/// if it is cut short, longer than 19 bytes, beyond 128 bits, or not in its shortest form.
pub(super) fn get_varint(input: &[u8]) -> Option<(u128, usize)> {
    let mut value: u128 = 0;
    for (index, &byte) in input.iter().enumerate().take(19) {
        let bits = u128::from(byte & 0x7f);
        let shift = 7 * index as u32;
        if shift == 126 && bits > 0b11 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            // A trailing zero byte would give a second spelling of the same value.
            return (byte != 0 || index == 0).then_some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u128::from(u64::MAX),
            u128::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(get_varint(&out), Some((value, out.len())), "{value}");
        }
    }

    #[test]
    fn varints_pin_their_bytes() {
        let mut out = Vec::new();
        put_varint(&mut out, 127);
        put_varint(&mut out, 128);
        put_varint(&mut out, 300);
        assert_eq!(out, [0x7f, 0x80, 0x01, 0xac, 0x02]);
    }

    #[test]
    fn malformed_varints_are_refused() {
        assert_eq!(get_varint(&[]), None, "empty");
        assert_eq!(get_varint(&[0x80]), None, "cut short");
        assert_eq!(get_varint(&[0x80, 0x00]), None, "not the shortest form");
        assert_eq!(get_varint(&[0xff; 20]), None, "too long");
        let mut beyond = vec![0xff; 18];
        beyond.push(0x04);
        assert_eq!(get_varint(&beyond), None, "beyond 128 bits");
    }
}
