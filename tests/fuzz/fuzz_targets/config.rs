//! Arbitrary text through the config parser, INI and TOML.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfdhcpd::fuzz::config(data));
