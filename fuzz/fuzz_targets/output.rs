//! Fuzz target `output`: see `idempotent_fuzz::output` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idempotent_fuzz::output(data));
