//! Fingerprints: SHA-256 over a canonical, versioned encoding of a request's parameters.
//!
//! A retry with the same token must carry the same parameters. To check that without keeping
//! the parameters, the first request's fingerprint is stored in its record and later requests
//! compare theirs with it. The fingerprint is stable across processes, machines and releases
//! of this crate: it depends only on the parameters' names and serde data, never on memory
//! layout, hash seeds or map iteration order.
//!
//! # Encoding, version 2
//!
//! The hashed bytes are the version byte, then for each fingerprinted parameter, in the
//! order the macro passes them (sorted by name, so reordering a signature changes nothing),
//! its name as a string followed by its value. Every value begins with a tag byte:
//!
//! | serde value | bytes |
//! |---|---|
//! | `()`, unit struct | `00` |
//! | `false` / `true` | `01` / `02` |
//! | integer `n >= 0` (any width) | `03`, LEB128 of `n` |
//! | integer `n < 0` (any width) | `04`, LEB128 of `-(n + 1)` |
//! | `f32`, `f64` | `05`, the `f64` bits little-endian (`-0.0` written as `0.0`, one NaN) |
//! | `str`, `char` | `06`, the UTF-8 bytes with each `00` written `00 ff`, then `00` |
//! | bytes | `07`, the bytes escaped and ended the same way |
//! | `None` / `Some(v)` | `08` / `09` then `v` |
//! | sequence, tuple, tuple struct | `0a`, each element, `0b` |
//! | the same, non-empty, every element a `u8` (`Vec<u8>`, `&[u8]`, `[u8; 32]`) | `0f`, the bytes escaped and ended like a string's |
//! | map | `0c`, entries (key then value) sorted by their encoded bytes, `0b` |
//! | struct | `0d`, for each serialized field its name (as a string) then its value, `0b` |
//! | enum variant | `0e`, the variant's name (as a string), then its payload as above (`00` for a unit variant) |
//!
//! Strings are escaped and terminated rather than length-prefixed so that they keep their
//! order: a `BTreeMap<String, _>` arrives already sorted and costs no sorting.
//! A newtype struct is its inner value. Type names are not encoded, and variants are named,
//! not numbered, so renaming a type or reordering variants leaves fingerprints alone; renaming
//! a field, a variant or a parameter changes them. Because every value is self-delimiting,
//! two different parameter lists never encode to the same bytes.
//!
//! The version byte is `0x02` when some parameter holds a byte run (`0f`), and `0x01`
//! otherwise: version 2 added only that row, so a fingerprint without a byte run is the one
//! version 1 computed, and records written before an upgrade still match. Version 1 wrote a
//! byte sequence as a sequence of integers, an element per byte; with the feature
//! `fingerprint-v1` (on by default) a request holding one is fingerprinted both ways, and a
//! record carrying either digest matches it ([`Fingerprint::matches`]). Without the feature,
//! such a record answers a retry with a mismatch until its TTL passes (never a second run).
//!
//! Sets: serde does not tell a set from a sequence, so a `HashSet` is encoded in its
//! iteration order, which differs between processes. Fingerprint sets as `BTreeSet`.
//!
//! Each parameter also gets a short digest (XXH3-64 of its encoded value) kept in the record,
//! so a mismatch can name the parameters that differ. A lone parameter differs exactly when
//! the fingerprint does, so its digest is the fingerprint's first eight bytes, at no cost.
//! (Should a handler go from one fingerprinted parameter to several, or back, while records
//! of the other signature live, a mismatch also names the parameter the two share.)
//!
//! ```
//! use idempotent_runtime::fingerprint::Fingerprinter;
//!
//! let mut fp = Fingerprinter::new();
//! fp.param("vpc_id", "vpc-00c84bd9dcad1d728");
//! let first = fp.finish().unwrap();
//!
//! let mut fp = Fingerprinter::new();
//! fp.param("vpc_id", "vpc-03683f950edba6643");
//! let other = fp.finish().unwrap();
//!
//! assert_ne!(first, other);
//! assert_eq!(first.mismatched(&other), vec!["vpc_id".to_string()]);
//! ```

mod encoder;
mod sequence;
mod staging;

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bounds::Fingerprinted;
use smallvec::SmallVec;

pub(crate) use encoder::EncodeError;
use encoder::{Encoder, Staging};

/// The encoding's version: the first byte of a fingerprint with a byte run (one without is
/// written `0x01`, as version 1 wrote it). Bumped if the format ever changes.
pub const FINGERPRINT_VERSION: u8 = 2;

/// The version byte of a fingerprint without a byte run: version 1's.
const WITHOUT_BYTE_RUNS: u8 = 1;

/// The short digest of one parameter, kept so a mismatch can name what differs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParamDigest {
    /// The parameter's name.
    pub name: Cow<'static, str>,
    /// XXH3-64 of the parameter's canonical encoding.
    pub digest: u64,
}

