//! Helpers for stores that keep records outside the process: the per-parameter digests as
//! bytes, and a fingerprint read back from stored parts, both checked so that a corrupt or
//! foreign record is an error, never a panic or a wrong replay.
//!
//! Encoding of the parameter digests, version 1: the byte `01`, then per parameter its name's
//! length (one byte, names are Rust identifiers), the name in UTF-8, and the XXH3-64 digest as
//! 8 bytes little-endian.

use std::borrow::Cow;

use crate::{Fingerprint, ParamDigest, StoreError};

const PARAMS_VERSION: u8 = 1;

/// The per-parameter digests of a fingerprint, as bytes to store.
///
/// ```
/// use idempotent_runtime::store::record::{decode_fingerprint, encode_params};
/// use idempotent_runtime::fingerprint::Fingerprinter;
/// let mut fp = Fingerprinter::new();
/// fp.param("vpc_id", "vpc-1");
/// let fp = fp.finish().unwrap();
/// let back = decode_fingerprint(fp.digest(), &encode_params(&fp)).unwrap();
/// assert_eq!(back, fp);
/// assert_eq!(back.params(), fp.params());
/// ```
pub fn encode_params(fingerprint: &Fingerprint) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + fingerprint.params().len() * 24);
    bytes.push(PARAMS_VERSION);
    for param in fingerprint.params() {
        let name = param.name.as_bytes();
        let name = &name[..name.len().min(usize::from(u8::MAX))];
        bytes.push(name.len() as u8);
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(&param.digest.to_le_bytes());
    }
    bytes
}

/// Rebuilds a fingerprint from its stored SHA-256 digest and encoded parameter digests.
pub fn decode_fingerprint(digest: &[u8], params: &[u8]) -> Result<Fingerprint, StoreError> {
    let digest: [u8; 32] = digest.try_into().map_err(|_| {
        StoreError::corrupt(format!(
            "the stored fingerprint is {} bytes, not 32",
            digest.len()
        ))
    })?;
    Ok(Fingerprint::from_parts(digest, decode_params(params)?))
}

fn decode_params(bytes: &[u8]) -> Result<Vec<ParamDigest>, StoreError> {
    let corrupt = || StoreError::corrupt("the stored parameter digests do not decode");
    let Some((&PARAMS_VERSION, mut rest)) = bytes.split_first() else {
        return Err(corrupt());
    };
    let mut params = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        let name = tail.get(..len).ok_or_else(corrupt)?;
        let digest = tail.get(len..len + 8).ok_or_else(corrupt)?;
        let name = std::str::from_utf8(name).map_err(|_| corrupt())?;
        let digest = u64::from_le_bytes(digest.try_into().map_err(|_| corrupt())?);
        params.push(ParamDigest {
            name: Cow::Owned(name.to_owned()),
            digest,
        });
        rest = &tail[len + 8..];
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fingerprinter, StoreErrorKind};

    #[test]
    fn garbage_is_a_corrupt_record() {
        let mut fp = Fingerprinter::new();
        fp.param("a", &1u8);
        let fp = fp.finish().expect("fingerprints");
        let good = encode_params(&fp);
        let truncated = &good[..good.len() - 1];
        for (digest, params) in [
            (&fp.digest()[..], truncated),
            (&fp.digest()[..], &[2u8, 0][..]),
            (&fp.digest()[..], &[][..]),
            (&fp.digest()[..31], &good[..]),
            (
                &fp.digest()[..],
                &[1, 2, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0][..],
            ),
        ] {
            let err = decode_fingerprint(digest, params).expect_err("garbage");
            assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        }
    }
}
