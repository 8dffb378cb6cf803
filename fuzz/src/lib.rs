//! What each fuzz target checks, as plain functions: the targets in `fuzz_targets/` call them
//! on fuzzer input, and `tests/corpus.rs` replays the committed corpus through them under
//! `cargo test`.
//!
//! Build with `--cfg fuzzing` (cargo-fuzz sets it; the corpus test needs
//! `RUSTFLAGS="--cfg fuzzing"`), which opens the runtime's private decoders.

mod attribute;
mod value;

// The attribute's own sources, compiled here as ordinary modules (a proc-macro crate can export
// nothing but its macros), so that `crate::args` and the rest resolve as in the macro crate.
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/alias.rs"]
mod alias;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/args.rs"]
mod args;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/companion.rs"]
mod companion;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/crate_path.rs"]
mod crate_path;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/duration.rs"]
mod duration;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/errors.rs"]
mod errors;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/expand.rs"]
mod expand;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/fallback.rs"]
mod fallback;

#[path = "../../idempotent-macros/src/input.rs"]
mod input;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/operation.rs"]
mod operation;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/store_borrow.rs"]
mod store_borrow;
#[allow(dead_code, unreachable_pub)]
#[path = "../../idempotent-macros/src/validate.rs"]
mod validate;

use std::collections::{BTreeMap, HashMap};

use arbitrary::{Arbitrary, Unstructured};
use idempotent_runtime::fingerprint::{Fingerprint, Fingerprinter};
use idempotent_runtime::fuzzing::{decode_output, encode_output};
use idempotent_runtime::store::record::{decode_fingerprint, encode_params};
use idempotent_runtime::store::{Key, Operation};
use idempotent_runtime::{validate_token, ClientToken, MAX_TOKEN_LEN};

pub use attribute::attribute;
pub use value::{Floats, Tree};

fn fingerprint_of(name: &'static str, value: &impl serde::Serialize) -> Option<Fingerprint> {
    let mut fp = Fingerprinter::new();
    fp.param(name, value);
    fp.finish().ok()
}

/// The fingerprint encoder over arbitrary serde values: no panic; equal values give equal
/// fingerprints and different values different ones; a `HashMap` hashes like a `BTreeMap` with
/// the same entries.
pub fn fingerprint(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let (Ok(a), Ok(b)) = (Tree::arbitrary(&mut input), Tree::arbitrary(&mut input)) else {
        return;
    };
    let (Some(fa), Some(fb)) = (fingerprint_of("a", &a), fingerprint_of("a", &b)) else {
        panic!("a serde value could not be fingerprinted");
    };
    assert_eq!(
        a.same(&b, Floats::Canonical),
        fa == fb,
        "values and fingerprints disagree:\n{a:?}\n{b:?}"
    );
    assert!(
        fingerprint_of("a", &a.clone()) == Some(fa),
        "not deterministic"
    );
    if let Ok(entries) = Vec::<(String, Tree)>::arbitrary(&mut input) {
        let sorted: BTreeMap<String, Tree> = entries.into_iter().collect();
        let hashed: HashMap<&String, &Tree> = sorted.iter().collect();
        assert!(
            fingerprint_of("m", &sorted) == fingerprint_of("m", &hashed),
            "a HashMap and a BTreeMap with the same entries differ"
        );
    }
}

/// The output codec: any value replays exactly as it was recorded (`decode(encode(x)) == x`,
/// floats to the bit).
pub fn output(data: &[u8]) {
    let Ok(value) = Tree::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let bytes = match encode_output(value.clone()) {
        Ok(bytes) => bytes,
        // Refused rather than recorded unreplayable: the decoder reads 128 levels at most.
        Err(err) if err.to_string().contains("nests deeper") => return,
        Err(err) => panic!("{value:?} could not be encoded: {err}"),
    };
    match decode_output::<Tree>(&bytes) {
        Ok(back) => assert!(
            back.same(&value, Floats::Exact),
            "{value:?} replayed as {back:?}"
        ),
        Err(err) => panic!("{value:?} did not decode: {err}"),
    }
}

/// What a store hands back, as arbitrary bytes (in the current format or the first release's):
/// decoding is an error or a value that re-encodes to itself, never a panic and never garbage.
pub fn record(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (digest, rest) = rest.split_at(usize::from(split).min(rest.len()));
    let (params, output) = rest.split_at(rest.len() / 2);
    if let Ok(fingerprint) = decode_fingerprint(digest, params) {
        assert_eq!(
            encode_params(&fingerprint),
            params,
            "params re-encode differently"
        );
        assert_eq!(&fingerprint.digest()[..], digest);
    }
    replays_as_decoded::<Tree>(output);
    replays_as_decoded::<String>(output);
    replays_as_decoded::<Option<Option<u32>>>(output);
    replays_as_decoded::<()>(output);
}

fn replays_as_decoded<T>(bytes: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let Ok(value) = decode_output::<T>(bytes) else {
        return;
    };
    let Ok(again) = encode_output(value) else {
        // Only a first-release (MessagePack) record may hold a value the current format
        // refuses to write (nested deeper than it allows); it still replays as it was.
        assert_eq!(bytes.first(), Some(&0x01), "a decoded value encodes");
        return;
    };
    let twice = decode_output::<T>(&again).expect("a re-encoded value decodes");
    assert_eq!(
        encode_output(twice).ok(),
        Some(again),
        "decoding is not stable"
    );
}

/// Token rules and keys: a token is valid exactly when it is 1 to 64 visible ASCII characters;
/// a key gives back its token and operation; two different (operation, scope, token) triples
/// never share a key.
pub fn token(data: &[u8]) {
    const OPERATIONS: [&str; 3] = ["CreateRouteTable", "CreateRouteTable:", "Create"];
    let mut input = Unstructured::new(data);
    let Ok(parts) = <[(u8, Option<Vec<u8>>, String); 2]>::arbitrary(&mut input) else {
        return;
    };
    let keys = parts.map(|(operation, scope, token)| {
        let valid = (1..=MAX_TOKEN_LEN).contains(&token.len())
            && token.bytes().all(|b| (0x21..=0x7e).contains(&b));
        assert_eq!(validate_token(&token).is_ok(), valid, "{token:?}");
        assert_eq!(
            ClientToken::parse(token.clone()).is_ok(),
            valid,
            "{token:?}"
        );
        let operation = Operation::Named(OPERATIONS[usize::from(operation) % OPERATIONS.len()]);
        let key = Key::new(operation, scope.as_deref(), &token);
        assert_eq!(key.is_ok(), valid);
        let key = key.ok()?;
        assert_eq!(key.token(), token);
        assert_eq!(key.operation(), operation);
        Some(((operation, scope, token), key))
    });
    if let [Some((a, ka)), Some((b, kb))] = keys {
        assert_eq!(a == b, ka.as_bytes() == kb.as_bytes(), "{a:?} and {b:?}");
    }
}
