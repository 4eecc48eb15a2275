//! Arbitrary bytes (first byte: protocol and setup) through respond::decide with the compat bindings and one delegating prefixes; every reply must re-parse.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfdhcpd::fuzz::respond(data));
