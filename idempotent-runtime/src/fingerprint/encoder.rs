//! The canonical encoding of one value: a serde `Serializer` writing the format described in
//! the [parent module](super).
//!
//! Every value starts with a tag byte and is self-delimiting, so the concatenation of encoded
//! values is unambiguous. Maps are written with their entries sorted by encoded bytes, which
//! makes a `HashMap` hash the same whatever its iteration order, and like a `BTreeMap`.
//! Everything is written straight into one staging buffer: no value is encoded twice.
//! Sequences are written by [`SeqEncoder`](super::sequence::SeqEncoder).

use std::fmt;

use serde::ser::{self, Serialize};
use smallvec::SmallVec;

use super::sequence::SeqEncoder;
pub(crate) use super::staging::Staging;

pub(super) const UNIT: u8 = 0x00;
pub(super) const FALSE: u8 = 0x01;
pub(super) const TRUE: u8 = 0x02;
pub(super) const UINT: u8 = 0x03;
pub(super) const NEG_INT: u8 = 0x04;
pub(super) const FLOAT: u8 = 0x05;
pub(super) const STR: u8 = 0x06;
pub(super) const BYTES: u8 = 0x07;
pub(super) const NONE: u8 = 0x08;
pub(super) const SOME: u8 = 0x09;
pub(super) const SEQ: u8 = 0x0a;
pub(super) const END: u8 = 0x0b;
pub(super) const MAP: u8 = 0x0c;
pub(super) const STRUCT: u8 = 0x0d;
pub(super) const VARIANT: u8 = 0x0e;
pub(super) const BYTE_RUN: u8 = 0x0f;

/// A parameter's `Serialize` impl failed.
#[derive(Debug)]
pub(crate) struct EncodeError(pub(crate) String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Writes canonical encodings into a staging buffer.
pub(crate) struct Encoder<'a> {
    pub(super) out: &'a mut Staging,
    /// Whether a sequence of `u8`s becomes a byte run (`0f`, version 2). A scope value is part
    /// of a key, and keys never change, so it keeps version 1's sequence of integers.
    pub(super) byte_runs: bool,
    /// How many byte runs the output holds: a fingerprint with none is version 1's.
    pub(crate) runs_written: usize,
}

impl<'a> Encoder<'a> {
    /// An encoder of the current version (byte runs included).
    pub(crate) fn new(out: &'a mut Staging) -> Self {
        Self {
            out,
            byte_runs: true,
            runs_written: 0,
        }
    }

    /// An encoder of version 1, for a scope value.
    pub(crate) fn version_1(out: &'a mut Staging) -> Self {
        Self {
            byte_runs: false,
            ..Self::new(out)
        }
    }

    pub(super) fn tag(&mut self, tag: u8) {
        self.out.push(tag);
    }

    fn varint(&mut self, mut value: u128) {
        if value < 0x80 {
            self.out.push(value as u8);
            return;
        }
        loop {
            let low = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.out.push(low);
                return;
            }
            self.out.push(low | 0x80);
        }
    }

    /// A whole byte sequence, as [`SeqEncoder`] writes one a byte at a time.
    pub(crate) fn byte_sequence(&mut self, bytes: &[u8]) {
        if self.byte_runs && !bytes.is_empty() {
            self.runs_written += 1;
            self.tagged_bytes(BYTE_RUN, bytes);
        } else {
            self.tag(SEQ);
            self.bytes_as_integers(bytes);
            self.tag(END);
        }
    }

    /// Bytes as version 1 wrote a sequence's `u8`s: each an integer (`03`, then one LEB128
    /// byte, or two from 0x80), expanded a chunk at a time on the stack rather than pushed
    /// piece by piece.
    pub(super) fn bytes_as_integers(&mut self, bytes: &[u8]) {
        let mut expanded = [0; 3 * 256];
        for chunk in bytes.chunks(256) {
            let mut len = 0;
            for &byte in chunk {
                let (low, high) = (byte & 0x7f, byte >> 7);
                expanded[len] = UINT;
                expanded[len + 1] = low | (high << 7);
                expanded[len + 2] = high;
                len += 2 + usize::from(high);
            }
            self.out.extend_from_slice(&expanded[..len]);
        }
    }

    pub(crate) fn str(&mut self, text: &str) {
        self.tagged_bytes(STR, text.as_bytes());
    }

    /// The tag, the bytes with each `00` written `00 ff`, then `00`. No tag is `ff`, so the
    /// end is never mistaken for an escape. Unlike a length prefix, this keeps byte order:
    /// strings compare like their encodings, so a map with string keys in order (any
    /// `BTreeMap<String, _>`) is already canonical.
    pub(super) fn tagged_bytes(&mut self, tag: u8, bytes: &[u8]) {
        // Most strings hold no zero: a branch-free pass (which the compiler vectorises) says
        // so, cheaper than a search's set-up on a short string.
        if !bytes.iter().fold(false, |zero, &byte| zero | (byte == 0)) {
            self.out.extend_framed(tag, bytes, 0);
            return;
        }
        self.tag(tag);
        self.escaped(bytes);
        self.out.push(0);
    }

    /// The bytes with each `00` written `00 ff`: the inside of a string or a byte run.
    pub(super) fn escaped(&mut self, bytes: &[u8]) {
        let mut from = 0;
        // A vectorised search finds the zeros; the bytes between them are copied whole.
        for zero in memchr::memchr_iter(0, bytes) {
            self.out.extend_from_slice(&bytes[from..=zero]);
            self.out.push(0xff);
            from = zero + 1;
        }
        self.out.extend_from_slice(&bytes[from..]);
    }

    pub(super) fn int(&mut self, value: i128) {
        if value < 0 {
            self.tag(NEG_INT);
            // !value maps -1 to 0, -2 to 1, ...: no value is written twice.
            self.varint(!value as u128);
        } else {
            self.tag(UINT);
            self.varint(value as u128);
        }
    }

    fn float(&mut self, value: f64) {
        let canonical = if value.is_nan() {
            f64::NAN
        } else if value == 0.0 {
            0.0
        } else {
            value
        };
        self.tag(FLOAT);
        self.out
            .extend_from_slice(&canonical.to_bits().to_le_bytes());
    }

    fn variant(&mut self, variant: &str) {
        self.tag(VARIANT);
        self.str(variant);
    }
}

