//! Reads a value in the output format (see [`format`](super::format)): a serde `Deserializer`
//! over stored bytes, which may be anything a store hands back. Every length is checked
//! against what is left, nesting is bounded, and the value must use the input up exactly, so
//! garbage is an error, never a panic and never a partial value.

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::format::*;
use super::CodecError;

/// Decodes one `T` that takes all of `input`.
pub(super) fn read<T: DeserializeOwned>(input: &[u8]) -> Result<T, CodecError> {
    let mut reader = Reader { input, depth: 0 };
    let value = T::deserialize(&mut reader)?;
    if !reader.input.is_empty() {
        return Err(CodecError::new(format!(
            "{} bytes follow the value",
            reader.input.len()
        )));
    }
    Ok(value)
}

struct Reader<'de> {
    input: &'de [u8],
    depth: usize,
}

type Result<T, E = CodecError> = std::result::Result<T, E>;

impl<'de> Reader<'de> {
    fn peek(&self) -> Result<u8> {
        self.input.first().copied().ok_or_else(Self::cut_short)
    }

    fn byte(&mut self) -> Result<u8> {
        let (&byte, rest) = self.input.split_first().ok_or_else(Self::cut_short)?;
        self.input = rest;
        Ok(byte)
    }

    fn take(&mut self, len: usize) -> Result<&'de [u8]> {
        if len > self.input.len() {
            return Err(Self::cut_short());
        }
        let (taken, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| Self::cut_short())
    }

    fn varint(&mut self) -> Result<u128> {
        // Most lengths and small integers take one byte.
        if let Some((&byte @ ..0x80, rest)) = self.input.split_first() {
            self.input = rest;
            return Ok(byte.into());
        }
        let (value, len) =
            get_varint(self.input).ok_or_else(|| CodecError::new("a malformed varint"))?;
        self.input = &self.input[len..];
        Ok(value)
    }

    /// A length or count, which can never exceed the bytes left (each item takes one at least).
    fn len(&mut self) -> Result<usize> {
        let len = self.varint()?;
        usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.input.len())
            .ok_or_else(Self::cut_short)
    }

    fn str(&mut self) -> Result<&'de str> {
        let len = self.len()?;
        std::str::from_utf8(self.take(len)?).map_err(|_| CodecError::new("a string is not UTF-8"))
    }

    /// A string where one is expected (a `String` field, a field name): read without going
    /// through [`any`](Self::any)'s dispatch on every tag; anything else goes through it.
    fn expected_str<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        if let [STR, len @ ..0x80, rest @ ..] = self.input {
            let len = usize::from(*len);
            if let Some(bytes) = rest.get(..len) {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| CodecError::new("a string is not UTF-8"))?;
                self.input = &rest[len..];
                return visitor.visit_borrowed_str(text);
            }
        }
        self.any(visitor)
    }

    fn cut_short() -> CodecError {
        CodecError::new("the value is cut short")
    }

    /// Runs `inside` one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(&mut self, inside: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth == MAX_DEPTH {
            return Err(CodecError::new("the value nests too deeply"));
        }
        self.depth += 1;
        let value = inside(self);
        self.depth -= 1;
        value
    }

    fn any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            UNIT => visitor.visit_unit(),
            NONE => visitor.visit_none(),
            SOME => self.nested(|reader| visitor.visit_some(reader)),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            UINT => match self.varint()? {
                small @ ..=0xffff_ffff_ffff_ffff => visitor.visit_u64(small as u64),
                large => visitor.visit_u128(large),
            },
            NEG_INT => {
                let magnitude = i128::try_from(self.varint()?)
                    .map_err(|_| CodecError::new("a negative integer beyond 128 bits"))?;
                match !magnitude {
                    small @ -0x8000_0000_0000_0000.. => visitor.visit_i64(small as i64),
                    large => visitor.visit_i128(large),
                }
            }
            F32 => visitor.visit_f32(f32::from_le_bytes(self.array()?)),
            F64 => visitor.visit_f64(f64::from_le_bytes(self.array()?)),
            CHAR => {
                let code = u32::try_from(self.varint()?).ok().and_then(char::from_u32);
                visitor.visit_char(code.ok_or_else(|| CodecError::new("an invalid char"))?)
            }
            STR => visitor.visit_borrowed_str(self.str()?),
            BYTES => {
                let len = self.len()?;
                visitor.visit_borrowed_bytes(self.take(len)?)
            }
            SEQ => {
                let left = Some(self.len()?);
                self.nested(|reader| visitor.visit_seq(Items { reader, left }))
            }
            SEQ_OPEN => self.nested(|reader| visitor.visit_seq(Items { reader, left: None })),
            MAP => {
                let left = Some(self.len()?);
                self.nested(|reader| visitor.visit_map(Items { reader, left }))
            }
            MAP_OPEN => self.nested(|reader| visitor.visit_map(Items { reader, left: None })),
            tag => Err(CodecError::new(format!("an unknown tag {tag:#04x}"))),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = CodecError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            NONE => {
                self.byte()?;
                visitor.visit_none()
            }
            SOME => {
                self.byte()?;
                self.nested(|reader| visitor.visit_some(reader))
            }
            // Written by a type whose Serialize did not go through `Option`: a present value.
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.byte()? {
            STR => visitor.visit_enum(self.str()?.into_deserializer()),
            MAP if self.varint()? == 1 => self.nested(|reader| visitor.visit_enum(reader)),
            _ => Err(CodecError::new(
                "an enum is neither a variant name nor a one-entry map",
            )),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expected_str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expected_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.expected_str(visitor)
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct ignored_any
    }
}

/// The elements of a sequence, or the entries of a map: `left` of them, or up to `END`.
struct Items<'r, 'de> {
    reader: &'r mut Reader<'de>,
    left: Option<usize>,
}

impl Items<'_, '_> {
    /// Whether another item follows, consuming the `END` of an open one.
    fn has_next(&mut self) -> Result<bool> {
        match &mut self.left {
            Some(0) => Ok(false),
            Some(left) => {
                *left -= 1;
                Ok(true)
            }
            None if self.reader.peek()? == END => {
                self.reader.byte()?;
                Ok(false)
            }
            None => Ok(true),
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = CodecError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>> {
        if !self.has_next()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.left
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = CodecError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.has_next()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.reader)
    }

    fn size_hint(&self) -> Option<usize> {
        self.left
    }
}

/// A variant with a payload: the one entry of a map, its key the variant's name.
impl<'de> de::EnumAccess<'de> for &mut Reader<'de> {
    type Error = CodecError;
    type Variant = Self;

    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let variant = seed.deserialize(&mut *self)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Reader<'de> {
    type Error = CodecError;

    fn unit_variant(self) -> Result<()> {
        match self.byte()? {
            UNIT => Ok(()),
            _ => Err(CodecError::new("a unit variant carries a value")),
        }
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.any(visitor)
    }
}
