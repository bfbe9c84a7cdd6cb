//! A callback's query string.
#![no_main]

libfuzzer_sys::fuzz_target!(|query: &str| amo_core::fuzzing::callback(query));
