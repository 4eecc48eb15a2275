//! Arbitrary text through the binding file parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfdhcpd::fuzz::binding_file(data));
