//! Fuzz target `attribute`: see `idempotent_fuzz::attribute` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idempotent_fuzz::attribute(data));