/// A request's fingerprint: SHA-256 of its parameters plus a short digest per parameter.
///
/// Two fingerprints are equal when their SHA-256 digests are. Stores keep one in each record
/// (`store::record` has helpers to encode and read it back); handlers never see it.
#[derive(Clone)]
pub struct Fingerprint {
    digest: [u8; 32],
    params: SmallVec<[ParamDigest; 4]>,
    /// Version 1's digest of the same parameters, where it differs (they hold a byte
    /// sequence) and the feature `fingerprint-v1` is on: a record written before version 2
    /// still matches. Never stored; boxed, as only such a request has it.
    version_1: Option<Box<[u8; 32]>>,
}

impl Fingerprint {
    /// Rebuilds a fingerprint read back from a store.
    ///
    /// ```
    /// use idempotent_runtime::fingerprint::{Fingerprint, ParamDigest};
    /// let fp = Fingerprint::from_parts([7; 32], vec![ParamDigest { name: "vpc_id".into(), digest: 1 }]);
    /// assert_eq!(fp.params().len(), 1);
    /// ```
    pub fn from_parts(digest: [u8; 32], params: Vec<ParamDigest>) -> Self {
        Self {
            digest,
            params: params.into(),
            version_1: None,
        }
    }

    /// A fingerprint from its parts as a store keeps them.
    pub(crate) fn from_slice(digest: [u8; 32], params: &[ParamDigest]) -> Self {
        Self {
            digest,
            params: params.into(),
            version_1: None,
        }
    }

    /// Whether `stored`, read from a record, fingerprints the same parameters as `self`: the
    /// same digest, or (feature `fingerprint-v1`, on by default) the digest version 1 gave
    /// them, for a record written before version 2 by a handler that takes a byte sequence.
    ///
    /// ```
    /// use idempotent_runtime::fingerprint::Fingerprinter;
    /// let of = |size: u32| {
    ///     let mut fp = Fingerprinter::new();
    ///     fp.param("size", &size);
    ///     fp.finish().unwrap()
    /// };
    /// assert!(of(1).matches(&of(1)));
    /// assert!(!of(1).matches(&of(2)));
    /// ```
    pub fn matches(&self, stored: &Fingerprint) -> bool {
        self.digest == stored.digest || self.version_1.as_deref() == Some(&stored.digest)
    }

    /// The SHA-256 digest over every fingerprinted parameter.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The per-parameter digests, in encoding order.
    pub fn params(&self) -> &[ParamDigest] {
        &self.params
    }

    /// Names of the parameters that differ between `self` and `other`: those whose digests
    /// differ, then those present in only one of them.
    ///
    /// ```
    /// use idempotent_runtime::fingerprint::Fingerprinter;
    /// let mut a = Fingerprinter::new();
    /// a.param("size", &1u32);
    /// a.param("zone", "a");
    /// let mut b = Fingerprinter::new();
    /// b.param("size", &2u32);
    /// b.param("zone", "a");
    /// assert_eq!(a.finish().unwrap().mismatched(&b.finish().unwrap()), ["size"]);
    /// ```
    pub fn mismatched(&self, other: &Fingerprint) -> Vec<String> {
        let find = |params: &[ParamDigest], name: &str| {
            params.iter().find(|p| p.name == name).map(|p| p.digest)
        };
        let mut names: Vec<String> = self
            .params
            .iter()
            .filter(|p| find(&other.params, &p.name) != Some(p.digest))
            .map(|p| p.name.to_string())
            .collect();
        names.extend(
            other
                .params
                .iter()
                .filter(|p| find(&self.params, &p.name).is_none())
                .map(|p| p.name.to_string()),
        );
        names
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest
    }
}

