//! Writes a value in the output format (see [`format`](super::format)): a serde `Serializer`
//! appending to one `Vec<u8>`.

use serde::ser::{self, Serialize};

use super::format::*;
use super::CodecError;

/// Appends the encoding of `value` to `out`.
pub(super) fn write<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), CodecError> {
    value.serialize(&mut Writer { out, depth: 0 })
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// Levels entered and not yet left, counted as the decoder counts them.
    depth: usize,
}

impl<'a> Writer<'a> {
    fn tag(&mut self, tag: u8) {
        self.out.push(tag);
    }

    fn tagged_bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.tag(tag);
        put_varint(self.out, bytes.len() as u128);
        self.out.extend_from_slice(bytes);
    }

    /// Enters one more level of nesting, or refuses to nest deeper than the decoder reads.
    fn enter(&mut self) -> Result<(), CodecError> {
        if self.depth == MAX_DEPTH {
            return Err(CodecError::new(format!(
                "the value nests deeper than {MAX_DEPTH} levels, more than a replay could read"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    /// A sequence or map (one level; `levels` counts a variant around it too): counted when
    /// its length is known, else closed by `END`.
    fn compound<'w>(
        &'w mut self,
        (counted, open): (u8, u8),
        len: Option<usize>,
        levels: usize,
    ) -> Result<Compound<'w, 'a>, CodecError> {
        self.enter()?;
        match len {
            Some(len) => {
                self.tag(counted);
                put_varint(self.out, len as u128);
            }
            None => self.tag(open),
        }
        Ok(Compound {
            writer: self,
            left: len,
            levels: levels + 1,
        })
    }

    /// A variant with a payload: a one-entry map from its name to the payload (one level).
    fn variant(&mut self, variant: &str) -> Result<(), CodecError> {
        self.enter()?;
        self.tag(MAP);
        put_varint(self.out, 1);
        self.tagged_bytes(STR, variant.as_bytes());
        Ok(())
    }
}

/// An open sequence or map; `left` counts down the elements a counted one still expects, and
/// `levels` are the levels of nesting `end` leaves.
struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    left: Option<usize>,
    levels: usize,
}

impl Compound<'_, '_> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CodecError> {
        if let Some(left) = &mut self.left {
            *left = left.checked_sub(1).ok_or_else(Self::miscounted)?;
        }
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), CodecError> {
        self.writer.depth -= self.levels;
        match self.left {
            None => {
                self.writer.tag(END);
                Ok(())
            }
            Some(0) => Ok(()),
            Some(_) => Err(Self::miscounted()),
        }
    }

    fn miscounted() -> CodecError {
        CodecError::new("a Serialize impl wrote another number of elements than it announced")
    }
}

type Result<T = (), E = CodecError> = std::result::Result<T, E>;

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = CodecError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

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
        if v < 0 {
            self.tag(NEG_INT);
            // !v maps -1 to 0, -2 to 1, ...
            put_varint(self.out, !v as u128);
        } else {
            self.tag(UINT);
            put_varint(self.out, v as u128);
        }
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
        put_varint(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.tag(F32);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.tag(F64);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.tag(CHAR);
        put_varint(self.out, u32::from(v).into());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        self.tagged_bytes(STR, v.as_bytes());
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
        self.enter()?;
        self.tag(SOME);
        value.serialize(&mut *self)?;
        self.depth -= 1;
        Ok(())
    }
    fn serialize_unit(self) -> Result {
        self.tag(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
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
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.depth -= 1;
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'w, 'a>> {
        self.compound((SEQ, SEQ_OPEN), len, 0)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>> {
        self.variant(variant)?;
        self.compound((SEQ, SEQ_OPEN), Some(len), 1)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'w, 'a>> {
        // Each entry is a key and a value: count both, so `end` can check the pairs.
        Ok(self.compound((MAP, MAP_OPEN), len, 0)?.pairs())
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>> {
        self.variant(variant)?;
        Ok(self.compound((MAP, MAP_OPEN), Some(len), 1)?.pairs())
    }
    fn is_human_readable(&self) -> bool {
        true
    }
}

impl Compound<'_, '_> {
    /// A map counts keys and values separately.
    fn pairs(mut self) -> Self {
        self.left = self.left.map(|pairs| pairs.saturating_mul(2));
        self
    }

    fn field<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result {
        self.element(name)?;
        self.element(value)
    }
}

/// The sequence-like traits: each element is one more item.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = CodecError;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
                self.element(value)
            }
            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = CodecError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        self.element(key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// The struct-like traits: each field is its name, then its value.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = CodecError;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result {
                self.field(name, value)
            }
            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);
