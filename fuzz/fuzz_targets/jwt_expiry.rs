//! The `exp` claim of anything that looks like a JWT.
#![no_main]

libfuzzer_sys::fuzz_target!(|token: &str| amo_core::fuzzing::jwt_expiry(token));
