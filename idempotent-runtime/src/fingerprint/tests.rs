//! The encoding's pinned test vector and its properties.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde::Serialize;

use super::*;

fn fingerprint(params: &[(&'static str, &dyn erased::Param)]) -> Fingerprint {
    let mut fp = Fingerprinter::new();
    for (name, value) in params {
        value.add(&mut fp, name);
    }
    fp.finish().expect("fingerprints")
}

/// Lets tests pass parameters of different types in one slice.
mod erased {
    pub(super) trait Param {
        fn add(&self, fp: &mut super::Fingerprinter, name: &'static str);
    }
    impl<T: serde::Serialize> Param for T {
        fn add(&self, fp: &mut super::Fingerprinter, name: &'static str) {
            fp.param(name, self);
        }
    }
}

#[derive(Serialize)]
struct Route {
    cidr: &'static str,
    gateway: Option<&'static str>,
}

#[derive(Serialize)]
enum Kind {
    Local,
    Peering { id: u32 },
}

/// Pins version 1 of the encoding. If this test fails, fingerprints stored by earlier
/// releases no longer match: bump FINGERPRINT_VERSION instead of changing the encoding.
#[test]
fn version_1_test_vector() {
    let mut tags = BTreeMap::new();
    tags.insert("env", "prod");
    let fp = fingerprint(&[
        ("vpc_id", &"vpc-00c84bd9dcad1d728"),
        ("count", &3u32),
        ("delta", &-2i64),
        ("ratio", &0.5f64),
        ("dry_run", &false),
        (
            "routes",
            &vec![Route {
                cidr: "10.0.0.0/16",
                gateway: None,
            }],
        ),
        ("tags", &tags),
        ("kind", &Kind::Peering { id: 7 }),
        ("local", &Kind::Local),
        ("unit", &()),
    ]);
    assert_eq!(
        fp.to_string(),
        "4546647011ceed67ddfd101382ab8d02d36eef66d57e22bde13e441ecf4918bc"
    );
}

/// The smallest vector, worked out by hand from the table in the module docs:
/// `01` version, `06 "vpc_id" 00` name, `06 "vpc-00c84bd9dcad1d728" 00` value, hashed with
/// a SHA-256 outside Rust.
#[test]
fn hand_encoded_test_vector() {
    let fp = fingerprint(&[("vpc_id", &"vpc-00c84bd9dcad1d728")]);
    assert_eq!(
        fp.to_string(),
        "36fc96f0be4f98c639cc43c1fccf70f4ead40ce838f78da31f3eda6a0c0b45be"
    );
}

/// The bytes a value is staged as, as the parameter `p`.
fn encode(value: &dyn erased::Param) -> Vec<u8> {
    let mut fp = Fingerprinter::new();
    value.add(&mut fp, "p");
    fp.staged.as_slice()[4..].to_vec() // after the version byte and the name "p" (06 70 00)
}

#[test]
fn encoding_bytes_of_simple_values_follow_the_table() {
    assert_eq!(encode(&()), [0x00]);
    assert_eq!(encode(&true), [0x02]);
    assert_eq!(encode(&300u16), [0x03, 0xac, 0x02]);
    assert_eq!(encode(&-1i8), [0x04, 0x00]);
    assert_eq!(encode(&"ab"), [0x06, b'a', b'b', 0x00]);
    assert_eq!(encode(&"a\0b"), [0x06, b'a', 0x00, 0xff, b'b', 0x00]);
    assert_eq!(
        encode(&serde_bytes_like(&[0, 7])),
        [0x07, 0x00, 0xff, 0x07, 0x00]
    );
    assert_eq!(encode(&Some(1u8)), [0x09, 0x03, 0x01]);
    assert_eq!(encode(&None::<u8>), [0x08]);
    assert_eq!(encode(&vec![1u16]), [0x0a, 0x03, 0x01, 0x0b]);
    assert_eq!(encode(&vec![1u8, 0]), [0x0f, 0x01, 0x00, 0xff, 0x00]);
    assert_eq!(encode(&Vec::<u8>::new()), [0x0a, 0x0b]);
    let local = [0x0e, 0x06, b'L', b'o', b'c', b'a', b'l', 0x00, 0x00];
    assert_eq!(encode(&Kind::Local), local);
    let map: HashMap<&str, u8> = [("b", 2), ("a", 1)].into_iter().collect();
    let expected = [
        0x0c, 0x06, b'a', 0x00, 0x03, 0x01, 0x06, b'b', 0x00, 0x03, 0x02, 0x0b,
    ];
    assert_eq!(encode(&map), expected);
    assert_eq!(encode(&u64::MAX)[..3], [0x03, 0xff, 0xff]);
}

/// Serializes as serde bytes (as `serde_bytes` would).
struct BytesLike<'a>(&'a [u8]);

impl Serialize for BytesLike<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

fn serde_bytes_like(bytes: &[u8]) -> BytesLike<'_> {
    BytesLike(bytes)
}

#[test]
fn strings_with_zero_bytes_cannot_collide() {
    let pairs: [(&str, &str); 3] = [("a\0", "a"), ("a\0\0", "a\0"), ("", "\0")];
    for (left, right) in pairs {
        assert_ne!(fingerprint(&[("s", &left)]), fingerprint(&[("s", &right)]));
        assert_ne!(
            fingerprint(&[("s", &left), ("t", &right)]),
            fingerprint(&[("s", &right), ("t", &left)])
        );
    }
    assert_ne!(
        fingerprint(&[("v", &vec!["a\0", "b"])]),
        fingerprint(&[("v", &vec!["a", "\0b"])])
    );
}

#[test]
fn a_hash_map_hashes_like_a_btree_map_whatever_its_insertion_order() {
    let entries: Vec<(String, u32)> = (0..50).map(|i| (format!("key-{i}"), i)).collect();
    let forward: HashMap<_, _> = entries.iter().cloned().collect();
    let backward: HashMap<_, _> = entries.iter().rev().cloned().collect();
    let sorted: BTreeMap<_, _> = entries.iter().cloned().collect();
    let expected = fingerprint(&[("tags", &sorted)]);
    assert_eq!(fingerprint(&[("tags", &forward)]), expected);
    assert_eq!(fingerprint(&[("tags", &backward)]), expected);
}

#[test]
fn integer_width_does_not_matter_but_sign_and_value_do() {
    assert_eq!(fingerprint(&[("n", &5u8)]), fingerprint(&[("n", &5i64)]));
    assert_eq!(fingerprint(&[("n", &5u128)]), fingerprint(&[("n", &5i32)]));
    assert_ne!(fingerprint(&[("n", &-5i32)]), fingerprint(&[("n", &5i32)]));
    assert_ne!(fingerprint(&[("n", &5u32)]), fingerprint(&[("n", &"5")]));
}

#[test]
fn adjacent_strings_cannot_trade_characters() {
    assert_ne!(
        fingerprint(&[("a", &"xy"), ("b", &"z")]),
        fingerprint(&[("a", &"x"), ("b", &"yz")])
    );
    assert_ne!(
        fingerprint(&[("a", &vec!["x", "y"])]),
        fingerprint(&[("a", &vec!["xy"])])
    );
}

#[test]
fn a_failing_serialize_impl_is_an_error_not_a_panic() {
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    let mut fp = Fingerprinter::new();
    fp.param("bad", &Fails);
    let err = fp.finish().expect_err("Serialize failed");
    assert!(err.to_string().contains("`bad`"), "{err}");
}

#[derive(Debug, Clone, Serialize)]
struct Request {
    vpc_id: String,
    cidr: Option<String>,
    count: u32,
    tags: BTreeMap<String, String>,
    enabled: bool,
}

fn request_strategy() -> impl Strategy<Value = Request> {
    (
        "[a-z0-9-]{0,24}",
        proptest::option::of("[0-9./]{0,18}"),
        any::<u32>(),
        proptest::collection::btree_map("[a-z]{1,6}", "[a-z]{0,6}", 0..4),
        any::<bool>(),
    )
        .prop_map(|(vpc_id, cidr, count, tags, enabled)| Request {
            vpc_id,
            cidr,
            count,
            tags,
            enabled,
        })
}

fn of(request: &Request) -> Fingerprint {
    fingerprint(&[
        ("cidr", &request.cidr),
        ("count", &request.count),
        ("enabled", &request.enabled),
        ("tags", &request.tags),
        ("vpc_id", &request.vpc_id),
    ])
}

proptest! {
    #[test]
    fn equal_requests_have_equal_fingerprints(request in request_strategy()) {
        prop_assert_eq!(of(&request), of(&request.clone()));
        prop_assert!(of(&request).mismatched(&of(&request)).is_empty());
    }

    #[test]
    fn changing_one_parameter_changes_the_fingerprint_and_names_it(
        request in request_strategy(),
        field in 0usize..5,
        salt in "[a-z]{1,4}",
    ) {
        let mut changed = request.clone();
        let name = match field {
            0 => { changed.vpc_id.push_str(&salt); "vpc_id" }
            1 => { changed.cidr = match changed.cidr { Some(_) => None, None => Some(salt) }; "cidr" }
            2 => { changed.count = changed.count.wrapping_add(1); "count" }
            3 => { changed.tags.insert(format!("{salt}{}", changed.tags.len()), salt); "tags" }
            _ => { changed.enabled = !changed.enabled; "enabled" }
        };
        prop_assert_ne!(of(&request), of(&changed));
        prop_assert_eq!(of(&changed).mismatched(&of(&request)), vec![name.to_string()]);
    }
}

/// A newtype struct: transparent.
#[derive(Serialize)]
struct VpcId(&'static str);

/// A tuple struct.
#[derive(Serialize)]
struct Pair(i16, char);

/// A unit struct.
#[derive(Serialize)]
struct Marker;

#[derive(Serialize)]
enum Shape {
    Circle(f32),
    Rect(u8, u8),
}

/// Every serde shape, byte for byte as the module's table says: a change here orphans every
/// stored fingerprint (bump `FINGERPRINT_VERSION` instead).
#[test]
fn every_serde_shape_follows_the_table() {
    let value = (
        VpcId("v"),
        Pair(-300, 'é'),
        Marker,
        Shape::Circle(1.5),
        Shape::Rect(1, 2),
        Some(-0.0f64),
        None::<u8>,
        serde_bytes_like(b"\0a"),
    );
    let expected: Vec<u8> = [
        &[0x0a][..],                                             // a tuple
        &[0x06, b'v', 0x00],             // a newtype struct is its inner value
        &[0x0a, 0x04, 0xab, 0x02],       // tuple struct: -300 is 04, LEB128 of 299
        &[0x06, 0xc3, 0xa9, 0x00, 0x0b], // 'é' as UTF-8, end of the tuple struct
        &[0x00],                         // a unit struct
        &[0x0e, 0x06, b'C', b'i', b'r', b'c', b'l', b'e', 0x00], // a newtype variant ...
        &[0x05, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f], // ... of f32 1.5, written as the f64's bits
        &[0x0e, 0x06, b'R', b'e', b'c', b't', 0x00], // a tuple variant ...
        &[0x0a, 0x03, 0x01, 0x03, 0x02, 0x0b], // ... and its elements
        &[0x09, 0x05, 0, 0, 0, 0, 0, 0, 0, 0], // Some(-0.0): signed zero is written as 0.0
        &[0x08],                         // None
        &[0x07, 0x00, 0xff, b'a', 0x00], // bytes, the zero escaped
        &[0x0b],                         // end of the tuple
    ]
    .concat();
    assert_eq!(encode_value(&value).expect("encodes"), expected);
}

#[test]
fn varints_and_signed_zero_are_pinned_at_their_edges() {
    let bytes = encode;
    assert_eq!(bytes(&0i32), [0x03, 0x00], "zero is not negative");
    assert_eq!(bytes(&-1i32), [0x04, 0x00]);
    assert_eq!(bytes(&127u8), [0x03, 0x7f]);
    assert_eq!(bytes(&128u8), [0x03, 0x80, 0x01]);
    assert_eq!(bytes(&-128i16), [0x04, 0x7f]);
    assert_eq!(bytes(&-129i16), [0x04, 0x80, 0x01]);
    assert_eq!(bytes(&0.0f64), bytes(&-0.0f64));
    assert_eq!(bytes(&f64::NAN), bytes(&-f64::NAN));
    assert_ne!(bytes(&1.0f32), bytes(&-1.0f32));
}

/// A map whose `Serialize` hands out its entries in descending order, as a custom type may.
struct Descending(Vec<(&'static str, u8)>);

impl Serialize for Descending {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0.iter().rev() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[test]
fn map_entries_in_descending_order_hash_as_sorted() {
    let entries = vec![("a", 1), ("b", 2), ("c", 3), ("ca", 4)];
    let sorted: BTreeMap<&str, u8> = entries.iter().copied().collect();
    assert_eq!(
        fingerprint(&[("m", &Descending(entries))]),
        fingerprint(&[("m", &sorted)])
    );
    assert_eq!(
        encode_value(&Descending(vec![("a", 1), ("b", 2)])).expect("encodes"),
        [0x0c, 0x06, b'a', 0x00, 0x03, 0x01, 0x06, b'b', 0x00, 0x03, 0x02, 0x0b]
    );
}

proptest! {
    /// Equal values fingerprint alike; a value with one leaf changed anywhere inside it (a
    /// newtype's content, a variant's payload, a tuple's element, ...) fingerprints apart.
    #[test]
    fn every_change_anywhere_in_a_value_changes_its_fingerprint(
        value in crate::test_values::tree(),
        choice in any::<u64>(),
    ) {
        let same = fingerprint(&[("v", &value)]);
        prop_assert_eq!(&same, &fingerprint(&[("v", &value.clone())]));
        let mut changed = value.clone();
        changed.tweak(choice);
        prop_assert_ne!(&changed, &value);
        prop_assert_ne!(same, fingerprint(&[("v", &changed)]));
    }

    /// Two independent values fingerprint alike exactly when they are equal.
    #[test]
    fn values_and_fingerprints_agree(
        a in crate::test_values::tree(),
        b in crate::test_values::tree(),
    ) {
        prop_assert_eq!(a == b, fingerprint(&[("v", &a)]) == fingerprint(&[("v", &b)]));
    }
}

/// A sequence whose `Serialize` hands out the elements given: `u8`s, then other values.
struct Mixed(Vec<Element>);

#[derive(Debug, Clone, Copy)]
enum Element {
    Byte(u8),
    Wide(u16),
    Text(&'static str),
}

impl Serialize for Mixed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for element in &self.0 {
            match element {
                Element::Byte(byte) => seq.serialize_element(byte)?,
                Element::Wide(wide) => seq.serialize_element(wide)?,
                Element::Text(text) => seq.serialize_element(text)?,
            }
        }
        seq.end()
    }
}

/// A newtype around a byte, which the encoding sees through.
#[derive(Serialize)]
struct Octet(u8);

/// Version 2's one new row: a sequence of `u8`s is a byte run, at the speed of its bytes.
#[test]
fn a_sequence_of_bytes_is_one_byte_run_and_anything_else_is_as_in_version_1() {
    let run = [0x0f, 0x07, 0x00, 0xff, 0x00];
    assert_eq!(encode(&vec![7u8, 0]), run);
    assert_eq!(encode(&[7u8, 0]), run, "an array is a tuple: the same run");
    assert_eq!(
        encode(&[Octet(7), Octet(0)]),
        run,
        "newtypes are seen through"
    );
    let mixed = |elements: &[Element]| encode(&Mixed(elements.to_vec()));
    assert_eq!(mixed(&[Element::Byte(7), Element::Byte(0)]), run);
    // A byte run that meets another element is written again as version 1 wrote it, the
    // escaped zero unescaped.
    assert_eq!(
        mixed(&[Element::Byte(0), Element::Byte(200), Element::Wide(3)]),
        [0x0a, 0x03, 0x00, 0x03, 0xc8, 0x01, 0x03, 0x03, 0x0b]
    );
    assert_eq!(
        mixed(&[Element::Byte(1), Element::Text("a")]),
        [0x0a, 0x03, 0x01, 0x06, b'a', 0x00, 0x0b]
    );
    assert_eq!(
        mixed(&[Element::Text("a"), Element::Byte(1)]),
        [0x0a, 0x06, b'a', 0x00, 0x03, 0x01, 0x0b]
    );
    assert_eq!(mixed(&[]), [0x0a, 0x0b]);
    assert_ne!(
        encode(&vec![1u8]),
        encode(&vec![1u16]),
        "a byte run is not integers"
    );
    assert_ne!(
        encode(&vec![1u8]),
        encode(&serde_bytes_like(&[1])),
        "nor serde bytes"
    );
}

/// The table's bytes for a sequence written element by element: the reference for the
/// encoder, which gathers bytes and writes them a chunk at a time.
fn sequence_by_the_table(elements: &[Element], byte_runs: bool) -> Vec<u8> {
    let bytes: Vec<u8> = elements
        .iter()
        .filter_map(|element| match element {
            Element::Byte(byte) => Some(*byte),
            _ => None,
        })
        .collect();
    if byte_runs && !elements.is_empty() && bytes.len() == elements.len() {
        let mut out = vec![0x0f];
        for byte in bytes {
            out.push(byte);
            if byte == 0 {
                out.push(0xff);
            }
        }
        out.push(0x00);
        return out;
    }
    let mut out = vec![0x0a];
    for element in elements {
        let mut value = match element {
            Element::Byte(byte) => u64::from(*byte),
            Element::Wide(wide) => u64::from(*wide),
            Element::Text(text) => {
                out.push(0x06);
                out.extend_from_slice(text.as_bytes());
                out.push(0x00);
                continue;
            }
        };
        out.push(0x03);
        while value >= 0x80 {
            out.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }
    out.push(0x0b);
    out
}

proptest! {
    /// Sequences of any length (across the encoder's chunks) and any mix of `u8`s and other
    /// elements, anywhere, encode as the table says element by element: in version 2 and in
    /// version 1.
    #[test]
    fn sequences_of_any_length_and_mix_encode_by_the_table(
        elements in proptest::collection::vec(
            prop_oneof![
                40 => any::<u8>().prop_map(Element::Byte),
                1 => any::<u16>().prop_map(Element::Wide),
                1 => Just(Element::Text("a")),
            ],
            0..1200,
        ),
        only_bytes in any::<bool>(),
    ) {
        let elements: Vec<Element> = if only_bytes {
            elements.into_iter().filter(|e| matches!(e, Element::Byte(_))).collect()
        } else {
            elements
        };
        prop_assert_eq!(encode(&Mixed(elements.clone())), sequence_by_the_table(&elements, true));
        prop_assert_eq!(
            encode_value(&Mixed(elements.clone())).expect("encodes"),
            sequence_by_the_table(&elements, false)
        );
    }
}

/// Version 1's bytes are kept wherever no byte run was written, and in a scope (part of a key).
#[test]
fn the_version_byte_says_whether_a_byte_run_is_inside() {
    let staged = |params: &[(&'static str, &dyn erased::Param)]| {
        let mut fp = Fingerprinter::new();
        for (name, value) in params {
            value.add(&mut fp, name);
        }
        let first = fp.staged.as_slice()[0];
        let fingerprint = fp.finish().expect("fingerprints");
        (first, fingerprint)
    };
    assert_eq!(staged(&[("n", &1u8), ("v", &vec![1u16])]).0, 1);
    assert_eq!(
        staged(&[("mixed", &Mixed(vec![Element::Byte(1), Element::Wide(2)]))]).0,
        1
    );
    let (_, with_run) = staged(&[("data", &vec![1u8]), ("n", &1u8)]);
    let mut by_hand = vec![0x02, 0x06, b'd', b'a', b't', b'a', 0x00, 0x0f, 0x01, 0x00];
    by_hand.extend([0x06, b'n', 0x00, 0x03, 0x01]);
    assert_eq!(
        with_run.digest(),
        &<[u8; 32]>::from(Sha256::digest(&by_hand))
    );
    assert_eq!(
        encode_value(&vec![1u8]).expect("encodes"),
        [0x0a, 0x03, 0x01, 0x0b]
    );
}

/// A version 2 vector with a byte run, beside version 1's above; hashed outside Rust from
/// `02`, `06 "data" 00`, `0f 00 ff 01 02 .. ff 00`, `06 "vpc_id" 00`, `06 "vpc-.." 00`.
#[test]
fn version_2_test_vector() {
    let data: Vec<u8> = (0..=255).collect();
    let fp = fingerprint(&[("data", &data), ("vpc_id", &"vpc-00c84bd9dcad1d728")]);
    assert_eq!(
        fp.to_string(),
        "fc6e50017548adc6591c3eeacfe1af6de71cc06912c5c637ae4a9d5df858760c"
    );
}

proptest! {
    /// A byte sequence given whole (as the macro gives a `Vec<u8>` or `&[u8]` parameter)
    /// encodes exactly as serde's element-by-element path.
    #[test]
    fn a_byte_parameter_given_whole_hashes_as_its_elements_would(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut whole = Fingerprinter::new();
        whole.byte_param("data", &data);
        let mut each = Fingerprinter::new();
        each.param("data", &data);
        prop_assert_eq!(whole.staged.as_slice(), each.staged.as_slice());
        prop_assert_eq!(whole.byte_runs, each.byte_runs);
        let (whole, each) = (whole.finish().expect("fingerprints"), each.finish().expect("fingerprints"));
        prop_assert_eq!(whole.params(), each.params());
        // The same in version 1, where the bytes are integers.
        let mut whole = Fingerprinter::version_1();
        whole.byte_param("data", &data);
        let mut each = Fingerprinter::version_1();
        each.param("data", &data);
        prop_assert_eq!(whole.staged.as_slice(), each.staged.as_slice());
    }
}

/// A lone parameter's digest is the fingerprint's own first bytes: a mismatch still names it.
#[test]
fn a_lone_parameter_is_named_by_the_fingerprint_itself() {
    let a = fingerprint(&[("request", &"a")]);
    let b = fingerprint(&[("request", &"b")]);
    let first: [u8; 8] = a.digest()[..8].try_into().expect("eight bytes");
    assert_eq!(a.params()[0].digest, u64::from_le_bytes(first));
    assert_eq!(b.mismatched(&a), ["request"]);
    assert!(a.mismatched(&a.clone()).is_empty());
    // From one parameter to two, the one they share is named beside the new one.
    let two = fingerprint(&[("request", &"a"), ("zone", &1u8)]);
    assert_eq!(two.mismatched(&a), ["request", "zone"]);
}

/// A request holding a byte sequence also carries version 1's digest (feature
/// `fingerprint-v1`), so a record written before version 2 still matches it; worked out by
/// hand: `01`, `06 "data" 00`, `0a 03 01 03 c8 01 0b` (the bytes as integers), hashed outside
/// Rust.
#[cfg(feature = "fingerprint-v1")]
#[test]
fn a_byte_sequence_still_matches_its_version_1_record() {
    let data = vec![1u8, 200];
    let params: [(&'static str, &dyn crate::bounds::Fingerprinted); 1] = [("data", &data)];
    let fingerprint = of_params(&params).expect("fingerprints");
    let version_1: [u8; 32] = [
        0x44, 0x0f, 0xcd, 0x9a, 0x85, 0xf9, 0xbe, 0x5f, 0xaf, 0x0a, 0xc4, 0xe1, 0x2a, 0x0a, 0xb1,
        0x95, 0xd1, 0x83, 0x1c, 0xe5, 0x22, 0xb2, 0xbd, 0x67, 0x75, 0x7f, 0xbc, 0x51, 0xee, 0x66,
        0xcd, 0xc1,
    ];
    let stored = Fingerprint::from_parts(version_1, Vec::new());
    assert_ne!(fingerprint, stored, "version 2 writes a byte run");
    assert!(fingerprint.matches(&stored));
    let other = Fingerprint::from_parts([0; 32], Vec::new());
    assert!(!fingerprint.matches(&other));
    // Without a byte sequence there is one version and no second digest.
    let size = 1u32;
    let plain: [(&'static str, &dyn crate::bounds::Fingerprinted); 1] = [("size", &size)];
    assert!(of_params(&plain).expect("fingerprints").version_1.is_none());
}
