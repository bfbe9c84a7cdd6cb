//! The listener's reading of a request head, then the callback in its query.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| amo_core::fuzzing::request_head(data));
