//! The conformance case list in `store_conformance!` is written out by hand (a macro cannot
//! enumerate fns); this keeps it whole: every `pub async fn` case in `cases.rs` is listed, and
//! nothing else is.

use std::collections::BTreeSet;

/// The names of the `pub async fn name<H: Harness>` cases in `cases.rs`.
fn defined() -> BTreeSet<String> {
    include_str!("cases.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter(|rest| rest.contains("<H: Harness>"))
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// The names `store_conformance!` instantiates.
fn listed() -> BTreeSet<String> {
    let source = include_str!("mod.rs");
    let start = source
        .find("@cases $harness;")
        .expect("the macro lists its cases after `@cases $harness;`");
    let list = &source[start + "@cases $harness;".len()..];
    let end = list.find(");").expect("the list ends with `);`");
    list[..end]
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_conformance_case_is_listed_in_the_macro() {
    let (defined, listed) = (defined(), listed());
    assert!(defined.len() >= 16, "cases found: {defined:?}");
    let missing: Vec<_> = defined.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&defined).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "add to store_conformance!: {missing:?}; not cases: {unknown:?}"
    );
}