pub(super) type Result<T = ()> = std::result::Result<T, EncodeError>;

impl<'a, 'b> ser::Serializer for &'b mut Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = SeqEncoder<'b, 'a>;
    type SerializeTuple = SeqEncoder<'b, 'a>;
    type SerializeTupleStruct = SeqEncoder<'b, 'a>;
    type SerializeTupleVariant = SeqEncoder<'b, 'a>;
    type SerializeMap = MapEncoder<'b, 'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result {
        self.tag(if v { TRUE } else { FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i128(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i128(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i128(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.serialize_i128(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u128(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u128(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u128(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.serialize_u128(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.tag(UINT);
        self.varint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.float(v.into());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.float(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.str(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        self.str(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.tagged_bytes(BYTES, v);
        Ok(())
    }
    fn serialize_none(self) -> Result {
        self.tag(NONE);
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        self.tag(SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.tag(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.variant(variant);
        self.serialize_unit()
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqEncoder<'b, 'a>> {
        Ok(SeqEncoder::new(self))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqEncoder<'b, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqEncoder<'b, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqEncoder<'b, 'a>> {
        self.variant(variant);
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapEncoder<'b, 'a>> {
        Ok(MapEncoder::new(self))
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<Self> {
        self.tag(STRUCT);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self> {
        self.variant(variant);
        self.serialize_struct("", len)
    }
}

impl ser::SerializeStruct for &mut Encoder<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        self.str(key);
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.tag(END);
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Encoder<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result {
        ser::SerializeStruct::end(self)
    }
}

/// Writes a map's entries straight into the output, then puts them in order of their encoded
/// bytes. Entries that arrive in order (any `BTreeMap`) are left where they are.
pub(crate) struct MapEncoder<'b, 'a> {
    parent: &'b mut Encoder<'a>,
    /// Where each entry starts in the output.
    starts: SmallVec<[usize; 16]>,
}

impl<'b, 'a> MapEncoder<'b, 'a> {
    fn new(parent: &'b mut Encoder<'a>) -> Self {
        parent.tag(MAP);
        Self {
            parent,
            starts: SmallVec::new(),
        }
    }

    fn encode<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.parent)
    }

    /// The entries as (start, end) spans of the output.
    fn spans(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let ends = self
            .starts
            .iter()
            .skip(1)
            .copied()
            .chain([self.parent.out.len()]);
        self.starts.iter().copied().zip(ends)
    }

    fn sort_entries(&mut self) {
        let out = self.parent.out.as_slice();
        let mut spans: SmallVec<[(usize, usize); 16]> = self.spans().collect();
        let in_order = spans
            .windows(2)
            .all(|w| out[w[0].0..w[0].1] <= out[w[1].0..w[1].1]);
        if in_order {
            return;
        }
        spans.sort_unstable_by(|a, b| out[a.0..a.1].cmp(&out[b.0..b.1]));
        let first = self.starts[0];
        let mut sorted = Vec::with_capacity(out.len() - first);
        for &(start, end) in &spans {
            sorted.extend_from_slice(&out[start..end]);
        }
        self.parent.out.as_mut_slice()[first..].copy_from_slice(&sorted);
    }
}

impl ser::SerializeMap for MapEncoder<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        self.starts.push(self.parent.out.len());
        self.encode(key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.encode(value)
    }
    fn end(mut self) -> Result {
        if !self.starts.is_empty() {
            self.sort_entries();
        }
        self.parent.tag(END);
        Ok(())
    }
}