impl Eq for Fingerprint {}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl fmt::Display for Fingerprint {
    /// The SHA-256 digest in lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.digest.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Builds a [`Fingerprint`] from named parameters; the macro calls it for you.
///
/// You need it yourself only to test a store, whose `begin` takes a fingerprint, or to see
/// what a handler's parameters hash to.
///
/// Bytes are staged on the stack and hashed in one pass at [`finish`](Self::finish), so a
/// typical request allocates nothing here.
pub struct Fingerprinter {
    staged: Staging,
    /// Per parameter: its name and where its value's encoding starts and ends.
    spans: SmallVec<[(&'static str, usize, usize); 8]>,
    error: Option<EncodeError>,
    /// Whether some parameter holds a byte run, which makes this a version 2 fingerprint.
    byte_runs: bool,
    /// Whether this builds a version 1 fingerprint (byte sequences as integers).
    version_1: bool,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprinter {
    /// An empty fingerprint builder.
    pub fn new() -> Self {
        let mut staged = Staging::new();
        staged.push(WITHOUT_BYTE_RUNS);
        Self {
            staged,
            spans: SmallVec::new(),
            error: None,
            byte_runs: false,
            version_1: false,
        }
    }

    /// A builder of version 1 fingerprints, which wrote a byte sequence as integers.
    fn version_1() -> Self {
        Self {
            version_1: true,
            ..Self::new()
        }
    }

    fn encoder(&mut self) -> Encoder<'_> {
        if self.version_1 {
            Encoder::version_1(&mut self.staged)
        } else {
            Encoder::new(&mut self.staged)
        }
    }

    /// Adds one parameter. Pass parameters in a fixed order (the macro sorts them by name).
    ///
    /// A failing `Serialize` impl is reported by [`finish`](Self::finish).
    pub fn param<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) {
        let start = self.name(name);
        let mut encoder = self.encoder();
        let encoded = value.serialize(&mut encoder);
        self.byte_runs |= encoder.runs_written > 0;
        if let Err(err) = encoded {
            let message = format!("parameter `{name}`: {err}");
            self.error.get_or_insert(EncodeError(message));
        }
        self.spans.push((name, start, self.staged.len()));
    }

    /// Adds a parameter that is a sequence of bytes (`Vec<u8>`, `&[u8]`, `[u8; N]`), encoded
    /// as [`param`](Self::param) encodes it, with one copy instead of a call per byte; the
    /// macro calls it for a parameter whose type is spelled so.
    ///
    /// ```
    /// use idempotent_runtime::fingerprint::Fingerprinter;
    /// let data = vec![0u8, 1, 2];
    /// let (mut whole, mut each) = (Fingerprinter::new(), Fingerprinter::new());
    /// whole.byte_param("data", &data);
    /// each.param("data", &data);
    /// assert_eq!(whole.finish().unwrap(), each.finish().unwrap());
    /// ```
    pub fn byte_param(&mut self, name: &'static str, bytes: &[u8]) {
        let start = self.name(name);
        let mut encoder = self.encoder();
        encoder.byte_sequence(bytes);
        self.byte_runs |= encoder.runs_written > 0;
        self.spans.push((name, start, self.staged.len()));
    }

    /// Writes a parameter's name; its value starts where this returns.
    fn name(&mut self, name: &str) -> usize {
        Encoder::new(&mut self.staged).str(name);
        self.staged.len()
    }

    /// Hashes the staged parameters.
    pub fn finish(mut self) -> Result<Fingerprint, FingerprintError> {
        if let Some(err) = self.error {
            return Err(FingerprintError(err));
        }
        if self.byte_runs {
            if let Some(version) = self.staged.as_mut_slice().first_mut() {
                *version = FINGERPRINT_VERSION;
            }
        }
        let staged = self.staged.as_slice();
        let digest: [u8; 32] = Sha256::digest(staged).into();
        let params = match self.spans.as_slice() {
            // One parameter differs exactly when the fingerprint does: its digest is the
            // fingerprint's own first bytes, with no second pass over its bytes.
            &[(name, _, _)] => [ParamDigest {
                name: Cow::Borrowed(name),
                digest: u64::from_le_bytes(first_eight(&digest)),
            }]
            .into_iter()
            .collect(),
            spans => spans
                .iter()
                .map(|&(name, start, end)| ParamDigest {
                    name: Cow::Borrowed(name),
                    digest: xxhash_rust::xxh3::xxh3_64(&staged[start..end]),
                })
                .collect(),
        };
        Ok(Fingerprint {
            digest,
            params,
            version_1: None,
        })
    }
}

/// The fingerprint of a request's parameters (sorted by name), with version 1's digest beside
/// it where that differs and the feature `fingerprint-v1` is on. Only a request holding a
/// byte sequence pays for the second pass.
pub(crate) fn of_params(
    params: &[(&'static str, &dyn Fingerprinted)],
) -> Result<Fingerprint, FingerprintError> {
    let fingerprinted = |mut fingerprinter: Fingerprinter| {
        for (name, value) in params {
            value.add_to(&mut fingerprinter, name);
        }
        fingerprinter
    };
    let current = fingerprinted(Fingerprinter::new());
    let byte_runs = current.byte_runs;
    let mut fingerprint = current.finish()?;
    if cfg!(feature = "fingerprint-v1") && byte_runs {
        let version_1 = fingerprinted(Fingerprinter::version_1()).finish()?.digest;
        fingerprint.version_1 = Some(Box::new(version_1));
    }
    Ok(fingerprint)
}

fn first_eight(digest: &[u8; 32]) -> [u8; 8] {
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    first
}

/// A parameter's `Serialize` impl failed, so no fingerprint could be computed.
#[derive(Debug)]
pub struct FingerprintError(EncodeError);

impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for FingerprintError {}

impl FingerprintError {
    /// The same error, said of the `scope` parameter.
    pub(crate) fn of_scope(self) -> Self {
        Self(EncodeError(format!("scope: {}", self.0)))
    }
}

/// The canonical encoding of one value on its own (a `scope` value, which is part of a key).
pub(crate) fn encode_alone<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, FingerprintError> {
    encode_value(value).map_err(FingerprintError)
}

/// The canonical encoding of one value, in version 1 (which a key keeps for good: a byte
/// sequence is a sequence of integers there).
pub(crate) fn encode_value<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut staged = Staging::new();
    value.serialize(&mut Encoder::version_1(&mut staged))?;
    Ok(staged.into_vec())
}

#[cfg(test)]
mod tests;
