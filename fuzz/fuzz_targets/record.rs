//! Fuzz target `record`: see `idempotent_fuzz::record` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idempotent_fuzz::record(data));
