//! `Tree`, a value of every serde shape nested at random, for the property tests of the
//! fingerprint and the output codec; and `tweak`, which changes one leaf somewhere inside.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// A newtype struct (transparent to serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Newtype(pub(crate) Box<Tree>);

/// A tuple struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Wrapper(pub(crate) i16, pub(crate) Box<Tree>);

/// Every shape serde knows; each variant must be told apart from every other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Tree {
    Unit,
    Bool(bool),
    Small(i16),
    Wide(i128),
    Unsigned(u64),
    Float(f32),
    Double(f64),
    Char(char),
    Text(String),
    Option(Option<Box<Tree>>),
    Seq(Vec<Tree>),
    Map(BTreeMap<String, Tree>),
    Pair(Box<Tree>, Box<Tree>),
    Tuple((u8, Box<Tree>)),
    Newtype(Newtype),
    Wrapper(Wrapper),
    Record {
        name: String,
        child: Option<Box<Tree>>,
    },
}

/// Any tree, NaN excluded (it is not equal to itself).
pub(crate) fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Unit),
        any::<bool>().prop_map(Tree::Bool),
        any::<i16>().prop_map(Tree::Small),
        any::<i128>().prop_map(Tree::Wide),
        any::<u64>().prop_map(Tree::Unsigned),
        any::<f32>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(Tree::Float),
        any::<f64>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(Tree::Double),
        any::<char>().prop_map(Tree::Char),
        ".{0,12}".prop_map(Tree::Text),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let boxed = inner.clone().prop_map(Box::new);
        prop_oneof![
            proptest::option::of(boxed.clone()).prop_map(Tree::Option),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::Seq),
            proptest::collection::btree_map(".{0,6}", inner, 0..6).prop_map(Tree::Map),
            (boxed.clone(), boxed.clone()).prop_map(|(a, b)| Tree::Pair(a, b)),
            (any::<u8>(), boxed.clone()).prop_map(Tree::Tuple),
            boxed.clone().prop_map(|b| Tree::Newtype(Newtype(b))),
            (any::<i16>(), boxed.clone()).prop_map(|(n, b)| Tree::Wrapper(Wrapper(n, b))),
            (".{0,6}", proptest::option::of(boxed))
                .prop_map(|(name, child)| Tree::Record { name, child }),
        ]
    })
}

impl Tree {
    /// Changes one leaf, chosen by `choice`, to another value of the same type (or a tree's
    /// child, if it has no leaf): the result is never equal to the original.
    pub(crate) fn tweak(&mut self, choice: u64) {
        let next = choice / 7;
        match self {
            Tree::Unit => *self = Tree::Bool(false),
            Tree::Bool(b) => *b = !*b,
            Tree::Small(n) => *n = n.wrapping_add(1),
            Tree::Wide(n) => *n = n.wrapping_add(1),
            Tree::Unsigned(n) => *n = n.wrapping_add(1),
            Tree::Float(f) => *f = if *f == 1.0 { 2.0 } else { 1.0 },
            Tree::Double(f) => *f = if *f == 1.0 { 2.0 } else { 1.0 },
            Tree::Char(c) => *c = if *c == 'a' { 'b' } else { 'a' },
            Tree::Text(s) => s.push('x'),
            Tree::Option(None) => *self = Tree::Option(Some(Box::new(Tree::Unit))),
            Tree::Option(Some(child)) => child.tweak(next),
            Tree::Seq(items) if items.is_empty() => items.push(Tree::Unit),
            Tree::Seq(items) => {
                let index = (choice as usize) % items.len();
                items[index].tweak(next);
            }
            Tree::Map(entries) => {
                let index = choice as usize % entries.len().max(1);
                match entries.values_mut().nth(index) {
                    Some(value) => value.tweak(next),
                    None => {
                        entries.insert(String::new(), Tree::Unit);
                    }
                }
            }
            Tree::Pair(a, b) => {
                if choice % 2 == 0 {
                    a.tweak(next)
                } else {
                    b.tweak(next)
                }
            }
            Tree::Tuple((n, child)) => {
                if choice % 2 == 0 {
                    *n = n.wrapping_add(1)
                } else {
                    child.tweak(next)
                }
            }
            Tree::Newtype(Newtype(child)) => child.tweak(next),
            Tree::Wrapper(Wrapper(n, child)) => {
                if choice % 2 == 0 {
                    *n = n.wrapping_add(1)
                } else {
                    child.tweak(next)
                }
            }
            Tree::Record { name, child } => match child {
                Some(child) if choice % 2 == 1 => child.tweak(next),
                _ => name.push('x'),
            },
        }
    }
}
