//! Sequences, tuples and tuple structs, and the one shape they take that is not element by
//! element: a non-empty sequence of `u8`s is a byte run (`0f`, the bytes escaped like a
//! string's, then `00`), so a `Vec<u8>` or `[u8; 32]` hashes at the speed of its bytes instead
//! of costing an element each.
//!
//! serde hands such a sequence over one `u8` at a time, so the encoder cannot know up front:
//! it asks each element, through [`ByteProbe`], whether it is a `u8`, and gathers the bytes
//! on the stack, writing them a chunk at a time (escaped into the run, or for version 1 as
//! integers). An element that is not a `u8` turns a run back into the sequence of integers
//! version 1 wrote, so a mixed sequence encodes as it always did.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use super::encoder::{Encoder, Result, BYTE_RUN, END, SEQ};

/// How many probed bytes are gathered before they are written.
const CHUNK: usize = 256;

/// Writes one sequence into its parent's output.
pub(crate) struct SeqEncoder<'b, 'a> {
    parent: &'b mut Encoder<'a>,
    /// Where the sequence's tag goes.
    start: usize,
    state: State,
    /// Bytes probed but not written yet: the first `gathered` of `chunk`.
    chunk: [u8; CHUNK],
    gathered: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing written yet, not even the tag.
    Empty,
    /// A byte run: every element so far was a `u8` (version 2).
    Run,
    /// Every element so far was a `u8`, written as integers after the `0a` tag (version 1,
    /// which writes a `u8` element exactly so).
    Integers,
    /// Element by element, after the `0a` tag.
    Items,
}

impl<'b, 'a> SeqEncoder<'b, 'a> {
    pub(super) fn new(parent: &'b mut Encoder<'a>) -> Self {
        let start = parent.out.len();
        Self {
            parent,
            start,
            state: State::Empty,
            chunk: [0; CHUNK],
            gathered: 0,
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        if self.state != State::Items {
            match value.serialize(ByteProbe) {
                Ok(byte) => {
                    self.chunk[self.gathered] = byte;
                    self.gathered += 1;
                    if self.gathered == CHUNK {
                        self.write_gathered();
                    }
                    return Ok(());
                }
                Err(NotAByte) => self.switch_to_items(),
            }
        }
        value.serialize(&mut *self.parent)
    }

    /// Writes the gathered bytes: into the run (version 2) or as integers (version 1).
    fn write_gathered(&mut self) {
        let bytes = &self.chunk[..self.gathered];
        if bytes.is_empty() {
            return;
        }
        match self.state {
            State::Empty if self.parent.byte_runs => {
                self.parent.tag(BYTE_RUN);
                self.parent.runs_written += 1;
                self.state = State::Run;
            }
            State::Empty => {
                self.parent.tag(SEQ);
                self.state = State::Integers;
            }
            State::Run | State::Integers | State::Items => {}
        }
        if self.state == State::Run {
            self.parent.escaped(bytes);
        } else {
            self.parent.bytes_as_integers(bytes);
        }
        self.gathered = 0;
    }

    /// Goes on element by element: writes the tag, or rewrites the run so far as integers.
    fn switch_to_items(&mut self) {
        self.write_gathered();
        match self.state {
            State::Run => {
                let run = unescape(&self.parent.out.as_slice()[self.start + 1..]);
                self.parent.out.truncate(self.start);
                self.parent.runs_written -= 1;
                self.parent.tag(SEQ);
                self.parent.bytes_as_integers(&run);
            }
            State::Empty => self.parent.tag(SEQ),
            State::Integers | State::Items => {}
        }
        self.state = State::Items;
    }

    fn finish(mut self) -> Result {
        self.write_gathered();
        match self.state {
            State::Run => self.parent.out.push(0),
            State::Empty => {
                self.parent.tag(SEQ);
                self.parent.tag(END);
            }
            State::Integers | State::Items => self.parent.tag(END),
        }
        Ok(())
    }
}

/// A run's bytes without their escapes (each `00` is written `00 ff`).
fn unescape(escaped: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(escaped.len());
    let mut after_zero = false;
    for &byte in escaped {
        if after_zero && byte == 0xff {
            after_zero = false;
            continue;
        }
        after_zero = byte == 0;
        bytes.push(byte);
    }
    bytes
}

/// The four kinds of sequence serde knows, all written alike.
macro_rules! sequence {
    ($($kind:ident::$element:ident),*) => {$(
        impl ser::$kind for SeqEncoder<'_, '_> {
            type Ok = ();
            type Error = super::EncodeError;
            fn $element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
                self.element(value)
            }
            fn end(self) -> Result {
                self.finish()
            }
        }
    )*};
}

