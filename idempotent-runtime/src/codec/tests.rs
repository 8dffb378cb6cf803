//! The output codec: every value replays as it was written, and garbage is an error.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;
use crate::test_values::{tree, Tree};

fn ok_only<T: Serialize + DeserializeOwned, E>() -> Codec<T, E> {
    Codec::ok_only(Serde::new())
}

fn with_errors<T, E>() -> Codec<T, E>
where
    T: Serialize + DeserializeOwned,
    E: Serialize + DeserializeOwned,
{
    Codec::with_errors(Serde::new(), Serde::new())
}

fn encoded<T: Serialize + DeserializeOwned>(value: T) -> Vec<u8> {
    ok_only::<T, ()>()
        .encode(&Ok(value))
        .expect("Ok is recorded")
        .expect("encodes")
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug + Clone>(value: T) {
    let bytes = encoded(value.clone());
    assert_eq!(
        ok_only::<T, ()>().decode(&bytes).expect("decodes"),
        Ok(value)
    );
}

#[test]
fn empty_and_zero_values_replay_faithfully() {
    round_trip(());
    round_trip(None::<u32>);
    round_trip(Some(0u32));
    round_trip(0i64);
    round_trip(false);
    round_trip(String::new());
    round_trip(Vec::<u8>::new());
    round_trip(BTreeMap::<String, u32>::new());
    round_trip((0u8, String::new(), None::<bool>));
}

/// Issue 7, defect 2: `Some(None)` replayed as `None` under MessagePack.
#[test]
fn nested_options_keep_every_level() {
    round_trip(Some(None::<u32>));
    round_trip(None::<Option<u32>>);
    round_trip(Some(Some(7u32)));
    round_trip(Some(()));
    round_trip(None::<()>);
    round_trip(Some(Some(None::<Option<String>>)));
    round_trip(vec![None, Some(None), Some(Some(()))]);
}

/// The PATCH pattern: absent, explicitly null, or a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Patch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u32>,
}

