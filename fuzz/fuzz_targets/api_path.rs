//! A PATH for `amo api` or a next link, then a query value after a NUL byte.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &str| amo_core::fuzzing::api_path(data));