sequence!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A serializer that accepts a `u8` (through newtype structs, which the encoding sees
/// through) and refuses anything else at its first call, having written nothing.
struct ByteProbe;

/// What [`ByteProbe`] answers for a value that is not a `u8`.
#[derive(Debug)]
struct NotAByte;

impl fmt::Display for NotAByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a u8")
    }
}

impl std::error::Error for NotAByte {}

impl ser::Error for NotAByte {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotAByte
    }
}

type Probed<T = u8> = std::result::Result<T, NotAByte>;
type Refused = Impossible<u8, NotAByte>;

impl ser::Serializer for ByteProbe {
    type Ok = u8;
    type Error = NotAByte;
    type SerializeSeq = Refused;
    type SerializeTuple = Refused;
    type SerializeTupleStruct = Refused;
    type SerializeTupleVariant = Refused;
    type SerializeMap = Refused;
    type SerializeStruct = Refused;
    type SerializeStructVariant = Refused;

    fn serialize_u8(self, v: u8) -> Probed {
        Ok(v)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Probed {
        v.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Probed {
        Err(NotAByte)
    }
    fn serialize_i8(self, _: i8) -> Probed {
        Err(NotAByte)
    }
    fn serialize_i16(self, _: i16) -> Probed {
        Err(NotAByte)
    }
    fn serialize_i32(self, _: i32) -> Probed {
        Err(NotAByte)
    }
    fn serialize_i64(self, _: i64) -> Probed {
        Err(NotAByte)
    }
    fn serialize_i128(self, _: i128) -> Probed {
        Err(NotAByte)
    }
    fn serialize_u16(self, _: u16) -> Probed {
        Err(NotAByte)
    }
    fn serialize_u32(self, _: u32) -> Probed {
        Err(NotAByte)
    }
    fn serialize_u64(self, _: u64) -> Probed {
        Err(NotAByte)
    }
    fn serialize_u128(self, _: u128) -> Probed {
        Err(NotAByte)
    }
    fn serialize_f32(self, _: f32) -> Probed {
        Err(NotAByte)
    }
    fn serialize_f64(self, _: f64) -> Probed {
        Err(NotAByte)
    }
    fn serialize_char(self, _: char) -> Probed {
        Err(NotAByte)
    }
    fn serialize_str(self, _: &str) -> Probed {
        Err(NotAByte)
    }
    fn serialize_bytes(self, _: &[u8]) -> Probed {
        Err(NotAByte)
    }
    fn serialize_none(self) -> Probed {
        Err(NotAByte)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Probed {
        Err(NotAByte)
    }
    fn serialize_unit(self) -> Probed {
        Err(NotAByte)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Probed {
        Err(NotAByte)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Probed {
        Err(NotAByte)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Probed {
        Err(NotAByte)
    }
    fn serialize_seq(self, _: Option<usize>) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_tuple(self, _: usize) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_map(self, _: Option<usize>) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Probed<Refused> {
        Err(NotAByte)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Probed<Refused> {
        Err(NotAByte)
    }
    /// Refused without formatting the value (the default would build a `String` first).
    fn collect_str<T: ?Sized + fmt::Display>(self, _: &T) -> Probed {
        Err(NotAByte)
    }
}
