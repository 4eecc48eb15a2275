//! Arbitrary bytes (first byte: protocol and setup) through respond::decide with the compat bindings and one delegating prefixes with every per-VM IPv6 key; every reply must re-parse and IPv6 replies fit the link MTU.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nfdhcpd::fuzz::respond(data));
