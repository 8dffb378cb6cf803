//! Fuzz target `token`: see `idempotent_fuzz::token` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idempotent_fuzz::token(data));
