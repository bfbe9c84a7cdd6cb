//! An account host as a referer or a person gives it.
#![no_main]

libfuzzer_sys::fuzz_target!(|host: &str| amo_core::fuzzing::referer_host(host));
