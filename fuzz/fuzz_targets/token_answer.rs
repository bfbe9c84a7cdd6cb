//! A token endpoint's answer: status, content type and body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| amo_core::fuzzing::token_answer(data));
