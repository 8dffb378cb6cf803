//! Fuzz target `fingerprint`: see `idempotent_fuzz::fingerprint` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idempotent_fuzz::fingerprint(data));
