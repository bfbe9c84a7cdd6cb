//! An address pasted from the browser.
#![no_main]

libfuzzer_sys::fuzz_target!(|url: &str| amo_core::fuzzing::pasted_url(url));