#[test]
fn an_explicit_null_field_stays_explicit() {
    for name in [None, Some(None), Some(Some("vol".to_string()))] {
        round_trip(Patch { name, size: None });
        round_trip(Patch {
            name: Some(None),
            size: Some(0),
        });
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Flattened {
    id: String,
    #[serde(flatten)]
    inner: Inner,
}

/// A flattened map takes every key the struct does not name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlattenedMap {
    id: String,
    #[serde(flatten)]
    extra: BTreeMap<String, Option<Option<u32>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    maybe: Option<Option<bool>>,
    unit: Option<()>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Untagged {
    Number(u64),
    Text(String),
    Pair { left: Option<i8>, right: Option<()> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Internal {
    Created {
        id: u32,
        parent: Option<Option<u32>>,
    },
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    One(i32),
    Two(Option<()>, char),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum External {
    Unit,
    Newtype(Option<String>),
    Tuple(u8, Option<Option<u8>>),
    Struct { a: f64, b: Vec<Option<()>> },
}

#[test]
fn serde_attributes_that_look_at_the_data_replay() {
    round_trip(Flattened {
        id: "rtb-1".into(),
        inner: Inner {
            maybe: Some(None),
            unit: Some(()),
        },
    });
    round_trip(FlattenedMap {
        id: "rtb-1".into(),
        extra: [
            ("a".to_string(), Some(Some(1))),
            ("b".to_string(), Some(None)),
            ("c".to_string(), None),
        ]
        .into(),
    });
    for value in [
        Untagged::Number(u64::MAX),
        Untagged::Text("x".into()),
        Untagged::Pair {
            left: Some(-1),
            right: Some(()),
        },
    ] {
        round_trip(value);
    }
    round_trip(Internal::Created {
        id: 1,
        parent: Some(None),
    });
    round_trip(Internal::Deleted);
    round_trip(Adjacent::One(-5));
    round_trip(Adjacent::Two(Some(()), '\u{10ffff}'));
    for value in [
        External::Unit,
        External::Newtype(None),
        External::Tuple(1, Some(None)),
        External::Struct {
            a: -0.0,
            b: vec![None, Some(())],
        },
    ] {
        round_trip(value);
    }
}

#[test]
fn numbers_keep_their_width_and_bits() {
    round_trip(i128::MIN);
    round_trip(i128::MAX);
    round_trip(u128::MAX);
    round_trip(i64::MIN);
    round_trip(u64::MAX);
    round_trip(-1i8);
    round_trip(f32::MIN_POSITIVE);
    round_trip(f64::INFINITY);
    let bytes = encoded(-0.0f64);
    let back: f64 = ok_only::<f64, ()>()
        .decode(&bytes)
        .expect("decodes")
        .expect("ok");
    assert!(back.is_sign_negative(), "-0.0 replays as -0.0");
    let nan = f32::from_bits(0x7fc0_0001);
    let back: f32 = ok_only::<f32, ()>()
        .decode(&encoded(nan))
        .expect("decodes")
        .expect("ok");
    assert_eq!(back.to_bits(), nan.to_bits(), "a NaN keeps its payload");
}

#[test]
fn hash_maps_and_strings_replay() {
    let map: HashMap<String, Vec<Option<u16>>> = [
        ("k".to_string(), vec![Some(1), None]),
        ("".to_string(), vec![]),
    ]
    .into();
    round_trip(map);
    round_trip("zero \0 inside, and ünïcode".to_string());
    round_trip('\0');
    // Lengths on both sides of the one-byte length a string is read fast with.
    for len in [0, 1, 127, 128, 300] {
        round_trip("é".repeat(len / 2) + &"x".repeat(len % 2));
        round_trip("x".repeat(len));
    }
}

/// A string, a field name or an identifier where the bytes hold something else is an error
/// (read through the general path), never a panic or a wrong value.
#[test]
fn a_string_where_another_value_is_stored_is_an_error() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Named {
        name: String,
    }
    let not_utf8_name = b"\x02O\x0e\x01\x0a\x02\xff\xfe\x0a\x01x";
    let not_utf8_value = b"\x02O\x0e\x01\x0a\x04name\x0a\x02\xc3\x28";
    let number_for_a_string = b"\x02O\x0e\x01\x0a\x04name\x05\x07";
    let cut_short = b"\x02O\x0e\x01\x0a\x04name\x0a\x09ab";
    for bytes in [
        &not_utf8_name[..],
        not_utf8_value,
        number_for_a_string,
        cut_short,
    ] {
        let err = ok_only::<Named, ()>()
            .decode(bytes)
            .expect_err("not a Named");
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{bytes:?}");
    }
    let fine = b"\x02O\x0e\x01\x0a\x04name\x0a\x01x";
    let named = ok_only::<Named, ()>()
        .decode(fine)
        .expect("decodes")
        .expect("ok");
    assert_eq!(named.name, "x");
}

/// The format's bytes are pinned: a record written today decodes in every later release.
#[test]
fn the_encoding_is_pinned() {
    #[derive(Serialize, Deserialize)]
    struct Pin {
        a: Option<Option<u8>>,
        b: Vec<i32>,
        c: External,
    }
    let bytes = encoded(Pin {
        a: Some(None),
        b: vec![-1, 300],
        c: External::Unit,
    });
    assert_eq!(
        bytes,
        [
            0x02, b'O', // format, Ok
            0x0e, 3, // a struct of three fields
            0x0a, 1, b'a', 0x02, 0x01, // a: Some(None)
            0x0a, 1, b'b', 0x0c, 2, 0x06, 0x00, 0x05, 0xac, 0x02, // b: [-1, 300]
            0x0a, 1, b'c', 0x0a, 4, b'U', b'n', b'i', b't', // c: a unit variant
        ]
    );
}

#[test]
fn an_uncached_error_is_not_recorded() {
    assert!(ok_only::<u32, String>().encode(&Err("no".into())).is_none());
}

#[test]
fn cached_errors_replay_as_errors() {
    let codec = with_errors::<u32, String>();
    let bytes = codec
        .encode(&Err("no".into()))
        .expect("recorded")
        .expect("encodes");
    assert_eq!(
        codec.decode(&bytes).expect("decodes"),
        Err("no".to_string())
    );
    assert!(ok_only::<u32, String>().decode(&bytes).is_err());
}

#[test]
fn garbage_is_a_corrupt_record_error() {
    let garbage: [&[u8]; 12] = [
        b"",
        b"\x02",
        b"\x01O\xa3ab",
        b"\x02X\x0a\x01a",
        b"\x02O",
        b"\x02O\x0a",
        b"\x02O\x0a\x05ab",
        b"\x02O\x0a\x02\xff\xfe",
        b"\x02O\x0a\x01a\x00",
        b"\x02O\x11",
        b"\x02O\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
        b"\x02O\x05\x01",
    ];
    for bytes in garbage {
        let err = ok_only::<String, ()>().decode(bytes).expect_err("garbage");
        assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{bytes:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let mut bytes = vec![FORMAT, TAG_OK];
    bytes.extend(std::iter::repeat_n(format::SEQ_OPEN, 100_000));
    let err = ok_only::<Tree, ()>().decode(&bytes).expect_err("too deep");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
}

#[test]
fn a_serialize_that_miscounts_is_an_encoding_error() {
    struct Liar;
    impl Serialize for Liar {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(Some(2))?;
            seq.serialize_element(&1u8)?;
            seq.end()
        }
    }
    let mut out = Vec::new();
    assert!(ser::write(&mut out, &Liar).is_err());
}

proptest! {
    #[test]
    fn any_tree_round_trips(value in tree()) {
        round_trip(value);
    }

    #[test]
    fn nested_options_of_any_depth_round_trip(value in proptest::option::of(proptest::option::of(proptest::option::of(any::<u8>())))) {
        round_trip(value);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut framed = vec![FORMAT, TAG_OK];
        framed.extend_from_slice(&bytes);
        let _ = ok_only::<Tree, ()>().decode(&framed);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Deep(Option<Box<Deep>>);

fn deep(levels: usize) -> Deep {
    (0..levels).fold(Deep(None), |inner, _| Deep(Some(Box::new(inner))))
}

/// Found by the `output` fuzz target: a value nested deeper than the decoder reads was recorded
/// and could then not be replayed. Now the encoder refuses it (the result is not recorded).
#[test]
fn a_value_too_deep_to_replay_is_never_recorded() {
    round_trip(deep(format::MAX_DEPTH));
    let err = ok_only::<Deep, ()>()
        .encode(&Ok(deep(format::MAX_DEPTH + 1)))
        .expect("Ok is recorded")
        .expect_err("too deep");
    assert_eq!(err.kind(), StoreErrorKind::Codec);
    assert!(err.to_string().contains("nests deeper"), "{err}");
    round_trip(vec![deep(format::MAX_DEPTH - 1)]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WideInFlatten {
    #[serde(flatten)]
    inner: Wide,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Wide {
    big: u128,
}

/// A known limit of serde (its buffering for `flatten` cannot hand a 128-bit integer field
/// anything, whatever its value): such an output fails to replay as a corrupt record, never as
/// a wrong value. Outside `flatten` 128-bit integers replay.
#[test]
fn wide_integers_under_flatten_fail_loudly_not_wrongly() {
    for big in [7, u128::MAX] {
        let bytes = encoded(WideInFlatten {
            inner: Wide { big },
        });
        let err = ok_only::<WideInFlatten, ()>()
            .decode(&bytes)
            .expect_err("serde cannot buffer a u128 field");
        assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    }
    round_trip(Wide { big: u128::MAX });
}

/// A record the first release wrote (format 0x01, MessagePack with named fields) still
/// replays after the upgrade: these bytes are what that release stored for
/// `Table { id: 7, name: "a", parent: None }`, and for a cached `Err("gone")`.
#[test]
fn records_of_the_first_release_still_replay() {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Table {
        id: u32,
        name: String,
        parent: Option<u32>,
    }
    let table = Table {
        id: 7,
        name: "a".into(),
        parent: None,
    };
    let body = [
        0x83, 0xa2, b'i', b'd', 0x07, 0xa4, b'n', b'a', b'm', b'e', 0xa1, b'a', 0xa6, b'p', b'a',
        b'r', b'e', b'n', b't', 0xc0,
    ];
    // The pinned bytes are MessagePack's, as the first release wrote them.
    assert_eq!(rmp_serde::to_vec_named(&table).unwrap(), body);
    let stored = [&[0x01, b'O'][..], &body].concat();
    assert_eq!(
        ok_only::<Table, ()>().decode(&stored).unwrap(),
        Ok(table.clone())
    );

    let error = [&[0x01, b'E', 0xa4][..], b"gone"].concat();
    assert_eq!(
        with_errors::<Table, String>().decode(&error).unwrap(),
        Err("gone".to_string())
    );

    // A new record is never written in the old format.
    assert_eq!(encoded(table)[0], 0x02);
}
