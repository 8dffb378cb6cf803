//! `Tree`: every shape serde knows, nested arbitrarily, built from fuzzer bytes.

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};

/// Bytes serialized with `serialize_bytes`, not as a sequence.
#[derive(Debug, Clone, Arbitrary)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(bytes.to_vec()))
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

/// A newtype struct.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct Newtype(pub Box<Tree>);

/// A tuple struct.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct Pair(pub i16, pub Box<Tree>);

/// A unit struct.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct Marker;

/// Every serde shape, with each variant a value the fingerprint must tell apart.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub enum Tree {
    Unit,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    I128(i128),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    F32(f32),
    F64(f64),
    Char(char),
    Str(String),
    Bytes(Bytes),
    Option(Option<Box<Tree>>),
    Seq(Vec<Tree>),
    Map(BTreeMap<String, Tree>),
    Tuple((Box<Tree>, u8)),
    Newtype(Newtype),
    TupleStruct(Pair),
    UnitStruct(Marker),
    Struct {
        first: Box<Tree>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        second: Option<Option<u8>>,
    },
    TupleVariant(u8, Box<Tree>),
}

/// How two floats must compare.
#[derive(Clone, Copy)]
pub enum Floats {
    /// As the fingerprint sees them: `-0.0` is `0.0`, every NaN is one NaN.
    Canonical,
    /// Bit for bit, as a replay must give them back.
    Exact,
}

fn same_f64(a: f64, b: f64, floats: Floats) -> bool {
    match floats {
        Floats::Canonical => (a.is_nan() && b.is_nan()) || a == b,
        Floats::Exact => a.to_bits() == b.to_bits(),
    }
}

fn same_f32(a: f32, b: f32, floats: Floats) -> bool {
    match floats {
        Floats::Canonical => same_f64(a.into(), b.into(), floats),
        Floats::Exact => a.to_bits() == b.to_bits(),
    }
}

impl Tree {
    /// Structural equality, with floats compared as `floats` says.
    pub fn same(&self, other: &Tree, floats: Floats) -> bool {
        use Tree::*;
        let both = |a: &Tree, b: &Tree| a.same(b, floats);
        match (self, other) {
            (Unit, Unit) | (UnitStruct(_), UnitStruct(_)) => true,
            (Bool(a), Bool(b)) => a == b,
            (I8(a), I8(b)) => a == b,
            (I16(a), I16(b)) => a == b,
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (I128(a), I128(b)) => a == b,
            (U8(a), U8(b)) => a == b,
            (U16(a), U16(b)) => a == b,
            (U32(a), U32(b)) => a == b,
            (U64(a), U64(b)) => a == b,
            (U128(a), U128(b)) => a == b,
            (F32(a), F32(b)) => same_f32(*a, *b, floats),
            (F64(a), F64(b)) => same_f64(*a, *b, floats),
            (Char(a), Char(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a.0 == b.0,
            (Option(a), Option(b)) => match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => both(a, b),
                _ => false,
            },
            (Seq(a), Seq(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| both(a, b)),
            (Map(a), Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && both(va, vb))
            }
            (Tuple((a, x)), Tuple((b, y))) => x == y && both(a, b),
            (Newtype(a), Newtype(b)) => both(&a.0, &b.0),
            (TupleStruct(a), TupleStruct(b)) => a.0 == b.0 && both(&a.1, &b.1),
            (
                Struct { first, second },
                Struct {
                    first: other_first,
                    second: other_second,
                },
            ) => second == other_second && both(first, other_first),
            (TupleVariant(x, a), TupleVariant(y, b)) => x == y && both(a, b),
            _ => false,
        }
    }
}
