#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmhost_protocol_fuzz::cloud_event(data));
